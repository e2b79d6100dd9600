//! Where things go on the screen, as pure geometry shared by the reducer (page sizes, the
//! first row's line for mouse clicks, scroll windows) and the renderer (the same areas), so
//! drawing never has to change the state it draws.

use super::keymap::View;
use ratatui::layout::{Constraint, Layout, Rect};

/// Header lines: context and refresh state, verdict counts, view tabs.
pub const HEADER_HEIGHT: u16 = 3;

/// What the geometry depends on, read off the dashboard's state by its owner (the app), so
/// this module needs nothing of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    pub view: View,
    /// The detail pane is open.
    pub detail: bool,
    /// Footer lines: one, two while a prompt shows an error under it.
    pub footer_lines: u16,
    /// Plans in the Plans view's list.
    pub plans: usize,
    /// Contexts in the Contexts view's list.
    pub contexts: usize,
}

/// Header, body and footer of a frame of `area`.
pub fn frame(footer_lines: u16, area: Rect) -> [Rect; 3] {
    Layout::vertical([
        Constraint::Length(HEADER_HEIGHT),
        Constraint::Min(5),
        Constraint::Length(footer_lines),
    ])
    .areas(area)
}

/// A table and its detail pane: side by side only where both keep names readable.
pub fn split_detail(area: Rect, detail: bool, vertical: bool) -> (Rect, Option<Rect>) {
    if !detail {
        return (area, None);
    }
    let [a, b] = if vertical {
        Layout::vertical([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(area)
    } else {
        Layout::horizontal([Constraint::Percentage(58), Constraint::Percentage(42)]).areas(area)
    };
    (a, Some(b))
}

/// The Fleet table's area and its detail pane's.
pub fn fleet(detail: bool, body: Rect) -> (Rect, Option<Rect>) {
    split_detail(body, detail, body.width < 140)
}

/// The Images table's area and its detail pane's.
pub fn images(detail: bool, body: Rect) -> (Rect, Option<Rect>) {
    split_detail(body, detail, true)
}

/// The Plans view: the list of plans and the selected plan's pane.
pub fn plans(plans: usize, body: Rect) -> [Rect; 2] {
    let list_h = (plans.min(usize::from(u16::MAX - 3)) as u16 + 3).clamp(4, body.height / 3);
    Layout::vertical([Constraint::Length(list_h), Constraint::Min(5)]).areas(body)
}

/// The Conversions view: the jobs (two lines each) and the selected job's details.
pub fn conversions(body: Rect) -> [Rect; 2] {
    Layout::vertical([Constraint::Min(4), Constraint::Length(6)]).areas(body)
}

/// The Drift view: verdict bars (tall terminals only), the matrix, the trend.
pub fn drift(body: Rect) -> [Rect; 3] {
    let chart_h = if body.height >= 28 { 8 } else { 0 };
    let trend_h = if body.height >= 14 { 4 } else { 0 };
    Layout::vertical([
        Constraint::Length(chart_h),
        Constraint::Min(5),
        Constraint::Length(trend_h),
    ])
    .areas(body)
}

/// Inside a bordered block.
fn inner(r: Rect) -> Rect {
    Rect::new(
        r.x.saturating_add(1),
        r.y.saturating_add(1),
        r.width.saturating_sub(2),
        r.height.saturating_sub(2),
    )
}

/// The current view's list: how many rows a page shows, and the screen line of its first
/// row (tables have a header line under the border).
pub fn page(shape: &Shape, area: Rect) -> (usize, u16) {
    let [_, body, _] = frame(shape.footer_lines, area);
    let table = |r: Rect| {
        let i = inner(r);
        (i.height.saturating_sub(1) as usize, i.y + 1)
    };
    match shape.view {
        View::Fleet => table(fleet(shape.detail, body).0),
        View::Images => table(images(shape.detail, body).0),
        View::Drift => table(drift(body)[1]),
        View::Plans => table(plans(shape.plans, body)[0]),
        View::Contexts => table(plans(shape.contexts, body)[0]),
        View::Log => {
            let i = inner(body);
            (i.height as usize, i.y)
        }
        View::Conversions => {
            let i = inner(conversions(body)[0]);
            ((i.height / 2).max(1) as usize, i.y)
        }
    }
}
