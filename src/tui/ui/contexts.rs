//! The Contexts view (`:ctx`, `7`): every context the last scan covered, with its outcome
//! (ok, partial, denied, unreachable, skipped), counts, how long it took and how old the
//! scan is; the selected context's scopes and reasons in full below. Enter switches to it.

use crate::tui::app::App;
use crate::tui::text::{ellipsize, wrap_line};
use crate::tui::theme::Theme;
use drydock_api::outcome::ContextOutcome;
use drydock_api::ScopeState;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table};
use ratatui::Frame;

/// The symbol of a state (readable without colour).
pub fn symbol(s: ScopeState) -> &'static str {
    match s {
        ScopeState::Ok => "✓",
        ScopeState::Skipped => "–",
        ScopeState::Partial => "◐",
        ScopeState::Denied => "⊘",
        ScopeState::Unreachable => "✗",
    }
}

fn style(s: ScopeState, theme: Theme) -> Style {
    match s {
        ScopeState::Ok | ScopeState::Skipped => Style::default(),
        ScopeState::Partial => theme.warn(),
        ScopeState::Denied | ScopeState::Unreachable => theme.danger(),
    }
}

pub fn contexts(f: &mut Frame<'_>, area: Rect, app: &App, theme: Theme) {
    let rows = app.context_outcomes();
    let [top, bottom] = crate::tui::layout::plans(rows.len(), area);
    let gaps = rows.iter().filter(|c| c.state.is_gap()).count();
    let title = format!(" contexts {} ({gaps} incomplete) ", rows.len());
    let block = Block::bordered().title(Span::styled(title, theme.title()));
    if rows.is_empty() {
        let text = " no scan yet: r refreshes";
        f.render_widget(Paragraph::new(text).block(block), area);
        return;
    }
    let age = app
        .full
        .as_ref()
        .map(|f| crate::plan::journal::ago(app.now - f.scanned_at))
        .unwrap_or_default();
    let state_w = 13;
    let num_w = 9;
    let time_w = 8;
    let age_w = age.chars().count().max(3);
    let inner_w = (top.width as usize).saturating_sub(2 + 6);
    let name_need = rows
        .iter()
        .map(|c| c.context.chars().count())
        .max()
        .unwrap_or(0)
        .max(7);
    let fixed = state_w + 2 * num_w + time_w + age_w;
    let name_w = name_need.min(inner_w.saturating_sub(fixed + 10).max(7));
    let reason_w = inner_w.saturating_sub(fixed + name_w);
    let shown: Vec<Row> = rows
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let row = Row::new(vec![
                Cell::from(format!("{} {}", symbol(c.state), c.state)).style(style(c.state, theme)),
                Cell::from(ellipsize(c.context, name_w)),
                Cell::from(c.vms.to_string()),
                Cell::from(c.images.to_string()),
                Cell::from(format!("{:.1} s", c.duration_ms as f64 / 1000.0)),
                Cell::from(age.clone()),
                Cell::from(ellipsize(c.reason().unwrap_or(""), reason_w)),
            ]);
            if i == app.ctx_list.selected {
                row.style(theme.selected())
            } else {
                row
            }
        })
        .collect();
    let table = Table::new(
        shown,
        [
            Constraint::Length(state_w as u16),
            Constraint::Length(name_w as u16),
            Constraint::Length(num_w as u16),
            Constraint::Length(num_w as u16),
            Constraint::Length(time_w as u16),
            Constraint::Length(age_w as u16),
            Constraint::Length(reason_w as u16),
        ],
    )
    .header(
        Row::new([
            "STATE".to_string(),
            ellipsize("CONTEXT", name_w),
            "VMS".into(),
            "IMAGES".into(),
            "TOOK".into(),
            "AGE".into(),
            ellipsize("REASON", reason_w),
        ])
        .style(theme.title()),
    )
    .block(block);
    f.render_widget(table, top);
    let Some(c) = rows.get(app.ctx_list.selected) else {
        return;
    };
    f.render_widget(
        Paragraph::new(detail(
            c,
            bottom.width.saturating_sub(2).max(1) as usize,
            theme,
        ))
        .block(Block::bordered().title(Span::styled(format!(" {} ", c.context), theme.title()))),
        bottom,
    );
}

/// The selected context's scopes, each with its state, counts and full reason (wrapped).
fn detail(c: &ContextOutcome<'_>, width: usize, theme: Theme) -> Vec<Line<'static>> {
    let mut lines = vec![Line::from(format!(
        "{} {}: {} VMs, {} images, enter shows its fleet",
        symbol(c.state),
        c.state,
        c.vms,
        c.images
    ))];
    for s in &c.scopes {
        let head = format!(
            "{} {} {}: {} VMs, {} images, {:.1} s",
            symbol(s.state),
            s.scope,
            s.state,
            s.vms,
            s.images,
            s.duration_ms as f64 / 1000.0
        );
        lines.extend(
            wrap_line(&head, width)
                .into_iter()
                .map(|l| Line::styled(l, style(s.state, theme))),
        );
        if !s.failed_calls.is_empty() {
            let calls = format!("  failed calls: {}", s.failed_calls.join(", "));
            lines.extend(wrap_line(&calls, width).into_iter().map(Line::from));
        }
        if let Some(r) = &s.reason {
            lines.extend(
                wrap_line(&format!("  {r}"), width)
                    .into_iter()
                    .map(Line::from),
            );
        }
    }
    lines
}
