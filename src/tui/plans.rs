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

/// Reads every plan of the journal for the view.
pub fn load(journal: &Journal) -> Result<Vec<PlanView>, crate::plan::PlanError> {
    journal
        .list()?
        .into_iter()
        .map(|row| {
            let plan = journal.plan(&row.id)?;
            let steps = journal.steps(&row.id)?;
            let mut row = row;
            row.message = in_dashboard_words(&row.message);
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
        let expected = match gate.needs_all(p.plan.contexts()) {
            Needed::Refused(e) => return Reply::status(format!("plan {}: {e}", p.row.id)),
            Needed::Yes => None,
            Needed::Typed(name) => Some(name),
        };
        let w = p.current_wave();
        let waves = p.plan.waves.len();
        let mut lines = vec![format!(
            "Plan {} ({} → {})",
            p.row.id, p.plan.family, p.plan.version
        )];
        lines.push(format!("Blast radius: {}", blast_radius(&p.plan)));
        lines.push(match action {
            PlanAction::Approve if (p.row.approved as usize) < waves && p.row.approved >= 0 && p.row.status == crate::plan::PlanStatus::AwaitingApproval => {
                let next = (p.row.approved + 1) as usize;
                if next < waves {
                    format!("Wave {} of {waves}: {} replaced; the old VMs of wave {} are terminated.", next + 1, crate::words::count(p.plan.waves[next].vms.len() as u64, "VM"), next)
                } else {
                    format!("Finish: terminate the old VMs of wave {waves}, repoint, start retiring {}.", crate::words::count(p.plan.retire.len() as u64, "image"))
                }
            }
            PlanAction::Approve => "Run the plan from where it stands until its next approval.".into(),
            PlanAction::Pause => "In-flight steps finish; nothing new starts.".into(),
            PlanAction::Abort => "The plan stops for good; the cloud is left as it is.".into(),
            PlanAction::Rollback => format!(
                "Wave {}: {} replacements removed; the old VMs keep running.",
                w + 1,
                p.waves.get(w).map_or(0, |x| x.healthy + x.in_flight + x.failed)
            ),
        });
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
