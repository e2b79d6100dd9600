//! The hostile-corpus harness: disks and files crafted to crash, hang or exhaust a reader,
//! each run through every command that reads it.

use crate::hostile;
use std::path::{Path, PathBuf};
use std::process::Command;

fn qemu_img(args: &[&str], dir: &Path) {
    let ok = Command::new("qemu-img")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("qemu-img runs (tests/run.sh installs it)");
    assert!(
        ok.status.success(),
        "qemu-img {args:?}: {}",
        String::from_utf8_lossy(&ok.stderr)
    );
}

/// The crafted inputs, each named for what it attacks.
pub fn corpus(dir: &Path) -> Vec<PathBuf> {
    let w = |name: &str, bytes: &[u8]| {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    };
    let mut out = vec![
        // A sparse VMDK magic and nothing else: the probe read flags past the end.
        w("short-kdmv.vmdk", b"KDMV\x01\x00"),
        // An XFS magic in a file shorter than its superblock's label.
        w("short-xfsb.img", b"XFSB\x00\x00\x10\x00"),
        // A descriptor whose one extent is 16 EiB of zeros.
        w(
            "zero-extent.vmdk",
            b"# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType=\"monolithicFlat\"\n\nRW 36028797018963967 ZERO\n",
        ),
        // Headers of every format with nothing after them.
        w("qcow2-magic.qcow2", b"QFI\xfb\x00\x00\x00\x03"),
        w("vhdx-magic.vhdx", b"vhdxfile"),
        w("cxsparse.vhd", b"cxsparse"),
        w("ova-ish.ova", &{
            let mut b = vec![0u8; 1024];
            b[..8].copy_from_slice(b"disk.ovf");
            b[257..262].copy_from_slice(b"ustar");
            b
        }),
    ];
    // Sparse giants: a 1 PiB qcow2 with 2 MiB clusters (a 6 MB file), 16 TiB qcow2 and
    // 64 TiB VHDX; checking them costs their tables, not their virtual size.
    qemu_img(
        &[
            "create",
            "-q",
            "-f",
            "qcow2",
            "-o",
            "cluster_size=2M",
            "peta.qcow2",
            "1P",
        ],
        dir,
    );
    qemu_img(&["create", "-q", "-f", "qcow2", "tera16.qcow2", "16T"], dir);
    qemu_img(&["create", "-q", "-f", "vhdx", "tera64.vhdx", "64T"], dir);
    out.extend(["peta.qcow2", "tera16.qcow2", "tera64.vhdx"].map(|n| dir.join(n)));
    out
}

/// Every command that reads a disk, with `{}` for it.
const DISK_COMMANDS: &[&[&str]] = &[
    &["convert", "--check", "{}"],
    &["convert", "{}", "out.qcow2", "--force"],
    &["inspect", "{}"],
    &["inspect", "{}", "--format", "spdx"],
    &["lint", "{}"],
    &["inspect", "--diff", "{}", "{}"],
    &["transfer", "{}", "out.vmdk", "--force"],
];

#[test]
fn every_disk_command_survives_the_hostile_corpus() {
    let home = tempfile::tempdir().unwrap();
    let files = corpus(home.path());
    for file in &files {
        let f = file.to_str().unwrap();
        for args in DISK_COMMANDS {
            let args: Vec<String> = args.iter().map(|a| a.replace("{}", f)).collect();
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let ran = hostile(home.path(), &args);
            assert!(ran.secs < 10.0, "{args:?} took {:.1} s", ran.secs);
        }
    }
}

#[test]
fn a_sparse_petabyte_checks_in_under_a_second() {
    let home = tempfile::tempdir().unwrap();
    qemu_img(
        &[
            "create",
            "-q",
            "-f",
            "qcow2",
            "-o",
            "cluster_size=2M",
            "p.qcow2",
            "1P",
        ],
        home.path(),
    );
    let ran = hostile(home.path(), &["convert", "--check", "p.qcow2"]);
    assert_eq!(ran.code, 0, "{}", ran.err);
    assert!(
        ran.out.contains("1024.0 TiB") && ran.out.contains("structure OK"),
        "{}",
        ran.out
    );
    assert!(
        ran.secs < 1.0,
        "a sparse 1 PiB qcow2 took {:.2} s to check",
        ran.secs
    );
}

#[test]
fn a_descriptor_naming_one_sparse_extent_a_thousand_times_is_refused_at_once() {
    let home = tempfile::tempdir().unwrap();
    qemu_img(&["create", "-q", "-f", "vmdk", "s.vmdk", "1G"], home.path());
    let mut desc = String::from(
        "# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType=\"monolithicSparse\"\n\n",
    );
    for _ in 0..1000 {
        desc.push_str("RW 2097152 SPARSE \"s.vmdk\"\n");
    }
    std::fs::write(home.path().join("d.vmdk"), desc).unwrap();
    let ran = hostile(home.path(), &["convert", "--check", "d.vmdk"]);
    assert_eq!(ran.code, 2, "{}", ran.err);
    assert!(ran.err.contains("named twice"), "{}", ran.err);
    assert!(ran.secs < 5.0);
}

/// Texts crafted against the parsers of configs, plans, snapshots and image lists: deep
/// nesting, huge numbers, invalid UTF-8, NULs, a BOM, and nothing at all.
fn texts(dir: &Path) -> Vec<PathBuf> {
    let deep_json = "[".repeat(100_000) + &"]".repeat(100_000);
    let deep_toml = format!("a = {}1{}\n", "[".repeat(50_000), "]".repeat(50_000));
    let inline = format!("a = {}{}\n", "{b = ".repeat(20_000), "}".repeat(20_000));
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("deep.json", deep_json.into_bytes()),
        ("deep.toml", deep_toml.into_bytes()),
        ("inline.toml", inline.into_bytes()),
        ("huge-number.toml", b"[demo]\nseed = 1e999999\nlatency_ms = 18446744073709551616\n".to_vec()),
        ("not-utf8", vec![0xff, 0xfe, 0x00, 0xc3, 0x28, b'\n']),
        ("nuls", vec![0u8; 4096]),
        ("bom.json", b"\xef\xbb\xbf{\"schema\": \"drydock.snapshot/v1\"}".to_vec()),
        (
            "list-shapes.json",
            br#"{"hv:imagelist": {"hv:images": [{"hv:image": {"dc:title": [1, {"a": []}], "hv:version": 7}}], "dc:date:expires": "soon"}}"#.to_vec(),
        ),
        (
            "snapshot-shapes.json",
            br#"{"schema": "drydock.snapshot/v1", "scanned_at": "2026-11-01T00:00:00Z", "vms": [{"id": 1}], "images": {}}"#.to_vec(),
        ),
    ];
    cases
        .into_iter()
        .map(|(name, bytes)| {
            let p = dir.join(name);
            std::fs::write(&p, bytes).unwrap();
            p
        })
        .collect()
}

#[test]
fn every_text_reader_survives_the_hostile_corpus() {
    let home = tempfile::tempdir().unwrap();
    for file in texts(home.path()) {
        let f = file.to_str().unwrap();
        let list_config = home.path().join("list.toml");
        std::fs::write(
            &list_config,
            format!("[[policy.image_lists]]\nname = \"x\"\nsource = \"{f}\"\n"),
        )
        .unwrap();
        let l = list_config.to_str().unwrap();
        for args in [
            vec!["--config", f, "info"],
            vec!["report", "--snapshot", f],
            vec!["report", "--diff", f, f],
            vec!["plan", "show", f],
            vec!["inspect", "--diff", f, f],
            vec!["--config", l, "report", "--demo"],
        ] {
            let ran = hostile(home.path(), &args);
            assert!(ran.secs < 10.0, "{args:?} took {:.1} s", ran.secs);
        }
    }
}
