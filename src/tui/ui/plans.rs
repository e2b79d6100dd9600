//! The Plans view: the journal's plans (status, progress), and for the selected plan a gauge
//! per wave and the per-VM status of its current wave.

use crate::plan::{PlanStatus, StepState};
use crate::tui::app::App;
use crate::tui::text::{ellipsize, id_cell, short_id};
use crate::tui::theme::Theme;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Gauge, Paragraph, Row, Table};
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
    let [top, bottom] = crate::tui::layout::plans(app, area);
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
    let rows: Vec<Row> = st
        .plans
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let done: usize = p.waves.iter().map(|w| w.done + w.healthy).sum();
            let row = Row::new(vec![
                Cell::from(p.row.id.clone()),
                Cell::from(format!("{} → {}", p.plan.family, p.plan.version)),
                Cell::from(p.row.status.as_str()).style(status_style(p.row.status, theme)),
                Cell::from(format!("{done}/{}", p.plan.vm_count())),
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
            Constraint::Min(30),
            Constraint::Length(26),
            Constraint::Length(18),
            Constraint::Length(11),
        ],
    )
    .header(Row::new(["PLAN", "FAMILY → VERSION", "STATUS", "REPLACED"]).style(theme.title()))
    .block(block);
    f.render_widget(table, top);
    let Some(p) = st.selected() else { return };
    let title = format!(
        " {} — a approve · p pause · X abort · R rollback · n new plan ",
        p.row.id
    );
    let block = Block::bordered().title(Span::styled(
        ellipsize(&title, bottom.width.saturating_sub(2) as usize),
        theme.title(),
    ));
    let inner = block.inner(bottom);
    f.render_widget(block, bottom);
    let waves = p.plan.waves.len() as u16;
    let message = if p.row.message.is_empty() {
        p.row.status.as_str().to_string()
    } else {
        p.row.message.clone()
    };
    // The message wraps: a blocked rung's reason is read whole, never cut at the border.
    let width = inner.width.max(1) as usize;
    let msg_lines = (message.chars().count().div_ceil(width) as u16).clamp(1, inner.height / 2);
    let [msg, gauges, vms] = Layout::vertical([
        Constraint::Length(msg_lines + 1),
        Constraint::Length(waves.min(inner.height.saturating_sub(3) / 2)),
        Constraint::Min(1),
    ])
    .areas(inner);
    let [msg_text, msg_blast] =
        Layout::vertical([Constraint::Length(msg_lines), Constraint::Length(1)]).areas(msg);
    f.render_widget(
        Paragraph::new(Line::from(Span::styled(
            message,
            status_style(p.row.status, theme),
        )))
        .wrap(ratatui::widgets::Wrap { trim: false }),
        msg_text,
    );
    f.render_widget(
        Paragraph::new(Line::from(Span::styled(
            ellipsize(
                &crate::plan::show::blast_radius(&p.plan),
                msg_blast.width as usize,
            ),
            theme.dim(),
        ))),
        msg_blast,
    );
    for (w, prog) in p.waves.iter().enumerate().take(gauges.height as usize) {
        let r = Rect::new(gauges.x, gauges.y + w as u16, gauges.width, 1);
        let label = format!(
            "wave {} · {}/{} replaced · {} in flight · {} failed",
            w + 1,
            prog.done + prog.healthy,
            prog.total,
            prog.in_flight,
            prog.failed
        );
        let style = if prog.failed > 0 {
            theme.danger()
        } else {
            theme.accent(ratatui::style::Color::Green)
        };
        f.render_widget(
            Gauge::default()
                .gauge_style(style)
                .ratio(prog.ratio().clamp(0.0, 1.0))
                .label(label),
            r,
        );
    }
    let steps: HashMap<&str, _> = p.steps.iter().map(|s| (s.key.as_str(), s)).collect();
    let w = p.current_wave();
    let wave_vms = p
        .plan
        .waves
        .get(w)
        .map(|wave| wave.vms.as_slice())
        .unwrap_or_default();
    // The id columns take what their ids need (Azure rg/name in full where it fits), and
    // leave the error at least 10 columns.
    let need = |f: &dyn Fn(&crate::plan::spec::PlanVm) -> String| {
        wave_vms
            .iter()
            .map(|v| f(v).chars().count())
            .max()
            .unwrap_or(0)
    };
    let need_id = need(&|v| short_id(&v.id)).max(2);
    let need_rep = need(&|v| {
        steps
            .get(format!("vm:{}", v.id).as_str())
            .and_then(|s| s.result.as_deref())
            .map(short_id)
            .unwrap_or_default()
    })
    .max(11);
    let avail = (vms.width as usize).saturating_sub(22 + 12 + 10 + 4);
    let rep_w = need_rep.min(avail / 2);
    let id_w = need_id.min(avail.saturating_sub(rep_w));
    let err_w = (vms.width as usize).saturating_sub(22 + id_w + 12 + rep_w + 4);
    let rows: Vec<Row> = wave_vms
        .iter()
        .take(vms.height.saturating_sub(1) as usize)
        .map(|vm| {
            let s = steps.get(format!("vm:{}", vm.id).as_str());
            let state = s.map_or(StepState::Pending, |s| s.state);
            let style = match state {
                StepState::Failed => theme.danger(),
                StepState::Started | StepState::Launched | StepState::Terminating => theme.warn(),
                _ => Style::default(),
            };
            // Ids keep their distinguishing tail (Azure: rg/name), never a shared prefix.
            let replacement = s.and_then(|s| s.result.as_deref()).unwrap_or_default();
            Row::new(vec![
                Cell::from(ellipsize(&vm.name, 22)),
                Cell::from(id_cell(&vm.id, id_w)),
                Cell::from(state.as_str()).style(style),
                Cell::from(id_cell(replacement, rep_w)),
                // Cut with …; the whole error is in the Log view (each step event).
                Cell::from(ellipsize(
                    s.and_then(|s| s.error.as_deref()).unwrap_or_default(),
                    err_w,
                )),
            ])
        })
        .collect();
    f.render_widget(
        Table::new(
            rows,
            [
                Constraint::Length(22),
                Constraint::Length(id_w as u16),
                Constraint::Length(12),
                Constraint::Length(rep_w as u16),
                Constraint::Min(10),
            ],
        )
        .header(Row::new(["VM", "ID", "STEP", "REPLACEMENT", "ERROR"]).style(theme.title())),
        vms,
    );
}
