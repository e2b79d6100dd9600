//! A plan made from the dashboard (`n` in the Plans view), in three steps: pick a family,
//! adjust the plan settings (defaults as `drydock plan new`), review the blast radius; `y`
//! writes it like `plan new` (the plan file, registered in the journal).

use super::data::Data;
use super::keymap::{input_request, key_name};
use super::list::ListState;
use super::messages::{Effect, Mode, Reply};
pub use super::messages::{FamilyChoice, NewPlan, FIELDS};
use crate::drift::Verdict;
use crate::plan::{self, Plan, PlanRequest};
use chrono::{DateTime, Utc};
use crossterm::event::{KeyCode, KeyEvent};
use std::collections::BTreeMap;
use tui_input::Input;

/// Families of the shown data, most drifting first (families nothing drifts in come last).
pub fn families(d: &Data) -> Vec<FamilyChoice> {
    let mut by: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for i in 0..d.inv.vms.len() as u32 {
        let r = d.vm(i);
        if let Some(f) = r.family() {
            let e = by.entry(f).or_default();
            e.0 += 1;
            if r.verdict() != Verdict::Current {
                e.1 += 1;
            }
        }
    }
    let mut out: Vec<FamilyChoice> = by
        .into_iter()
        .map(|(f, (vms, drifting))| FamilyChoice {
            family: f.to_string(),
            vms,
            drifting,
        })
        .collect();
    out.sort_by(|a, b| b.drifting.cmp(&a.drifting).then(a.family.cmp(&b.family)));
    out
}

impl NewPlan {
    /// The first step, on `d`.
    pub fn start(d: &Data) -> NewPlan {
        NewPlan::Family {
            families: families(d),
            list: ListState::default(),
        }
    }

    /// A key while the dialog is open; `d` and `now` build the plan for review.
    pub fn on_key(self, key: KeyEvent, d: &Data, now: DateTime<Utc>) -> Reply {
        let name = key_name(&key).unwrap_or_default();
        let stay = |s: NewPlan| Reply::mode(Mode::NewPlan(Box::new(s)));
        match self {
            NewPlan::Family { families, mut list } => match name.as_str() {
                "esc" => Reply::mode(Mode::Normal),
                "j" | "down" => {
                    list.down(1, families.len());
                    stay(NewPlan::Family { families, list })
                }
                "k" | "up" => {
                    list.up(1);
                    stay(NewPlan::Family { families, list })
                }
                "enter" => match families.get(list.selected) {
                    Some(f) => stay(NewPlan::Settings {
                        family: f.family.clone(),
                        fields: FIELDS
                            .iter()
                            .map(|(_, v)| Input::new(v.to_string()))
                            .collect(),
                        focus: 0,
                        error: None,
                    }),
                    None => Reply {
                        status: Some("no managed family to plan for".into()),
                        ..Reply::mode(Mode::Normal)
                    },
                },
                _ => stay(NewPlan::Family { families, list }),
            },
            NewPlan::Settings {
                family,
                mut fields,
                mut focus,
                mut error,
            } => {
                match key.code {
                    KeyCode::Esc => return stay(NewPlan::start(d)),
                    KeyCode::Tab | KeyCode::Down => focus = (focus + 1) % fields.len(),
                    KeyCode::BackTab | KeyCode::Up => {
                        focus = (focus + fields.len() - 1) % fields.len()
                    }
                    KeyCode::Enter => {
                        return match build(&family, &fields, d, now) {
                            Ok(plan) => {
                                let lines = plan::show::render(&plan, None, &[])
                                    .lines()
                                    .map(String::from)
                                    .collect();
                                stay(NewPlan::Review {
                                    family,
                                    fields,
                                    plan: Box::new(plan),
                                    lines,
                                    scroll: 0,
                                })
                            }
                            Err(e) => stay(NewPlan::Settings {
                                family,
                                fields,
                                focus,
                                error: Some(e),
                            }),
                        }
                    }
                    _ => {
                        if let Some(req) = input_request(&key) {
                            fields[focus].handle(req);
                            error = None;
                        }
                    }
                }
                stay(NewPlan::Settings {
                    family,
                    fields,
                    focus,
                    error,
                })
            }
            NewPlan::Review {
                family,
                fields,
                plan,
                lines,
                scroll,
            } => match name.as_str() {
                "y" => Reply {
                    status: Some(format!("writing plan {}…", plan.id)),
                    effects: vec![Effect::SavePlan(plan)],
                    mode: Some(Mode::Normal),
                },
                "esc" => stay(NewPlan::Settings {
                    family,
                    fields,
                    focus: 0,
                    error: None,
                }),
                "j" | "down" | "k" | "up" | "pgdn" | "pgup" => {
                    let last = lines.len().saturating_sub(1);
                    let scroll = match name.as_str() {
                        "j" | "down" => scroll + 1,
                        "pgdn" => scroll + 10,
                        "k" | "up" => scroll.saturating_sub(1),
                        _ => scroll.saturating_sub(10),
                    }
                    .min(last);
                    stay(NewPlan::Review {
                        family,
                        fields,
                        plan,
                        lines,
                        scroll,
                    })
                }
                _ => stay(NewPlan::Review {
                    family,
                    fields,
                    plan,
                    lines,
                    scroll,
                }),
            },
        }
    }
}

/// The plan the settings describe, built like `drydock plan new` does.
fn build(family: &str, fields: &[Input], d: &Data, now: DateTime<Utc>) -> Result<Plan, String> {
    let v = |i: usize| fields[i].value().trim();
    let named = |i: usize, e: plan::PlanError| format!("{}: {e}", FIELDS[i].0);
    let mut req = PlanRequest::new(family);
    req.to = Some(v(0).to_string()).filter(|s| !s.is_empty());
    req.waves = plan::parse_waves(v(1)).map_err(|e| named(1, e))?;
    req.settings.max_unavailable = v(2).parse().map_err(|e| named(2, e))?;
    req.settings.grace = v(3).parse().map_err(|e| named(3, e))?;
    req.settings.health_cmd = Some(v(4).to_string()).filter(|s| !s.is_empty());
    plan::build(&d.inv, &d.a, &req, now).map_err(|e| e.to_string())
}

/// Writes `plan` to `dir/<id>.toml` and registers it in the journal, as `plan new` does;
/// says where, and what key runs it.
pub fn save(
    plan: &Plan,
    dir: Option<&std::path::Path>,
    journal: Result<std::sync::Arc<crate::plan::Journal>, String>,
) -> Result<String, String> {
    let dir = dir.ok_or("no data directory for plans")?;
    let journal = journal?;
    // Registered (with its claims, under a fresh id) before the file is written: a
    // refused plan leaves no file behind.
    let (plan, path) = journal
        .register_new(plan, &|id: &str| dir.join(format!("{id}.toml")))
        .map_err(|e| e.to_string())?;
    let plan = &plan;
    if let Err(e) = plan.write(&path) {
        let _ = journal.halt(&plan.id, true);
        return Err(e.to_string());
    }
    tracing::info!("plan {} written to {}", plan.id, path.display());
    Ok(format!(
        "wrote plan {} to {}; a approves and runs its first wave",
        plan.id,
        path.display()
    ))
}
