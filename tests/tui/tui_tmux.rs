//! End to end: the real binary inside tmux. Types a filter, reads the pane, opens help,
//! quits, and checks the terminal came back (no alternate screen, cooked mode) — also
//! after a panic in a background task. Needs tmux (tests/run.sh installs it).

use crate::common;

use std::process::Command;
use std::time::{Duration, Instant};

struct Tmux {
    socket: String,
    _home: tempfile::TempDir,
}

impl Tmux {
    /// Starts `drydock ARGS` in a 120×40 tmux pane; after it exits the pane shows its exit
    /// code and the terminal modes.
    fn start(args: &str, env: &str) -> Tmux {
        Tmux::start_sized(args, env, 120, 40)
    }

    /// The same in a terminal of `w`×`h`.
    fn start_sized(args: &str, env: &str, cols: u16, rows: u16) -> Tmux {
        assert!(
            Command::new("tmux")
                .arg("-V")
                .output()
                .is_ok_and(|o| o.status.success()),
            "tmux is required for this test (tests/run.sh installs it)"
        );
        let home = tempfile::tempdir().unwrap();
        let h = home.path().display().to_string();
        let socket = format!(
            "drydock-test-{}-{}-{cols}x{rows}",
            std::process::id(),
            args.len() + env.len()
        );
        let bin = env!("CARGO_BIN_EXE_drydock");
        let script = format!(
            "env -i PATH=\"$PATH\" TERM=xterm-256color HOME={h} XDG_CONFIG_HOME={h}/c XDG_DATA_HOME={h}/d XDG_STATE_HOME={h}/s DRYDOCK_NOW={now} {env} {bin} {args}; \
             echo EXIT=$?; echo \"MODES: $(stty -a | tr ' ;' '\\n\\n' | grep -E '^-?(icanon|echo)$' | tr '\\n' ' ') END\"; sleep 60",
            now = common::NOW
        );
        let t = Tmux {
            socket,
            _home: home,
        };
        t.run(&[
            "new-session",
            "-d",
            "-s",
            "e2e",
            "-x",
            &cols.to_string(),
            "-y",
            &rows.to_string(),
            &script,
        ]);
        t
    }

    fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux runs");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn pane(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "e2e"])
    }

    fn keys(&self, keys: &[&str]) {
        for k in keys {
            self.run(&["send-keys", "-t", "e2e", k]);
        }
    }

    fn literal(&self, text: &str) {
        self.run(&["send-keys", "-t", "e2e", "-l", text]);
    }

    fn wait_for(&self, needle: &str) -> String {
        self.wait_until(needle, |pane| pane.contains(needle))
    }

    /// Polls the pane until `done` holds (frames arrive in pieces; never read half of one).
    fn wait_until(&self, what: &str, done: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let pane = self.pane();
            if done(&pane) {
                return pane;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "timed out waiting for {what}; pane:\n{pane}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn alternate_screen(&self) -> bool {
        self.run(&["display-message", "-p", "-t", "e2e", "#{alternate_on}"])
            .trim()
            == "1"
    }

    /// After drydock exits: exit code shown, no alternate screen, cooked mode with echo.
    fn assert_terminal_restored(&self, code: i32) -> String {
        let pane = self.wait_until("exit code and terminal modes", |p| {
            p.contains(&format!("EXIT={code}"))
                && p.lines()
                    .any(|l| l.starts_with("MODES:") && l.ends_with("END"))
        });
        assert!(
            !self.alternate_screen(),
            "still on the alternate screen:\n{pane}"
        );
        let modes = pane
            .lines()
            .find(|l| l.starts_with("MODES:"))
            .unwrap_or("")
            .to_string();
        assert!(
            modes.split_whitespace().any(|m| m == "icanon"),
            "raw mode left on: {modes:?}\n{pane}"
        );
        assert!(
            modes.split_whitespace().any(|m| m == "echo"),
            "echo left off: {modes:?}\n{pane}"
        );
        pane
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .arg("kill-server")
            .output();
    }
}

#[test]
fn filter_help_and_quit_in_a_real_terminal() {
    let t = Tmux::start("--demo", "");
    let pane = t.wait_for("Fleet 326 / 326");
    assert!(t.alternate_screen());
    assert!(
        pane.contains("326 VMs") && pane.contains("⊘ revoked 34"),
        "{pane}"
    );
    t.literal("/verdict:outdated");
    t.keys(&["Enter"]);
    // Only outdated VMs are listed: every body row says so and no other verdict appears.
    let rows = |pane: &str| -> Vec<String> {
        pane.lines()
            .skip(5)
            .take(33)
            .filter(|l| l.starts_with('│') && !l.trim_matches(|c| c == '│' || c == ' ').is_empty())
            .map(String::from)
            .collect()
    };
    let pane = t.wait_until("the filtered rows", |pane| {
        let body = rows(pane);
        pane.contains("Fleet 42 / 326")
            && body.len() >= 30
            && body.iter().all(|l| l.contains("! outdated"))
    });
    assert!(
        !rows(&pane)
            .iter()
            .any(|l| l.contains("revoked") || l.contains("current")),
        "{pane}"
    );
    t.keys(&["?"]);
    let pane = t.wait_for("fields: name id cloud");
    assert!(
        pane.contains("Keys in the fleet view") && pane.contains("sort by next column"),
        "{pane}"
    );
    // Esc alone first: an Esc followed at once by a key reads as Alt+key in a terminal.
    t.keys(&["Escape"]);
    t.wait_until("the help to close", |pane| {
        !pane.contains("Keys in the fleet view")
    });
    t.keys(&["2"]);
    t.wait_for("Images by family");
    t.keys(&["q"]);
    t.assert_terminal_restored(0);
}

#[test]
fn a_panic_in_a_background_task_restores_the_terminal() {
    let t = Tmux::start("--demo", "DRYDOCK_TUI_FAULT=scan-panic");
    let pane = t.assert_terminal_restored(2);
    assert!(pane.contains("a background task panicked"), "{pane}");
}

#[test]
fn a_panic_on_the_ui_thread_restores_the_terminal() {
    let t = Tmux::start("--demo", "DRYDOCK_TUI_FAULT=ui-panic");
    let pane = t.assert_terminal_restored(101);
    assert!(pane.contains("the UI thread panicked"), "{pane}");
}

#[test]
fn readonly_badge_and_no_mutating_help() {
    let t = Tmux::start("--demo --readonly --context demo-azure", "");
    let pane = t.wait_for("Fleet 84 / 84");
    assert!(pane.contains("[RO]"), "{pane}");
    t.keys(&["2", "?"]);
    let pane = t.wait_for("read-only: mutating keys are disabled");
    assert!(pane.contains("Keys in the images view"), "{pane}");
    assert!(
        !pane.contains("deprecate") && !pane.contains("retirement"),
        "{pane}"
    );
    // Escape and D sent together would read as alt-D: wait for the help to close first.
    t.keys(&["Escape"]);
    t.wait_until("the help to close", |pane| {
        !pane.contains("Keys in the images view")
    });
    t.keys(&["D"]);
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        !t.pane().contains("Deprecate"),
        "no confirm dialog in read-only mode"
    );
    t.keys(&["C-c"]);
    t.assert_terminal_restored(0);
}

#[test]
fn at_80_by_20_every_view_is_named_help_scrolls_and_q_quits_from_it() {
    let t = Tmux::start_sized("--demo", "", 80, 20);
    let pane = t.wait_for("Fleet 326 / 326");
    assert!(
        pane.contains("[DEMO: simulated clouds]") && pane.contains("6 conversions"),
        "{pane}"
    );
    t.keys(&["?"]);
    let pane = t.wait_for("help 1–");
    assert!(pane.contains("Keys in the fleet view"), "{pane}");
    t.keys(&["G"]);
    t.wait_for("fields: name id cloud");
    // q quits from the help, as the key table says.
    t.keys(&["q"]);
    t.assert_terminal_restored(0);
}

#[test]
fn another_operators_plan_and_its_progress_show_within_a_second() {
    // One PostgreSQL store for the dashboard (alice) and the CLI (bob).
    let Some(url) = drydock_testkit::pg::database("tmux_team") else {
        return;
    };
    let t = Tmux::start(
        "--demo",
        &format!("DRYDOCK_STORE_URL={url} DRYDOCK_OPERATOR=alice"),
    );
    t.wait_for("Fleet");
    t.keys(&["5"]);
    t.wait_for("no plans yet");
    let home = tempfile::tempdir().unwrap();
    let bob = |args: &[&str]| {
        common::run(
            common::drydock(home.path())
                .env("DRYDOCK_STORE_URL", &url)
                .env("DRYDOCK_OPERATOR", "bob")
                .args(args),
        )
    };
    let (code, out, err) = bob(&[
        "plan",
        "new",
        "--demo",
        "--family",
        "app-checkout",
        "--waves",
        "1,100%",
    ]);
    let made = Instant::now();
    assert_eq!(code, 0, "{err}");
    let id = out
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap()
        .to_string();
    let short: String = id.chars().take(12).collect();
    let pane = t.wait_for(&short);
    let shown = made.elapsed();
    assert!(
        shown < Duration::from_millis(1500),
        "bob's plan took {shown:?} to show:\n{pane}"
    );
    t.wait_for("made by bob");
    // Bob runs the canary wave: alice's view follows the plan's progress.
    let (code, _, err) = bob(&["plan", "run", &id, "--execute", "--yes-production"]);
    let ran = Instant::now();
    assert_eq!(code, 0, "{err}");
    let pane = t.wait_for("awaiting_approval");
    let followed = ran.elapsed();
    assert!(
        followed < Duration::from_millis(1500),
        "progress took {followed:?}:\n{pane}"
    );
    t.wait_for("1/1 replaced");
    eprintln!("bob's plan shown after {shown:?}, its progress after {followed:?}");
    t.keys(&["q"]);
    t.assert_terminal_restored(0);
}
