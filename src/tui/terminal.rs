//! Terminal setup and restoration. The terminal is restored on quit, on error and on any
//! panic, in any thread or task: the panic hook restores before the panic is reported.

use crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use crossterm::execute;
use crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
use ratatui::backend::CrosstermBackend;
use ratatui::Terminal;
use std::io::{stdout, Stdout};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::thread::ThreadId;

static MOUSE: AtomicBool = AtomicBool::new(false);
/// The dashboard owns the terminal (between `enter` and `restore`).
static ACTIVE: AtomicBool = AtomicBool::new(false);
/// The thread that draws.
static UI_THREAD: OnceLock<ThreadId> = OnceLock::new();

pub type Term = Terminal<CrosstermBackend<Stdout>>;

/// Raw mode, alternate screen, hidden cursor, optional mouse capture; installs the panic hook.
pub fn enter(mouse: bool) -> std::io::Result<Term> {
    install_panic_hook();
    let _ = UI_THREAD.set(std::thread::current().id());
    ACTIVE.store(true, Ordering::SeqCst);
    enable_raw_mode()?;
    let mut out = stdout();
    execute!(out, EnterAlternateScreen)?;
    if mouse {
        MOUSE.store(true, Ordering::SeqCst);
        execute!(out, EnableMouseCapture)?;
    }
    let mut terminal = Terminal::new(CrosstermBackend::new(out))?;
    terminal.hide_cursor()?;
    terminal.clear()?;
    Ok(terminal)
}

/// Puts the terminal back as it was. Safe to call more than once.
pub fn restore() {
    ACTIVE.store(false, Ordering::SeqCst);
    let mut out = stdout();
    if MOUSE.swap(false, Ordering::SeqCst) {
        let _ = execute!(out, DisableMouseCapture);
    }
    let _ = execute!(out, LeaveAlternateScreen, crossterm::cursor::Show);
    let _ = disable_raw_mode();
}

/// A panic on the drawing thread restores the terminal, then reports as usual. A panic in
/// a background task while the dashboard runs is logged instead of printed over the
/// screen; its supervisor turns it into an orderly exit that restores the terminal and
/// prints the error.
fn install_panic_hook() {
    static INSTALLED: AtomicBool = AtomicBool::new(false);
    if INSTALLED.swap(true, Ordering::SeqCst) {
        return;
    }
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let on_ui_thread = UI_THREAD.get() == Some(&std::thread::current().id());
        if ACTIVE.load(Ordering::SeqCst) && !on_ui_thread {
            tracing::error!("background task panicked: {info}");
            return;
        }
        restore();
        previous(info);
    }));
}
