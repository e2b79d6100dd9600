//! `drydock inspect --diff OLD NEW` between two image versions built from package trees:
//! OS, kernels, packages added, removed, upgraded, downgraded and relicensed, as a table,
//! JSON and Markdown; either side may be a disk in any format, a saved inspection or SPDX.

use super::common;
use super::disks::{ext4, mbr_disk, MIB};
use std::path::{Path, PathBuf};

/// A Debian-like disk: os-release, one kernel, dpkg status and DEP-5 copyright files.
fn version(dir: &Path, name: &str, os: &str, kernel: &str, pkgs: &[(&str, &str, &str)]) -> PathBuf {
    let t = dir.join(name);
    std::fs::create_dir_all(t.join("etc")).unwrap();
    std::fs::write(
        t.join("etc/os-release"),
        format!("PRETTY_NAME=\"{os}\"\nID=debian\n"),
    )
    .unwrap();
    std::fs::create_dir_all(t.join("boot")).unwrap();
    std::fs::write(t.join(format!("boot/vmlinuz-{kernel}")), b"k").unwrap();
    let mut status = String::new();
    for (pkg, ver, licence) in pkgs {
        status.push_str(&format!(
            "Package: {pkg}\nStatus: install ok installed\nVersion: {ver}\n\n"
        ));
        let doc = t.join("usr/share/doc").join(pkg);
        std::fs::create_dir_all(&doc).unwrap();
        std::fs::write(
            doc.join("copyright"),
            format!("Files: *\nLicense: {licence}\n"),
        )
        .unwrap();
    }
    std::fs::create_dir_all(t.join("var/lib/dpkg")).unwrap();
    std::fs::write(t.join("var/lib/dpkg/status"), status).unwrap();
    let fs = dir.join(format!("{name}.ext4"));
    ext4(&fs, 8 * MIB, &t, name);
    let raw = dir.join(format!("{name}.raw"));
    mbr_disk(&raw, 10 * MIB, &fs);
    raw
}

fn qemu(from: &Path, format: &str, to: &Path) {
    let ok = std::process::Command::new("qemu-img")
        .args(["convert", "-O", format])
        .arg(from)
        .arg(to)
        .status()
        .unwrap()
        .success();
    assert!(ok);
}

#[test]
fn diff_between_two_versions_in_every_form() {
    let home = tempfile::tempdir().unwrap();
    let old = version(
        home.path(),
        "v1",
        "Debian GNU/Linux 12.7",
        "6.1.0-26-amd64",
        &[
            ("bash", "5.2.15-2", "GPL-3+"),
            ("gone", "1.0", "MIT"),
            ("libfoo", "2.0", "MIT"),
            ("zlib1g", "1:1.2.13", "Zlib"),
        ],
    );
    let new = version(
        home.path(),
        "v2",
        "Debian GNU/Linux 12.8",
        "6.1.0-28-amd64",
        &[
            ("bash", "5.2.15-2+b7", "GPL-3+"),
            ("libfoo", "1.9", "Apache-2.0"),
            ("newpkg", "0.1", "MIT"),
            ("zlib1g", "1:1.2.13", "Zlib"),
        ],
    );
    let old_q = home.path().join("v1.qcow2");
    let new_v = home.path().join("v2.vmdk");
    qemu(&old, "qcow2", &old_q);
    qemu(&new, "vmdk", &new_v);
    let run = |args: &[&str]| {
        let (code, out, err) = common::run(common::drydock(home.path()).args(args));
        assert_eq!(code, 0, "{args:?}: {err}");
        out
    };
    let (o, n) = (old_q.to_str().unwrap(), new_v.to_str().unwrap());
    let v: serde_json::Value =
        serde_json::from_str(&run(&["inspect", "--diff", o, n, "--format", "json"])).unwrap();
    assert_eq!(v["os"]["old"], "Debian GNU/Linux 12.7");
    assert_eq!(v["os"]["new"], "Debian GNU/Linux 12.8");
    assert_eq!(v["kernels_added"], serde_json::json!(["6.1.0-28-amd64"]));
    assert_eq!(v["kernels_removed"], serde_json::json!(["6.1.0-26-amd64"]));
    assert_eq!(v["added"][0]["name"], "newpkg");
    assert_eq!(v["removed"][0]["name"], "gone");
    assert_eq!(
        v["upgraded"],
        serde_json::json!([{"name": "bash", "old": "5.2.15-2", "new": "5.2.15-2+b7"}])
    );
    assert_eq!(
        v["downgraded"],
        serde_json::json!([{"name": "libfoo", "old": "2.0", "new": "1.9"}])
    );
    assert_eq!(
        v["licence_changes"],
        serde_json::json!([{"name": "libfoo", "old": "MIT", "new": "Apache-2.0"}])
    );
    let md = run(&["inspect", "--diff", o, n, "--format", "markdown"]);
    assert!(
        md.contains("1 added, 1 removed, 1 upgraded, 1 downgraded, 1 licence changes"),
        "{md}"
    );
    assert!(md.contains("| bash | 5.2.15-2 | 5.2.15-2+b7 |"), "{md}");
    let table = run(&["inspect", "--diff", o, n]);
    assert!(
        table.contains("downgraded") && table.contains("newpkg"),
        "{table}"
    );
    // Saved inspections and SPDX documents stand in for the disks: the same diff.
    let saved = home.path().join("v1.json");
    std::fs::write(&saved, run(&["inspect", "--format", "json", o])).unwrap();
    let spdx = home.path().join("v2.spdx.json");
    std::fs::write(&spdx, run(&["inspect", "--format", "spdx", n])).unwrap();
    let again: serde_json::Value = serde_json::from_str(&run(&[
        "inspect",
        "--diff",
        saved.to_str().unwrap(),
        spdx.to_str().unwrap(),
        "--format",
        "json",
    ]))
    .unwrap();
    assert_eq!(again["upgraded"], v["upgraded"]);
    assert_eq!(again["added"][0]["name"], "newpkg");
    assert_eq!(again["os"], v["os"]);
    // An SBOM published at a URL stands in too.
    let server = drydock_testkit::http::HttpServer::serve(home.path());
    let url = server.url("v1.json");
    let by_url: serde_json::Value =
        serde_json::from_str(&run(&["inspect", "--diff", &url, n, "--format", "json"])).unwrap();
    drop(server);
    assert_eq!(by_url["upgraded"], v["upgraded"]);
    // A version against itself: nothing.
    assert!(run(&["inspect", "--diff", o, o]).contains("no changes"));
}
