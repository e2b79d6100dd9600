//! The dashboard: the reducer and keys, every view and dialog drawn at the sizes it promises, bulk actions, conversions, plans, and the real binary in tmux.

#[path = "../common/mod.rs"]
mod common;

mod tui_app;
mod tui_bulk;
mod tui_conversions;
mod tui_navigate;
mod tui_plans;
mod tui_render;
mod tui_small;
mod tui_tmux;
