//! drydock: the lifecycle of VM images across clouds. This library holds the domain
//! (inventory, drift, reports, config); `main.rs` is the command-line edge.

pub mod config;
pub mod contexts;
pub mod convert;
pub mod drift;
pub mod gate;
pub mod history;
pub mod image_lists;
pub mod inspect;
pub mod model;
pub mod plan;
pub mod report;
pub mod scan;
pub mod transfer;
pub mod tui;
