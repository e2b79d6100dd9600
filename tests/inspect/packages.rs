//! Packages from a real rpm SQLite database (made by rpm itself) and from apk's database,
//! and the EFI system partition's boot loaders and kernels, in every format.

use super::common;
use super::disks::{ext4, gpt_disk, mbr_disk, rpm_db, vfat, Part, EFI_SYSTEM, MIB, TYPES};
use super::{convert_all, inspect_json};

#[test]
fn an_rpm_system_lists_its_packages_from_the_sqlite_database() {
    let home = tempfile::tempdir().unwrap();
    let tree = home.path().join("tree");
    std::fs::create_dir_all(tree.join("etc")).unwrap();
    std::fs::write(
        tree.join("etc/os-release"),
        "NAME=\"Rocky Linux\"\nID=\"rocky\"\nVERSION_ID=\"9.4\"\nPRETTY_NAME=\"Rocky Linux 9.4 (Blue Onyx)\"\n",
    )
    .unwrap();
    rpm_db(
        &tree,
        &[
            ("openssl-libs", "3.0.7", "27.el9", "Apache-2.0"),
            ("bash", "5.1.8", "9.el9", "GPL-3.0-or-later"),
        ],
    );
    let root = home.path().join("root.ext4");
    ext4(&root, 24 * MIB, &tree, "rocky");
    let disk = home.path().join("disk.raw");
    mbr_disk(&disk, 28 * MIB, &root);
    for image in convert_all(home.path(), &disk) {
        let v = inspect_json(home.path(), &image);
        let c = &v["volumes"][0]["contents"];
        assert_eq!(
            c["os"],
            "Rocky Linux 9.4 (Blue Onyx)",
            "{}: {v}",
            image.display()
        );
        assert_eq!(c["package_manager"], "rpm");
        let pkgs = c["packages"].as_array().unwrap();
        assert_eq!(pkgs.len(), 2, "{c}");
        assert_eq!(pkgs[0]["name"], "bash");
        assert_eq!(pkgs[0]["version"], "5.1.8-9.el9");
        assert_eq!(pkgs[0]["architecture"], "noarch");
        assert_eq!(pkgs[0]["licenses"], serde_json::json!(["GPL-3.0-or-later"]));
        assert_eq!(pkgs[1]["name"], "openssl-libs");
        assert_eq!(pkgs[1]["licenses"], serde_json::json!(["Apache-2.0"]));
    }
    // The SPDX document names rpm packages with rpm purls.
    let (code, out, err) = common::run(
        common::drydock(home.path())
            .args(["inspect", "--format", "spdx"])
            .arg(&disk),
    );
    assert_eq!(code, 0, "{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    let purl = doc["packages"][0]["externalRefs"][0]["referenceLocator"]
        .as_str()
        .unwrap();
    assert_eq!(purl, "pkg:rpm/rocky/bash@5.1.8-9.el9?arch=noarch", "{doc}");
}

#[test]
fn an_alpine_system_and_an_efi_partition_are_read() {
    let home = tempfile::tempdir().unwrap();
    let tree = home.path().join("tree");
    std::fs::create_dir_all(tree.join("etc")).unwrap();
    std::fs::create_dir_all(tree.join("lib/apk/db")).unwrap();
    std::fs::write(
        tree.join("etc/os-release"),
        "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.20.3\nPRETTY_NAME=\"Alpine Linux v3.20\"\n",
    )
    .unwrap();
    std::fs::write(
        tree.join("lib/apk/db/installed"),
        "C:Q1x=\nP:musl\nV:1.2.5-r0\nA:x86_64\nL:MIT\n\nC:Q1y=\nP:busybox\nV:1.36.1-r29\nA:x86_64\nL:GPL-2.0-only\n\n",
    )
    .unwrap();
    let root = home.path().join("root.ext4");
    ext4(&root, 16 * MIB, &tree, "alpine");
    let esp = home.path().join("esp.fat");
    vfat(
        &esp,
        34 * MIB,
        &[
            ("/EFI/BOOT/BOOTX64.EFI", b"MZ loader"),
            ("/EFI/alpine/grubx64.efi", b"MZ grub"),
            ("/EFI/Linux/linux-6.6.58-0-virt.efi", &[7u8; 100_000]),
        ],
    );
    let disk = home.path().join("disk.raw");
    let (_, linux, _) = TYPES;
    gpt_disk(
        &disk,
        56 * MIB,
        &[
            Part {
                type_guid: EFI_SYSTEM,
                name: "esp",
                size: 34 * MIB,
                content: Some(&esp),
            },
            Part {
                type_guid: linux,
                name: "root",
                size: 16 * MIB,
                content: Some(&root),
            },
        ],
    );
    for image in convert_all(home.path(), &disk) {
        let v = inspect_json(home.path(), &image);
        let esp = &v["volumes"][0];
        assert_eq!(esp["kind"], "EFI system", "{v}");
        assert_eq!(esp["filesystem"]["kind"], "vfat");
        assert_eq!(esp["filesystem"]["label"], "ESP");
        let used = esp["filesystem"]["used"].as_u64().unwrap();
        assert!((100_000..2 * MIB).contains(&used), "ESP used {used}");
        assert_eq!(
            esp["contents"]["boot_loaders"],
            serde_json::json!(["/EFI/BOOT/BOOTX64.EFI", "/EFI/alpine/grubx64.efi"])
        );
        assert_eq!(
            esp["contents"]["kernels"],
            serde_json::json!(["linux-6.6.58-0-virt"])
        );
        let c = &v["volumes"][1]["contents"];
        assert_eq!(c["os"], "Alpine Linux v3.20", "{}: {v}", image.display());
        assert_eq!(c["package_manager"], "apk");
        assert_eq!(c["packages"][0]["name"], "busybox");
        assert_eq!(c["packages"][0]["version"], "1.36.1-r29");
        assert_eq!(c["packages"][1]["licenses"], serde_json::json!(["MIT"]));
    }
}

/// The rpm database is the image's, and hostile: a `Packages` view that recurses toward
/// 10^11 rows ends with a warning at once (read-only, untrusted schema, a step budget),
/// in `inspect`, `lint` and `--format spdx`.
#[test]
fn a_recursive_sql_view_in_the_rpm_database_does_not_hang() {
    let home = tempfile::tempdir().unwrap();
    let tree = home.path().join("tree");
    std::fs::create_dir_all(tree.join("var/lib/rpm")).unwrap();
    let conn = rusqlite::Connection::open(tree.join("var/lib/rpm/rpmdb.sqlite")).unwrap();
    conn.execute_batch(
        "CREATE VIEW Packages AS WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM n \
         WHERE x<1e11) SELECT max(x) hnum, x'00' blob FROM n;",
    )
    .unwrap();
    drop(conn);
    let root = home.path().join("root.ext4");
    ext4(&root, 8 * MIB, &tree, "rpm");
    for args in [
        &["inspect", "--format", "json"][..],
        &["lint"],
        &["inspect", "--format", "spdx"],
    ] {
        let started = std::time::Instant::now();
        let (code, out, err) = common::run(
            common::drydock(home.path())
                .args(args)
                .arg(&root)
                .timeout(std::time::Duration::from_secs(20)),
        );
        assert!(code == 0 || code == 1, "{args:?}: {code} {err}");
        assert!(
            started.elapsed().as_secs() < 10,
            "{args:?} took {:?}",
            started.elapsed()
        );
        if args[0] == "inspect" && args[2] == "json" {
            assert!(out.contains("is view, not a table"), "{out}");
        }
    }
}

/// A dpkg status repeating one package's stanza 2,000 times, with an 8 MB copyright file:
/// one package, its licence file read once.
#[test]
fn a_dpkg_stanza_repeated_is_one_package_read_once() {
    let home = tempfile::tempdir().unwrap();
    let tree = home.path().join("tree");
    std::fs::create_dir_all(tree.join("var/lib/dpkg")).unwrap();
    std::fs::create_dir_all(tree.join("usr/share/doc/bash")).unwrap();
    let stanza =
        "Package: bash\nStatus: install ok installed\nVersion: 5.2\nArchitecture: amd64\n\n";
    std::fs::write(tree.join("var/lib/dpkg/status"), stanza.repeat(2000)).unwrap();
    let mut copyright = String::from("Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nLicense: GPL-3+\n");
    copyright.push_str(&"x".repeat(8 << 20));
    std::fs::write(tree.join("usr/share/doc/bash/copyright"), copyright).unwrap();
    let root = home.path().join("root.ext4");
    ext4(&root, 32 * MIB, &tree, "deb");
    let started = std::time::Instant::now();
    let v = inspect_json(home.path(), &root);
    assert!(
        started.elapsed().as_secs() < 10,
        "took {:?}",
        started.elapsed()
    );
    let pkgs = v["volumes"][0]["contents"]["packages"].as_array().unwrap();
    assert_eq!(pkgs.len(), 1, "{v}");
    assert!(
        v["warnings"]
            .to_string()
            .contains("2000 installed stanzas for 1 package;"),
        "{v}"
    );
}
