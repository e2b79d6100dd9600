//! The fuzz corpora, kept for good: `fuzz/seeds/TARGET.tar.gz` holds each target's corpus as
//! `cargo fuzz cmin` left it after the runs quoted in the hardening issue's note (gzipped:
//! the filesystem images are mostly zeros), plus every crashing input found
//! (`tests/inspect/fuzz-found`). Each file is replayed here through the same entry points
//! its fuzz target calls (fuzz/src/lib.rs), in process: a panic fails.

use std::path::{Path, PathBuf};

/// fuzz_openstack: the first byte picks clouds.yaml, a Glance page, a Nova page, a Cinder
/// volume or an error body.
fn replay_openstack(bytes: &[u8]) {
    use drydock_openstack::records::{ImagePage, ServerPage, VolumeBody};
    let Some((&kind, rest)) = bytes.split_first() else {
        return;
    };
    let now = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap();
    match kind % 5 {
        0 => {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("clouds.yaml");
            std::fs::write(&path, rest).unwrap();
            let path = path.display().to_string();
            let env = |k: &str| (k == "OS_CLIENT_CONFIG_FILE").then(|| path.clone());
            let _ = drydock_openstack::clouds::load("site", &env);
        }
        1 => {
            if let Ok(page) = serde_json::from_slice::<ImagePage>(rest) {
                let mut images: Vec<_> = page
                    .images
                    .iter()
                    .map(|i| i.to_image("project", "RegionOne", now))
                    .collect();
                drydock_openstack::records::newer_bases(&mut images);
            }
        }
        2 => {
            if let Ok(page) = serde_json::from_slice::<ServerPage>(rest) {
                for s in &page.servers {
                    let _ = s.to_vm("project", "RegionOne", s.image_id().unwrap_or(""), now);
                    let _ = drydock_openstack::servers::health_of(s);
                }
            }
        }
        3 => {
            if let Ok(v) = serde_json::from_slice::<VolumeBody>(rest) {
                let _ = v.volume.image_id();
            }
        }
        _ => {
            let _ = drydock_openstack::error::status(400, rest, "call", "resource");
        }
    }
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// What each target does with one input (a file path).
fn replay(target: &str, path: &Path) {
    let bytes = std::fs::read(path).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    match target {
        "qcow2" | "vhd" | "vhdx" | "vmdk" | "ova" => {
            let _ = drydock::convert::check(path, None, &mut |p| p.done < 64 << 20);
            let _ = drydock::inspect::inspect(path);
        }
        "partitions" | "filesystem" => {
            let _ = drydock::inspect::inspect(path);
            let _ = drydock::inspect::lint::lint(path, &Default::default());
            if target == "filesystem" {
                replay("packages", path);
            }
        }
        "packages" => {
            let _ = drydock::inspect::packages::parse_dpkg_status(&text);
            let _ = drydock::inspect::packages::parse_apk_installed(&text);
            let _ = drydock::inspect::packages::dep5_licenses(&text);
            let _ = drydock::inspect::packages::parse_rpm_header(&bytes);
        }
        "filter" => {
            let (before, after) = text.split_once('\n').unwrap_or((&text[..], ""));
            drydock::report::filter::check_narrowing(before, after);
        }
        "config" => {
            let _ = drydock::config::load(Some(path), &[]);
        }
        "plan" => {
            let _ = drydock::plan::Plan::read(path);
        }
        "image_list" => {
            let _ = drydock::drift::image_list::ImageList::parse("fuzz", "file:///fuzz", &text);
        }
        "snapshot" => {
            if let Ok(inv) = drydock::model::snapshot::read(path) {
                let (config, _) = drydock::config::load(Some(Path::new("/dev/null")), &[]).unwrap();
                let a = drydock::drift::evaluate(&inv, &config.policy, inv.scanned_at);
                let opts = drydock::report::ReportOptions {
                    format: drydock::report::Format::Json,
                    group_by: None,
                    filter: drydock::report::Filter::parse("").unwrap(),
                    fail_on: None,
                    color: false,
                    images: false,
                };
                let report = drydock::report::Report::build(&inv, &a, &opts);
                let _ = report.write(&opts, &mut std::io::sink());
            }
        }
        "ova_unpack" => {
            let dir = tempfile::tempdir().unwrap();
            let _ = drydock::convert::ova::unpack(path, dir.path(), &mut |_| true);
        }
        "openstack" => replay_openstack(&bytes),
        other => panic!("fuzz/seeds/{other}: no such fuzz target"),
    }
}

#[test]
fn every_fuzz_corpus_and_crash_is_replayed_without_a_panic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let unpacked = tempfile::tempdir().unwrap();
    let mut targets = Vec::new();
    for archive in files(&root.join("fuzz/seeds")) {
        let ok = std::process::Command::new("tar")
            .arg("-xzf")
            .arg(&archive)
            .arg("-C")
            .arg(unpacked.path())
            .status()
            .expect("tar runs");
        assert!(ok.success(), "tar -xzf {}", archive.display());
    }
    let mut replayed = 0;
    for dir in std::fs::read_dir(unpacked.path()).unwrap().flatten() {
        let target = dir.file_name().to_string_lossy().into_owned();
        for f in files(&dir.path()) {
            replay(&target, &f);
            replayed += 1;
        }
        targets.push(target);
    }
    // The inputs that crashed a target once, named after it.
    for f in files(&root.join("tests/inspect/fuzz-found")) {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        let target = name
            .rsplit_once('-')
            .map_or(name.as_str(), |(t, _)| t)
            .to_string();
        replay(&target, &f);
        replayed += 1;
    }
    targets.sort();
    assert!(
        targets.len() >= 13,
        "a corpus for every target: {targets:?}"
    );
    assert!(replayed > 100, "{replayed} inputs replayed");
}
