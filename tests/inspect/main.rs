//! `drydock inspect` on disks built like an image pipeline builds them (GPT or MBR, ext4 by
//! `mkfs.ext4 -d`, swap by `mkswap`), in every format qemu-img writes, and on hostile
//! partition tables.

#[path = "../common/mod.rs"]
mod common;
mod diff;
use drydock_testkit::disks;
mod hostile_fs;
mod lint;
mod ova;
mod packages;

use disks::{ext4, gpt_disk, mbr_disk, swap, Part, MIB, TYPES};
use std::os::unix::fs::FileExt;
use std::path::Path;

/// The disk as qemu-img writes it in every format (fixed VHD for vpc), the raw one first.
pub fn convert_all(dir: &Path, disk: &Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![disk.to_path_buf()];
    for (format, ext) in [
        ("qcow2", "qcow2"),
        ("vpc", "vhd"),
        ("vmdk", "vmdk"),
        ("vhdx", "vhdx"),
    ] {
        let stem = disk.file_stem().unwrap().to_string_lossy();
        let image = dir.join(format!("{stem}-{format}.{ext}"));
        let mut args = vec!["convert", "-O", format];
        if format == "vpc" {
            args.extend(["-o", "subformat=fixed"]);
        }
        let ok = std::process::Command::new("qemu-img")
            .args(&args)
            .arg(disk)
            .arg(&image)
            .status()
            .unwrap()
            .success();
        assert!(ok, "qemu-img convert -O {format}");
        out.push(image);
    }
    out
}

pub fn inspect_json(home: &Path, disk: &Path) -> serde_json::Value {
    let (code, out, err) = common::run(
        common::drydock(home)
            .args(["inspect", "--format", "json"])
            .arg(disk),
    );
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).unwrap()
}

/// A GPT disk: BIOS boot, an ext4 root with a file tree, a swap partition.
fn gpt_fixture(dir: &Path) -> std::path::PathBuf {
    let tree = dir.join("tree");
    std::fs::create_dir_all(tree.join("etc")).unwrap();
    std::fs::write(
        tree.join("etc/os-release"),
        "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n",
    )
    .unwrap();
    std::fs::create_dir_all(tree.join("boot")).unwrap();
    std::fs::write(tree.join("boot/vmlinuz-6.1.0-28-amd64"), b"kernel").unwrap();
    std::fs::create_dir_all(tree.join("var/lib/dpkg")).unwrap();
    std::fs::write(
        tree.join("var/lib/dpkg/status"),
        "Package: bash\nStatus: install ok installed\nArchitecture: amd64\nVersion: 5.2.15-2+b7\n\n\
         Package: removed-pkg\nStatus: deinstall ok config-files\nVersion: 1.0\n\n\
         Package: zlib1g\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1:1.2.13.dfsg-1\n",
    )
    .unwrap();
    for (pkg, licence) in [("bash", "GPL-3+"), ("zlib1g", "Zlib")] {
        let doc = tree.join("usr/share/doc").join(pkg);
        std::fs::create_dir_all(&doc).unwrap();
        std::fs::write(
            doc.join("copyright"),
            format!("Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nLicense: {licence}\n"),
        )
        .unwrap();
    }
    std::fs::write(tree.join("big.bin"), vec![7u8; 3 << 20]).unwrap();
    let root = dir.join("root.ext4");
    ext4(&root, 24 * MIB, &tree, "cloudimg-rootfs");
    let sw = dir.join("swap.img");
    swap(&sw, 8 * MIB);
    let disk = dir.join("disk.raw");
    let (bios, linux, swp) = TYPES;
    gpt_disk(
        &disk,
        40 * MIB,
        &[
            Part {
                type_guid: bios,
                name: "bios",
                size: MIB,
                content: None,
            },
            Part {
                type_guid: linux,
                name: "root",
                size: 24 * MIB,
                content: Some(&root),
            },
            Part {
                type_guid: swp,
                name: "swap",
                size: 8 * MIB,
                content: Some(&sw),
            },
        ],
    );
    disk
}

#[test]
fn a_gpt_disk_in_every_format_shows_its_partitions_and_filesystems() {
    let home = tempfile::tempdir().unwrap();
    let disk = gpt_fixture(home.path());
    for image in convert_all(home.path(), &disk) {
        let format = image.display();
        let v = inspect_json(home.path(), &image);
        assert_eq!(v["scheme"], "gpt", "{format}: {v}");
        let vols = v["volumes"].as_array().unwrap();
        assert_eq!(vols.len(), 3, "{format}: {v}");
        assert_eq!(vols[0]["kind"], "BIOS boot");
        assert_eq!(vols[0]["filesystem"]["kind"], "unknown");
        assert_eq!(vols[1]["name"], "root");
        assert_eq!(vols[1]["start"], MIB * 2);
        assert_eq!(vols[1]["filesystem"]["kind"], "ext4", "{format}: {v}");
        assert_eq!(vols[1]["filesystem"]["label"], "cloudimg-rootfs");
        assert_eq!(vols[1]["filesystem"]["capacity"], 24 * MIB);
        let used = vols[1]["filesystem"]["used"].as_u64().unwrap();
        assert!(used > 3 * MIB && used < 12 * MIB, "{format}: used {used}");
        let c = &vols[1]["contents"];
        assert_eq!(c["os"], "Debian GNU/Linux 12 (bookworm)", "{format}: {v}");
        assert_eq!(c["os_id"], "debian");
        assert_eq!(c["kernels"], serde_json::json!(["6.1.0-28-amd64"]));
        assert_eq!(c["package_manager"], "dpkg");
        let pkgs = c["packages"].as_array().unwrap();
        assert_eq!(pkgs.len(), 2, "only installed packages: {c}");
        assert_eq!(pkgs[0]["name"], "bash");
        assert_eq!(pkgs[0]["version"], "5.2.15-2+b7");
        assert_eq!(pkgs[0]["licenses"], serde_json::json!(["GPL-3+"]));
        assert_eq!(pkgs[1]["licenses"], serde_json::json!(["Zlib"]));
        assert_eq!(vols[2]["kind"], "Linux swap");
        assert_eq!(vols[2]["filesystem"]["kind"], "swap");
        assert_eq!(vols[2]["filesystem"]["label"], "swap0");
    }
    // The table names what it found.
    let (code, out, err) = common::run(common::drydock(home.path()).arg("inspect").arg(&disk));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("GPT partition table") && out.contains("cloudimg-rootfs"),
        "{out}"
    );
    assert!(
        out.contains("Debian GNU/Linux 12 (bookworm)") && out.contains("2 dpkg packages"),
        "{out}"
    );
    // The SPDX document lists the packages with SPDX licence ids and purls.
    let (code, out, err) = common::run(
        common::drydock(home.path())
            .args(["inspect", "--format", "spdx"])
            .arg(&disk),
    );
    assert_eq!(code, 0, "{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["spdxVersion"], "SPDX-2.3");
    let pkgs = doc["packages"].as_array().unwrap();
    assert_eq!(pkgs.len(), 2);
    assert_eq!(pkgs[0]["name"], "bash");
    assert_eq!(pkgs[0]["licenseDeclared"], "GPL-3.0-or-later");
    assert_eq!(
        pkgs[0]["externalRefs"][0]["referenceLocator"],
        "pkg:deb/debian/bash@5.2.15-2+b7?arch=amd64"
    );
    assert_eq!(doc["relationships"].as_array().unwrap().len(), 2);
}

#[test]
fn an_mbr_disk_and_a_bare_filesystem_are_read_too() {
    let home = tempfile::tempdir().unwrap();
    let tree = home.path().join("t");
    std::fs::create_dir_all(&tree).unwrap();
    let root = home.path().join("r.ext4");
    ext4(&root, 16 * MIB, &tree, "root");
    let mbr = home.path().join("mbr.raw");
    mbr_disk(&mbr, 20 * MIB, &root);
    let v = inspect_json(home.path(), &mbr);
    assert_eq!(v["scheme"], "mbr");
    assert_eq!(v["volumes"][0]["type_id"], "0x83");
    assert_eq!(v["volumes"][0]["filesystem"]["kind"], "ext4");
    // A filesystem with no table around it is one whole-disk volume.
    let v = inspect_json(home.path(), &root);
    assert_eq!(v["scheme"], "none");
    assert_eq!(v["volumes"][0]["kind"], "whole disk");
    assert_eq!(v["volumes"][0]["filesystem"]["kind"], "ext4");
}

#[test]
fn damaged_and_hostile_tables_are_named_never_a_panic() {
    let home = tempfile::tempdir().unwrap();
    let disk = gpt_fixture(home.path());
    // A damaged primary header: the backup is read, with a warning.
    let f = std::fs::OpenOptions::new().write(true).open(&disk).unwrap();
    f.write_all_at(&[0xFF; 4], 512 + 24).unwrap();
    let v = inspect_json(home.path(), &disk);
    assert_eq!(v["volumes"].as_array().unwrap().len(), 3);
    assert!(v["warnings"][0].as_str().unwrap().contains("backup"), "{v}");
    // Both headers damaged: an error naming the structure and the offset.
    let last = std::fs::metadata(&disk).unwrap().len() - 512;
    f.write_all_at(b"NOT PART", last).unwrap();
    f.write_all_at(b"NOT PART", 512).unwrap();
    let (code, _, err) = common::run(common::drydock(home.path()).arg("inspect").arg(&disk));
    assert_eq!(code, 2);
    assert!(err.contains("corrupt GPT header at offset 512"), "{err}");
    // A valid-looking header asking for a million entries is refused, not allocated.
    let disk = gpt_fixture(home.path());
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&disk)
        .unwrap();
    let mut h = [0u8; 92];
    f.read_exact_at(&mut h, 512).unwrap();
    h[80..84].copy_from_slice(&1_000_000u32.to_le_bytes());
    h[16..20].fill(0);
    let crc = crc32fast::hash(&h);
    h[16..20].copy_from_slice(&crc.to_le_bytes());
    f.write_all_at(&h, 512).unwrap();
    f.write_all_at(b"NOT PART", std::fs::metadata(&disk).unwrap().len() - 512)
        .unwrap();
    let (code, _, err) = common::run(common::drydock(home.path()).arg("inspect").arg(&disk));
    assert_eq!(code, 2);
    assert!(err.contains("1000000 entries"), "{err}");
}

/// Inputs the fuzz targets found (kept in tests/inspect/fuzz-found, named after the target),
/// replayed through what the command line calls: `convert --check`, `inspect` and `lint`
/// with the format probed. Each may be refused; none may panic.
#[test]
fn what_the_fuzzers_found_is_replayed_without_a_panic() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/inspect/fuzz-found");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let _ = drydock::convert::check(&path, None, &mut |p| p.done < 64 << 20);
        let _ = drydock::inspect::inspect(&path);
        let _ = drydock::inspect::lint::lint(&path, &Default::default());
        n += 1;
    }
    assert!(n >= 5, "{n} inputs in {}", dir.display());
}

#[test]
fn a_short_xfs_superblock_is_a_volume_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("xfs.raw");
    std::fs::write(&path, b"XFSB\x00\x00\x10\x00short").unwrap();
    let found = drydock::inspect::inspect(&path).unwrap();
    assert_eq!(found.volumes[0].filesystem.kind, "xfs");
}
