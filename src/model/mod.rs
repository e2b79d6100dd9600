//! The provider-neutral inventory: every VM, image, scale group and launch template from
//! every scanned provider, with the look-ups the drift engine and the views need.

pub mod snapshot;

use chrono::{DateTime, Utc};
pub use drydock_api::{
    Cloud, Image, ImageState, LaunchTemplate, ScaleGroup, ScanProblem, ScanResult, Tags, Vm,
    VmState,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Everything known about the fleet at one moment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Inventory {
    /// When the scan finished.
    pub scanned_at: DateTime<Utc>,
    /// The providers (context names) the inventory was read from.
    pub sources: Vec<String>,
    pub vms: Vec<Vm>,
    pub images: Vec<Image>,
    pub scale_groups: Vec<ScaleGroup>,
    pub launch_templates: Vec<LaunchTemplate>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<ScanProblem>,
}

impl Inventory {
    /// Assembles an inventory from scan results. Terminated VMs are dropped; an image seen
    /// twice (two providers sharing a vendor image) is kept once.
    pub fn from_scan(scanned_at: DateTime<Utc>, sources: Vec<String>, scan: ScanResult) -> Self {
        let mut images = scan.images;
        images.sort_by(|a, b| a.id.cmp(&b.id));
        images.dedup_by(|a, b| a.id == b.id);
        let mut vms = scan.vms;
        vms.retain(|v| v.state != VmState::Terminated);
        Inventory {
            scanned_at,
            sources,
            vms,
            images,
            scale_groups: scan.scale_groups,
            launch_templates: scan.launch_templates,
            problems: scan.problems,
        }
    }

    /// Image id → index into `images`.
    pub fn image_index(&self) -> HashMap<&str, usize> {
        self.images
            .iter()
            .enumerate()
            .map(|(i, img)| (img.id.as_str(), i))
            .collect()
    }
}
