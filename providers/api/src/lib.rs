//! The provider API: the `Provider` trait every cloud integration implements and the
//! provider-neutral records a scan returns. No cloud SDK is imported here.

pub mod accounts;
pub mod error;
pub mod operation;
pub mod outcome;
pub mod places;
pub mod records;
pub mod tags;
pub mod transfer;

pub use error::{ProviderError, ProviderErrorKind};
pub use operation::{Operation, OperationOutcome};
pub use outcome::{ScopeOutcome, ScopeState};
pub use places::Places;
pub use records::{
    Cloud, Image, ImageState, LaunchTemplate, ScaleGroup, ScanProblem, ScanResult, Tags, Text, Vm,
    VmState,
};

use async_trait::async_trait;

/// Progress of a scan, reported per scope (account × region, subscription × location).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanProgress {
    /// Which provider reports (its context name).
    pub provider: String,
    /// The scope that finished or started, e.g. `prod/eu-west-1`.
    pub scope: String,
    /// Scopes finished so far.
    pub done: usize,
    /// Scopes in all.
    pub total: usize,
}

/// Receives scan progress; called from whichever task finished a scope.
pub type ProgressSink<'a> = &'a (dyn Fn(ScanProgress) + Send + Sync);

/// A cloud integration: reads the inventory and applies mutations.
///
/// Mutations must only be reached through drydock's mutation gate; a provider applies what
/// it is given and honours `dry_run` by validating without changing anything.
#[async_trait]
pub trait Provider: Send + Sync {
    /// The context name this provider was configured under (e.g. `prod-aws`).
    fn name(&self) -> &str;

    /// Which cloud this provider talks to.
    fn cloud(&self) -> Cloud;

    /// Reads VMs, images, scale groups and launch templates. Partial failures (one region
    /// unreachable) are returned as `ScanResult::problems`, not as an error.
    async fn scan(&self, progress: ProgressSink<'_>) -> Result<ScanResult, ProviderError>;

    /// Applies one mutation. With `dry_run` the provider checks that the call would succeed
    /// (permissions, resource exists) and changes nothing.
    async fn apply(&self, op: &Operation, dry_run: bool)
        -> Result<OperationOutcome, ProviderError>;

    /// The health of one VM by the provider's own status checks (a plan's health gate).
    async fn vm_health(&self, vm: &str) -> Result<VmHealth, ProviderError> {
        Err(ProviderError::new(
            ProviderErrorKind::Unsupported,
            "vm health",
            vm,
            format!("{} has no VM status checks", self.name()),
            "configure a health_cmd for the plan instead",
        ))
    }

    /// The provider's disk transfer, where it has one (`drydock transfer`).
    fn transfer(&self) -> Option<&dyn transfer::ImageTransfer> {
        None
    }
}

/// A VM's health by the provider's status checks.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "health", content = "detail", rename_all = "snake_case")]
pub enum VmHealth {
    /// Running and passing its status checks.
    Healthy,
    /// Still starting or initialising its checks: ask again later.
    Starting,
    /// Running but failing a check, or stopped; the detail says which.
    Unhealthy(String),
    /// Terminated or no longer known.
    Gone,
}
