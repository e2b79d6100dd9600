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
