//! Benchmark: the dashboard on a generated 100k-VM / 10k-image inventory (1M / 100k for
//! the organisation-scale figures). The snapshot is written by `drydock demo generate` in
//! a child process and opened as `drydock --snapshot` opens it (the snapshot provider, the
//! scan merge, the assessment, the sort, the first frame), so the time to open and this
//! process's peak RSS are the dashboard's (targets < 5 s and < 1.5 GB at 1M). Then one full
//! frame render (target < 10 ms) and keystroke → filtered frame (target < 50 ms), drawing
//! to ratatui's TestBackend at 120×40.
//!
//! Run: `cargo bench --bench tui` (sizes: DRYDOCK_BENCH_VMS, DRYDOCK_BENCH_IMAGES;
//! DRYDOCK_BENCH_SNAPSHOT opens an existing snapshot instead).

use chrono::Utc;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use drydock::tui::logbuf::LogBuffer;
use drydock::tui::theme::Theme;
use drydock::tui::{ui, Action, App, AppOptions};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use std::sync::Arc;
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

/// This process's peak resident set, in GB.
fn peak_rss_gb() -> f64 {
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes into the struct it is given.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    u.ru_maxrss as f64 * 1024.0 / 1e9
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
    let dir = tempfile::tempdir().expect("temp dir");
    let path = match std::env::var_os("DRYDOCK_BENCH_SNAPSHOT") {
        Some(p) => std::path::PathBuf::from(p),
        None => {
            let path = dir.path().join("fleet.snap");
            let ok = std::process::Command::new(env!("CARGO_BIN_EXE_drydock"))
                .args(["demo", "generate", "--vms", &vms.to_string(), "--images"])
                .arg(images.to_string())
                .args(["--seed", "7", "-o"])
                .arg(&path)
                .env("XDG_STATE_HOME", dir.path())
                .stderr(std::process::Stdio::null())
                .status()
                .expect("drydock demo generate runs");
            assert!(ok.success(), "drydock demo generate failed");
            path
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
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
    let theme = Theme { color: true };
    let mut term = Terminal::new(TestBackend::new(120, 40)).unwrap();
    let t = Instant::now();
    let provider: Arc<dyn drydock_api::Provider> = Arc::new(drydock::scan::SnapshotProvider {
        name: "fleet".into(),
        path: path.clone(),
    });
    let inv = rt.block_on(drydock::scan::scan_all(
        &[provider],
        Arc::new(|_| {}),
        Utc::now,
    ));
    let read = t.elapsed();
    let (n_vms, n_images) = (inv.vms.len(), inv.images.len());
    app.update(Action::ScanFinished(Box::new(inv)));
    term.draw(|f| ui::draw(f, &app, theme)).unwrap();
    let open = t.elapsed().as_secs_f64();
    let gb = peak_rss_gb();
    println!(
        "opens a snapshot of {n_vms} VMs, {n_images} images: {open:.2} s to the first frame (read {:.2} s; target < 5 s: {}), peak RSS {gb:.2} GB (target < 1.5 GB: {})",
        read.as_secs_f64(),
        if open < 5.0 { "met" } else { "MISSED" },
        if gb < 1.5 { "met" } else { "MISSED" },
    );

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
    println!("peak RSS at the end: {:.2} GB", peak_rss_gb());
}
