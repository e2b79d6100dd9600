//! What a running plan reports: one event per change of a wave, a gate, a rung or a VM
//! step. `--events jsonl` prints them as JSON lines; the journal keeps the coarse ones.

use serde::{Serialize, Serializer};

/// Waves are numbered from 1 wherever people or scripts see them (the executor counts
/// from 0).
fn one_based<S: Serializer>(wave: &usize, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(*wave as u64 + 1)
}

/// A plan event.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    Started {
        plan: String,
        vms: usize,
        waves: usize,
    },
    /// What a resumed run found in the cloud: launches adopted, terminations finished.
    Reconciled {
        plan: String,
        adopted: usize,
        finished: usize,
        reset: usize,
    },
    Rebuilt {
        plan: String,
        image: String,
    },
    WaveStarted {
        plan: String,
        #[serde(serialize_with = "one_based")]
        wave: usize,
        vms: usize,
    },
    Step {
        plan: String,
        #[serde(serialize_with = "one_based")]
        wave: usize,
        vm: String,
        state: &'static str,
        #[serde(skip_serializing_if = "Option::is_none")]
        replacement: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
    WaveFinished {
        plan: String,
        #[serde(serialize_with = "one_based")]
        wave: usize,
        healthy: usize,
        failed: usize,
    },
    AwaitingApproval {
        plan: String,
        #[serde(serialize_with = "one_based")]
        wave: usize,
        message: String,
    },
    Approved {
        plan: String,
        #[serde(serialize_with = "one_based")]
        wave: usize,
    },
    Committed {
        plan: String,
        #[serde(serialize_with = "one_based")]
        wave: usize,
        terminated: usize,
    },
    Repointed {
        plan: String,
        resource: String,
        image: String,
    },
    Rung {
        plan: String,
        rung: String,
        image: String,
    },
    Waiting {
        plan: String,
        message: String,
    },
    Blocked {
        plan: String,
        message: String,
    },
    Paused {
        plan: String,
        message: String,
    },
    RolledBack {
        plan: String,
        #[serde(serialize_with = "one_based")]
        wave: usize,
        removed: usize,
    },
    Aborted {
        plan: String,
    },
    Complete {
        plan: String,
    },
    /// An operator took over the lease of a holder that had stopped beating.
    TakenOver {
        plan: String,
        from: String,
        operator: String,
    },
    /// Dry run: what the next step would do and whether the cloud accepts it.
    WouldApply {
        plan: String,
        operation: String,
        outcome: String,
    },
}

impl Event {
    /// Per-VM steps are many; the journal keeps the rest.
    pub fn is_coarse(&self) -> bool {
        !matches!(self, Event::Step { .. } | Event::WouldApply { .. })
    }

    /// One line for people.
    pub fn describe(&self) -> String {
        match self {
            Event::Started { plan, vms, waves } => {
                format!("{plan}: running ({vms} VMs in {waves} waves)")
            }
            Event::Reconciled { adopted, finished, reset, .. } => format!(
                "reconciled with the cloud: {adopted} launches adopted, {finished} terminations confirmed, {reset} steps reset"
            ),
            Event::Rebuilt { image, .. } => format!("rebuilt: new image {image}"),
            Event::WaveStarted { wave, vms, .. } => format!("wave {}: {vms} VMs", wave + 1),
            Event::Step { vm, state, replacement, error, .. } => {
                let mut s = format!("  {vm}: {state}");
                if let Some(r) = replacement {
                    s += &format!(" → {r}");
                }
                if let Some(e) = error {
                    s += &format!(" ({e})");
                }
                s
            }
            Event::WaveFinished { wave, healthy, failed, .. } => {
                format!("wave {}: {healthy} healthy, {failed} failed", wave + 1)
            }
            Event::AwaitingApproval { message, .. }
            | Event::Waiting { message, .. }
            | Event::Blocked { message, .. }
            | Event::Paused { message, .. } => message.clone(),
            Event::Approved { wave, .. } => format!("approved wave {}", wave + 1),
            Event::Committed { wave, terminated, .. } => {
                format!(
                    "wave {} committed: {} terminated",
                    wave + 1,
                    crate::words::count(*terminated as u64, "old VM")
                )
            }
            Event::Repointed { resource, image, .. } => format!("repointed {resource} → {image}"),
            Event::Rung { rung, image, .. } => format!("{rung} {image}"),
            Event::RolledBack { wave, removed, .. } => format!(
                "rolled back wave {}: {} removed, old VMs kept",
                wave + 1,
                crate::words::count(*removed as u64, "replacement")
            ),
            Event::Aborted { plan } => format!("{plan}: aborted"),
            Event::Complete { plan } => format!("{plan}: complete"),
            Event::TakenOver { from, operator, .. } => {
                format!("{operator} took over the run from {from}, which had stopped")
            }
            Event::WouldApply { operation, outcome, .. } => {
                format!("dry run: {operation}: {outcome}")
            }
        }
    }
}
