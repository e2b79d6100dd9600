//! The one error type providers return: which call, which resource, what to do.

use std::fmt;

/// What kind of failure a provider call met; callers decide on retries from this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderErrorKind {
    /// Throttled or a transient server fault: retrying later may succeed.
    Transient,
    /// The endpoint could not be reached or did not answer in time (retrying may succeed).
    Unreachable,
    /// Credentials missing, expired or denied.
    Auth,
    /// The resource does not exist (any more).
    NotFound,
    /// The request was refused as invalid or conflicting.
    Rejected,
    /// The endpoint does not implement this call.
    Unsupported,
    /// A dry run that would have succeeded.
    DryRunOk,
    /// Anything else.
    Other,
}

/// A failed provider call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ProviderError {
    pub kind: ProviderErrorKind,
    /// The API call, e.g. `DescribeImages` or `deregister`.
    pub call: String,
    /// The resource it was about, e.g. `ami-0abc` or `prod/eu-west-1`.
    pub resource: String,
    pub message: String,
    /// What the user can do about it.
    pub hint: String,
}

impl ProviderError {
    pub fn new(
        kind: ProviderErrorKind,
        call: impl Into<String>,
        resource: impl Into<String>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Self {
        ProviderError {
            kind,
            call: call.into(),
            resource: resource.into(),
            message: message.into(),
            hint: hint.into(),
        }
    }

    pub fn is_transient(&self) -> bool {
        matches!(
            self.kind,
            ProviderErrorKind::Transient | ProviderErrorKind::Unreachable
        )
    }
}

impl fmt::Display for ProviderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} on {} failed: {}",
            self.call, self.resource, self.message
        )?;
        if !self.hint.is_empty() {
            write!(f, " ({})", self.hint)?;
        }
        Ok(())
    }
}
