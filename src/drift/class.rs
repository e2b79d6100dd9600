//! Image classes: `base` (vendor or marketplace), `golden` (the organisation's own),
//! `capsule` (one application packaged with its dependencies) and `dynamic` (a VM on a base
//! image that installs its software at boot). Decided by a `drydock:class` tag, then the
//! policy's class rules, then heuristics; the reason is always given.

use super::policy::{Glob, Limits};
use crate::model::{Image, Tags, Vm};
use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;

/// The kind of an image or VM.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageClass {
    Base,
    Golden,
    Capsule,
    Dynamic,
}

impl ImageClass {
    pub const ALL: [ImageClass; 4] = [
        ImageClass::Base,
        ImageClass::Golden,
        ImageClass::Capsule,
        ImageClass::Dynamic,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ImageClass::Base => "base",
            ImageClass::Golden => "golden",
            ImageClass::Capsule => "capsule",
            ImageClass::Dynamic => "dynamic",
        }
    }

    fn parse(s: &str) -> Option<ImageClass> {
        ImageClass::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

impl fmt::Display for ImageClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A class and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Classed {
    pub class: ImageClass,
    pub reason: String,
}

/// A tag test in a class rule: `key` (present) or `key=glob`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TagMatch {
    pub key: String,
    pub value: Option<Glob>,
}

impl TagMatch {
    fn matches(&self, tags: &Tags) -> bool {
        tags.get(&self.key)
            .is_some_and(|v| self.value.as_ref().is_none_or(|g| g.matches(v)))
    }
}

impl<'de> Deserialize<'de> for TagMatch {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let (key, value) = match s.split_once('=') {
            Some((k, v)) => (k, Some(Glob::new(v).map_err(serde::de::Error::custom)?)),
            None => (s.as_str(), None),
        };
        if key.trim().is_empty() {
            return Err(serde::de::Error::custom(
                "match_tag needs a tag key: `key` or `key=glob`",
            ));
        }
        Ok(TagMatch {
            key: key.trim().to_string(),
            value,
        })
    }
}

impl Serialize for TagMatch {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.value {
            Some(g) => s.serialize_str(&format!("{}={}", self.key, g.as_str())),
            None => s.serialize_str(&self.key),
        }
    }
}

/// A policy rule: images whose name or tags match get the class.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassRule {
    pub class: ImageClass,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_name: Option<Glob>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_tag: Option<TagMatch>,
}

/// Limits a class tightens (each the stricter of this and the family's).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassLimits {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age_days: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_versions_behind: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grace_days: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enforce_eol: Option<bool>,
}

impl ClassLimits {
    /// `limits` tightened by these.
    pub fn tighten(&self, limits: Limits) -> Limits {
        let min = |a: u32, b: Option<u32>| b.map_or(a, |b| a.min(b));
        Limits {
            max_age_days: min(limits.max_age_days, self.max_age_days),
            max_versions_behind: min(limits.max_versions_behind, self.max_versions_behind),
            grace_days: min(limits.grace_days, self.grace_days),
            enforce_eol: limits.enforce_eol || self.enforce_eol.unwrap_or(false),
        }
    }

    /// The limits that differ from `before`, in words: "max 30 days".
    pub fn describe(&self, before: Limits, after: Limits) -> String {
        let mut parts = Vec::new();
        if after.max_age_days < before.max_age_days {
            parts.push(format!("max age {} days", after.max_age_days));
        }
        if after.max_versions_behind < before.max_versions_behind {
            parts.push(format!("max {} versions behind", after.max_versions_behind));
        }
        if after.grace_days < before.grace_days {
            parts.push(format!("grace {} days", after.grace_days));
        }
        parts.join(", ")
    }
}

/// `[policy.class_limits.CLASS]` tables.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerClass {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<ClassLimits>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub golden: Option<ClassLimits>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capsule: Option<ClassLimits>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dynamic: Option<ClassLimits>,
}

impl PerClass {
    pub fn get(&self, class: &ImageClass) -> Option<&ClassLimits> {
        match class {
            ImageClass::Base => self.base.as_ref(),
            ImageClass::Golden => self.golden.as_ref(),
            ImageClass::Capsule => self.capsule.as_ref(),
            ImageClass::Dynamic => self.dynamic.as_ref(),
        }
    }
}

/// Tags that name the application an image packages.
const APP_TAGS: [&str; 3] = ["drydock:app", "app", "application"];

/// The class of an image.
pub fn of_image(img: &Image, rules: &[ClassRule], issues: &mut Vec<String>) -> Classed {
    if let Some(t) = img.tags.get("drydock:class") {
        match ImageClass::parse(t) {
            Some(class) => {
                return Classed {
                    class,
                    reason: format!("tag drydock:class={t}"),
                }
            }
            None => issues.push(format!(
                "tag drydock:class={t:?} is not base, golden, capsule or dynamic; ignored"
            )),
        }
    }
    for (n, r) in rules.iter().enumerate() {
        let by_name = r.match_name.as_ref().map(|g| g.matches(&img.name));
        let by_tag = r.match_tag.as_ref().map(|t| t.matches(&img.tags));
        let hit = match (by_name, by_tag) {
            (None, None) => false,
            (a, b) => a.unwrap_or(true) && b.unwrap_or(true),
        };
        if hit {
            let what = match (&r.match_name, &r.match_tag) {
                (Some(g), None) => format!("name matches {}", g.as_str()),
                (None, Some(t)) => format!("tag {}", t.key),
                _ => "name and tag match".into(),
            };
            return Classed {
                class: r.class,
                reason: format!("policy class rule {} ({what})", n + 1),
            };
        }
    }
    if img.vendor {
        return Classed {
            class: ImageClass::Base,
            reason: format!("vendor image from {}", img.owner),
        };
    }
    if let Some((k, v)) = APP_TAGS
        .iter()
        .find_map(|k| img.tags.get(k).map(|v| (*k, v)))
    {
        return Classed {
            class: ImageClass::Capsule,
            reason: format!("packages one application (tag {k}={v})"),
        };
    }
    Classed {
        class: ImageClass::Golden,
        reason: format!("the organisation's own image (owner {})", img.owner),
    }
}

/// The class of a VM, given its image's (when the image resolves).
pub fn of_vm(vm: &Vm, image: Option<(&Image, &Classed)>) -> VmClassed {
    let tagged = vm.tags.get("drydock:class").and_then(ImageClass::parse);
    if let Some(class) = tagged {
        return VmClassed {
            class,
            why: VmWhy::Tag,
        };
    }
    let boots = !vm.boot_config.is_empty();
    let (class, why) = match image {
        Some((_, c)) if c.class == ImageClass::Base && boots => {
            (ImageClass::Dynamic, VmWhy::BaseWithBoot)
        }
        Some((_, c)) => (c.class, VmWhy::Image),
        None if boots => (ImageClass::Dynamic, VmWhy::BootUnresolved),
        None => (ImageClass::Base, VmWhy::Unresolved),
    };
    VmClassed { class, why }
}

/// Why a VM has its class (its reason is written when asked: a fleet of a million VMs
/// keeps one byte per VM, not a sentence).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VmWhy {
    Tag,
    BaseWithBoot,
    Image,
    BootUnresolved,
    Unresolved,
}

/// A VM's class and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VmClassed {
    pub class: ImageClass,
    pub why: VmWhy,
}

impl VmClassed {
    /// Why, in words (`image`: the VM's resolved image).
    pub fn reason(&self, vm: &Vm, image: Option<&Image>) -> String {
        let mut s = String::new();
        let _ = self.write_reason(vm, image, &mut s);
        s
    }

    /// The same, written into `out` (a report of a million VMs makes no string per VM).
    pub fn write_reason(
        &self,
        vm: &Vm,
        image: Option<&Image>,
        out: &mut dyn std::fmt::Write,
    ) -> std::fmt::Result {
        let boots = || vm.boot_config.join(", ");
        let name = image.map_or("", |i| i.name.as_str());
        match self.why {
            VmWhy::Tag => out.write_str("tag drydock:class"),
            VmWhy::BaseWithBoot => {
                write!(
                    out,
                    "base image {name} + {} installs software at boot",
                    boots()
                )
            }
            VmWhy::Image => write!(out, "launched from {} image {name}", self.class),
            VmWhy::BootUnresolved => {
                write!(
                    out,
                    "{} installs software at boot (image not resolved)",
                    boots()
                )
            }
            VmWhy::Unresolved => out.write_str("image not resolved; counted as a base image"),
        }
    }
}

#[cfg(test)]
#[path = "class_tests.rs"]
mod tests;
