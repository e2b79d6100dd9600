//! `drydock report --diff OLD NEW`: what changed between two snapshots — VMs and images
//! added or removed, VMs whose image or verdict changed, images whose state changed.

use super::filter::{Filter, Filterable};
use super::rows::{image_rows, vm_rows, ImageRow, VmRow};
use super::Format;
use crate::drift::{Assessment, Verdict};
use crate::model::Inventory;
use comfy_table::presets::ASCII_MARKDOWN;
use comfy_table::Table;
use serde::Serialize;
use std::collections::HashMap;
use std::io::{self, Write};

/// The versioned JSON diff schema.
pub const DIFF_SCHEMA: &str = "drydock.diff/v1";

/// One change between the snapshots.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    /// `vm` or `image`.
    pub kind: &'static str,
    /// `added`, `removed`, `verdict`, `image` (a VM moved to another image), `state`.
    pub change: &'static str,
    pub id: String,
    pub name: String,
    pub from: Option<String>,
    pub to: Option<String>,
    /// The verdict in the new snapshot (or the old one, for removals).
    pub verdict: Verdict,
    /// True when a VM is newly at or above `--fail-on`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub worsened: bool,
}

/// The whole diff.
#[derive(Debug, Clone, Serialize)]
pub struct Diff {
    pub schema: &'static str,
    pub old_scanned_at: String,
    pub new_scanned_at: String,
    pub changes: Vec<Change>,
}

fn vm_change(
    change: &'static str,
    r: &VmRow<'_>,
    from: Option<String>,
    to: Option<String>,
) -> Change {
    Change {
        kind: "vm",
        change,
        id: r.id.into(),
        name: r.name.into(),
        from,
        to,
        verdict: r.verdict,
        worsened: false,
    }
}

fn image_change(
    change: &'static str,
    r: &ImageRow<'_>,
    from: Option<String>,
    to: Option<String>,
) -> Change {
    Change {
        kind: "image",
        change,
        id: r.id.into(),
        name: r.name.into(),
        from,
        to,
        verdict: r.verdict,
        worsened: false,
    }
}

fn filtered<R: Filterable>(rows: Vec<R>, filter: &Filter) -> Vec<R> {
    rows.into_iter().filter(|r| filter.matches(r)).collect()
}

/// Compares two assessed snapshots; the filter applies to the rows of either side.
pub fn diff(
    old: (&Inventory, &Assessment),
    new: (&Inventory, &Assessment),
    filter: &Filter,
    fail_on: Option<Verdict>,
) -> Diff {
    let old_vms = filtered(vm_rows(old.0, old.1), filter);
    let new_vms = filtered(vm_rows(new.0, new.1), filter);
    let old_by_id: HashMap<&str, &VmRow<'_>> = old_vms.iter().map(|r| (r.id, r)).collect();
    let new_by_id: HashMap<&str, &VmRow<'_>> = new_vms.iter().map(|r| (r.id, r)).collect();
    let mut changes = Vec::new();
    let at_or_above = |v: Verdict| fail_on.is_some_and(|l| v >= l);
    for r in &new_vms {
        match old_by_id.get(r.id) {
            None => {
                let mut c = vm_change("added", r, None, Some(r.verdict.to_string()));
                c.worsened = at_or_above(r.verdict);
                changes.push(c);
            }
            Some(o) => {
                if o.image_id != r.image_id {
                    let name = |x: &VmRow<'_>| x.image_name.unwrap_or(x.image_id).to_string();
                    changes.push(vm_change("image", r, Some(name(o)), Some(name(r))));
                }
                if o.verdict != r.verdict {
                    let mut c = vm_change(
                        "verdict",
                        r,
                        Some(o.verdict.to_string()),
                        Some(r.verdict.to_string()),
                    );
                    c.worsened = at_or_above(r.verdict) && !at_or_above(o.verdict);
                    changes.push(c);
                }
            }
        }
    }
    for o in old_vms.iter().filter(|o| !new_by_id.contains_key(o.id)) {
        changes.push(vm_change("removed", o, Some(o.verdict.to_string()), None));
    }
    let old_imgs = filtered(image_rows(old.0, old.1), filter);
    let new_imgs = filtered(image_rows(new.0, new.1), filter);
    let old_img: HashMap<&str, &ImageRow<'_>> = old_imgs.iter().map(|r| (r.id, r)).collect();
    let new_img: HashMap<&str, &ImageRow<'_>> = new_imgs.iter().map(|r| (r.id, r)).collect();
    for r in &new_imgs {
        match old_img.get(r.id) {
            None => changes.push(image_change("added", r, None, Some(r.state.into()))),
            Some(o) if o.state != r.state => changes.push(image_change(
                "state",
                r,
                Some(o.state.into()),
                Some(r.state.into()),
            )),
            Some(_) => {}
        }
    }
    for o in old_imgs.iter().filter(|o| !new_img.contains_key(o.id)) {
        changes.push(image_change("removed", o, Some(o.state.into()), None));
    }
    changes.sort_by(|a, b| {
        (a.kind, a.change, &a.name, &a.id).cmp(&(b.kind, b.change, &b.name, &b.id))
    });
    Diff {
        schema: DIFF_SCHEMA,
        old_scanned_at: old.0.scanned_at.to_rfc3339(),
        new_scanned_at: new.0.scanned_at.to_rfc3339(),
        changes,
    }
}

impl Diff {
    /// Whether some VM became at or above `--fail-on` (newly or by verdict).
    pub fn worsened(&self) -> bool {
        self.changes.iter().any(|c| c.worsened)
    }

    pub fn write(&self, format: Format, out: &mut dyn Write) -> io::Result<()> {
        let header = ["kind", "change", "name", "id", "from", "to", "verdict"];
        let cells = |c: &Change| {
            [
                c.kind.to_string(),
                c.change.to_string(),
                c.name.clone(),
                c.id.clone(),
                c.from.clone().unwrap_or_default(),
                c.to.clone().unwrap_or_default(),
                c.verdict.to_string(),
            ]
        };
        match format {
            Format::Json => {
                serde_json::to_writer_pretty(&mut *out, self).map_err(io::Error::other)?;
                out.write_all(b"\n")
            }
            Format::Csv => {
                let mut w = csv::Writer::from_writer(out);
                w.write_record(header)?;
                for c in &self.changes {
                    w.write_record(cells(c))?;
                }
                w.flush()
            }
            Format::Table | Format::Markdown => {
                let mut t = Table::new();
                if format == Format::Markdown {
                    t.load_preset(ASCII_MARKDOWN);
                } else {
                    t.load_preset(super::text::PLAIN);
                }
                t.set_header(header);
                for c in &self.changes {
                    t.add_row(cells(c));
                }
                super::text::put(out, &t)?;
                writeln!(
                    out,
                    "\n{} changes between {} and {}",
                    self.changes.len(),
                    self.old_scanned_at,
                    self.new_scanned_at
                )
            }
        }
    }
}
