//! Rendering: pure functions from `App` to a ratatui frame. Only the visible rows of a list
//! are turned into widgets, so a 100k-VM fleet draws as fast as a small one.

mod chrome;
mod conversions;
mod detail;
mod drift;
mod lists;
mod plans;
mod popup;

use super::app::App;
use super::keymap::View;
use super::theme::Theme;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::Paragraph;
use ratatui::Frame;

/// Header lines: context and refresh state, verdict counts, view tabs.
pub const HEADER_HEIGHT: u16 = 3;

/// The smallest terminal the dashboard draws in.
pub const MIN_WIDTH: u16 = 80;
pub const MIN_HEIGHT: u16 = 20;

/// Draws the whole dashboard.
pub fn draw(f: &mut Frame<'_>, app: &mut App, theme: Theme) {
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
    let [header, body, footer] = Layout::vertical([
        Constraint::Length(HEADER_HEIGHT),
        Constraint::Min(5),
        Constraint::Length(footer_height(app)),
    ])
    .areas(area);
    chrome::header(f, header, app, theme);
    match app.view {
        View::Fleet => lists::fleet(f, body, app, theme),
        View::Images => lists::images(f, body, app, theme),
        View::Drift => drift::drift(f, body, app, theme),
        View::Log => lists::log(f, body, app, theme),
        View::Plans => plans::plans(f, body, app, theme),
        View::Conversions => conversions::conversions(f, body, app, theme),
    }
    chrome::footer(f, footer, app, theme);
    popup::popups(f, area, app, theme);
}

/// The footer: one line, two while a filter being typed has an error (shown under it).
pub fn footer_height(app: &App) -> u16 {
    match (&app.mode, &app.filter_error) {
        (super::app::Mode::Filter(_), Some(_)) => 2,
        (super::app::Mode::NewConversion(p), _) if p.error.is_some() => 2,
        _ => 1,
    }
}

/// A view's placeholder until the first scan lands.
pub(crate) fn scanning(f: &mut Frame<'_>, area: Rect, name: &str) {
    let block = ratatui::widgets::Block::bordered().title(format!(" {name} "));
    f.render_widget(Paragraph::new(" scanning…").block(block), area);
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
