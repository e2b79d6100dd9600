//! The Plans view: the journal's plans (status, progress), and for the selected plan its
//! message, blast radius, a bar per wave and the per-VM status of its current wave, in a
//! pane that scrolls (`J`/`K`) so no wave is hidden on a short terminal.

use crate::plan::{PlanStatus, StepState};
use crate::tui::app::App;
use crate::tui::text::{ellipsize, id_cell, short_id, wrap_line};
use crate::tui::theme::Theme;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table};
use ratatui::Frame;
use std::collections::HashMap;

fn status_style(s: PlanStatus, theme: Theme) -> Style {
    match s {
        PlanStatus::Paused | PlanStatus::Blocked | PlanStatus::Aborted => theme.danger(),
        PlanStatus::AwaitingApproval | PlanStatus::Waiting => theme.warn(),
        _ => Style::default(),
    }
}

pub fn plans(f: &mut Frame<'_>, area: Rect, app: &App, theme: Theme) {
    let st = &app.plans;
    let [top, bottom] = crate::tui::layout::plans(app.plans.plans.len(), area);
    let title = format!(" plans {} ", st.plans.len());
    let block = Block::bordered().title(Span::styled(title, theme.title()));
    if st.plans.is_empty() {
        let text = st
            .error
            .clone()
            .unwrap_or_else(|| " no plans yet: n makes one (family → settings → review)".into());
        f.render_widget(Paragraph::new(text).block(block), area);
        return;
    }
    // Columns as wide as their values: the target version is never cut while the plan
    // id has room to give (ids give way first, with `…`).
    let target =
        |p: &crate::tui::messages::PlanView| format!("{} → {}", p.plan.family, p.plan.version);
    let status_w = st
        .plans
        .iter()
        .map(|p| p.row.status.as_str().len())
        .max()
        .unwrap_or(6)
        .max(6);
    let replaced_w = 11;
    let inner_w = (top.width as usize).saturating_sub(2 + 3);
    let target_need = st
        .plans
        .iter()
        .map(|p| target(p).chars().count())
        .max()
        .unwrap_or(0)
        .max(16);
    let id_need = st
        .plans
        .iter()
        .map(|p| p.row.id.chars().count())
        .max()
        .unwrap_or(0)
        .max(4);
    let room = inner_w.saturating_sub(status_w + replaced_w);
    let target_w = target_need.min(room.saturating_sub(room.min(id_need).min(12)));
    let id_w = room.saturating_sub(target_w).min(id_need);
    let rows: Vec<Row> = st
        .plans
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let done: usize = p.waves.iter().map(|w| w.done + w.healthy).sum();
            let row = Row::new(vec![
                Cell::from(ellipsize(&p.row.id, id_w)),
                Cell::from(ellipsize(&target(p), target_w)),
                Cell::from(p.row.status.as_str()).style(status_style(p.row.status, theme)),
                Cell::from(ellipsize(
                    &format!("{done}/{}", p.plan.vm_count()),
                    replaced_w,
                )),
            ]);
            if i == st.list.selected {
                row.style(theme.selected())
            } else {
                row
            }
        })
        .collect();
    let table = Table::new(
        rows,
        [
            Constraint::Length(id_w as u16),
            Constraint::Length(target_w as u16),
            Constraint::Length(status_w as u16),
            Constraint::Length(replaced_w as u16),
        ],
    )
    .header(
        Row::new([
            ellipsize("PLAN", id_w),
            ellipsize("FAMILY → VERSION", target_w),
            "STATUS".to_string(),
            "REPLACED".to_string(),
        ])
        .style(theme.title()),
    )
    .block(block);
    f.render_widget(table, top);
    let Some(p) = st.selected() else { return };
    let width = bottom.width.saturating_sub(2).max(1) as usize;
    let mut lines: Vec<Line<'static>> = Vec::new();
    let message = if p.row.message.is_empty() {
        p.row.status.as_str().to_string()
    } else {
        p.row.message.clone()
    };
    // The message and blast radius wrap: a blocked rung's reason and a due date are read
    // whole, never cut at the border.
    let style = status_style(p.row.status, theme);
    lines.extend(
        wrap_line(&message, width)
            .into_iter()
            .map(|l| Line::styled(l, style)),
    );
    // Who runs it (any operator of the team), and whether it can run here at all.
    let who = match (p.row.live_holder(), &p.row.holder) {
        (Some(l), _) => format!(
            "run by {} ({}), last heartbeat {} ago",
            l.operator,
            l.holder,
            crate::plan::journal::ago(chrono::Utc::now() - l.beat)
        ),
        (None, Some(l)) => format!(
            "runner {} stopped beating {} ago: T takes over",
            l.operator,
            crate::plan::journal::ago(chrono::Utc::now() - l.beat)
        ),
        (None, None) => format!("made by {}; not running", p.row.operator),
    };
    lines.extend(
        wrap_line(&who, width)
            .into_iter()
            .map(|l| Line::styled(l, theme.dim())),
    );
    if let Some(why) = crate::tui::plans::unconfigured(&p.plan, &app.gate) {
        lines.extend(
            wrap_line(&why, width)
                .into_iter()
                .map(|l| Line::styled(l, theme.warn())),
        );
    }
    let blast = crate::plan::show::blast_radius(&p.plan);
    lines.extend(
        wrap_line(&blast, width)
            .into_iter()
            .map(|l| Line::styled(l, theme.dim())),
    );
    // One line per wave: a bar and its counts.
    let waves = p.plan.waves.len();
    let bar_w = 10.min(width / 4);
    for (w, prog) in p.waves.iter().enumerate() {
        let ratio = prog.ratio().clamp(0.0, 1.0);
        let filled = ((ratio * bar_w as f64).round() as usize).min(bar_w);
        let label = format!(" wave {} of {waves} · {}", w + 1, prog.summary());
        let style = if prog.failed > 0 {
            theme.danger()
        } else {
            theme.accent(ratatui::style::Color::Green)
        };
        lines.push(Line::from(vec![
            Span::styled(
                format!("{}{}", "█".repeat(filled), "░".repeat(bar_w - filled)),
                style,
            ),
            Span::raw(ellipsize(&label, width.saturating_sub(bar_w))),
        ]));
    }
    let steps: HashMap<&str, _> = p.steps.iter().map(|s| (s.key.as_str(), s)).collect();
    let w = p.current_wave();
    let wave_vms = p
        .plan
        .waves
        .get(w)
        .map(|wave| wave.vms.as_slice())
        .unwrap_or_default();
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        ellipsize(&format!("wave {} of {waves}:", w + 1), width),
        theme.title(),
    ));
    // The id columns take what their ids need (Azure rg/name in full where it fits), and
    // leave the error at least 10 columns.
    let need = |f: &dyn Fn(&crate::plan::spec::PlanVm) -> String| {
        wave_vms
            .iter()
            .map(|v| f(v).chars().count())
            .max()
            .unwrap_or(0)
    };
    let name_w = need(&|v| v.name.clone()).clamp(2, 22);
    let need_id = need(&|v| short_id(&v.id)).max(2);
    let need_rep = need(&|v| {
        steps
            .get(format!("vm:{}", v.id).as_str())
            .and_then(|s| s.result.as_deref())
            .map(short_id)
            .unwrap_or_default()
    })
    .max(11);
    let avail = width.saturating_sub(name_w + 12 + 10 + 4);
    let rep_w = need_rep.min(avail / 2);
    let id_w = need_id.min(avail.saturating_sub(rep_w));
    let err_w = width.saturating_sub(name_w + id_w + 12 + rep_w + 4);
    let cells = |a: String, b: String, c: String, d: String, e: String| {
        format!(
            "{a:<name_w$} {b:<id_w$} {c:<12} {d:<rep_w$} {e}",
            a = ellipsize(&a, name_w),
            b = b,
            c = ellipsize(&c, 12),
            d = d,
            e = ellipsize(&e, err_w),
        )
    };
    lines.push(Line::styled(
        ellipsize(
            &cells(
                "VM".into(),
                ellipsize("ID", id_w),
                "STEP".into(),
                ellipsize("REPLACEMENT", rep_w),
                "ERROR".into(),
            ),
            width,
        ),
        theme.title(),
    ));
    for vm in wave_vms {
        let s = steps.get(format!("vm:{}", vm.id).as_str());
        let state = s.map_or(StepState::Pending, |s| s.state);
        let style = match state {
            StepState::Failed => theme.danger(),
            StepState::Started | StepState::Launched | StepState::Terminating => theme.warn(),
            _ => Style::default(),
        };
        // Ids keep their distinguishing tail (Azure: rg/name), never a shared prefix.
        let replacement = s.and_then(|s| s.result.as_deref()).unwrap_or_default();
        // Cut with …; the whole error is in the Log view (each step event).
        let text = cells(
            vm.name.clone(),
            id_cell(&vm.id, id_w),
            state.as_str().to_string(),
            id_cell(replacement, rep_w),
            s.and_then(|s| s.error.clone()).unwrap_or_default(),
        );
        lines.push(Line::styled(ellipsize(text.trim_end(), width), style));
    }
    let keys = if app.readonly || crate::tui::plans::unconfigured(&p.plan, &app.gate).is_some() {
        "read-only"
    } else {
        "a approve · p pause · X abort · R rollback · n new plan"
    };
    super::detail::pane(
        f,
        bottom,
        &format!("{} — {keys}", p.row.id),
        lines,
        app.pane_scroll,
        theme,
    );
}
