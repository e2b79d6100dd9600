//! Rendering: pure functions from `App` to a ratatui frame. Only the visible rows of a list
//! are turned into widgets, so a 100k-VM fleet draws as fast as a small one.

mod chrome;
mod components;
mod contexts;
mod conversions;
mod detail;
mod drift;
mod lists;
mod new_plan;
mod plans;
mod popup;

use super::app::App;
use super::keymap::View;
use super::theme::Theme;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::Paragraph;
use ratatui::Frame;

/// The smallest terminal the dashboard draws in.
pub const MIN_WIDTH: u16 = 80;
pub const MIN_HEIGHT: u16 = 20;

/// Draws the whole dashboard.
pub fn draw(f: &mut Frame<'_>, app: &App, theme: Theme) {
    let area = f.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let msg = format!(
            "terminal too small: need {MIN_WIDTH}×{MIN_HEIGHT}, have {}×{}",
            area.width, area.height
        );
        let y = area.height / 2;
        f.render_widget(
            Paragraph::new(Line::from(msg)).centered(),
            Rect::new(area.x, area.y + y, area.width, 1.min(area.height)),
        );
        return;
    }
    let [header, body, footer] = crate::tui::layout::frame(app.footer_lines(), area);
    chrome::header(f, header, app, theme);
    match app.view {
        View::Fleet => lists::fleet(f, body, app, theme),
        View::Images => lists::images(f, body, app, theme),
        View::Drift => drift::drift(f, body, app, theme),
        View::Log => lists::log(f, body, app, theme),
        View::Plans => plans::plans(f, body, app, theme),
        View::Conversions => conversions::conversions(f, body, app, theme),
        View::Contexts => contexts::contexts(f, body, app, theme),
    }
    chrome::footer(f, footer, app, theme);
    // What follows may cover what was drawn (the fit checks tell the two apart).
    crate::tui::text::begin_overlay();
    popup::popups(f, area, app, theme);
}

/// Only the popups and dialogs of `app`, on an empty frame (for the tests that check a
/// dialog's text apart from the view it covers).
pub fn draw_popups(f: &mut Frame<'_>, app: &App, theme: Theme) {
    crate::tui::text::begin_overlay();
    popup::popups(f, f.area(), app, theme);
}

/// A view's placeholder until the first scan lands.
pub(crate) fn scanning(f: &mut Frame<'_>, area: Rect, name: &str) {
    let block = ratatui::widgets::Block::bordered().title(format!(" {name} "));
    f.render_widget(Paragraph::new(" scanning…").block(block), area);
}

/// A large overlay: nearly the whole `area`, cleared; with its inner width and height.
pub(crate) fn overlay(f: &mut Frame<'_>, area: Rect) -> (Rect, usize, usize) {
    let rect = centered(
        area,
        area.width.saturating_sub(6),
        area.height.saturating_sub(4),
    );
    f.render_widget(ratatui::widgets::Clear, rect);
    let width = rect.width.saturating_sub(2) as usize;
    let height = rect.height.saturating_sub(2) as usize;
    (rect, width, height)
}

/// A rectangle of `w`×`h` centred in `area` (clamped to it).
pub(crate) fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}
