//! Provider-neutral inventory records: VMs, images, scale groups, launch templates.
//! These are what a scan returns and what a snapshot file stores.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

pub use crate::tags::{Tags, Text};

/// Which cloud a record comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Cloud {
    Aws,
    Azure,
    #[serde(rename = "openstack")]
    OpenStack,
}

impl Cloud {
    pub fn as_str(self) -> &'static str {
        match self {
            Cloud::Aws => "aws",
            Cloud::Azure => "azure",
            Cloud::OpenStack => "openstack",
        }
    }
}

impl fmt::Display for Cloud {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Lifecycle state of a VM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VmState {
    Pending,
    Running,
    Stopping,
    Stopped,
    Terminated,
    Unknown,
}

impl VmState {
    pub fn as_str(self) -> &'static str {
        match self {
            VmState::Pending => "pending",
            VmState::Running => "running",
            VmState::Stopping => "stopping",
            VmState::Stopped => "stopped",
            VmState::Terminated => "terminated",
            VmState::Unknown => "unknown",
        }
    }
}

/// Lifecycle state of an image as the cloud reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageState {
    Available,
    Deprecated,
    Disabled,
    Deregistered,
}

impl ImageState {
    pub fn as_str(self) -> &'static str {
        match self {
            ImageState::Available => "available",
            ImageState::Deprecated => "deprecated",
            ImageState::Disabled => "disabled",
            ImageState::Deregistered => "deregistered",
        }
    }
}

/// A virtual machine (EC2 instance, Azure VM or scale-set instance).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vm {
    pub id: Text,
    pub name: Text,
    pub cloud: Cloud,
    /// AWS account id or Azure subscription id.
    pub account: Text,
    /// AWS region or Azure location.
    pub region: Text,
    pub state: VmState,
    /// Instance type or VM size.
    pub size: Text,
    pub launched_at: DateTime<Utc>,
    /// The image the VM was launched from (AMI id, image resource id, marketplace URN).
    pub image_id: Text,
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    pub tags: Tags,
    /// The scale group the VM belongs to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_group: Option<Text>,
    /// What installs software on the VM at boot ("user data", "custom data",
    /// "extension CustomScript"): a VM on a base image with any of these is `dynamic`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub boot_config: Vec<String>,
}

/// A bootable image (AMI, managed image, gallery image version, marketplace image).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Image {
    pub id: String,
    pub name: String,
    pub cloud: Cloud,
    /// Owning account or subscription; for vendor images, the publisher.
    pub account: String,
    pub region: String,
    pub created: DateTime<Utc>,
    pub state: ImageState,
    /// When the image is (or was) deprecated, if scheduled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deprecation_time: Option<DateTime<Utc>>,
    /// When the image reaches end of life, if the publisher declares it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_of_life: Option<DateTime<Utc>>,
    /// Owner id or alias (e.g. `amazon`, `099720109477`, `Canonical`).
    pub owner: String,
    /// For a vendor image: a newer image from the same owner with the same name pattern.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub newer_base: Option<String>,
    /// A vendor or public image rather than one the organisation baked.
    #[serde(default)]
    pub vendor: bool,
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    pub tags: Tags,
}

/// An auto scaling group or VM scale set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScaleGroup {
    pub id: String,
    pub name: String,
    pub cloud: Cloud,
    pub account: String,
    pub region: String,
    /// VM ids currently in the group.
    pub members: Vec<String>,
    /// The image new members are launched from.
    pub model_image_id: String,
    /// The launch template the group uses, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch_template: Option<String>,
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    pub tags: Tags,
}

/// A launch template version that references an image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LaunchTemplate {
    pub id: String,
    pub name: String,
    pub cloud: Cloud,
    pub account: String,
    pub region: String,
    pub version: u64,
    pub default_version: bool,
    pub image_id: String,
}

/// A part of a scan that failed while the rest succeeded (a region unreachable, a call denied).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanProblem {
    pub provider: String,
    pub scope: String,
    pub message: String,
}

impl ScanProblem {
    /// The failed call `e` as a problem of `provider`'s scan, scoped to its resource.
    pub fn of(provider: &str, e: &crate::ProviderError) -> ScanProblem {
        ScanProblem {
            provider: provider.to_string(),
            scope: e.resource.clone(),
            message: e.to_string(),
        }
    }
}

/// Everything one provider's scan found.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScanResult {
    pub vms: Vec<Vm>,
    pub images: Vec<Image>,
    pub scale_groups: Vec<ScaleGroup>,
    pub launch_templates: Vec<LaunchTemplate>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<ScanProblem>,
    /// What each scope's scan read or could not read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outcomes: Vec<crate::ScopeOutcome>,
}

impl ScanResult {
    /// Appends another result (from another region or provider).
    pub fn merge(&mut self, other: ScanResult) {
        // Into an empty result (the first, or only, provider's) the vectors are moved, not
        // copied: a million VMs are not held twice.
        fn append<T>(to: &mut Vec<T>, more: Vec<T>) {
            if to.is_empty() {
                *to = more;
            } else {
                to.extend(more);
            }
        }
        append(&mut self.vms, other.vms);
        append(&mut self.images, other.images);
        append(&mut self.scale_groups, other.scale_groups);
        append(&mut self.launch_templates, other.launch_templates);
        append(&mut self.problems, other.problems);
        append(&mut self.outcomes, other.outcomes);
    }
}
