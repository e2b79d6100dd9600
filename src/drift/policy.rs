//! The drift policy: which family an image belongs to and the limits that apply to it.
//! Deserialised from the `[policy]` section of the config.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A glob that cannot be read, with where it goes wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid glob `{pattern}`: {why} at position {position}")]
pub struct GlobError {
    pub pattern: String,
    pub why: &'static str,
    pub position: usize,
}

/// A shell-style glob (`*`, `?`, `[abc]`), checked when the config is read.
#[derive(Clone, PartialEq, Eq)]
pub struct Glob(glob::Pattern);

impl Glob {
    pub fn new(s: &str) -> Result<Glob, GlobError> {
        glob::Pattern::new(s).map(Glob).map_err(|e| GlobError {
            pattern: s.to_string(),
            why: e.msg,
            position: e.pos,
        })
    }

    pub fn matches(&self, s: &str) -> bool {
        self.0.matches(s)
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The literal text just before the last wildcard and after it: what a version
    /// sits between in a vendor image name.
    fn around_last_wildcard(&self) -> (&str, &str) {
        let s = self.as_str();
        // Wildcard tokens as byte ranges: `*`, `?`, `[...]`.
        let mut tokens = Vec::new();
        let mut i = 0;
        let bytes = s.as_bytes();
        while i < bytes.len() {
            match bytes[i] {
                b'*' | b'?' => tokens.push((i, i + 1)),
                b'[' => {
                    let end = s[i..].find(']').map_or(s.len(), |e| i + e + 1);
                    tokens.push((i, end));
                    i = end;
                    continue;
                }
                _ => {}
            }
            i += 1;
        }
        match tokens.as_slice() {
            [] => (s, ""),
            [.., prev, last] => (&s[prev.1..last.0], &s[last.1..]),
            [only] => (&s[..only.0], &s[only.1..]),
        }
    }
}

impl fmt::Debug for Glob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Glob({:?})", self.as_str())
    }
}

impl<'de> Deserialize<'de> for Glob {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Glob::new(&s).map_err(serde::de::Error::custom)
    }
}

impl Serialize for Glob {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Limits that apply where no family rule overrides them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Defaults {
    /// An image older than this many whole days is `outdated`.
    pub max_age_days: u32,
    /// More newer versions than this (past the grace period) make an image `outdated`.
    pub max_versions_behind: u32,
    /// Days an image may exceed the version-lag limit before it is `outdated`.
    pub grace_days: u32,
    /// Report images past their end of life as `eol`.
    pub enforce_eol: bool,
    /// Images with a `drydock:family` tag are managed with these defaults even when no
    /// family rule matches them.
    pub manage_tagged: bool,
}

impl Default for Defaults {
    fn default() -> Self {
        Defaults {
            max_age_days: 90,
            max_versions_behind: 2,
            grace_days: 14,
            enforce_eol: true,
            manage_tagged: true,
        }
    }
}

/// A family rule: which images it covers and any limits it overrides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FamilyRule {
    /// The family name reported for images matched by `match_name`.
    pub name: String,
    /// Matches the value of an image's `drydock:family` tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_tag: Option<Glob>,
    /// Matches the image name (for vendor images, which carry no provenance tags).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_name: Option<Glob>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age_days: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_versions_behind: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grace_days: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enforce_eol: Option<bool>,
}

/// The whole policy.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    #[serde(default)]
    pub defaults: Defaults,
    /// Rules in order; the first that matches wins.
    #[serde(default)]
    pub families: Vec<FamilyRule>,
    /// Class rules in order (after a `drydock:class` tag, before the heuristics).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub classes: Vec<super::class::ClassRule>,
    /// Limits per class, which only tighten: `[policy.class_limits.dynamic]` applies to
    /// the base images of dynamic VMs, for those VMs.
    #[serde(default)]
    pub class_limits: super::class::PerClass,
    /// Image lists subscribed to (HEPiX / AppDB format), from a file or URL.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub image_lists: Vec<super::image_list::Subscription>,
    /// The subscribed lists as loaded (not part of the config file).
    #[serde(skip)]
    pub lists: Vec<super::image_list::ImageList>,
}

/// The limits in force for one image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Limits {
    pub max_age_days: u32,
    pub max_versions_behind: u32,
    pub grace_days: u32,
    pub enforce_eol: bool,
}

/// How policy sees one image: its family (if managed), version and limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classification {
    /// `None` when no rule covers the image: it is unmanaged.
    pub family: Option<String>,
    /// The version: from provenance, else derived from the name the rule matched.
    pub version: Option<String>,
    pub limits: Limits,
}

impl Policy {
    fn limits(&self, rule: Option<&FamilyRule>) -> Limits {
        let d = &self.defaults;
        Limits {
            max_age_days: rule.and_then(|r| r.max_age_days).unwrap_or(d.max_age_days),
            max_versions_behind: rule
                .and_then(|r| r.max_versions_behind)
                .unwrap_or(d.max_versions_behind),
            grace_days: rule.and_then(|r| r.grace_days).unwrap_or(d.grace_days),
            enforce_eol: rule.and_then(|r| r.enforce_eol).unwrap_or(d.enforce_eol),
        }
    }

    /// Classifies an image by its `drydock:family` tag (if any) and name.
    pub fn classify(
        &self,
        name: &str,
        family_tag: Option<&str>,
        version_tag: Option<&str>,
    ) -> Classification {
        let by_tag = family_tag.and_then(|fam| {
            self.families
                .iter()
                .find(|r| r.match_tag.as_ref().is_some_and(|g| g.matches(fam)))
        });
        if let Some(fam) = family_tag {
            if by_tag.is_some() || self.defaults.manage_tagged {
                return Classification {
                    family: Some(fam.to_string()),
                    version: version_tag.map(str::to_string),
                    limits: self.limits(by_tag),
                };
            }
        }
        let by_name = self
            .families
            .iter()
            .find(|r| r.match_name.as_ref().is_some_and(|g| g.matches(name)));
        match by_name {
            Some(rule) => Classification {
                family: Some(rule.name.clone()),
                version: version_tag
                    .map(str::to_string)
                    .or_else(|| Some(version_from_name(rule.match_name.as_ref(), name))),
                limits: self.limits(Some(rule)),
            },
            None => Classification {
                family: None,
                version: version_tag.map(str::to_string),
                limits: self.limits(None),
            },
        }
    }
}

/// The part of a vendor image name that varies between versions: the last segment of an
/// Azure marketplace URN, else what the glob's wildcards matched.
fn version_from_name(glob: Option<&Glob>, name: &str) -> String {
    if name.matches(':').count() == 3 {
        return name.rsplit(':').next().unwrap_or(name).to_string();
    }
    let (head, tail) = glob.map_or(("", ""), Glob::around_last_wildcard);
    let v = name.strip_suffix(tail).unwrap_or(name);
    let v = match v.rfind(head) {
        Some(i) if !head.is_empty() => &v[i + head.len()..],
        _ => v,
    };
    if v.is_empty() {
        name.to_string()
    } else {
        v.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(name: &str, tag: Option<&str>, glob: Option<&str>) -> FamilyRule {
        FamilyRule {
            name: name.into(),
            match_tag: tag.map(|t| Glob::new(t).unwrap()),
            match_name: glob.map(|g| Glob::new(g).unwrap()),
            max_age_days: Some(30),
            max_versions_behind: None,
            grace_days: None,
            enforce_eol: None,
        }
    }

    #[test]
    fn tag_rule_then_defaults_then_name() {
        let policy = Policy {
            defaults: Defaults::default(),
            families: vec![
                rule("web", Some("web-*"), None),
                rule("ubuntu", None, Some("ubuntu/images/*-server-*")),
            ],
            ..Policy::default()
        };
        let c = policy.classify("x", Some("web-base"), Some("1.2"));
        assert_eq!(c.family.as_deref(), Some("web-base"));
        assert_eq!(c.limits.max_age_days, 30);
        let c = policy.classify("x", Some("batch"), None);
        assert_eq!(c.limits.max_age_days, 90);
        let c = policy.classify(
            "ubuntu/images/hvm-ssd/ubuntu-jammy-server-20261104",
            None,
            None,
        );
        assert_eq!(c.family.as_deref(), Some("ubuntu"));
        assert_eq!(c.version.as_deref(), Some("20261104"));
        let g = Glob::new("al2023-ami-*-kernel-6.1-x86_64").unwrap();
        let v = version_from_name(Some(&g), "al2023-ami-2023.9.20261112-kernel-6.1-x86_64");
        assert_eq!(v, "2023.9.20261112");
        let g = Glob::new("ubuntu/images/hvm-ssd*/ubuntu-jammy-*-server-*").unwrap();
        let v = version_from_name(
            Some(&g),
            "ubuntu/images/hvm-ssd-gp3/ubuntu-jammy-22.04-amd64-server-20261104",
        );
        assert_eq!(v, "20261104");
        assert_eq!(policy.classify("manual", None, None).family, None);
    }

    #[test]
    fn manage_tagged_off_leaves_unmatched_tags_unmanaged() {
        let mut policy = Policy::default();
        policy.defaults.manage_tagged = false;
        assert_eq!(policy.classify("x", Some("batch"), None).family, None);
    }

    #[test]
    fn urn_version_and_bad_glob() {
        let v = version_from_name(None, "Canonical:offer:sku:22.04.202610150");
        assert_eq!(v, "22.04.202610150");
        assert!(Glob::new("a[")
            .unwrap_err()
            .to_string()
            .contains("invalid glob"));
    }
}
