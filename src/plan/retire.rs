//! The end of a plan: repointing scale groups and launch templates at the target, then
//! the retire ladder — deprecate → (grace) → disable → (undo window) → deregister with
//! snapshots. Every rung first re-scans who uses the image and refuses, listing them, if
//! anything still does.

use super::error::PlanError;
use super::executor::Executor;
use super::journal::{PlanStatus, StepState};
use super::Event;
use crate::model::usage::Usage;
use crate::model::Inventory;
use chrono::{DateTime, Utc};
use drydock_api::Operation;
use std::collections::BTreeMap;

const RUNGS: [&str; 3] = ["deprecate", "disable", "deregister"];

impl Executor {
    pub(crate) async fn repoint(
        &self,
        targets: &BTreeMap<String, String>,
    ) -> Result<(), PlanError> {
        let steps = self.steps()?;
        for r in &self.plan.repoint {
            let key = format!("repoint:{}", r.resource);
            if steps.get(&key).is_some_and(|s| s.state == StepState::Done) {
                continue;
            }
            let scope = format!("{}/{}", r.provider, r.region);
            let image = targets.get(&scope).ok_or_else(|| {
                PlanError::Step(format!(
                    "no target image in {scope} to repoint {} at",
                    r.name
                ))
            })?;
            self.record(&key, StepState::Started, None, None, None)?;
            let op = Operation::Repoint {
                resource: r.resource.clone(),
                image: image.clone(),
            };
            self.call(&r.provider, op, Default::default())
                .await
                .map_err(|e| PlanError::call(format!("repoint {}", r.name), e))?;
            self.record(&key, StepState::Done, None, Some(image), None)?;
            self.emit(Event::Repointed {
                plan: self.id().into(),
                resource: r.resource.clone(),
                image: image.clone(),
            });
        }
        Ok(())
    }

    /// A fresh inventory of the providers that own images to retire.
    async fn fresh_inventory(&self) -> Result<Inventory, PlanError> {
        let mut names: Vec<&str> = self
            .plan
            .retire
            .iter()
            .map(|r| r.provider.as_str())
            .collect();
        names.sort();
        names.dedup();
        let mut merged = drydock_api::ScanResult::default();
        for name in &names {
            let scan = self
                .provider(name)?
                .scan(&|_| {})
                .await
                .map_err(|e| PlanError::provider("re-check image usage", e))?;
            merged.merge(scan);
        }
        Ok(Inventory::from_scan(
            self.now(),
            names.iter().map(|n| n.to_string()).collect(),
            merged,
        ))
    }

    /// Climbs the ladder as far as time and usage allow. `None` when every image is
    /// deregistered; otherwise the status to stop in and why.
    pub(crate) async fn retire(&self) -> Result<Option<(PlanStatus, String)>, PlanError> {
        let s = &self.plan.settings;
        let mut waiting: Vec<(DateTime<Utc>, String)> = Vec::new();
        for (level, rung) in RUNGS.iter().enumerate() {
            let steps = self.steps()?;
            let due: Vec<_> = self
                .plan
                .retire
                .iter()
                .filter(|r| {
                    let st = |rung: &str| steps.get(&format!("{rung}:{}", r.image));
                    st(rung).is_some_and(|x| x.state != StepState::Done)
                        && (level == 0
                            || st(RUNGS[level - 1]).is_some_and(|x| x.state == StepState::Done))
                })
                .collect();
            if due.is_empty() {
                continue;
            }
            let inv = self.fresh_inventory().await?;
            let usage = Usage::build(&inv);
            let index = inv.image_index();
            for r in due {
                if level > 0 {
                    let prev = &steps[&format!("{}:{}", RUNGS[level - 1], r.image)];
                    let wait = if level == 1 { s.grace } else { s.undo_window };
                    let at = prev.updated + wait.0;
                    if self.now() < at {
                        waiting.push((at, format!("{rung} {}", r.image)));
                        continue;
                    }
                }
                let u = usage.of(&r.image);
                if !u.is_unused() {
                    let mut users: Vec<String> =
                        u.vms
                            .iter()
                            .map(|&i| format!("VM {} ({})", inv.vms[i].id, inv.vms[i].name))
                            .chain(
                                u.scale_groups
                                    .iter()
                                    .map(|&i| format!("scale group {}", inv.scale_groups[i].name)),
                            )
                            .chain(u.launch_templates.iter().map(|&i| {
                                format!("launch template {}", inv.launch_templates[i].id)
                            }))
                            .collect();
                    let more = users.len().saturating_sub(10);
                    users.truncate(10);
                    let tail = if more > 0 {
                        format!(" and {more} more")
                    } else {
                        String::new()
                    };
                    return Ok(Some((
                        PlanStatus::Blocked,
                        format!(
                            "refusing to {rung} {} ({}): still used by {}{tail}; replace them, then `drydock plan resume`",
                            r.image,
                            r.name,
                            users.join(", ")
                        ),
                    )));
                }
                if !index.contains_key(r.image.as_str()) && level > 0 {
                    // Already gone (deregistered outside the plan): nothing left to do.
                    self.record(
                        &format!("{rung}:{}", r.image),
                        StepState::Done,
                        None,
                        None,
                        None,
                    )?;
                    continue;
                }
                let key = format!("{rung}:{}", r.image);
                self.record(&key, StepState::Started, None, None, None)?;
                let op = match *rung {
                    "deprecate" => Operation::Deprecate {
                        image: r.image.clone(),
                        at: self.now(),
                    },
                    "disable" => Operation::Disable {
                        image: r.image.clone(),
                    },
                    _ => Operation::Deregister {
                        image: r.image.clone(),
                    },
                };
                self.call(&r.provider, op, u.clone())
                    .await
                    .map_err(|e| PlanError::call(format!("{rung} {}", r.image), e))?;
                self.record(&key, StepState::Done, None, None, None)?;
                self.emit(Event::Rung {
                    plan: self.id().into(),
                    rung: rung.to_string(),
                    image: r.image.clone(),
                });
            }
        }
        if let Some((at, what)) = waiting.iter().min() {
            return Ok(Some((
                PlanStatus::Waiting,
                format!(
                    "{} rung(s) wait for their grace period; next: {what} at {}; `drydock plan resume` after then",
                    waiting.len(),
                    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                ),
            )));
        }
        Ok(None)
    }
}
