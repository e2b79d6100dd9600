//! What the screen's geometry and overlays read off the dashboard's state: the footer's
//! lines (a prompt's error wrapped to the terminal), whether a popup covers the view, and
//! the `Shape` that `layout` computes areas from (so `layout` needs nothing of `App`).

use super::app::{App, Mode};

impl App {
    /// Footer lines: one, and under a prompt its error wrapped whole to the terminal's
    /// width (at most four lines).
    pub fn footer_lines(&self) -> u16 {
        1 + self.footer_error().map_or(0, |e| e.len().min(4) as u16)
    }

    /// A prompt's error as the footer shows it: wrapped to the terminal under ` ✗ `.
    pub fn footer_error(&self) -> Option<Vec<String>> {
        let e = match (&self.mode, &self.filter_error) {
            (Mode::Filter(_), Some(e)) => e,
            (Mode::NewConversion(p), _) => p.error.as_ref()?,
            _ => return None,
        };
        Some(crate::tui::text::wrap(
            " ✗ ",
            e,
            self.size.0.max(20) as usize,
        ))
    }

    /// Whether a popup or dialog is drawn over the view.
    pub fn has_popup(&self) -> bool {
        matches!(
            self.mode,
            Mode::Help { .. }
                | Mode::Messages { .. }
                | Mode::Json { .. }
                | Mode::Confirm(_)
                | Mode::Users(_)
                | Mode::NewPlan(_)
        )
    }

    /// What the screen's geometry depends on (for `layout`).
    pub fn shape(&self) -> super::layout::Shape {
        super::layout::Shape {
            view: self.view,
            detail: self.detail,
            footer_lines: self.footer_lines(),
            plans: self.plans.plans.len(),
            contexts: self.context_outcomes().len(),
        }
    }
}
