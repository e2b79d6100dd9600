//! The Plans view's state: the plans read from the journal (refreshed while the view is
//! open), the selected plan, and the confirm dialogs for approve / pause / abort / rollback,
//! whose confirmation is handed to the runtime with the action.

use super::list::ListState;
use super::messages::{ConfirmState, Effect, Mode, Reply};
pub use super::messages::{PlanAction, PlanView};
use crate::gate::{Gate, Needed};
use crate::plan::show::{blast_radius, wave_progress};
use crate::plan::Journal;
use tui_input::Input;

/// A plan message in the dashboard's words: the keys that do what the CLI commands named
/// in the journal's messages do (`a` approves or resumes, `R` rolls back, `p` pauses).
pub fn in_dashboard_words(message: &str) -> String {
    const KEYS: [(&str, &str); 5] = [
        ("`drydock plan run --execute` to approve", "a approves"),
        ("`drydock plan resume` after then", "a resumes after then"),
        ("`drydock plan resume`", "a (resume)"),
        ("`drydock plan rollback`", "R (roll back)"),
        ("`drydock plan run --execute`", "a"),
    ];
    let mut out = message.to_string();
    for (cli, key) in KEYS {
        out = out.replace(cli, key);
    }
    // `drydock plan pause ID` → p
    if let Some(i) = out.find("`drydock plan pause ") {
        if let Some(j) = out[i + 1..].find('`') {
            out.replace_range(i..i + j + 2, "p");
        }
    }
    out
}

/// Why a plan cannot run here: a context it acts in is not configured (`None`: all are).
pub fn unconfigured(plan: &crate::plan::Plan, gate: &Gate) -> Option<String> {
    let missing: Vec<&str> = plan
        .contexts()
        .into_iter()
        .filter(|c| !gate.knows(c))
        .collect();
    match missing.as_slice() {
        [] => None,
        [one] => Some(format!(
            "needs context `{one}`, which is not configured here (read-only here)"
        )),
        many => Some(format!(
            "needs contexts {}, which are not configured here (read-only here)",
            many.iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// A plan message in read-only mode: what happened, without advice to act.
pub fn in_readonly_words(message: &str) -> String {
    match message.find("; `") {
        Some(i) => format!("{} (read-only)", &message[..i]),
        None => message.to_string(),
    }
}

/// Reads every plan of the journal for the view (messages in the words of the keys this
/// mode offers).
pub fn load(journal: &Journal, readonly: bool) -> Result<Vec<PlanView>, crate::plan::PlanError> {
    journal
        .list()?
        .into_iter()
        .map(|row| {
            let plan = journal.plan(&row.id)?;
            let steps = journal.steps(&row.id)?;
            let mut row = row;
            row.message = if readonly {
                in_readonly_words(&row.message)
            } else {
                in_dashboard_words(&row.message)
            };
            Ok(PlanView {
                waves: wave_progress(&plan, &steps),
                row,
                plan,
                steps,
            })
        })
        .collect()
}

/// The Plans view's state.
#[derive(Debug, Clone, Default)]
pub struct PlansState {
    pub plans: Vec<PlanView>,
    pub list: ListState,
    pub error: Option<String>,
    /// Ticks since the last load (the view reloads about once a second).
    pub since_load: u32,
}

impl PlansState {
    pub fn selected(&self) -> Option<&PlanView> {
        self.plans.get(self.list.selected)
    }

    /// `p`: the emergency brake. One key, no dialog, and pausing a paused plan is a no-op
    /// that says so.
    pub fn pause(&self) -> Reply {
        let Some(p) = self.selected() else {
            return Reply::status("no plan selected");
        };
        let id = p.row.id.clone();
        if p.row.status.is_final() {
            return Reply::status(format!("plan {id} is {}", p.row.status.as_str()));
        }
        if p.row.status == crate::plan::PlanStatus::Paused {
            return Reply::status(format!("plan {id} is already paused; a resumes it"));
        }
        Reply {
            status: Some(format!("pausing plan {id}…")),
            effects: vec![Effect::PlanAction {
                plan: id,
                action: PlanAction::Pause,
                confirmation: crate::gate::Confirmation::Yes,
            }],
            mode: None,
        }
    }

    /// Opens the confirm dialog for `action` on the selected plan, with what the gate
    /// needs (a refusal, y/N or the production context's name).
    pub fn confirm(&self, action: PlanAction, gate: &Gate) -> Reply {
        let Some(p) = self.selected() else {
            return Reply::status("no plan selected");
        };
        if p.row.status.is_final() {
            return Reply::status(format!("plan {} is {}", p.row.id, p.row.status.as_str()));
        }
        // A plan made for contexts this configuration lacks is shown, never run here.
        if let Some(why) = unconfigured(&p.plan, gate) {
            return Reply::status(format!("plan {}: {why}", p.row.id));
        }
        let live = p.row.live_holder().cloned();
        match (&action, &live, &p.row.holder) {
            (PlanAction::TakeOver, Some(l), _) => {
                return Reply::status(format!(
                    "plan {} is being run by {} ({}), which is alive: p asks it to pause",
                    p.row.id, l.operator, l.holder
                ))
            }
            (PlanAction::TakeOver, None, None) => {
                return Reply::status(format!(
                    "plan {} has no runner to take over: a runs it",
                    p.row.id
                ))
            }
            (PlanAction::Approve | PlanAction::Rollback, Some(l), _) => {
                return Reply::status(format!(
                    "plan {} is being run by {} ({}): p asks it to pause",
                    p.row.id, l.operator, l.holder
                ))
            }
            (PlanAction::Approve | PlanAction::Rollback, None, Some(l)) => {
                return Reply::status(format!(
                    "plan {}: its runner {} ({}) stopped beating; T takes the run over",
                    p.row.id, l.operator, l.holder
                ))
            }
            _ => {}
        }
        let expected = match gate.needs_all(p.plan.contexts()) {
            Needed::Refused(e) => return Reply::status(format!("plan {}: {e}", p.row.id)),
            Needed::Yes => None,
            Needed::Typed(name) => Some(name),
        };
        let w = p.current_wave();
        let mut lines = vec![format!(
            "Plan {} ({} → {})",
            p.row.id, p.plan.family, p.plan.version
        )];
        lines.push(format!("Blast radius: {}", blast_radius(&p.plan)));
        if let (PlanAction::TakeOver, Some(l)) = (&action, &p.row.holder) {
            lines.push(format!(
                "Take over from {} ({}): last heartbeat {} ago, since {}.",
                l.operator,
                l.holder,
                crate::plan::journal::ago(chrono::Utc::now() - l.beat),
                l.since.format("%Y-%m-%d %H:%M")
            ));
        }
        match action {
            PlanAction::Approve | PlanAction::TakeOver => {
                match crate::plan::gates::standing_at(&p.plan, p.row.approved, &p.steps) {
                    Some(next) => {
                        lines.push("Approve:".into());
                        lines.extend(
                            crate::plan::gates::describe(&p.plan, &p.steps, next)
                                .into_iter()
                                .map(|l| format!("  {l}")),
                        );
                        lines.push("Then run until the next approval.".into());
                    }
                    None => lines
                        .push("Run the plan from where it stands until its next approval.".into()),
                }
            }
            PlanAction::Pause => lines.push("In-flight steps finish; nothing new starts.".into()),
            PlanAction::Abort => {
                lines.push("The plan stops for good; the cloud is left as it is.".into())
            }
            PlanAction::Rollback => lines.push(format!(
                "Wave {}: {} replacements removed; the old VMs keep running.",
                w + 1,
                p.waves
                    .get(w)
                    .map_or(0, |x| x.healthy + x.in_flight + x.failed)
            )),
        }
        if gate.dry_run() && action != PlanAction::Pause {
            lines.push("--dry-run: the cloud calls are validated, not made.".into());
        }
        lines.push(String::new());
        lines.push(match &expected {
            Some(ctx) => format!(
                "PRODUCTION context {ctx}: type `{ctx}` and press enter to confirm; esc cancels."
            ),
            None => "Press y to confirm; any other key cancels (default: No).".into(),
        });
        Reply::mode(Mode::Confirm(Box::new(ConfirmState {
            title: format!("{} plan {}?", action.verb(), p.row.id),
            lines,
            requests: vec![],
            expected,
            typed: Input::default(),
            plan: Some((p.row.id.clone(), action)),
        })))
    }

    /// Plans arrived from the journal.
    pub fn on_loaded(&mut self, plans: Result<Vec<PlanView>, String>) {
        match plans {
            Ok(p) => {
                self.plans = p;
                self.error = None;
                let n = self.plans.len();
                self.list.selected = self.list.selected.min(n.saturating_sub(1));
            }
            Err(e) => self.error = Some(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::in_dashboard_words;

    #[test]
    fn plan_messages_name_dashboard_keys() {
        assert_eq!(
            in_dashboard_words("awaiting approval of wave 2; `drydock plan run --execute` to approve, `drydock plan rollback` to undo wave 1"),
            "awaiting approval of wave 2; a approves, R (roll back) to undo wave 1"
        );
        assert_eq!(
            in_dashboard_words("paused; `drydock plan resume` continues"),
            "paused; a (resume) continues"
        );
        assert_eq!(
            in_dashboard_words(
                "plan x is being run by process 7; pause it with `drydock plan pause x`"
            ),
            "plan x is being run by process 7; pause it with p"
        );
    }
}
