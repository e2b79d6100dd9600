//! Benchmark: `drydock report --format json` on a generated 100k-VM / 10k-image snapshot.
//! Prints wall time and peak RSS per run against the targets (< 1 s, < 300 MB).
//!
//! Run: `cargo bench --bench report` (sizes: DRYDOCK_BENCH_VMS, DRYDOCK_BENCH_IMAGES).

use drydock_testkit::measure;

use std::process::{Command, Stdio};

/// Runs `cmd`, returning (wall seconds, peak RSS in MB, exit code).
fn measure(cmd: &mut Command) -> (f64, f64, i32) {
    let m = measure::measure(cmd);
    // ru_maxrss is in KiB on Linux.
    (
        m.secs,
        m.maxrss_kib as f64 * 1024.0 / 1e6,
        libc::WEXITSTATUS(m.status),
    )
}

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let exe = env!("CARGO_BIN_EXE_drydock");
    let vms = env_or("DRYDOCK_BENCH_VMS", 100_000);
    let images = env_or("DRYDOCK_BENCH_IMAGES", 10_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let snap = dir.path().join("fleet.json");
    let gen = Command::new(exe)
        .args([
            "demo",
            "generate",
            "--vms",
            &vms.to_string(),
            "--images",
            &images.to_string(),
            "--seed",
            "7",
            "-o",
        ])
        .arg(&snap)
        .env("XDG_STATE_HOME", dir.path())
        .status()
        .expect("generate runs");
    assert!(gen.success());
    let size_mb = std::fs::metadata(&snap)
        .map(|m| m.len() as f64 / 1e6)
        .unwrap_or(0.0);
    println!("snapshot: {vms} VMs, {images} images, {size_mb:.1} MB");
    let mut walls = Vec::new();
    let mut peak: f64 = 0.0;
    for run in 1..=5 {
        let (wall, rss, code) = measure(
            Command::new(exe)
                .args(["report", "--format", "json", "--snapshot"])
                .arg(&snap)
                .env("XDG_STATE_HOME", dir.path())
                .stdout(Stdio::null()),
        );
        assert_eq!(code, 0, "report failed");
        println!("run {run}: wall {wall:.3} s, peak RSS {rss:.1} MB");
        walls.push(wall);
        peak = peak.max(rss);
    }
    walls.sort_by(f64::total_cmp);
    let median = walls[walls.len() / 2];
    println!(
        "report --format json: median wall {median:.3} s (target < 1 s: {}), peak RSS {peak:.1} MB (target < 300 MB: {})",
        if median < 1.0 { "met" } else { "MISSED" },
        if peak < 300.0 { "met" } else { "MISSED" },
    );
}
