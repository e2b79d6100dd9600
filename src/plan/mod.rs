//! Migration plans: the planner (drift → plan file), the executor (a wave state machine
//! over the providers, through the mutation gate), the retire ladder and the SQLite journal
//! that makes a run resumable after a crash.

pub mod error;
pub mod events;
pub mod executor;
pub mod gates;
mod health;
pub mod journal;
pub mod lease;
pub mod legacy;
pub mod planner;
mod rebuild;
mod retire;
mod rollout;
pub mod rows;
pub mod show;
pub mod spec;
mod transfer_step;

pub use error::PlanError;
pub use events::Event;
pub use executor::{Executor, ExecutorOptions};
pub use journal::{Journal, PlanRow, PlanStatus, StepRow, StepState};
pub use planner::{build, parse_waves, PlanRequest};
pub use spec::{Amount, Plan, Span};

/// The clock of a plan run: grace periods, undo windows, deprecation times and the
/// journal's stamps are read from it, never from the wall clock, so tests drive time.
pub type Clock = std::sync::Arc<dyn Fn() -> chrono::DateTime<chrono::Utc> + Send + Sync>;

/// A short stable digest for idempotency keys (FNV-1a, 64 bits).
pub(crate) fn digest(parts: &[&str]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes().chain([0]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}
