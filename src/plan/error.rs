//! What can go wrong with a plan, as one error type: a plan file or setting that cannot be
//! read, a plan that cannot be built, the journal, a plan in the wrong state, a missing
//! context, the mutation gate's refusal, a failed cloud step or command. Every message names
//! the plan, step or resource and what to do.

use crate::gate::GateError;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum PlanError {
    /// A plan file, wave list, span or amount that cannot be read or is inconsistent.
    #[error("{0}")]
    Invalid(String),
    /// The plan cannot be built from the inventory (unknown family, nothing to move...).
    #[error("{0}")]
    Build(String),
    /// The journal cannot be opened, read or written.
    #[error("plan journal: {0}")]
    Journal(String),
    #[error("plan journal: {0}")]
    Db(#[from] rusqlite::Error),
    /// The plan is not in a state that allows this (final, run elsewhere, no wave to undo).
    #[error("{0}")]
    State(String),
    /// A context the plan needs is not configured here.
    #[error("plan {plan} needs context `{context}`, which is not configured here")]
    MissingContext { plan: String, context: String },
    /// The mutation gate refused a change.
    #[error(transparent)]
    Gate(#[from] GateError),
    /// A step against the cloud failed: which step, on what, and why.
    #[error("{0}")]
    Step(String),
    /// A builder or health command failed.
    #[error("{0}")]
    Command(String),
}

pub type Result<T> = std::result::Result<T, PlanError>;
