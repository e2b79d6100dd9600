//! `plan show` and `plan list` as text: a plan's blast radius, its waves with progress,
//! the repoints and the retire ladder, and its journal status.

use super::journal::{PlanRow, StepRow, StepState};
use super::Plan;
use std::collections::{BTreeSet, HashMap};
use std::fmt::Write;

/// Counts of a set of steps by state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Progress {
    pub total: usize,
    pub done: usize,
    pub healthy: usize,
    pub in_flight: usize,
    pub failed: usize,
    pub rolled_back: usize,
}

impl Progress {
    /// Replaced: the replacement is healthy (committed or not).
    pub fn replaced(&self) -> usize {
        self.done + self.healthy
    }

    /// The counts as the CLI and the dashboard both say them.
    pub fn summary(&self) -> String {
        let mut s = format!(
            "{}/{} replaced · {} in flight · {} failed",
            self.replaced(),
            self.total,
            self.in_flight,
            self.failed
        );
        if self.healthy > 0 {
            s.push_str(&format!(" · {} awaiting commit", self.healthy));
        }
        s
    }

    /// Replaced (healthy or committed) out of total, 0..=1.
    pub fn ratio(&self) -> f64 {
        if self.total == 0 {
            1.0
        } else {
            (self.done + self.healthy) as f64 / self.total as f64
        }
    }
}

/// Progress of each wave.
pub fn wave_progress(plan: &Plan, steps: &[StepRow]) -> Vec<Progress> {
    let by_key: HashMap<&str, &StepRow> = steps.iter().map(|s| (s.key.as_str(), s)).collect();
    plan.waves
        .iter()
        .map(|w| {
            let mut p = Progress {
                total: w.vms.len(),
                ..Progress::default()
            };
            for vm in &w.vms {
                match by_key
                    .get(format!("vm:{}", vm.id).as_str())
                    .map(|s| s.state)
                {
                    Some(StepState::Done) => p.done += 1,
                    Some(StepState::Healthy | StepState::Terminating) => p.healthy += 1,
                    Some(StepState::Started | StepState::Launched) => p.in_flight += 1,
                    Some(StepState::Failed) => p.failed += 1,
                    Some(StepState::RolledBack) => p.rolled_back += 1,
                    _ => {}
                }
            }
            p
        })
        .collect()
}

/// The blast radius in one line: VMs, replacement units, accounts/regions, images, repoints.
pub fn blast_radius(plan: &Plan) -> String {
    let groups: BTreeSet<&str> = plan.vms().map(|(_, v)| v.group.as_str()).collect();
    let scale_groups = groups.iter().filter(|g| g.starts_with("sg:")).count();
    let scopes: BTreeSet<String> = plan.vms().map(|(_, v)| v.scope()).collect();
    use crate::words::count;
    format!(
        "{} replaced ({}, {}) in {}; {} repointed; {} retired",
        count(plan.vm_count() as u64, "VM"),
        count(scale_groups as u64, "scale group"),
        count((groups.len() - scale_groups) as u64, "other unit"),
        count(scopes.len() as u64, "provider/region"),
        match plan.repoint.len() {
            1 => "1 scale group/template".to_string(),
            n => format!("{n} scale groups/templates"),
        },
        count(plan.retire.len() as u64, "image"),
    )
}

/// The whole plan for `plan show`.
pub fn render(plan: &Plan, row: Option<&PlanRow>, steps: &[StepRow]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "plan {}  family {} → {}",
        plan.id, plan.family, plan.version
    );
    if let Some(r) = row {
        let _ = writeln!(
            s,
            "status: {}{}",
            r.status.as_str(),
            if r.message.is_empty() {
                String::new()
            } else {
                format!(" — {}", r.message)
            }
        );
    } else {
        let _ = writeln!(s, "status: not in the journal");
    }
    let _ = writeln!(s, "blast radius: {}", blast_radius(plan));
    let st = &plan.settings;
    let _ = writeln!(
        s,
        "settings: concurrency {}, max unavailable {} per unit, wave failure limit {}, health timeout {}{}, grace {}, undo window {}",
        st.concurrency,
        st.max_unavailable,
        st.wave_failure_limit,
        st.health_timeout,
        st.health_cmd.as_ref().map_or(String::new(), |c| format!(", health_cmd `{c}`")),
        st.grace,
        st.undo_window
    );
    let by_key: HashMap<&str, &StepRow> = steps.iter().map(|s| (s.key.as_str(), s)).collect();
    let state = |k: &str| by_key.get(k).map_or("-", |s| s.state.as_str());
    if let Some(r) = &plan.rebuild {
        let how = match (&r.builder_vm, &r.command) {
            (Some(vm), _) => format!("capture from VM {vm}"),
            (_, Some(c)) => format!("run `{c}`"),
            _ => match &r.from {
                Some(f) => format!("transfer from {f}"),
                None => "?".into(),
            },
        };
        let _ = writeln!(
            s,
            "\nrebuild [{}]: {} in {}/{} by {how}",
            state("rebuild"),
            r.name,
            r.provider,
            r.region
        );
    }
    let _ = writeln!(s, "\ntargets:");
    for (scope, image) in &plan.targets {
        let _ = writeln!(s, "  {scope}: {image}");
    }
    let progress = wave_progress(plan, steps);
    for (w, (wave, p)) in plan.waves.iter().zip(&progress).enumerate() {
        let units: BTreeSet<&str> = wave.vms.iter().map(|v| v.group.as_str()).collect();
        let _ = writeln!(
            s,
            "\nwave {} — {} in {}: {}",
            w + 1,
            crate::words::count(p.total as u64, "VM"),
            crate::words::count(units.len() as u64, "unit"),
            p.summary()
        );
        for vm in wave.vms.iter().take(20) {
            let k = format!("vm:{}", vm.id);
            let step = by_key.get(k.as_str());
            // Fixed-width columns first; ids (an Azure id is 150 characters) last, so a
            // long one never pushes the columns of its row apart.
            let _ = writeln!(
                s,
                "  {:<28} {:<12} {}{}{}",
                vm.name,
                step.map_or("-", |x| x.state.as_str()),
                vm.id,
                step.and_then(|x| x.result.as_deref())
                    .map_or(String::new(), |r| format!(" → {r}")),
                step.and_then(|x| x.error.as_deref())
                    .map_or(String::new(), |e| format!(" ({e})"))
            );
        }
        if wave.vms.len() > 20 {
            let _ = writeln!(s, "  … and {} more", wave.vms.len() - 20);
        }
    }
    if !plan.repoint.is_empty() {
        let _ = writeln!(s, "\nrepoint:");
        for r in &plan.repoint {
            let _ = writeln!(
                s,
                "  [{}] {} ({}) from {}",
                state(&format!("repoint:{}", r.resource)),
                r.name,
                r.resource,
                r.from
            );
        }
    }
    if !plan.retire.is_empty() {
        let _ = writeln!(
            s,
            "\nretire (deprecate → {} → disable → {} → deregister):",
            st.grace, st.undo_window
        );
        for r in &plan.retire {
            let rungs: Vec<String> = ["deprecate", "disable", "deregister"]
                .iter()
                .map(|g| format!("{g} {}", state(&format!("{g}:{}", r.image))))
                .collect();
            let _ = writeln!(s, "  {} {} — {}", r.image, r.name, rungs.join(", "));
        }
    }
    if !plan.skipped.is_empty() {
        let _ = writeln!(s, "\nleft alone:");
        for k in plan.skipped.iter().take(20) {
            let _ = writeln!(s, "  {} ({}): {}", k.vm, k.name, k.reason);
        }
        if plan.skipped.len() > 20 {
            let _ = writeln!(s, "  … and {} more", plan.skipped.len() - 20);
        }
    }
    s
}

/// `plan list` rows: every plan with who made it, its state, who runs it (and how long
/// ago its runner last beat) and what comes next.
pub fn list(rows: &[PlanRow]) -> String {
    let now = chrono::Utc::now();
    let mut t = comfy_table::Table::new();
    t.load_preset(comfy_table::presets::NOTHING);
    t.set_header([
        "PLAN", "FAMILY", "STATUS", "BY", "HOLDER", "UPDATED", "NEXT",
    ]);
    for r in rows {
        let holder = match (r.live_holder(), &r.holder) {
            (Some(l), _) => format!(
                "{} (beat {} ago)",
                l.operator,
                super::journal::ago(now - l.beat)
            ),
            (None, Some(l)) => format!(
                "{} (stopped {} ago: --take-over)",
                l.operator,
                super::journal::ago(now - l.beat)
            ),
            (None, None) => "-".into(),
        };
        let next: String = r.message.chars().take(100).collect();
        t.add_row([
            r.id.clone(),
            r.family.clone(),
            r.status.as_str().to_string(),
            r.operator.clone(),
            holder,
            r.updated.format("%Y-%m-%d %H:%M").to_string(),
            next,
        ]);
    }
    format!("{t}\n")
}
