//! The JSON report (`drydock.report/v1`, documented in the README).

use super::{Counts, Report, ReportOptions, REPORT_SCHEMA};
use crate::drift::Verdict;
use serde::Serialize;
use std::io::{self, Write};

#[derive(Serialize)]
struct Summary<'a> {
    vms: usize,
    images: usize,
    verdicts: &'a Counts,
    failing: usize,
}

#[derive(Serialize)]
struct GroupOut<'a> {
    key: &'a str,
    vms: usize,
    verdicts: &'a Counts,
}

#[derive(Serialize)]
struct ArtifactOut<'a> {
    id: &'a str,
    cloud: &'a str,
    account: &'a str,
    region: &'a str,
    verdict: Verdict,
    #[serde(skip_serializing_if = "Option::is_none")]
    sha256: Option<&'a str>,
}

/// One build (family × version) with its artifacts per cloud and region.
#[derive(Serialize)]
struct BuildOut<'a> {
    family: String,
    version: String,
    clouds: Vec<&'a str>,
    /// Every artifact that names a content digest names the same one.
    consistent: bool,
    artifacts: Vec<ArtifactOut<'a>>,
}

#[derive(Serialize)]
struct Document<'a> {
    schema: &'static str,
    generated_at: String,
    scanned_at: String,
    sources: &'a [String],
    filter: Option<String>,
    fail_on: Option<Verdict>,
    group_by: Option<&'static str>,
    summary: Summary<'a>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    groups: Vec<GroupOut<'a>>,
    vms: &'a [super::VmRow<'a>],
    images: &'a [super::ImageRow<'a>],
    builds: Vec<BuildOut<'a>>,
    problems: &'a [crate::model::ScanProblem],
    /// Whether every context and region was read in full.
    complete: bool,
    /// Each context's scan outcome (ok, partial, denied, unreachable, skipped) and scopes.
    contexts: Vec<drydock_api::outcome::ContextOutcome<'a>>,
}

pub(super) fn write(r: &Report<'_>, opts: &ReportOptions, out: &mut dyn Write) -> io::Result<()> {
    let doc = Document {
        schema: REPORT_SCHEMA,
        generated_at: r.assessment.now.to_rfc3339(),
        scanned_at: r.inventory.scanned_at.to_rfc3339(),
        sources: &r.inventory.sources,
        filter: (!opts.filter.is_empty()).then(|| opts.filter.to_string()),
        fail_on: opts.fail_on,
        group_by: opts.group_by.map(|g| g.as_str()),
        summary: Summary {
            vms: r.vms.len(),
            images: r.images.len(),
            verdicts: &r.counts,
            failing: r.failing,
        },
        groups: r
            .groups
            .iter()
            .map(|g| GroupOut {
                key: &g.key,
                vms: g.total,
                verdicts: &g.counts,
            })
            .collect(),
        vms: &r.vms,
        images: &r.images,
        builds: builds(r),
        problems: &r.inventory.problems,
        complete: !r.inventory.incomplete(),
        contexts: drydock_api::outcome::by_context(&r.inventory.outcomes),
    };
    serde_json::to_writer_pretty(&mut *out, &doc).map_err(io::Error::other)?;
    out.write_all(b"\n")
}

/// The builds of the images the report lists.
fn builds<'a>(r: &Report<'a>) -> Vec<BuildOut<'a>> {
    let inv = r.inventory;
    r.builds()
        .into_iter()
        .map(|b| BuildOut {
            clouds: b.clouds(inv),
            consistent: b.consistent(),
            artifacts: b
                .images
                .iter()
                .map(|&i| {
                    let img = &inv.images[i];
                    ArtifactOut {
                        id: &img.id,
                        cloud: img.cloud.as_str(),
                        account: &img.account,
                        region: &img.region,
                        verdict: r.assessment.images[i].verdict,
                        sha256: crate::drift::builds::digest(&img.tags),
                    }
                })
                .collect(),
            family: b.family,
            version: b.version,
        })
        .collect()
}
