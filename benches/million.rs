//! Benchmark: the figures of a million VMs and 100,000 images (`drydock demo generate`):
//! the snapshot's size, packed and JSON, and `drydock report` in json, csv and table from
//! each (wall time and peak RSS; the median of three runs, these machines being shared),
//! against the targets (< 3 s, < 1 GB, snapshot ≤ 150 MB).
//!
//! Run: `cargo bench --bench million` (sizes: DRYDOCK_BENCH_VMS, DRYDOCK_BENCH_IMAGES).

use drydock_testkit::measure;
use std::path::Path;
use std::process::{Command, Stdio};

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn generate(exe: &str, vms: usize, images: usize, out: &Path, state: &Path) -> f64 {
    let m = measure::measure(
        Command::new(exe)
            .args(["demo", "generate", "--vms", &vms.to_string(), "--images"])
            .arg(images.to_string())
            .args(["--seed", "7", "-o"])
            .arg(out)
            .env("XDG_STATE_HOME", state)
            .stderr(Stdio::null()),
    );
    assert_eq!(libc::WEXITSTATUS(m.status), 0, "generate failed");
    std::fs::metadata(out)
        .map(|m| m.len() as f64 / 1e6)
        .unwrap_or(0.0)
}

fn main() {
    let exe = env!("CARGO_BIN_EXE_drydock");
    let vms = env_or("DRYDOCK_BENCH_VMS", 1_000_000);
    let images = env_or("DRYDOCK_BENCH_IMAGES", 100_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let packed = dir.path().join("fleet.snap");
    let json = dir.path().join("fleet.json");
    let packed_mb = generate(exe, vms, images, &packed, dir.path());
    let json_mb = generate(exe, vms, images, &json, dir.path());
    println!(
        "snapshot of {vms} VMs, {images} images: packed {packed_mb:.0} MB (target ≤ 150 MB: {}), JSON {json_mb:.0} MB",
        if packed_mb <= 150.0 { "met" } else { "MISSED" }
    );
    for (what, snap) in [("packed", &packed), ("json", &json)] {
        for format in ["json", "csv", "table"] {
            let mut runs: Vec<(f64, f64)> = (0..3)
                .map(|_| {
                    let m = measure::measure(
                        Command::new(exe)
                            .args(["report", "--format", format, "--snapshot"])
                            .arg(snap)
                            .env("XDG_STATE_HOME", dir.path())
                            .env("DRYDOCK_DATA_DIR", dir.path())
                            .stdout(Stdio::null())
                            .stderr(Stdio::null()),
                    );
                    assert_eq!(libc::WEXITSTATUS(m.status), 0, "report failed");
                    (m.secs, m.maxrss_kib as f64 * 1024.0 / 1e9)
                })
                .collect();
            runs.sort_by(|a, b| a.0.total_cmp(&b.0));
            let (secs, gb) = runs[1];
            let all: Vec<String> = runs.iter().map(|r| format!("{:.2}", r.0)).collect();
            println!(
                "report --format {format:5} from the {what:6} snapshot: {secs:.2} s median of {} (target < 3 s: {}), peak RSS {gb:.2} GB (target < 1 GB: {})",
                all.join(" / "),
                if secs < 3.0 { "met" } else { "MISSED" },
                if gb < 1.0 { "met" } else { "MISSED" },
            );
        }
    }
}
