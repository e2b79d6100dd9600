//! Hostile filesystems: a real ext4 image (with a dpkg database) damaged at random in its
//! superblock, group descriptors, bitmaps and inode tables, then inspected and linted in
//! process, hundreds of times: errors are fine, panics are not. (The fuzz crate's
//! `filesystem` target runs the same parsers under libFuzzer where nightly is available.)

use super::disks::{ext4, MIB};
use drydock::inspect::{self, lint};

#[test]
fn damaged_ext_filesystems_never_panic() {
    let home = tempfile::tempdir().unwrap();
    let tree = home.path().join("t");
    std::fs::create_dir_all(tree.join("var/lib/dpkg")).unwrap();
    std::fs::create_dir_all(tree.join("etc")).unwrap();
    std::fs::create_dir_all(tree.join("home/u/.ssh")).unwrap();
    std::fs::write(tree.join("etc/os-release"), "ID=debian\n").unwrap();
    std::fs::write(tree.join("etc/shadow"), "root:*:1::::::\n").unwrap();
    std::fs::write(
        tree.join("var/lib/dpkg/status"),
        "Package: a\nStatus: install ok installed\nVersion: 1\n",
    )
    .unwrap();
    std::fs::write(tree.join("home/u/.ssh/id_rsa"), "x".repeat(5000)).unwrap();
    let clean = home.path().join("clean.ext4");
    ext4(&clean, 4 * MIB, &tree, "h");
    let bytes = std::fs::read(&clean).unwrap();
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut rnd = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let path = home.path().join("bad.ext4");
    for round in 0..300 {
        let mut b = bytes.clone();
        // Damage concentrated where the metadata is: the first 256 KiB.
        for _ in 0..(1 + rnd() % 16) {
            let at = (rnd() % (256 * 1024)) as usize;
            b[at] = rnd() as u8;
        }
        std::fs::write(&path, &b).unwrap();
        let _ = inspect::inspect(&path);
        let _ = lint::lint(&path, &lint::LintOptions::default());
        if round % 100 == 0 {
            assert!(inspect::inspect(&clean).is_ok());
        }
    }
}

/// An ext4 with an OS release and a dpkg database, made by mkfs.ext4 -d.
fn small_ext4(dir: &std::path::Path) -> std::path::PathBuf {
    let tree = dir.join("t");
    std::fs::create_dir_all(tree.join("var/lib/dpkg")).unwrap();
    std::fs::create_dir_all(tree.join("etc")).unwrap();
    std::fs::write(tree.join("etc/os-release"), "ID=debian\n").unwrap();
    std::fs::write(
        tree.join("var/lib/dpkg/status"),
        "Package: a\nStatus: install ok installed\nVersion: 1\n",
    )
    .unwrap();
    let disk = dir.join("fs.ext4");
    ext4(&disk, 4 * MIB, &tree, "h");
    disk
}

fn lint_ids(path: &std::path::Path) -> Vec<(String, lint::Severity)> {
    lint::lint(path, &lint::LintOptions::default())
        .unwrap()
        .findings
        .iter()
        .map(|f| (f.id.to_string(), f.severity))
        .collect()
}

#[test]
fn an_ext4_whose_root_inode_is_wiped_is_unreadable_not_clean() {
    let home = tempfile::tempdir().unwrap();
    let disk = small_ext4(home.path());
    // debugfs (e2fsprogs, with mkfs.ext4) clears the root directory's inode.
    let ok = std::process::Command::new("debugfs")
        .args(["-w", "-R", "clri <2>"])
        .arg(&disk)
        .output()
        .expect("debugfs (e2fsprogs) runs");
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let found = inspect::inspect(&disk).unwrap();
    let fs = &found.volumes[0].filesystem;
    assert!(!fs.readable, "{fs:?}");
    assert!(
        fs.problem
            .as_deref()
            .unwrap_or("")
            .contains("root directory"),
        "{fs:?}"
    );
    let json = serde_json::to_value(&found).unwrap();
    assert_eq!(
        json["volumes"][0]["filesystem"]["readable"], false,
        "{json}"
    );
    let ids = lint_ids(&disk);
    assert!(
        ids.contains(&("filesystem.unreadable".into(), lint::Severity::Error)),
        "{ids:?}"
    );
}

#[test]
fn blocks_per_group_of_zero_is_an_error_not_a_crash() {
    // ext4-view 0.9 divided by it (superblock.rs:105); 1.0 checks it, and any panic left in
    // a filesystem reader is contained and reported.
    let home = tempfile::tempdir().unwrap();
    let disk = small_ext4(home.path());
    let mut b = std::fs::read(&disk).unwrap();
    b[1024 + 0x20..1024 + 0x24].copy_from_slice(&0u32.to_le_bytes());
    std::fs::write(&disk, &b).unwrap();
    match inspect::inspect(&disk) {
        Ok(found) => {
            let fs = &found.volumes[0].filesystem;
            assert!(!fs.readable || fs.kind != "ext4", "{fs:?}");
        }
        Err(e) => assert!(e.to_string().contains("ext"), "{e}"),
    }
    if let Ok(r) = lint::lint(&disk, &lint::LintOptions::default()) {
        assert!(
            r.findings
                .iter()
                .any(|f| f.severity == lint::Severity::Error),
            "{:?}",
            r.findings
        );
    }
}

#[test]
fn a_corrupt_group_descriptor_is_an_error_finding_and_the_table_says_corrupt() {
    let home = tempfile::tempdir().unwrap();
    let disk = small_ext4(home.path());
    let mut b = std::fs::read(&disk).unwrap();
    // mkfs.ext4 made 1 KiB blocks here: the descriptors follow the superblock at block 2.
    let bs = 1024usize << u32::from_le_bytes(b[1024 + 24..1024 + 28].try_into().unwrap());
    let gdt = if bs == 1024 { 2048 } else { bs };
    for x in &mut b[gdt..gdt + 32] {
        *x = 0xab;
    }
    std::fs::write(&disk, &b).unwrap();
    let ids = lint_ids(&disk);
    assert!(
        ids.contains(&("filesystem.unreadable".into(), lint::Severity::Error)),
        "{ids:?}"
    );
    let (code, out, err) = super::common::run(
        super::common::drydock(home.path())
            .arg("inspect")
            .arg(&disk),
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("ext4 (corrupt)"), "{out}");
    let (code, _, _) =
        super::common::run(super::common::drydock(home.path()).arg("lint").arg(&disk));
    assert_eq!(code, 1, "an error finding fails lint");
}
