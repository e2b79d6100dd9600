//! The dashboard: a ratatui TUI over the inventory. `app` holds state and the reducer,
//! `ui` renders, `runtime` runs the event loop and the tasks.

pub mod actions;
pub mod app;
pub mod conversions;
pub mod data;
pub mod fleet;
pub mod images;
pub mod keymap;
pub mod keys;
pub mod layout;
pub mod list;
pub mod logbuf;
pub mod matrix;
pub mod messages;
pub mod navigate;
pub mod new_plan;
pub mod palette;
pub mod plan_job;
pub mod plans;
pub mod rows;
pub mod runtime;
pub mod screen;
pub mod terminal;
pub mod text;
pub mod theme;
pub mod transfers;
pub mod ui;

pub use app::{Action, App, AppOptions, Effect};
