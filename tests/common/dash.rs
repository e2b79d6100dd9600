//! The dashboard for reducer and TestBackend tests: the demo fleet scanned at `now()`, keys
//! pressed as text, frames drawn to text.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use drydock::tui::logbuf::LogBuffer;
use drydock::tui::theme::Theme;
use drydock::tui::{ui, Action, App, AppOptions};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

/// The dashboard on the demo fleet with the built-in configuration, 12 s after its scan.
pub fn demo_app() -> App {
    let (config, _) = drydock::config::load(Some(std::path::Path::new("/dev/null")), &[]).unwrap();
    let mut app = App::new(
        AppOptions::from_config(&config, false, super::now()),
        LogBuffer::new(100),
    );
    app.start();
    app.update(Action::ScanFinished(Box::new(super::demo_inventory(
        super::now(),
    ))));
    app.update(Action::Tick(super::now() + chrono::Duration::seconds(12)));
    app
}

/// Presses keys: each char is a key; `\n` enter, `\u{1b}` esc, `\u{3}` page down,
/// `\u{2}` page up, `\t` tab.
pub fn press(app: &mut App, keys: &str) {
    for c in keys.chars() {
        let code = match c {
            '\n' => KeyCode::Enter,
            '\u{1b}' => KeyCode::Esc,
            '\u{3}' => KeyCode::PageDown,
            '\u{2}' => KeyCode::PageUp,
            '\t' => KeyCode::Tab,
            c => KeyCode::Char(c),
        };
        app.update(Action::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    }
}

/// One frame of `w`×`h` without colour, as text (a line per row).
pub fn screen(app: &mut App, w: u16, h: u16) -> String {
    app.update(Action::Resize(w, h));
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.draw(|f| ui::draw(f, app, Theme { color: false }))
        .unwrap();
    let buf = term.backend().buffer().clone();
    buf.content
        .chunks(w as usize)
        .map(|row| row.iter().map(|c| c.symbol()).collect::<String>() + "\n")
        .collect()
}
