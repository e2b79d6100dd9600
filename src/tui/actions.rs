//! The dashboard's heavier commands: the confirm dialog in front of the mutation gate, the
//! raw-JSON popup and exports.

use super::app::{App, ConfirmState, Effect, ExportFormat, Mode};
use super::keymap::{key_name, Command, View};
use super::matrix;
use crate::gate::{Confirmation, MutationRequest, Needed};
use crate::model::usage::{BlastRadius, ImageUsage};
use crate::model::Tags;
use crate::report::rows::{image_row, vm_row};
use crate::report::text::{images_csv, vms_csv};
use crate::tui::text::short_id;
use chrono::Duration;
use crossterm::event::{KeyCode, KeyEvent};
use drydock_api::Operation;
use std::collections::BTreeSet;
use tui_input::Input;

/// Tag written by "tag for retirement": the date the item is due to go.
pub const TAG_RETIRE: &str = "drydock:retire";

impl App {
    /// Builds the confirm dialog for a mutating command on the marked or selected items.
    pub(super) fn open_confirm(&mut self, c: Command) {
        let Some(d) = &self.data else { return };
        let inv = &d.inv;
        let (vms, images): (Vec<usize>, Vec<usize>) = match self.view {
            View::Fleet if c == Command::TagRetire => (
                self.fleet
                    .rows
                    .targets()
                    .into_iter()
                    .map(|i| i as usize)
                    .collect(),
                vec![],
            ),
            View::Images => (
                vec![],
                self.images
                    .rows
                    .targets()
                    .into_iter()
                    .map(|i| i as usize)
                    .collect(),
            ),
            _ => return,
        };
        if vms.is_empty() && images.is_empty() {
            self.status = Some("nothing selected".into());
            return;
        }
        let due = (self.now + Duration::days(30))
            .format("%Y-%m-%d")
            .to_string();
        let retire_tags: Tags = [(TAG_RETIRE.to_string(), due.clone())].into();
        let mut requests = Vec::new();
        let mut names = Vec::new();
        let mut unowned = Vec::new();
        let targets = vms
            .iter()
            .map(|&v| {
                let vm = &inv.vms[v];
                (
                    vm.id.as_str(),
                    vm.name.as_str(),
                    vm.account.as_str(),
                    vm.region.as_str(),
                    ImageUsage::default(),
                )
            })
            .chain(images.iter().map(|&i| {
                let img = &inv.images[i];
                let usage = d.usage.of(&img.id).clone();
                (
                    img.id.as_str(),
                    img.name.as_str(),
                    img.account.as_str(),
                    img.region.as_str(),
                    usage,
                )
            }));
        for (id, name, account, region, usage) in targets {
            let Some(provider) = inv.provider_of(account) else {
                unowned.push(name.to_string());
                continue;
            };
            let op = match c {
                Command::Deprecate => Operation::Deprecate {
                    image: id.to_string(),
                    at: self.now,
                },
                _ => Operation::Tag {
                    resource: id.to_string(),
                    tags: retire_tags.clone(),
                },
            };
            requests.push(MutationRequest {
                provider: provider.to_string(),
                op,
                usage,
            });
            // Region and id tell apart images of one name (copies in several regions).
            names.push(format!("{name}  ({region}, {})", short_id(id)));
        }
        if let Some(name) = unowned.first() {
            self.status = Some(format!(
                "cannot tell which context owns {name}; rescan and retry"
            ));
            return;
        }
        let contexts: BTreeSet<&str> = requests.iter().map(|r| r.provider.as_str()).collect();
        let expected = match self.gate.needs_all(contexts) {
            Needed::Refused(e) => {
                self.status = Some(e.to_string());
                return;
            }
            Needed::Yes => None,
            Needed::Typed(name) => Some(name),
        };
        let blast = BlastRadius::of(inv, &d.usage, &vms, &images);
        let verb = match c {
            Command::Deprecate => "Deprecate",
            _ => "Tag for retirement",
        };
        let what = if images.is_empty() { "VM" } else { "image" };
        let count = requests.len();
        let mut lines: Vec<String> = names.iter().take(6).map(|n| format!("  • {n}")).collect();
        if names.len() > 6 {
            lines.push(format!("  … and {} more", names.len() - 6));
        }
        lines.push(String::new());
        lines.push(format!("Blast radius: {}", blast.summary()));
        if c == Command::TagRetire {
            lines.push(format!("Adds tag {TAG_RETIRE}={due}."));
        } else {
            lines.push(
                "New launches from deprecated images stop being offered; running VMs keep running."
                    .into(),
            );
        }
        lines.push(String::new());
        lines.push(match &expected {
            Some(p) => format!(
                "PRODUCTION context {p}: type `{p}` and press enter to confirm; esc cancels."
            ),
            None => "Press y to confirm; any other key cancels (default: No).".into(),
        });
        self.mode = Mode::Confirm(Box::new(ConfirmState {
            title: format!(
                "{verb} {count} {what}{}?",
                if count == 1 { "" } else { "s" }
            ),
            lines,
            requests,
            expected,
            typed: Input::default(),
            plan: None,
        }));
    }

    pub(super) fn on_confirm_key(&mut self, key: KeyEvent, mut c: ConfirmState) -> Vec<Effect> {
        let cancelled = || Some("cancelled; nothing changed".to_string());
        match &c.expected {
            None => {
                if key_name(&key).as_deref() == Some("y") {
                    if let Some((plan, action)) = c.plan {
                        self.status = Some(format!("plan {plan}: working…"));
                        return vec![Effect::PlanAction {
                            plan,
                            action,
                            confirmation: Confirmation::Yes,
                        }];
                    }
                    self.status = Some(format!("applying {} change(s)…", c.requests.len()));
                    return vec![Effect::Apply {
                        requests: c.requests,
                        confirmation: Confirmation::Yes,
                    }];
                }
                self.status = cancelled();
            }
            Some(expected) => match key.code {
                KeyCode::Esc => self.status = cancelled(),
                KeyCode::Enter if c.typed.value().trim() == expected => {
                    self.status = Some(format!("applying {} change(s)…", c.requests.len()));
                    let typed = c.typed.value().trim().to_string();
                    if let Some((plan, action)) = c.plan {
                        self.status = Some(format!("plan {plan}: working…"));
                        return vec![Effect::PlanAction {
                            plan,
                            action,
                            confirmation: Confirmation::Typed(typed),
                        }];
                    }
                    return vec![Effect::Apply {
                        requests: c.requests,
                        confirmation: Confirmation::Typed(typed),
                    }];
                }
                KeyCode::Enter => {
                    self.status = Some(format!(
                        "typed text does not match `{expected}`; nothing changed"
                    ));
                }
                _ => {
                    if let Some(req) = super::app::input_request(&key) {
                        c.typed.handle(req);
                    }
                    self.mode = Mode::Confirm(Box::new(c));
                }
            },
        }
        vec![]
    }

    pub(super) fn open_json(&mut self) {
        let text = match (self.view, &self.data) {
            (View::Fleet, Some(d)) => self
                .fleet
                .rows
                .selected()
                .map(|i| serde_json::to_string_pretty(&vm_row(&d.inv, &d.a, i as usize))),
            (View::Images, Some(d)) => self
                .images
                .rows
                .selected()
                .map(|i| serde_json::to_string_pretty(&image_row(&d.inv, &d.a, i as usize))),
            (View::Log, _) => self.log_lines().get(self.log.list.selected).map(|l| {
                serde_json::to_string_pretty(&serde_json::json!({
                    "time": l.time.to_rfc3339(),
                    "level": l.level.to_string(),
                    "target": l.target,
                    "message": l.message,
                }))
            }),
            _ => None,
        };
        match text {
            Some(Ok(text)) => self.mode = Mode::Json { text, scroll: 0 },
            Some(Err(e)) => self.status = Some(format!("cannot show JSON: {e}")),
            None => self.status = Some("nothing selected".into()),
        }
    }

    /// The log lines the Log view shows (its filter applied).
    pub fn log_lines(&self) -> Vec<super::logbuf::LogLine> {
        let needle = self.log.filter.to_lowercase();
        let lines = match &self.log.audit {
            Some(a) => a.clone(),
            None => self.logs.snapshot(),
        };
        lines
            .into_iter()
            .filter(|l| needle.is_empty() || l.render().to_lowercase().contains(&needle))
            .collect()
    }

    /// The current view's rows as a file: (file name stem, bytes).
    pub fn export(&self, format: ExportFormat) -> Result<(String, Vec<u8>), String> {
        let mut out = Vec::new();
        let err = |e: std::io::Error| e.to_string();
        let json = |v: serde_json::Result<Vec<u8>>| v.map_err(|e| e.to_string());
        let d = self.data.as_ref();
        match (self.view, format, d) {
            (View::Fleet, _, Some(d)) => {
                let rows: Vec<_> = self
                    .fleet
                    .rows
                    .shown
                    .iter()
                    .map(|&i| vm_row(&d.inv, &d.a, i as usize))
                    .collect();
                match format {
                    ExportFormat::Csv => {
                        vms_csv(rows.iter().cloned(), None, &mut out).map_err(err)?
                    }
                    ExportFormat::Json => out = json(serde_json::to_vec_pretty(&rows))?,
                }
            }
            (View::Images, _, Some(d)) => {
                let rows: Vec<_> = self
                    .images
                    .rows
                    .shown
                    .iter()
                    .map(|&i| image_row(&d.inv, &d.a, i as usize))
                    .collect();
                match format {
                    ExportFormat::Csv => images_csv(rows.iter(), &mut out).map_err(err)?,
                    ExportFormat::Json => out = json(serde_json::to_vec_pretty(&rows))?,
                }
            }
            (View::Drift, _, Some(d)) => {
                let by = if self.drift_by_region {
                    "region"
                } else {
                    "account"
                };
                let rows = matrix::build(d, self.drift_by_region);
                if format == ExportFormat::Json {
                    let v: Vec<_> = rows
                        .iter()
                        .map(|r| {
                            let counts: serde_json::Map<_, _> = crate::drift::Verdict::ALL
                                .iter()
                                .map(|v| (v.as_str().to_string(), r.counts[*v as usize].into()))
                                .collect();
                            serde_json::json!({"family": r.family, by: r.key, "vms": r.total, "verdicts": counts})
                        })
                        .collect();
                    out = json(serde_json::to_vec_pretty(&v))?;
                } else {
                    let mut w = csv::Writer::from_writer(&mut out);
                    let mut header = vec!["family", by, "vms"];
                    header.extend(crate::drift::Verdict::ALL.iter().map(|v| v.as_str()));
                    w.write_record(&header).map_err(|e| e.to_string())?;
                    for r in rows {
                        let mut rec = vec![r.family.clone(), r.key.clone(), r.total.to_string()];
                        rec.extend(r.counts.iter().map(|c| c.to_string()));
                        w.write_record(&rec).map_err(|e| e.to_string())?;
                    }
                    w.flush().map_err(err)?;
                }
            }
            (View::Contexts, _, _) => {
                let rows = self.context_outcomes();
                out = json(serde_json::to_vec_pretty(&rows))?;
            }
            (View::Conversions, _, _) => {
                return Err("the Conversions view has nothing to export".into());
            }
            (View::Plans, _, _) => {
                let rows: Vec<serde_json::Value> = self
                    .plans
                    .plans
                    .iter()
                    .map(|p| {
                        let replaced: usize = p.waves.iter().map(|w| w.done + w.healthy).sum();
                        serde_json::json!({
                            "plan": p.row.id, "family": p.plan.family, "version": p.plan.version,
                            "status": p.row.status.as_str(), "message": p.row.message,
                            "replaced": replaced, "vms": p.plan.vm_count(),
                        })
                    })
                    .collect();
                if format == ExportFormat::Json {
                    out = json(serde_json::to_vec_pretty(&rows))?;
                } else {
                    let mut w = csv::Writer::from_writer(&mut out);
                    let cols = ["plan", "family", "version", "status", "replaced", "vms"];
                    w.write_record(cols).map_err(|e| e.to_string())?;
                    for r in &rows {
                        let rec: Vec<String> = cols
                            .iter()
                            .map(|c| match &r[*c] {
                                serde_json::Value::String(s) => s.clone(),
                                v => v.to_string(),
                            })
                            .collect();
                        w.write_record(&rec).map_err(|e| e.to_string())?;
                    }
                    w.flush().map_err(err)?;
                }
                return Ok(("plans".into(), out));
            }
            (View::Log, _, _) => {
                for l in self.log_lines() {
                    out.extend_from_slice(l.render().as_bytes());
                    out.push(b'\n');
                }
                return Ok(("log".into(), out));
            }
            (_, _, None) => return Err("no data yet".into()),
        }
        Ok((self.view.name().to_string(), out))
    }
}
