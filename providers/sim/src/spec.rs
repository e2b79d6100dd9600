//! The fleet specification: a TOML description of simulated accounts, image families and
//! VM fleets with dates relative to "now", so a fleet built from it never goes stale.
//! The embedded demo fleet (`demo/fleet.toml`) is one such spec.

use drydock_api::{Cloud, ImageState, Tags, VmState};
use serde::Deserialize;

/// A whole simulated estate.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FleetSpec {
    pub accounts: Vec<AccountSpec>,
    pub families: Vec<FamilySpec>,
    pub fleets: Vec<VmFleetSpec>,
}

/// An AWS account or Azure subscription.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountSpec {
    /// Short name used by families and fleets to refer to this account.
    pub name: String,
    #[serde(deserialize_with = "simulated_cloud")]
    pub cloud: Cloud,
    /// Account id or subscription id.
    pub id: String,
    pub regions: Vec<String>,
}

/// One image family and its versions.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FamilySpec {
    pub name: String,
    /// The account (by name) that owns or, for vendor images, publishes into.
    pub account: String,
    /// A vendor/public image (no provenance tags, matched by name).
    #[serde(default)]
    pub vendor: bool,
    /// Owner shown on the image (defaults to the account id).
    #[serde(default)]
    pub owner: Option<String>,
    /// Image name with `{version}` substituted.
    pub name_pattern: String,
    /// Write provenance tags (`drydock:family`, `drydock:version`, `drydock:parent`).
    #[serde(default = "yes")]
    pub provenance: bool,
    /// Also write a `cm-source` tag.
    #[serde(default)]
    pub cm_source: bool,
    /// Regions the images exist in (defaults to the account's regions).
    #[serde(default)]
    pub regions: Option<Vec<String>>,
    /// Tags every image of the family carries (e.g. `app`, `drydock:class`).
    #[serde(default)]
    pub tags: Tags,
    pub versions: Vec<VersionSpec>,
}

fn yes() -> bool {
    true
}

/// One version of a family.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VersionSpec {
    pub version: String,
    pub created_days_ago: f64,
    #[serde(default = "available")]
    pub state: ImageState,
    /// End of life relative to now: negative = in the past.
    #[serde(default)]
    pub eol_in_days: Option<f64>,
    /// Deprecation time relative to now (negative = already deprecated).
    #[serde(default)]
    pub deprecate_in_days: Option<f64>,
    /// Parent image as `family@version`.
    #[serde(default)]
    pub parent: Option<String>,
    /// Extra tags, written verbatim (may override generated ones, e.g. a malformed `cm-source`).
    #[serde(default)]
    pub tags: Tags,
}

fn available() -> ImageState {
    ImageState::Available
}

/// A group of VMs launched from one image.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VmFleetSpec {
    /// VM name prefix; VMs are named `{name}-{n:03}`.
    pub name: String,
    pub account: String,
    /// The image as `family@version`, or a raw image id (which may not resolve).
    pub image: String,
    pub count: usize,
    #[serde(default)]
    pub regions: Option<Vec<String>>,
    pub size: String,
    pub launched_days_ago: f64,
    #[serde(default = "running")]
    pub state: VmState,
    /// Members of a scale group with this name (one per region).
    #[serde(default)]
    pub scale_group: Option<String>,
    /// The scale group's model image as `family@version` (defaults to `image`).
    #[serde(default)]
    pub model_image: Option<String>,
    #[serde(default)]
    pub tags: Tags,
    /// What installs software at boot ("user data", "extension CustomScript"): VMs on a
    /// base image with any of these are `dynamic`.
    #[serde(default)]
    pub boot_config: Vec<String>,
}

/// The clouds the simulator models: AWS and Azure (an OpenStack site is tested against the
/// fake OpenStack, not simulated).
fn simulated_cloud<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Cloud, D::Error> {
    match Cloud::deserialize(d)? {
        Cloud::OpenStack => Err(serde::de::Error::custom(
            "the simulated fleet has aws and azure accounts only",
        )),
        c => Ok(c),
    }
}

fn running() -> VmState {
    VmState::Running
}

impl FleetSpec {
    /// Parses a spec; errors name the line and key.
    pub fn parse(text: &str) -> Result<FleetSpec, toml::de::Error> {
        toml::from_str(text)
    }

    /// The embedded demo fleet.
    pub fn demo() -> FleetSpec {
        FleetSpec::parse(DEMO_FLEET).expect("demo/fleet.toml is valid (checked by tests)")
    }
}

/// `demo/fleet.toml`, embedded.
pub const DEMO_FLEET: &str = include_str!("../../../demo/fleet.toml");
