//! Provenance read from image tags: `drydock:family`, `drydock:version`, `drydock:parent`,
//! `drydock:revoked`, `drydock:eol` and the Cloudmarque-style `cm-source` JSON array
//! `[tooling, repository, pipeline, release, date]`. Malformed tags become issues, never errors.

use crate::model::Tags;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

pub const TAG_FAMILY: &str = "drydock:family";
pub const TAG_VERSION: &str = "drydock:version";
pub const TAG_PARENT: &str = "drydock:parent";
pub const TAG_REVOKED: &str = "drydock:revoked";
pub const TAG_EOL: &str = "drydock:eol";
pub const TAG_CM_SOURCE: &str = "cm-source";

/// The parsed `cm-source` tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CmSource {
    pub tooling: String,
    pub repository: String,
    pub pipeline: String,
    pub release: String,
    pub date: String,
}

/// What an image's tags say about where it came from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Provenance {
    pub family: Option<String>,
    pub version: Option<String>,
    pub parent: Option<String>,
    /// Why the image was revoked, from `drydock:revoked`.
    pub revoked: Option<String>,
    /// End of life declared by tag.
    pub eol: Option<DateTime<Utc>>,
    pub cm_source: Option<CmSource>,
    /// Tags that could not be read, each as a sentence.
    pub issues: Vec<String>,
}

impl Provenance {
    /// Reads provenance from tags. Empty values count as absent.
    pub fn from_tags(tags: &Tags) -> Provenance {
        let get = |k: &str| {
            tags.get(k)
                .map(|v| v.trim())
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        let mut p = Provenance {
            family: get(TAG_FAMILY),
            version: get(TAG_VERSION),
            parent: get(TAG_PARENT),
            revoked: get(TAG_REVOKED),
            ..Provenance::default()
        };
        for key in [TAG_FAMILY, TAG_VERSION, TAG_PARENT] {
            if tags.get(key).is_some_and(|v| v.trim().is_empty()) {
                p.issues.push(format!("tag {key} is empty"));
            }
        }
        if let Some(raw) = get(TAG_EOL) {
            match parse_date(&raw) {
                Some(t) => p.eol = Some(t),
                None => p.issues.push(format!(
                    "tag {TAG_EOL}={raw:?} is not a date (expected YYYY-MM-DD or RFC 3339)"
                )),
            }
        }
        if let Some(raw) = tags.get(TAG_CM_SOURCE) {
            match parse_cm_source(raw) {
                Ok(cm) => {
                    if p.version.is_none() && !cm.release.is_empty() {
                        p.version = Some(cm.release.clone());
                    }
                    p.cm_source = Some(cm);
                }
                Err(why) => p
                    .issues
                    .push(format!("tag {TAG_CM_SOURCE} is malformed: {why}")),
            }
        }
        p
    }
}

/// Parses `YYYY-MM-DD` or an RFC 3339 timestamp.
pub fn parse_date(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc())
}

/// Why a `cm-source` tag cannot be read (an issue on the image, not an error).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CmSourceError {
    #[error("not JSON (column {column}); expected [tooling, repository, pipeline, release, date]")]
    NotJson { column: usize },
    #[error("expected a JSON array [tooling, repository, pipeline, release, date]")]
    NotArray,
    #[error("expected 5 elements [tooling, repository, pipeline, release, date], found {0}")]
    Count(usize),
    #[error("element {index} ({name}) is {found}, expected a string")]
    NotText {
        index: usize,
        name: &'static str,
        found: String,
    },
}

fn parse_cm_source(raw: &str) -> Result<CmSource, CmSourceError> {
    let value: serde_json::Value =
        serde_json::from_str(raw).map_err(|e| CmSourceError::NotJson { column: e.column() })?;
    let items = value.as_array().ok_or(CmSourceError::NotArray)?;
    if items.len() != 5 {
        return Err(CmSourceError::Count(items.len()));
    }
    let field = |i: usize, name: &'static str| -> Result<String, CmSourceError> {
        match &items[i] {
            serde_json::Value::String(s) => Ok(s.clone()),
            serde_json::Value::Number(n) => Ok(n.to_string()),
            other => Err(CmSourceError::NotText {
                index: i,
                name,
                found: other.to_string(),
            }),
        }
    };
    Ok(CmSource {
        tooling: field(0, "tooling")?,
        repository: field(1, "repository")?,
        pipeline: field(2, "pipeline")?,
        release: field(3, "release")?,
        date: field(4, "date")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(pairs: &[(&str, &str)]) -> Tags {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn reads_drydock_tags() {
        let p = Provenance::from_tags(&tags(&[
            (TAG_FAMILY, "web"),
            (TAG_VERSION, "2026.11.2"),
            (TAG_PARENT, "ami-1"),
        ]));
        assert_eq!(p.family.as_deref(), Some("web"));
        assert_eq!(p.version.as_deref(), Some("2026.11.2"));
        assert_eq!(p.parent.as_deref(), Some("ami-1"));
        assert!(p.issues.is_empty());
    }

    #[test]
    fn cm_source_gives_version_when_tag_missing() {
        let p = Provenance::from_tags(&tags(&[(
            TAG_CM_SOURCE,
            r#"["packer","git.example.com/web","bake","2026.11.3","2026-11-20"]"#,
        )]));
        assert_eq!(p.version.as_deref(), Some("2026.11.3"));
        assert_eq!(p.cm_source.unwrap().pipeline, "bake");
    }

    #[test]
    fn malformed_cm_source_is_an_issue() {
        for raw in [
            "[packer, not-json",
            r#"{"a":1}"#,
            r#"["a","b"]"#,
            r#"["a","b","c",[],"e"]"#,
        ] {
            let p = Provenance::from_tags(&tags(&[(TAG_CM_SOURCE, raw)]));
            assert!(p.cm_source.is_none());
            assert_eq!(p.issues.len(), 1, "{raw}");
            assert!(
                p.issues[0].starts_with("tag cm-source is malformed"),
                "{}",
                p.issues[0]
            );
        }
    }

    #[test]
    fn empty_and_bad_tags_are_issues() {
        let p = Provenance::from_tags(&tags(&[(TAG_FAMILY, " "), (TAG_EOL, "soon")]));
        assert_eq!(p.family, None);
        assert_eq!(p.issues.len(), 2);
        let p = Provenance::from_tags(&tags(&[(TAG_EOL, "2027-01-31")]));
        assert_eq!(p.eol.unwrap().to_rfc3339(), "2027-01-31T00:00:00+00:00");
    }
}
