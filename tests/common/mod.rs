//! Helpers for tests that run the real `drydock` binary in an isolated environment.

#![allow(dead_code)]

pub mod dash;

use assert_cmd::Command;
use std::path::Path;

/// The instant every binary test evaluates at (the demo fleet is relative to it).
pub const NOW: &str = "2026-11-23T00:00:00Z";

/// `drydock` with a private HOME/XDG tree under `home`, no colour and a fixed clock.
pub fn drydock(home: &Path) -> Command {
    Command::from_std(drydock_process(home))
}

/// The same as a plain process, for tests that spawn and kill it.
pub fn drydock_process(home: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("drydock"));
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_STATE_HOME", home.join("state"))
        .env("DRYDOCK_NOW", NOW);
    cmd
}

/// Runs and returns (exit code, stdout, stderr).
pub fn run(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().expect("drydock runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).expect("utf-8 stdout"),
        String::from_utf8(out.stderr).expect("utf-8 stderr"),
    )
}

/// The demo fleet as the dashboard's scan would deliver it, at a fixed instant.
pub fn demo_inventory(now: chrono::DateTime<chrono::Utc>) -> drydock::model::Inventory {
    use std::sync::Arc;
    let providers: Vec<Arc<dyn drydock_api::Provider>> =
        drydock_sim::demo_clouds(now, drydock_sim::SimSettings::default())
            .into_iter()
            .map(|c| Arc::new(c) as Arc<dyn drydock_api::Provider>)
            .collect();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(drydock::scan::scan_all(
        &providers,
        Arc::new(|_| {}),
        move || now,
    ))
}

/// The demo instant as a time.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(NOW)
        .unwrap()
        .with_timezone(&chrono::Utc)
}
