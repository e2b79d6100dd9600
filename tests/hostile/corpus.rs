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
