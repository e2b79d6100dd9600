//! The command line's progress bar for long disk work (convert, transfer): one line on
//! stderr, and Ctrl-C carried to the engine.

use drydock::convert::{human_bytes as human, Progress};
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Set by SIGINT or SIGTERM while a conversion runs.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_interrupt(sig: libc::c_int) {
    // A second signal while the first is still being honoured (the work is stuck in a call
    // that does not return) ends the process as the signal would.
    if INTERRUPTED.swap(true, Ordering::SeqCst) {
        // SAFETY: signal and raise are async-signal-safe.
        unsafe {
            libc::signal(sig, libc::SIG_DFL);
            libc::raise(sig);
        }
    }
}

/// From now on SIGINT and SIGTERM ask the running conversion to stop at its next chunk (a
/// second one ends the process).
fn catch_interrupts() {
    let handler = on_interrupt as extern "C" fn(libc::c_int) as libc::sighandler_t;
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
    unsafe {
        libc::signal(libc::SIGINT, handler);
        libc::signal(libc::SIGTERM, handler);
    }
}

/// A one-line progress bar on stderr, redrawn at most ten times a second; it also carries
/// Ctrl-C to the engine (a cancelled conversion cleans up after itself).
pub struct Bar {
    on: bool,
    started: Instant,
    last: Option<Instant>,
}

impl Bar {
    pub fn new(on: bool) -> Bar {
        catch_interrupts();
        Bar {
            on,
            started: Instant::now(),
            last: None,
        }
    }

    pub fn update(&mut self, p: Progress) -> bool {
        if INTERRUPTED.load(Ordering::SeqCst) {
            self.clear();
            return false;
        }
        if !self.on {
            return true;
        }
        let now = Instant::now();
        if self
            .last
            .is_some_and(|t| now - t < Duration::from_millis(100))
            && p.done < p.total
        {
            return true;
        }
        self.last = Some(now);
        let frac = if p.total == 0 {
            1.0
        } else {
            p.done as f64 / p.total as f64
        };
        let width = 30;
        let filled = (frac * width as f64) as usize;
        let secs = self.started.elapsed().as_secs_f64().max(1e-3);
        let _ = write!(
            std::io::stderr(),
            "\r[{}{}] {:5.1}%  {} / {}  {:.0} MiB/s ",
            "#".repeat(filled),
            "-".repeat(width - filled),
            frac * 100.0,
            human(p.done),
            human(p.total),
            p.done as f64 / secs / 1048576.0
        );
        true
    }

    pub fn clear(&mut self) {
        if self.on {
            let _ = write!(std::io::stderr(), "\r{:70}\r", "");
        }
    }
}
