//! The new-plan dialog: the family list, the settings form, the review of the blast radius.

use crate::tui::new_plan::{NewPlan, FIELDS};
use crate::tui::text::{ellipsize, shorten_ids, wrap_line};
use crate::tui::theme::Theme;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};
use ratatui::Frame;

pub fn new_plan(f: &mut Frame<'_>, area: Rect, st: &NewPlan, theme: Theme) {
    let (rect, width, height) = super::overlay(f, area);
    let (title, lines): (String, Vec<Line>) = match st {
        NewPlan::Family { families, list } => {
            let window = list.window(height, families.len());
            let lines = if families.is_empty() {
                vec![Line::raw("no managed family in this context")]
            } else {
                families[window.clone()]
                    .iter()
                    .enumerate()
                    .map(|(k, c)| {
                        let text = format!(
                            "{:<32} {:>5} VMs, {:>5} not current",
                            c.family, c.vms, c.drifting
                        );
                        let line = Line::raw(ellipsize(&text, width));
                        if window.start + k == list.selected {
                            line.style(theme.selected())
                        } else {
                            line
                        }
                    })
                    .collect()
            };
            (
                " new plan 1/3: family (enter picks, esc cancels) ".into(),
                lines,
            )
        }
        NewPlan::Settings {
            family,
            fields,
            focus,
            error,
        } => {
            let mut lines = vec![Line::styled(format!("family {family}"), theme.title())];
            for (i, ((name, _), input)) in FIELDS.iter().zip(fields).enumerate() {
                let value = match (i, input.value()) {
                    (0, "") => "(newest usable version)".to_string(),
                    (4, "") => "(none: the provider's status checks)".to_string(),
                    (_, v) => v.to_string(),
                };
                let marker = if i == *focus { "▶ " } else { "  " };
                let line = Line::from(vec![
                    Span::styled(format!("{marker}{name:<16}"), theme.title()),
                    Span::raw(value),
                ]);
                lines.push(if i == *focus {
                    line.style(theme.selected())
                } else {
                    line
                });
            }
            lines.push(Line::raw(""));
            if let Some(e) = error {
                lines.push(Line::styled(format!("✗ {e}"), theme.danger()));
            }
            (
                " new plan 2/3: settings (tab moves, enter reviews, esc back) ".into(),
                lines,
            )
        }
        NewPlan::Review { lines, scroll, .. } => (
            " new plan 3/3: review (y writes the plan, esc back, j/k scroll) ".into(),
            // Azure ids shortened to resource-group/name, and each line wrapped under its
            // own indent (plus two), so columns hold and nothing is cut.
            lines
                .iter()
                .flat_map(|l| wrap_line(&shorten_ids(l), width))
                .skip(*scroll)
                .map(Line::raw)
                .collect(),
        ),
    };
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::bordered().title(Span::styled(ellipsize(&title, width), theme.title()))),
        rect,
    );
}
