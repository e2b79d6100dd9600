//! `drydock lint`: hygiene checks on a disk image before it is published, read offline like
//! `inspect`. Each finding has a stable id, a severity, evidence (partition, path, offset)
//! and a fix. The checks cover `virt-sysprep`'s operations (host keys, histories,
//! machine-id, logs, caches, leases, spools, crash data) and more: credentials baked in,
//! unlocked password hashes, default accounts, a missing contextualisation agent, the disk's
//! layout, free space that is not zero-filled and what it costs compressed, large data
//! directories, and the virtual size against the data.

mod files;
mod space;
mod sysprep;

use super::{contents, InspectError, Inspection};
use drydock_convert as convert;
use serde::Serialize;
use std::path::Path;

/// How bad a finding is; `--fail-on` picks the lowest that fails the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    /// Every severity, lowest first.
    pub const ALL: [Severity; 3] = [Severity::Info, Severity::Warning, Severity::Error];
}

/// A severity that does not exist.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a severity (info, warning, error)")]
pub struct UnknownSeverity(pub String);

impl std::str::FromStr for Severity {
    type Err = UnknownSeverity;

    fn from_str(s: &str) -> Result<Severity, UnknownSeverity> {
        Severity::ALL
            .into_iter()
            .find(|v| v.to_string() == s)
            .ok_or_else(|| UnknownSeverity(s.to_string()))
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// Where a finding was seen.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Evidence {
    /// The partition number (0 for a disk without a table).
    pub partition: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// A byte offset on the virtual disk.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

/// One hygiene problem.
#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    pub id: &'static str,
    pub severity: Severity,
    pub title: String,
    pub evidence: Vec<Evidence>,
    pub fix: &'static str,
}

/// What `lint` may tune.
#[derive(Clone, Debug)]
pub struct LintOptions {
    /// A data directory at least this large is a finding.
    pub large_dir: u64,
}

impl Default for LintOptions {
    fn default() -> Self {
        LintOptions {
            large_dir: 256 << 20,
        }
    }
}

/// Everything `lint` found, worst first.
#[derive(Clone, Debug, Serialize)]
pub struct LintReport {
    pub format: String,
    pub virtual_size: u64,
    pub findings: Vec<Finding>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl LintReport {
    /// The worst severity found, if any.
    pub fn worst(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }
}

/// Gathers findings by id, one finding per id with all its evidence.
#[derive(Default)]
pub(crate) struct Findings(Vec<Finding>);

impl Findings {
    pub(crate) fn add(
        &mut self,
        id: &'static str,
        severity: Severity,
        title: &str,
        fix: &'static str,
        evidence: Evidence,
    ) {
        match self.0.iter_mut().find(|f| f.id == id) {
            Some(f) => f.evidence.push(evidence),
            None => self.0.push(Finding {
                id,
                severity,
                title: title.to_string(),
                evidence: vec![evidence],
                fix,
            }),
        }
    }
}

/// Lint the image at `path`.
pub fn lint(path: &Path, opts: &LintOptions) -> Result<LintReport, InspectError> {
    let found: Inspection = super::inspect(path)?;
    let mut out = Findings::default();
    let warnings = found.warnings.clone();
    space::layout(&found, &mut out);
    for v in &found.volumes {
        let n = v.partition.number;
        match v.filesystem.kind.as_str() {
            "ext2" | "ext3" | "ext4" => {
                // Unreadable is never clean: a filesystem that cannot be read is an error.
                let unreadable = |out: &mut Findings, why: String| {
                    out.add(
                        "filesystem.unreadable",
                        Severity::Error,
                        "a filesystem that cannot be read: nothing inside it was checked",
                        "repair it (e2fsck -f) or rebuild the image; do not ship it unchecked",
                        Evidence {
                            partition: n,
                            offset: Some(v.partition.start),
                            detail: why,
                            ..Evidence::default()
                        },
                    )
                };
                if let Some(why) = v
                    .filesystem
                    .problem
                    .clone()
                    .filter(|_| !v.filesystem.readable)
                {
                    unreadable(&mut out, why);
                    continue;
                }
                let reader = convert::open_reader(path, None)?;
                let (start, size) = (v.partition.start, v.partition.size);
                let c = v.contents.clone().unwrap_or_default();
                let checked = crate::contain::reading(start, || {
                    let fs = contents::open(reader, start, size)?;
                    files::check(&fs, n, &c, &mut out);
                    space::large_dirs(&fs, n, opts.large_dir, &mut out);
                    Ok(())
                });
                if let Err(e) = checked {
                    unreadable(&mut out, e.to_string());
                    continue;
                }
                let mut reader = convert::open_reader(path, None)?;
                space::free_space(reader.as_mut(), v, &mut out)?;
            }
            "xfs" | "btrfs" | "LUKS" | "ntfs" | "LVM2 member" => out.add(
                "filesystem.unreadable",
                Severity::Warning,
                "a filesystem drydock cannot read inside: its files were not checked",
                "check it with a tool that reads this filesystem, or build the image on ext4",
                Evidence {
                    partition: n,
                    offset: Some(v.partition.start),
                    detail: v.filesystem.kind.clone(),
                    ..Evidence::default()
                },
            ),
            _ => {}
        }
    }
    let mut findings = out.0;
    findings.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.id.cmp(b.id)));
    Ok(LintReport {
        format: found.format,
        virtual_size: found.virtual_size,
        findings,
        warnings,
    })
}
