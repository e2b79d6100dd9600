//! The provider-neutral inventory: every VM, image, scale group and launch template from
//! every scanned provider, with the look-ups the drift engine and the views need.

pub mod packed;
pub mod snapshot;
pub mod usage;

use chrono::{DateTime, Utc};
pub use drydock_api::{
    Cloud, Image, ImageState, LaunchTemplate, ScaleGroup, ScanProblem, ScanResult, ScopeOutcome,
    ScopeState, Tags, Vm, VmState,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

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
    /// Account or subscription id → the provider (context) that reported it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub accounts: BTreeMap<String, String>,
    /// What the scan of each context and region read, or could not read, and why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outcomes: Vec<ScopeOutcome>,
}

/// Image id → index into `Inventory::images`; hashed with foldhash (a million look-ups
/// per assessment; the ids are not chosen by anyone hostile to the hash).
pub type ImageIndex<'a> = HashMap<&'a str, usize, foldhash::fast::RandomState>;

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
            accounts: BTreeMap::new(),
            outcomes: scan.outcomes,
        }
    }

    /// Whether some context or region could not be read in full (partial, denied or
    /// unreachable; an older snapshot without outcomes: any scan problem).
    pub fn incomplete(&self) -> bool {
        if self.outcomes.is_empty() {
            return !self.problems.is_empty();
        }
        self.outcomes.iter().any(|o| o.state.is_gap())
    }

    /// The contexts whose scan left a gap, with their outcome rolled up.
    pub fn gaps(&self) -> Vec<drydock_api::outcome::ContextOutcome<'_>> {
        let mut c = drydock_api::outcome::by_context(&self.outcomes);
        c.retain(|c| c.state.is_gap());
        c
    }

    /// Records that `provider` reported every account in `scan`.
    pub fn note_accounts(
        accounts: &mut BTreeMap<String, String>,
        provider: &str,
        scan: &ScanResult,
    ) {
        let ids = scan
            .vms
            .iter()
            .map(|v| v.account.as_str())
            .chain(scan.images.iter().map(|i| i.account.as_str()))
            .chain(scan.scale_groups.iter().map(|s| s.account.as_str()));
        for id in ids {
            if !accounts.contains_key(id) {
                accounts.insert(id.to_string(), provider.to_string());
            }
        }
    }

    /// The provider (context) an account belongs to.
    pub fn provider_of(&self, account: &str) -> Option<&str> {
        self.accounts.get(account).map(String::as_str)
    }

    /// Only what `provider` reported (a context's view of the fleet).
    pub fn restrict_to(&self, provider: &str) -> Inventory {
        let mine = |account: &str| self.provider_of(account) == Some(provider);
        Inventory {
            scanned_at: self.scanned_at,
            sources: vec![provider.to_string()],
            vms: self
                .vms
                .iter()
                .filter(|v| mine(&v.account))
                .cloned()
                .collect(),
            images: self
                .images
                .iter()
                .filter(|i| mine(&i.account))
                .cloned()
                .collect(),
            scale_groups: self
                .scale_groups
                .iter()
                .filter(|s| mine(&s.account))
                .cloned()
                .collect(),
            launch_templates: self
                .launch_templates
                .iter()
                .filter(|l| mine(&l.account))
                .cloned()
                .collect(),
            problems: self
                .problems
                .iter()
                .filter(|p| p.provider == provider)
                .cloned()
                .collect(),
            accounts: self
                .accounts
                .iter()
                .filter(|(_, p)| p.as_str() == provider)
                .map(|(a, p)| (a.clone(), p.clone()))
                .collect(),
            outcomes: self
                .outcomes
                .iter()
                .filter(|o| o.context == provider)
                .cloned()
                .collect(),
        }
    }

    /// Image id → index into `images`.
    pub fn image_index(&self) -> ImageIndex<'_> {
        self.images
            .iter()
            .enumerate()
            .map(|(i, img)| (img.id.as_str(), i))
            .collect()
    }
}
