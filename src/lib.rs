//! drydock: the lifecycle of VM images across clouds. This library is everything but the
//! command line (`src/cli`, the binary) and the clouds' SDKs (the `providers/*` crates,
//! which only the binary links):
//!
//! - [`config`]: layered configuration, its errors, and the data directory (`DataDir`);
//! - [`contexts`]: the registry of contexts (demo, AWS, Azure, named) and their providers;
//!   [`organizations`]: the contexts of whole AWS Organizations, discovered and cached;
//! - [`model`]: the provider-neutral inventory and snapshots;
//! - [`drift`]: policy → a verdict and a reason for every image and VM (pure);
//! - [`report`]: filters and the table, JSON, CSV and Markdown writers, snapshot diffs;
//! - [`scan`]: concurrent provider scans into one inventory; [`history`]: recorded scans;
//!   [`inventory_store`]: the latest scan kept in the store for the whole team;
//! - [`image_lists`]: subscribed HEPiX / AppDB image lists and their cached copies;
//! - [`gate`]: the one mutation gate (read-only, dry-run, confirmation, images in use);
//! - [`plan`]: planner, wave executor, retire ladder and the crash-safe journal;
//! - [`transfer`]: disks streamed between local files and clouds through the engine;
//! - [`sbom`]: SBOMs of published images; [`convert`] and [`inspect`]: the disk-image
//!   engine and what is inside a disk (the `crates/convert` and `crates/inspect` crates);
//! - [`tui`]: the dashboard (state and reducer, effects, views, runtime); [`words`]:
//!   counted nouns for every message.

pub mod audit;
pub mod config;
pub mod contexts;
pub mod drift;
pub mod gate;
pub mod history;
pub mod image_lists;
pub mod inventory_store;
pub mod model;
pub mod organizations;
pub mod par;
pub mod plan;
pub mod report;
pub mod sbom;
pub mod scan;
pub mod transfer;
pub mod tui;
pub mod words;

/// The disk-image engine (`crates/convert`), under the name the domain uses.
pub use drydock_convert as convert;
/// What is inside a disk (`crates/inspect`), under the name the domain uses.
pub use drydock_inspect as inspect;
