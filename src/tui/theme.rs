//! Colours and emphasis. Every state is also written as a symbol and a word, so the
//! monochrome theme (NO_COLOR, `--color never`) loses nothing but colour.

use crate::config::Accent;
use crate::drift::Verdict;
use ratatui::style::{Color, Modifier, Style};

/// The active theme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    pub color: bool,
}

/// The colour of each verdict.
pub fn verdict_color(v: Verdict) -> Color {
    match v {
        Verdict::Current => Color::Green,
        Verdict::Unmanaged => Color::Gray,
        Verdict::Behind => Color::Cyan,
        Verdict::Unknown => Color::Magenta,
        Verdict::Outdated => Color::Yellow,
        Verdict::Eol => Color::LightRed,
        Verdict::Revoked => Color::Red,
    }
}

pub fn accent_color(a: Accent) -> Color {
    match a {
        Accent::Cyan => Color::Cyan,
        Accent::Blue => Color::Blue,
        Accent::Green => Color::Green,
        Accent::Magenta => Color::Magenta,
        Accent::Yellow => Color::Yellow,
        Accent::Red => Color::Red,
        Accent::White => Color::White,
    }
}

impl Theme {
    fn fg(&self, c: Color) -> Style {
        if self.color {
            Style::default().fg(c)
        } else {
            Style::default()
        }
    }

    pub fn verdict(&self, v: Verdict) -> Style {
        let s = self.fg(verdict_color(v));
        if v >= Verdict::Eol {
            s.add_modifier(Modifier::BOLD)
        } else {
            s
        }
    }

    /// The accent: red for production, else the context's own.
    pub fn accent(&self, accent: Color) -> Style {
        self.fg(accent).add_modifier(Modifier::BOLD)
    }

    pub fn selected(&self) -> Style {
        if self.color {
            Style::default()
                .bg(Color::DarkGray)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::default().add_modifier(Modifier::REVERSED)
        }
    }

    pub fn title(&self) -> Style {
        Style::default().add_modifier(Modifier::BOLD)
    }

    pub fn dim(&self) -> Style {
        self.fg(Color::DarkGray)
    }

    pub fn warn(&self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }

    pub fn danger(&self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }

    pub fn ok(&self) -> Style {
        self.fg(Color::Green)
    }
}
