//! The Plans view's state: the plans read from the journal (refreshed while the view is
//! open), the selected plan, and the confirm dialogs for approve / pause / abort / rollback,
//! whose confirmation is handed to the runtime with the action.

use super::app::{App, ConfirmState, Effect, Mode};
use super::list::ListState;
use crate::gate::Needed;
use crate::plan::show::{blast_radius, wave_progress, Progress};
use crate::plan::{Journal, Plan, PlanRow, StepRow};
use serde::Serialize;
use tui_input::Input;

/// What a person can do to a plan from the dashboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanAction {
    /// Approve the next wave (or the finish) and run it.
    Approve,
    Pause,
    Abort,
    /// Remove the current wave's replacements, keep the old VMs.
    Rollback,
}

impl PlanAction {
    pub fn verb(self) -> &'static str {
        match self {
            PlanAction::Approve => "Approve and run",
            PlanAction::Pause => "Pause",
            PlanAction::Abort => "Abort",
            PlanAction::Rollback => "Roll back the current wave of",
        }
    }
}

/// One plan as the view shows it.
#[derive(Debug, Clone)]
pub struct PlanView {
    pub row: PlanRow,
    pub plan: Plan,
    pub waves: Vec<Progress>,
    pub steps: Vec<StepRow>,
}

impl PlanView {
    /// The wave a person acts on: the one approved last.
    pub fn current_wave(&self) -> usize {
        (self.row.approved.max(0) as usize).min(self.plan.waves.len().saturating_sub(1))
    }
}

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
}

impl App {
    /// `p`: the emergency brake. One key, no dialog, and pausing a paused plan is a no-op
    /// that says so.
    pub(super) fn pause_plan(&mut self) -> Vec<Effect> {
        let Some(p) = self.plans.selected() else {
            self.status = Some("no plan selected".into());
            return vec![];
        };
        let id = p.row.id.clone();
        if p.row.status.is_final() {
            self.status = Some(format!("plan {id} is {}", p.row.status.as_str()));
            return vec![];
        }
        if p.row.status == crate::plan::PlanStatus::Paused {
            self.status = Some(format!("plan {id} is already paused; a resumes it"));
            return vec![];
        }
        self.status = Some(format!("pausing plan {id}…"));
        vec![Effect::PlanAction {
            plan: id,
            action: PlanAction::Pause,
            confirmation: crate::gate::Confirmation::Yes,
        }]
    }

    /// Opens the confirm dialog for `action` on the selected plan.
    pub(super) fn confirm_plan(&mut self, action: PlanAction) -> Vec<Effect> {
        let Some(p) = self.plans.selected() else {
            self.status = Some("no plan selected".into());
            return vec![];
        };
        if p.row.status.is_final() {
            self.status = Some(format!("plan {} is {}", p.row.id, p.row.status.as_str()));
            return vec![];
        }
        let expected = match self.gate.needs_all(p.plan.contexts()) {
            Needed::Refused(e) => {
                self.status = Some(format!("plan {}: {e}", p.row.id));
                return vec![];
            }
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
                    format!("Wave {} of {waves}: {} VMs replaced; the old VMs of wave {} are terminated.", next + 1, p.plan.waves[next].vms.len(), next)
                } else {
                    format!("Finish: terminate the old VMs of wave {waves}, repoint, start retiring {} images.", p.plan.retire.len())
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
        if self.dry_run && action != PlanAction::Pause {
            lines.push("--dry-run: the cloud calls are validated, not made.".into());
        }
        lines.push(String::new());
        lines.push(match &expected {
            Some(ctx) => format!(
                "PRODUCTION context {ctx}: type `{ctx}` and press enter to confirm; esc cancels."
            ),
            None => "Press y to confirm; any other key cancels (default: No).".into(),
        });
        self.mode = Mode::Confirm(Box::new(ConfirmState {
            title: format!("{} plan {}?", action.verb(), p.row.id),
            lines,
            requests: vec![],
            expected,
            typed: Input::default(),
            plan: Some((p.row.id.clone(), action)),
        }));
        vec![]
    }

    /// Plans arrived from the journal.
    pub(super) fn on_plans(&mut self, plans: Result<Vec<PlanView>, String>) {
        match plans {
            Ok(p) => {
                self.plans.plans = p;
                self.plans.error = None;
                let n = self.plans.plans.len();
                self.plans.list.selected = self.plans.list.selected.min(n.saturating_sub(1));
            }
            Err(e) => self.plans.error = Some(e),
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
