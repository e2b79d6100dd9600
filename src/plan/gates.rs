//! Approval gates: whether a plan stands at one (so one approval resumes it, paused or
//! not) and what approving it does — the replacements the next wave launches and the old
//! VMs the commit terminates, scale-set instances upgraded in place counted apart. The
//! executor asks with this text, the dashboard's dialog shows it, the dry run prints it.

use super::journal::{StepRow, StepState};
use super::Plan;
use std::collections::HashMap;

/// At most this many names are listed per kind; the rest are counted.
const NAMES: usize = 8;

/// The gate a plan stands at: the wave index to approve (`waves` for the finish), or
/// `None` when running on would not ask for an approval first.
pub fn standing_at(plan: &Plan, approved: i64, steps: &[StepRow]) -> Option<usize> {
    let waves = plan.waves.len();
    if approved < 0 || waves == 0 || approved as usize >= waves {
        return None;
    }
    let w = approved as usize;
    let by_key: HashMap<&str, StepState> =
        steps.iter().map(|s| (s.key.as_str(), s.state)).collect();
    // The executor asks for the next approval once every VM of the approved wave is
    // replaced (or failed, within the wave's failure limit); a rolled-back wave runs again.
    let mut failed = 0;
    for vm in &plan.waves[w].vms {
        match by_key.get(format!("vm:{}", vm.id).as_str()) {
            Some(StepState::Healthy | StepState::Terminating | StepState::Done) => {}
            Some(StepState::Failed) => failed += 1,
            _ => return None,
        }
    }
    (failed <= plan.settings.wave_failure_limit).then_some(w + 1)
}

fn names(ids: &[&str]) -> String {
    let mut s = ids
        .iter()
        .take(NAMES)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    if ids.len() > NAMES {
        s.push_str(&format!(" and {} more", ids.len() - NAMES));
    }
    s
}

/// What approving gate `next` (a wave index, or `waves` for the finish) does, in lines.
pub fn describe(plan: &Plan, steps: &[StepRow], next: usize) -> Vec<String> {
    let waves = plan.waves.len();
    let by_key: HashMap<&str, &StepRow> = steps.iter().map(|s| (s.key.as_str(), s)).collect();
    let mut lines = Vec::new();
    if next < waves {
        let launch: Vec<&str> = plan.waves[next].vms.iter().map(|v| v.id.as_str()).collect();
        lines.push(format!(
            "wave {} of {waves}: launch {} for {}",
            next + 1,
            crate::words::count(launch.len() as u64, "replacement"),
            names(&launch)
        ));
    } else {
        lines.push(format!(
            "finish: repoint {} and start retiring {}",
            crate::words::count(plan.repoint.len() as u64, "scale group/template"),
            crate::words::count(plan.retire.len() as u64, "image")
        ));
    }
    if next > 0 {
        let prev = next - 1;
        let mut terminate = Vec::new();
        let mut in_place = Vec::new();
        let mut kept = Vec::new();
        for vm in &plan.waves[prev].vms {
            match by_key.get(format!("vm:{}", vm.id).as_str()) {
                Some(s) if matches!(s.state, StepState::Healthy | StepState::Terminating) => {
                    if s.result.as_deref() == Some(vm.id.as_str()) {
                        in_place.push(vm.id.as_str());
                    } else {
                        terminate.push(vm.id.as_str());
                    }
                }
                Some(s) if s.state == StepState::Done => {}
                _ => kept.push(vm.id.as_str()),
            }
        }
        if terminate.is_empty() {
            lines.push(format!("terminate no old VM of wave {next}"));
        } else {
            lines.push(format!(
                "terminate {} of wave {next}: {}",
                crate::words::count(terminate.len() as u64, "old VM"),
                names(&terminate)
            ));
        }
        if !in_place.is_empty() {
            lines.push(format!(
                "{} of wave {next} upgraded in place (nothing to terminate): {}",
                crate::words::count(in_place.len() as u64, "scale-set instance"),
                names(&in_place)
            ));
        }
        if !kept.is_empty() {
            lines.push(format!(
                "{} of wave {next} not replaced (kept running): {}",
                crate::words::count(kept.len() as u64, "VM"),
                names(&kept)
            ));
        }
    }
    lines
}
