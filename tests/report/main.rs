//! Report mode and the command line: exit codes, filters, config errors, snapshots and diffs, golden outputs, the drift table, image lists.

#[path = "../common/mod.rs"]
mod common;

mod cli;
mod drift_table;
mod golden;
mod image_lists;
mod shell;
