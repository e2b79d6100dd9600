//! The command line's own surface: `--version` naming the commit, the exit codes under
//! `--help`, every option explained, shell completions and the manual page, and errors said
//! once on one line (never a panic).

use crate::common::{drydock, run};
use std::fs;

fn home() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

#[test]
fn version_names_the_commit_and_help_lists_the_exit_codes() {
    let h = home();
    let (code, out, _) = run(drydock(h.path()).arg("--version"));
    assert_eq!(code, 0);
    let commit = std::process::Command::new("git")
        .args(["describe", "--always", "--abbrev=12"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    match commit {
        Some(c) => assert!(out.contains(&format!("(commit {c})")), "{out}"),
        None => assert!(out.contains("(commit "), "{out}"),
    }
    for args in [
        vec!["--help"],
        vec!["report", "--help"],
        vec!["lint", "--help"],
        vec!["plan", "run", "--help"],
    ] {
        let (code, out, _) = run(drydock(h.path()).args(&args));
        assert_eq!(code, 0, "{args:?}");
        assert!(out.contains("Exit codes:"), "{args:?}: {out}");
        for line in [
            "report: VMs at or above",
            "lint: a finding",
            "plan run / plan resume",
        ] {
            assert!(out.contains(line), "{args:?} lacks {line}");
        }
    }
    // Every option of `plan new` says what it is for.
    let (_, out, _) = run(drydock(h.path()).args(["plan", "new", "--help"]));
    for flag in ["--health-timeout", "--builder-context", "--builder-region"] {
        let line = out
            .lines()
            .position(|l| l.trim_start().starts_with(flag))
            .unwrap_or_else(|| panic!("{flag} missing: {out}"));
        let text = out.lines().nth(line + 1).unwrap_or("");
        assert!(
            !text.trim().is_empty() && !text.trim().starts_with("--"),
            "{flag} has no text"
        );
    }
}

#[test]
fn completions_and_the_man_page_cover_every_command() {
    let h = home();
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let (code, out, err) = run(drydock(h.path()).args(["completions", shell]));
        assert_eq!(code, 0, "{shell}: {err}");
        for sub in ["report", "transfer", "lint", "completions"] {
            assert!(out.contains(sub), "{shell} completion lacks {sub}");
        }
    }
    let (code, out, err) = run(drydock(h.path()).arg("man"));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(".TH drydock 1"), "{out}");
    for sub in ["report", "plan", "convert", "transfer", "inspect", "lint"] {
        assert!(out.contains(sub), "man page lacks {sub}");
    }
}

#[test]
fn an_unreadable_snapshot_is_said_once() {
    let h = home();
    let missing = h.path().join("nope.json");
    let (code, _, err) = run(drydock(h.path())
        .args(["report", "--snapshot"])
        .arg(&missing));
    assert_eq!(code, 2, "{err}");
    assert_eq!(err.matches("No such file or directory").count(), 1, "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("nope.json"), "{err}");
}

#[test]
fn a_six_byte_vmdk_is_an_error_not_a_crash() {
    let h = home();
    let disk = h.path().join("k.vmdk");
    fs::write(&disk, b"KDMV\x01\x00").unwrap();
    for args in [vec!["inspect"], vec!["convert", "--check"], vec!["lint"]] {
        let (code, _, err) = run(drydock(h.path()).args(&args).arg(&disk));
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(err.starts_with("error: "), "{args:?}: {err}");
    }
}
