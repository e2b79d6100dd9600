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
    text_of(&term, w)
}

/// The text of `term`'s last frame, a line per row.
fn text_of(term: &Terminal<TestBackend>, w: u16) -> String {
    term.backend()
        .buffer()
        .content
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

/// Every view and dialog the dashboard draws, as the keys that open it from the Fleet view
/// (each starts from a fresh `esc`): the six views, the detail pane, help, messages, raw
/// JSON, the palette, a filter with an error, what uses an image, the confirm dialog, the
/// new-plan dialog's three steps and the conversion prompt.
pub const VIEWS_AND_DIALOGS: &[(&str, &str)] = &[
    ("fleet", "1"),
    ("fleet detail", "1d"),
    ("fleet detail scrolled", "1dJJJ"),
    ("images", "2"),
    ("images detail", "2d"),
    ("drift", "3"),
    ("log", "4"),
    ("plans", "5"),
    ("conversions", "6"),
    ("contexts", "7"),
    ("help", "1?"),
    ("help of conversions", "6?"),
    ("messages", "1M"),
    ("json", "1y"),
    ("palette", "1:"),
    ("filter error", "1/nosuchfield:x"),
    ("image users", "2\n"),
    ("confirm", "1t"),
    ("new plan family", "5n"),
    ("new plan settings", "5n\n"),
    ("new plan review", "5n\n\n"),
    ("conversion prompt", "6n"),
];

/// Draws `app` at `w`×`h` and checks every value the fit functions placed: what is shown
/// is the full value, or a prefix or suffix of it marked with `…`, or a piece of it
/// wrapped whole; and a value that is visible at all is visible whole (nothing cut by the
/// renderer without a sign). Returns the screen; panics naming the view and the value.
pub fn check_fitted(app: &mut App, w: u16, h: u16, what: &str) -> String {
    drydock::tui::text::record_fitted();
    let s = screen(app, w, h);
    let fitted = drydock::tui::text::take_fitted();
    let popup = app.has_popup();
    check_screen(&s, &fitted, w, h, what, !popup);
    // A popup covers the view: its own text is checked again on an empty frame.
    if popup {
        let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
        term.draw(|f| ui::draw_popups(f, app, Theme { color: false }))
            .unwrap();
        let fitted = drydock::tui::text::take_fitted();
        let alone = text_of(&term, w);
        check_screen(&alone, &fitted, w, h, &format!("{what} (alone)"), true);
    }
    s
}

fn check_screen(
    s: &str,
    fitted: &[drydock::tui::text::Fitted],
    w: u16,
    h: u16,
    what: &str,
    whole_check: bool,
) {
    let rows: Vec<&str> = s.lines().collect();
    for (n, row) in rows.iter().enumerate() {
        assert!(
            row.chars().count() <= w as usize,
            "{what} {w}×{h}: row {n} is wider than the terminal"
        );
    }
    let collapse = |t: &str| t.split_whitespace().collect::<Vec<_>>().join(" ");
    for f in fitted {
        let shown = f.shown.as_str();
        let faithful = shown == f.full
            || shown.is_empty()
            || shown
                .strip_suffix('…')
                .is_some_and(|p| f.full.starts_with(p))
            || shown.strip_prefix('…').is_some_and(|p| f.full.ends_with(p))
            || collapse(&f.full).contains(shown.trim());
        assert!(
            faithful,
            "{what} {w}×{h}: {shown:?} is not {:?}, nor a prefix or suffix of it marked with …",
            f.full
        );
    }
    // Visible at all → visible whole. A value whose start (8 characters or more, half of
    // it at least) is followed by a border or the end of the row, where neither it nor
    // another placed value stands whole, was cut by the renderer. A view under a popup is
    // not checked (the popup covers it); the popup is checked alone.
    if !whole_check {
        return;
    }
    let whole: Vec<&str> = fitted
        .iter()
        .map(|f| f.shown.trim())
        .filter(|t| t.chars().count() >= 8)
        .collect();
    for row in &rows {
        // Where whole values stand in this row: a probe inside one is part of it.
        let mut covered: Vec<(usize, usize)> = Vec::new();
        for t in &whole {
            let mut from = 0;
            while let Some(at) = row[from..].find(t) {
                covered.push((from + at, from + at + t.len()));
                from += at + t.len();
            }
        }
        for t in &whole {
            let probe: String = t.chars().take(6).collect();
            let mut from = 0;
            while let Some(at) = row[from..].find(&probe) {
                let at = from + at;
                from = at + probe.len();
                if covered.iter().any(|&(a, b)| a <= at && at < b) {
                    continue;
                }
                // How far the row says the same as the value, and what stands after.
                let same = row[at..]
                    .chars()
                    .zip(t.chars())
                    .take_while(|(a, b)| a == b)
                    .count();
                let next = row[at..].chars().nth(same);
                let at_edge = matches!(next, None | Some('│' | '┐' | '┘' | '┤' | '┌' | '└'));
                // A shorter shared start is another text that happens to begin alike.
                let long = same >= 8 && 2 * same >= t.chars().count();
                assert!(
                    !(at_edge && long),
                    "{what} {w}×{h}: {t:?} is cut without a sign:\n{row}\n\n{s}"
                );
            }
        }
    }
}

/// Runs [`check_fitted`] over every view and dialog at 80×20, 120×40 and 250×60.
pub fn check_every_view(make: &dyn Fn() -> App) {
    for (w, h) in [(80, 20), (120, 40), (250, 60)] {
        for (what, keys) in VIEWS_AND_DIALOGS {
            let mut app = make();
            app.update(Action::Resize(w, h));
            press(&mut app, keys);
            check_fitted(&mut app, w, h, what);
        }
    }
}

/// A cloud context scanned now through its provider, for dashboard tests on a real
/// component's fleet.
pub struct Scanned {
    pub config: drydock::config::Config,
    pub now: chrono::DateTime<chrono::Utc>,
    pub inv: drydock::model::Inventory,
}

impl Scanned {
    /// `provider` (a context of `config`) scanned at this instant.
    pub fn new(
        config: drydock::config::Config,
        provider: std::sync::Arc<dyn drydock_api::Provider>,
    ) -> Scanned {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let now = chrono::Utc::now();
        let inv = rt.block_on(drydock::scan::scan_all(
            &[provider],
            std::sync::Arc::new(|_| {}),
            move || now,
        ));
        Scanned { config, now, inv }
    }

    /// A dashboard (not the demo's) with the scan delivered.
    pub fn app(&self) -> App {
        let mut app = App::new(
            AppOptions {
                demo: false,
                ..AppOptions::from_config(&self.config, false, self.now)
            },
            LogBuffer::new(10),
        );
        app.update(Action::ScanFinished(Box::new(self.inv.clone())));
        app
    }
}
