//! The dashboard for reducer and TestBackend tests: the demo fleet scanned at `now()`, keys
//! pressed as text, frames drawn to text.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use drydock::tui::logbuf::LogBuffer;
use drydock::tui::theme::Theme;
use drydock::tui::Effect;
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

/// The dashboard on the demo fleet, read-only or not, in one context or all.
pub fn app_with(readonly: bool, context: Option<&str>) -> App {
    let (mut config, _) =
        drydock::config::load(Some(std::path::Path::new("/dev/null")), &[]).unwrap();
    config.general.readonly = readonly;
    let mut app = App::new(
        AppOptions {
            context: context.map(String::from),
            ..AppOptions::from_config(&config, false, super::now())
        },
        LogBuffer::new(100),
    );
    assert!(matches!(app.start().as_slice(), [Effect::Scan]));
    assert!(app.refresh.running);
    app.update(Action::ScanFinished(Box::new(super::demo_inventory(
        super::now(),
    ))));
    app
}

/// Presses one key by name (`enter`, `esc`, `tab`, `backspace`, `space`, `ctrl-s`, `ctrl-c`,
/// or a character).
pub fn key(app: &mut App, k: &str) -> Vec<Effect> {
    let ev = match k {
        "enter" => KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE),
        "esc" => KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE),
        "tab" => KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE),
        "backspace" => KeyEvent::new(KeyCode::Backspace, KeyModifiers::NONE),
        "space" => KeyEvent::new(KeyCode::Char(' '), KeyModifiers::NONE),
        "ctrl-s" => KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL),
        "ctrl-c" => KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL),
        c => KeyEvent::new(KeyCode::Char(c.chars().next().unwrap()), KeyModifiers::NONE),
    };
    app.update(Action::Key(ev))
}

/// Types `text`, a key per character.
pub fn typed(app: &mut App, text: &str) {
    for c in text.chars() {
        key(app, &c.to_string());
    }
}
