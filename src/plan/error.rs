//! What can go wrong with a plan, as one error type: a plan file or setting that cannot be
//! read, a plan that cannot be built, the journal, a plan in the wrong state, a missing
//! context, the mutation gate's refusal, a failed cloud step or command. Every message names
//! the plan, step or resource and what to do.

use crate::gate::GateError;
use crate::inspect::InspectError;
use crate::transfer::TransferError;
use drydock_api::{ProviderError, ProviderErrorKind};
use std::path::PathBuf;
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
    /// The store said no or failed (which call, which store, what to do).
    #[error("plan journal: {0}")]
    Store(#[from] drydock_store::StoreError),
    /// Another unfinished plan already claims resources this plan would touch.
    #[error("plan {plan} would touch {} claimed by other unfinished plans:\n{}\nwait for those plans, abort them, or plan the rest with --exclude-claimed", crate::words::count(conflicts.len() as u64, "resource"), conflicts.iter().map(|c| format!("  {} {} ({}) held by plan {}", c.claim.kind, c.claim.resource, c.claim.context, c.plan)).collect::<Vec<_>>().join("\n"))]
    Claimed {
        plan: String,
        conflicts: Vec<drydock_store::ClaimConflict>,
    },
    /// Another process holds the plan's lease (or took it from this one).
    #[error("{0}")]
    Lease(String),
    /// The plan is not in a state that allows this (final, run elsewhere, no wave to undo).
    #[error("{0}")]
    State(String),
    /// A context the plan needs is not configured here.
    #[error("plan {plan} needs context `{context}`, which is not configured here")]
    MissingContext { plan: String, context: String },
    /// The mutation gate refused a change.
    #[error(transparent)]
    Gate(#[from] GateError),
    /// A step's change failed, refused by the gate or by the cloud: which step, on what,
    /// and the gate's error (which carries the provider's, with its kind).
    #[error("{step}: {source}")]
    Call {
        step: String,
        #[source]
        source: Box<GateError>,
    },
    /// A read a step needs (a scan to reconcile or re-check usage, a health poll) failed.
    #[error("{step}: {source}")]
    Provider {
        step: String,
        #[source]
        source: Box<ProviderError>,
    },
    /// A rebuild's transfer could not start or failed.
    #[error("{step}: {source}")]
    Transfer {
        step: String,
        #[source]
        source: Box<TransferError>,
    },
    /// A rebuild's lint gate could not read the disk.
    #[error("lint {}: {source}", disk.display())]
    Lint {
        disk: PathBuf,
        #[source]
        source: Box<InspectError>,
    },
    /// A step did not reach its goal for a reason no cloud call returned (a replacement
    /// that stays unhealthy or disappears, an outcome that created nothing, lint findings).
    #[error("{0}")]
    Step(String),
    /// A plan task stopped before it answered (it panicked or was cancelled).
    #[error("a plan task stopped: {0}")]
    Task(#[from] tokio::task::JoinError),
    /// A builder or health command failed.
    #[error("{0}")]
    Command(String),
}

pub type Result<T> = std::result::Result<T, PlanError>;

impl PlanError {
    /// A step's call that failed at the gate or in the cloud.
    pub fn call(step: impl Into<String>, source: GateError) -> PlanError {
        PlanError::Call {
            step: step.into(),
            source: Box::new(source),
        }
    }

    /// A step's read that failed in the cloud.
    pub fn provider(step: impl Into<String>, source: ProviderError) -> PlanError {
        PlanError::Provider {
            step: step.into(),
            source: Box::new(source),
        }
    }

    /// The cloud's error behind this one, if a cloud call failed.
    pub fn provider_error(&self) -> Option<&ProviderError> {
        match self {
            PlanError::Provider { source, .. } => Some(source),
            PlanError::Call { source, .. } => match source.as_ref() {
                GateError::Provider(e) => Some(e),
                _ => None,
            },
            PlanError::Gate(GateError::Provider(e)) => Some(e),
            _ => None,
        }
    }

    /// Its kind (retryable, auth, not found…) when a cloud call failed.
    pub fn kind(&self) -> Option<ProviderErrorKind> {
        self.provider_error().map(|e| e.kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_error_keeps_the_providers_error_and_its_kind() {
        let cloud = ProviderError::new(
            ProviderErrorKind::Auth,
            "TerminateInstances",
            "i-0abc",
            "HTTP 403 UnauthorizedOperation: not allowed",
            "check the credentials",
        );
        let e = PlanError::call("terminate old VM i-0abc", GateError::Provider(cloud));
        assert_eq!(e.kind(), Some(ProviderErrorKind::Auth));
        assert_eq!(e.provider_error().unwrap().call, "TerminateInstances");
        let source = std::error::Error::source(&e).expect("the gate's error is the source");
        assert!(source.to_string().contains("UnauthorizedOperation"));
        assert!(e
            .to_string()
            .starts_with("terminate old VM i-0abc: TerminateInstances on i-0abc"));
        assert_eq!(PlanError::Step("x".into()).kind(), None);
    }
}
