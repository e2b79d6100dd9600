//! What a scan could and could not see: one outcome per context and scope (region or
//! location) — ok, partial (which calls failed), denied (which credential), unreachable or
//! skipped — with counts and duration. Reports, the dashboard and exit codes read these.

use crate::{ProviderError, ProviderErrorKind};
use serde::{Deserialize, Serialize};
use std::fmt;

/// How the scan of one scope ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScopeState {
    /// Everything was read.
    Ok,
    /// Deliberately not scanned (excluded by a rule, a suspended account): not a gap.
    Skipped,
    /// Read, but some calls failed: what they would have returned is missing.
    Partial,
    /// The credentials were refused (or a role could not be assumed).
    Denied,
    /// The endpoint could not be reached or did not answer in time.
    Unreachable,
}

impl ScopeState {
    pub const ALL: [ScopeState; 5] = [
        ScopeState::Ok,
        ScopeState::Skipped,
        ScopeState::Partial,
        ScopeState::Denied,
        ScopeState::Unreachable,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ScopeState::Ok => "ok",
            ScopeState::Skipped => "skipped",
            ScopeState::Partial => "partial",
            ScopeState::Denied => "denied",
            ScopeState::Unreachable => "unreachable",
        }
    }

    /// Whether this scope leaves the inventory incomplete.
    pub fn is_gap(self) -> bool {
        matches!(
            self,
            ScopeState::Partial | ScopeState::Denied | ScopeState::Unreachable
        )
    }
}

impl fmt::Display for ScopeState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The outcome of scanning one scope of one context.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeOutcome {
    /// The context (provider name).
    pub context: String,
    /// The region or location, `*` for the whole context.
    pub scope: String,
    pub state: ScopeState,
    /// VMs and images read from this scope.
    pub vms: usize,
    pub images: usize,
    pub duration_ms: u64,
    /// The calls that failed (partial), e.g. `DescribeLaunchTemplates`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failed_calls: Vec<String>,
    /// Why it is not ok: the error, naming the credential or role where denied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl ScopeOutcome {
    /// A scope read in full.
    pub fn ok(context: &str, scope: &str, vms: usize, images: usize, duration_ms: u64) -> Self {
        ScopeOutcome {
            context: context.to_string(),
            scope: scope.to_string(),
            state: ScopeState::Ok,
            vms,
            images,
            duration_ms,
            failed_calls: Vec::new(),
            reason: None,
        }
    }

    /// A scope deliberately not scanned, and why.
    pub fn skipped(context: &str, scope: &str, reason: impl Into<String>) -> Self {
        ScopeOutcome {
            state: ScopeState::Skipped,
            reason: Some(reason.into()),
            ..ScopeOutcome::ok(context, scope, 0, 0, 0)
        }
    }

    /// A scope whose scan failed with `err`: denied for refused credentials, unreachable
    /// when the endpoint did not answer, partial (the call named) otherwise.
    pub fn failed(context: &str, scope: &str, err: &ProviderError, duration_ms: u64) -> Self {
        ScopeOutcome {
            state: state_of(err),
            failed_calls: vec![err.call.clone()],
            reason: Some(err.to_string()),
            ..ScopeOutcome::ok(context, scope, 0, 0, duration_ms)
        }
    }

    /// Marks calls that failed while the rest of the scope was read.
    pub fn with_failures(mut self, errors: &[ProviderError]) -> Self {
        if errors.is_empty() {
            return self;
        }
        self.state = errors
            .iter()
            .map(state_of)
            .max()
            .unwrap_or(ScopeState::Partial)
            .max(ScopeState::Partial);
        // A refused secondary call leaves the scope partial, not denied: its VMs were read.
        if self.vms > 0 || self.images > 0 {
            self.state = ScopeState::Partial;
        }
        for e in errors {
            if !self.failed_calls.contains(&e.call) {
                self.failed_calls.push(e.call.clone());
            }
        }
        let reasons: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        self.reason = Some(reasons.join("; "));
        self
    }
}

/// The scope state an error leaves.
pub fn state_of(err: &ProviderError) -> ScopeState {
    match err.kind {
        ProviderErrorKind::Auth => ScopeState::Denied,
        ProviderErrorKind::Unreachable => ScopeState::Unreachable,
        _ => ScopeState::Partial,
    }
}

/// One context's outcome: its scopes rolled up (worst state, summed counts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContextOutcome<'a> {
    pub context: &'a str,
    pub state: ScopeState,
    pub vms: usize,
    pub images: usize,
    /// The longest scope (they run concurrently).
    pub duration_ms: u64,
    pub scopes: Vec<&'a ScopeOutcome>,
}

impl ContextOutcome<'_> {
    /// The first reason among the context's failed scopes.
    pub fn reason(&self) -> Option<&str> {
        self.scopes
            .iter()
            .filter(|s| s.state == self.state)
            .find_map(|s| s.reason.as_deref())
    }
}

/// Groups scope outcomes by context, in first-seen order.
pub fn by_context(outcomes: &[ScopeOutcome]) -> Vec<ContextOutcome<'_>> {
    let mut out: Vec<ContextOutcome<'_>> = Vec::new();
    let mut index: std::collections::HashMap<&str, usize> = Default::default();
    for o in outcomes {
        let i = match index.get(o.context.as_str()) {
            Some(i) => *i,
            None => {
                index.insert(&o.context, out.len());
                out.push(ContextOutcome {
                    context: &o.context,
                    state: ScopeState::Ok,
                    vms: 0,
                    images: 0,
                    duration_ms: 0,
                    scopes: Vec::new(),
                });
                out.len() - 1
            }
        };
        let c = &mut out[i];
        c.vms += o.vms;
        c.images += o.images;
        c.duration_ms = c.duration_ms.max(o.duration_ms);
        c.scopes.push(o);
    }
    for c in &mut out {
        // A context with every scope skipped is skipped; otherwise its worst gap, else ok.
        c.state = if c.scopes.iter().all(|s| s.state == ScopeState::Skipped) {
            ScopeState::Skipped
        } else {
            c.scopes
                .iter()
                .map(|s| s.state)
                .filter(|s| s.is_gap())
                .max()
                .unwrap_or(ScopeState::Ok)
        };
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(kind: ProviderErrorKind, call: &str) -> ProviderError {
        ProviderError::new(kind, call, "acct (eu-west-1)", "no", "do this")
    }

    #[test]
    fn errors_become_the_states_scripts_act_on() {
        let denied = ScopeOutcome::failed("a", "r", &err(ProviderErrorKind::Auth, "X"), 5);
        assert_eq!(denied.state, ScopeState::Denied);
        let gone = ScopeOutcome::failed("a", "r", &err(ProviderErrorKind::Unreachable, "X"), 5);
        assert_eq!(gone.state, ScopeState::Unreachable);
        let part = ScopeOutcome::ok("a", "r", 3, 1, 9)
            .with_failures(&[err(ProviderErrorKind::Auth, "DescribeLaunchTemplates")]);
        assert_eq!(part.state, ScopeState::Partial);
        assert_eq!(part.failed_calls, ["DescribeLaunchTemplates"]);
        assert!(part.reason.unwrap().contains("do this"));
    }

    #[test]
    fn contexts_roll_up_to_their_worst_gap() {
        let all = vec![
            ScopeOutcome::ok("a", "r1", 2, 1, 10),
            ScopeOutcome::failed("a", "r2", &err(ProviderErrorKind::Auth, "X"), 30),
            ScopeOutcome::skipped("b", "*", "excluded by tag:team=lab"),
            ScopeOutcome::ok("c", "r1", 1, 1, 4),
        ];
        let c = by_context(&all);
        assert_eq!(c.len(), 3);
        assert_eq!(
            (c[0].state, c[0].vms, c[0].duration_ms),
            (ScopeState::Denied, 2, 30)
        );
        assert_eq!(c[0].reason(), Some(all[1].reason.as_deref().unwrap()));
        assert_eq!(c[1].state, ScopeState::Skipped);
        assert_eq!(c[2].state, ScopeState::Ok);
    }
}
