//! Benchmark: the dashboard on a generated 100k-VM / 10k-image inventory. Times one full
//! frame render (target < 10 ms) and keystroke → filtered frame (target < 50 ms), drawing
//! to ratatui's TestBackend at 120×40.
//!
//! Run: `cargo bench --bench tui` (sizes: DRYDOCK_BENCH_VMS, DRYDOCK_BENCH_IMAGES).

use chrono::Utc;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use drydock::model::Inventory;
use drydock::tui::logbuf::LogBuffer;
use drydock::tui::theme::Theme;
use drydock::tui::{ui, Action, App, AppOptions};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use std::time::{Duration, Instant};

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn stats(mut v: Vec<Duration>) -> (f64, f64, f64) {
    v.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let p = |q: f64| ms(v[((v.len() - 1) as f64 * q).round() as usize]);
    (p(0.5), p(0.99), ms(*v.last().unwrap()))
}

fn key(c: char) -> Action {
    let code = match c {
        '\n' => KeyCode::Enter,
        '\u{1b}' => KeyCode::Esc,
        c => KeyCode::Char(c),
    };
    Action::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn main() {
    let vms = env_or("DRYDOCK_BENCH_VMS", 100_000);
    let images = env_or("DRYDOCK_BENCH_IMAGES", 10_000);
    let now = Utc::now();
    let scan = drydock_sim::generate(
        drydock_sim::GenerateSpec {
            vms,
            images,
            seed: 7,
        },
        now,
    );
    let mut accounts = Default::default();
    Inventory::note_accounts(&mut accounts, "generated", &scan);
    let mut inv = Inventory::from_scan(now, vec!["generated".into()], scan);
    inv.accounts = accounts;
    let (config, _) = drydock::config::load(Some(std::path::Path::new("/dev/null")), &[]).unwrap();
    let mut app = App::new(
        AppOptions {
            context: None,
            ..AppOptions::from_config(
                &{
                    let mut c = config.clone();
                    c.general.readonly = false;
                    c
                },
                false,
                now,
            )
        },
        LogBuffer::new(100),
    );
    app.start();
    let t = Instant::now();
    app.update(Action::ScanFinished(Box::new(inv)));
    println!(
        "inventory: {vms} VMs, {images} images; load + assess + sort: {:.1} ms",
        t.elapsed().as_secs_f64() * 1e3
    );

    let theme = Theme { color: true };
    let mut term = Terminal::new(TestBackend::new(120, 40)).unwrap();
    // Full frames: clear first so every cell is drawn, not just the changes.
    let mut frames = Vec::new();
    for i in 0..200 {
        if i % 2 == 0 {
            app.update(key('j'));
        }
        term.clear().unwrap();
        let t = Instant::now();
        term.draw(|f| ui::draw(f, &app, theme)).unwrap();
        frames.push(t.elapsed());
    }
    let (med, p99, max) = stats(frames);
    println!("full frame render (fleet, 120x40): median {med:.2} ms, p99 {p99:.2} ms, max {max:.2} ms (target < 10 ms: {})", if p99 < 10.0 { "met" } else { "MISSED" });

    for (view, keys) in [("images", '2'), ("drift", '3'), ("log", '4')] {
        app.update(key(keys));
        let mut v = Vec::new();
        for _ in 0..20 {
            term.clear().unwrap();
            let t = Instant::now();
            term.draw(|f| ui::draw(f, &app, theme)).unwrap();
            v.push(t.elapsed());
        }
        let (med, _, max) = stats(v);
        println!("full frame render ({view}): median {med:.2} ms, max {max:.2} ms");
    }
    app.update(key('1'));

    // Keystroke → filtered frame, one character at a time, as typed.
    let mut worst = Duration::ZERO;
    for filter in ["verdict:outdated", "family:web-* !region:eu-*", "vm-0421"] {
        app.update(key('/'));
        let mut v = Vec::new();
        for c in filter.chars() {
            let t = Instant::now();
            app.update(key(c));
            term.draw(|f| ui::draw(f, &app, theme)).unwrap();
            v.push(t.elapsed());
        }
        if std::env::var_os("DRYDOCK_BENCH_VERBOSE").is_some() {
            let per: Vec<String> = filter
                .chars()
                .zip(&v)
                .map(|(c, d)| format!("{c}:{:.1}", d.as_secs_f64() * 1e3))
                .collect();
            println!("  per key (ms): {}", per.join(" "));
        }
        app.update(key('\n'));
        let shown = app.fleet.rows.shown.len();
        let (med, p99, max) = stats(v);
        worst = worst.max(Duration::from_secs_f64(max / 1e3));
        println!("keystroke -> filtered frame `{filter}` ({shown} shown): median {med:.2} ms, p99 {p99:.2} ms, max {max:.2} ms");
        app.update(key('\u{1b}'));
    }
    let t = Instant::now();
    app.update(key('s'));
    term.draw(|f| ui::draw(f, &app, theme)).unwrap();
    println!(
        "sort by next column (s) -> frame: {:.1} ms",
        t.elapsed().as_secs_f64() * 1e3
    );
    println!(
        "worst keystroke -> filtered frame: {:.2} ms (target < 50 ms: {})",
        worst.as_secs_f64() * 1e3,
        if worst < Duration::from_millis(50) {
            "met"
        } else {
            "MISSED"
        }
    );
}
