//! The plan file: everything a migration plan will do — the target version, an optional
//! rebuild, the rollout waves, the scale groups and templates to repoint and the retire
//! ladder — as a TOML document a person can read and edit before running it.

use super::error::PlanError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

/// The largest plan file read (100,000 VMs in waves take about 5 MiB; parsing TOML takes
/// some 60 times the file's size in memory, so this bounds a plan's read to about 500 MB).
const MAX_PLAN: u64 = 8 << 20;

/// A migration plan for one image family.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// Unique id, e.g. `web-base-ubuntu22-20261123-101500`.
    pub id: String,
    /// The policy family the plan moves forward.
    pub family: String,
    /// The version every VM of the plan ends up on.
    pub version: String,
    pub created: DateTime<Utc>,
    pub settings: Settings,
    /// Produce the target version first (absent when it already exists).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rebuild: Option<Rebuild>,
    /// `provider/region` → the image of the target version there (filled in by the rebuild
    /// for its own region).
    #[serde(default)]
    pub targets: BTreeMap<String, String>,
    pub waves: Vec<Wave>,
    /// Scale groups and launch templates to point at the target before retiring.
    #[serde(default)]
    pub repoint: Vec<Repoint>,
    /// Images the plan supersedes, retired rung by rung once nothing uses them.
    #[serde(default)]
    pub retire: Vec<RetireImage>,
    /// VMs of the family the plan leaves alone, and why.
    #[serde(default)]
    pub skipped: Vec<Skipped>,
}

/// How the plan runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// VM replacements in flight at once, across the plan.
    pub concurrency: usize,
    /// VMs of one scale group or application replaced at once.
    pub max_unavailable: Amount,
    /// The tag whose value names a VM's application (VMs outside scale groups).
    pub app_tag: String,
    /// Run after the provider's status checks pass, with DRYDOCK_VM_ID, DRYDOCK_VM_NAME,
    /// DRYDOCK_REPLACES and DRYDOCK_PLAN set; exit 0 means healthy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_cmd: Option<String>,
    /// How long a replacement may take to become healthy.
    pub health_timeout: Span,
    /// Failed VMs a wave tolerates before the plan pauses.
    pub wave_failure_limit: usize,
    /// Attempts per cloud call on transient errors (throttling).
    pub retries: u32,
    /// Deprecated → disabled after this long.
    pub grace: Span,
    /// Disabled → deregistered (with snapshots) after this long.
    pub undo_window: Span,
}

/// Produce the target version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rebuild {
    /// The provider (context) the new image is made in.
    pub provider: String,
    pub region: String,
    /// Capture the image from this VM...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub builder_vm: Option<String>,
    /// ...or run this command (e.g. a Packer build), which prints the new image id last...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// ...or transfer this image from another cloud (`aws:CONTEXT/REGION/ami-…`,
    /// `azure:CONTEXT/LOCATION/gallery/definition[/version]`, or a local disk).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Azure: the gallery the transferred version goes to (its definition is the family).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gallery: Option<String>,
    /// The new image's name.
    pub name: String,
    /// The image the new one is built from (its `drydock:parent`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// Publish only when `drydock lint` finds nothing at or above this severity in the
    /// disk (a local `from` disk, linted before the transfer starts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lint: Option<crate::inspect::lint::Severity>,
    /// How long the builder command may run.
    pub timeout: Span,
}

impl Rebuild {
    /// The local disk a `from` transfer reads, if it names one.
    pub fn local_disk(&self) -> Option<std::path::PathBuf> {
        match crate::transfer::Endpoint::parse(self.from.as_deref()?).ok()? {
            crate::transfer::Endpoint::Local(p) => Some(p),
            _ => None,
        }
    }

    /// The context a `from` transfer reads from, if it names a cloud.
    pub fn from_context(&self) -> Option<&str> {
        let from = self.from.as_deref()?;
        let (cloud, rest) = from.split_once(':')?;
        if !matches!(cloud, "aws" | "azure" | "openstack") {
            return None;
        }
        rest.split('/').next().filter(|c| !c.is_empty())
    }
}

/// One wave of the rollout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Wave {
    pub vms: Vec<PlanVm>,
}

/// A VM the plan replaces.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanVm {
    pub id: String,
    pub name: String,
    pub provider: String,
    pub region: String,
    /// The image it runs now.
    pub image: String,
    /// The replacement unit it belongs to: `sg:<scale group id>`, `app:<name>` or `vm:<id>`.
    pub group: String,
}

impl PlanVm {
    /// The `provider/region` key of `Plan::targets`.
    pub fn scope(&self) -> String {
        format!("{}/{}", self.provider, self.region)
    }
}

/// A scale group or launch template to point at the target version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Repoint {
    pub provider: String,
    pub region: String,
    /// Scale group id or launch template id.
    pub resource: String,
    pub name: String,
    /// The image it references now.
    pub from: String,
}

/// An image to retire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetireImage {
    pub provider: String,
    pub region: String,
    pub image: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// A VM of the family the plan does not touch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Skipped {
    pub vm: String,
    pub name: String,
    pub reason: String,
}

impl Plan {
    /// Every VM of the plan with its wave index.
    pub fn vms(&self) -> impl Iterator<Item = (usize, &PlanVm)> {
        self.waves
            .iter()
            .enumerate()
            .flat_map(|(w, wave)| wave.vms.iter().map(move |v| (w, v)))
    }

    /// Every context (provider) the plan changes or reads from: rollout, rebuild (and the
    /// cloud a rebuild transfers from), repoints, retirements.
    pub fn contexts(&self) -> std::collections::BTreeSet<&str> {
        self.vms()
            .map(|(_, v)| v.provider.as_str())
            .chain(self.rebuild.iter().map(|r| r.provider.as_str()))
            .chain(self.rebuild.iter().filter_map(|r| r.from_context()))
            .chain(self.repoint.iter().map(|r| r.provider.as_str()))
            .chain(self.retire.iter().map(|r| r.provider.as_str()))
            .collect()
    }

    pub fn vm_count(&self) -> usize {
        self.waves.iter().map(|w| w.vms.len()).sum()
    }

    /// The largest plan file read.
    pub const MAX_SIZE: u64 = MAX_PLAN;

    /// Reads a plan file; errors name the file, line and key.
    pub fn read(path: &Path) -> Result<Plan, PlanError> {
        let text = drydock_convert::input::read_regular_text(
            path,
            "plan",
            MAX_PLAN,
            "a plan lists waves of VM ids; split a larger rollout into several plans",
        )
        .map_err(|e| PlanError::Invalid(e.to_string()))?;
        Plan::parse(&text).map_err(|e| PlanError::Invalid(format!("{}: {e}", path.display())))
    }

    pub fn parse(text: &str) -> Result<Plan, PlanError> {
        let plan: Plan = toml::from_str(text).map_err(|e| PlanError::Invalid(e.to_string()))?;
        plan.validate()?;
        Ok(plan)
    }

    /// Checks what serde cannot: an edited plan must still make sense.
    pub fn validate(&self) -> Result<(), PlanError> {
        if self.id.is_empty() || crate::config::paths::safe_file_name(&self.id) != self.id {
            return Err(PlanError::Invalid(format!(
                "plan id {:?} is not a plain name (letters, digits, `-`, `.`); it names the plan's file",
                self.id
            )));
        }
        if self.settings.concurrency == 0 {
            return Err(PlanError::Invalid(
                "settings.concurrency must be at least 1".into(),
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for (_, vm) in self.vms() {
            if !seen.insert(&vm.id) {
                return Err(PlanError::Invalid(format!(
                    "VM {} appears in more than one wave",
                    vm.id
                )));
            }
            let covered = self.targets.contains_key(&vm.scope())
                || self
                    .rebuild
                    .as_ref()
                    .is_some_and(|r| format!("{}/{}", r.provider, r.region) == vm.scope());
            if !covered {
                return Err(PlanError::Invalid(format!(
                    "VM {} ({}) is in {} but the plan has no target image there; add one under [targets]",
                    vm.id,
                    vm.name,
                    vm.scope()
                )));
            }
        }
        if let Some(r) = &self.rebuild {
            let ways = [
                r.builder_vm.is_some(),
                r.command.is_some(),
                r.from.is_some(),
            ];
            if ways.iter().filter(|&&w| w).count() != 1 {
                return Err(PlanError::Invalid(
                    "rebuild needs exactly one of builder_vm, command and from".into(),
                ));
            }
            if r.lint.is_some() && r.local_disk().is_none() {
                return Err(PlanError::Invalid(
                    "rebuild lint needs the image as a local disk (from = a disk file drydock \
                     reads); for an image built in a cloud, `drydock transfer` it to a file and \
                     `drydock lint` that"
                        .into(),
                ));
            }
        }
        Ok(())
    }

    /// Writes the plan atomically (temp file + rename).
    pub fn write(&self, path: &Path) -> Result<(), PlanError> {
        let text = format!(
            "# drydock migration plan — edit before `drydock plan run`; see `drydock plan show {}`\n{}",
            self.id,
            toml::to_string_pretty(self)
                .map_err(|e| PlanError::Invalid(format!("cannot encode plan: {e}")))?
        );
        let write = || {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            crate::model::snapshot::write_atomic(path, |w| {
                std::io::Write::write_all(w, text.as_bytes())
            })
        };
        write()
            .map_err(|e| PlanError::Invalid(format!("cannot write plan {}: {e}", path.display())))
    }
}

/// A count or a percentage: `2` or `25%`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Amount {
    Count(usize),
    Percent(u32),
}

impl Amount {
    /// Of `total`, at least 1 (a percentage rounds up).
    pub fn of(self, total: usize) -> usize {
        match self {
            Amount::Count(n) => n.min(total),
            Amount::Percent(p) => (total * p as usize).div_ceil(100),
        }
        .max(1)
    }
}

impl std::str::FromStr for Amount {
    type Err = PlanError;
    fn from_str(s: &str) -> Result<Amount, PlanError> {
        let s = s.trim();
        let bad = || {
            PlanError::Invalid(format!(
                "`{s}` is neither a count (3) nor a percentage (25%)"
            ))
        };
        match s.strip_suffix('%') {
            Some(p) => match p.trim().parse::<u32>() {
                Ok(p) if (1..=100).contains(&p) => Ok(Amount::Percent(p)),
                _ => Err(bad()),
            },
            None => match s.parse::<usize>() {
                Ok(n) if n > 0 => Ok(Amount::Count(n)),
                _ => Err(bad()),
            },
        }
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Amount::Count(n) => write!(f, "{n}"),
            Amount::Percent(p) => write!(f, "{p}%"),
        }
    }
}

/// A length of time written `90s`, `15m`, `12h` or `7d` (`0s` for none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span(pub chrono::Duration);

impl std::str::FromStr for Span {
    type Err = PlanError;
    fn from_str(s: &str) -> Result<Span, PlanError> {
        let s = s.trim();
        let bad = || {
            PlanError::Invalid(format!(
                "`{s}` is not a length of time such as 90s, 15m, 12h or 7d"
            ))
        };
        let split = s.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
        let n: i64 = s[..split].parse().map_err(|_| bad())?;
        let d = match &s[split..] {
            "s" => chrono::Duration::try_seconds(n),
            "m" => chrono::Duration::try_minutes(n),
            "h" => chrono::Duration::try_hours(n),
            "d" => chrono::Duration::try_days(n),
            _ => None,
        };
        d.map(Span).ok_or_else(bad)
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0.num_seconds();
        match s {
            s if s != 0 && s % 86_400 == 0 => write!(f, "{}d", s / 86_400),
            s if s != 0 && s % 3_600 == 0 => write!(f, "{}h", s / 3_600),
            s if s != 0 && s % 60 == 0 => write!(f, "{}m", s / 60),
            s => write!(f, "{s}s"),
        }
    }
}

macro_rules! string_serde {
    ($t:ty) => {
        impl Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}
string_serde!(Amount);
string_serde!(Span);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_and_spans_parse_and_print() {
        assert_eq!("25%".parse::<Amount>().unwrap().of(10), 3);
        assert_eq!("2".parse::<Amount>().unwrap().of(10), 2);
        assert_eq!("1%".parse::<Amount>().unwrap().of(3), 1);
        assert!("0".parse::<Amount>().is_err() && "150%".parse::<Amount>().is_err());
        for s in ["7d", "12h", "15m", "0s", "90s"] {
            assert_eq!(s.parse::<Span>().unwrap().to_string(), s);
        }
        assert!("7 days".parse::<Span>().is_err() && "d".parse::<Span>().is_err());
    }
}
