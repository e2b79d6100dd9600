//! `drydock lint` on a disk with everything planted that must not ship (keys, cloud
//! credentials, password hashes, histories, host keys, sysprep leftovers, a swap partition,
//! deleted data left in free space, a large data directory) in every format, and on a clean
//! one; exit codes follow --fail-on.

use super::common;
use super::convert_all;
use super::disks::{ext4, ext_delete, gpt_disk, swap, vfat, Part, EFI_SYSTEM, MIB, TYPES};
use std::path::{Path, PathBuf};

const KEY: &str = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n";

fn put(root: &Path, rel: &str, bytes: &[u8]) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, bytes).unwrap();
}

/// ESP + ext4 root built from `tree` + optional swap; `junk` is deleted after mkfs so its
/// blocks stay non-zero in free space.
fn disk_from(dir: &Path, tree: &Path, with_swap: bool, junk: bool) -> PathBuf {
    let root = dir.join("root.ext4");
    ext4(&root, 40 * MIB, tree, "root");
    if junk {
        ext_delete(&root, "/junk.bin");
    }
    let esp = dir.join("esp.fat");
    vfat(&esp, 34 * MIB, &[("/EFI/BOOT/BOOTX64.EFI", b"MZ")]);
    let sw = dir.join("swap.img");
    swap(&sw, 4 * MIB);
    let (_, linux, swp) = TYPES;
    let mut parts = vec![
        Part {
            type_guid: EFI_SYSTEM,
            name: "esp",
            size: 34 * MIB,
            content: Some(&esp),
        },
        Part {
            type_guid: linux,
            name: "root",
            size: 40 * MIB,
            content: Some(&root),
        },
    ];
    if with_swap {
        parts.push(Part {
            type_guid: swp,
            name: "swap",
            size: 4 * MIB,
            content: Some(&sw),
        });
    }
    let disk = dir.join("lint.raw");
    gpt_disk(&disk, 84 * MIB, &parts);
    disk
}

fn os(tree: &Path) {
    put(
        tree,
        "etc/os-release",
        b"PRETTY_NAME=\"Ubuntu 24.04.1 LTS\"\nID=ubuntu\nVERSION_ID=\"24.04\"\n",
    );
}

fn dirty_tree(dir: &Path) -> PathBuf {
    let t = dir.join("dirty");
    os(&t);
    put(&t, "etc/shadow", b"root:$6$salt$hashhashhash:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\nubuntu:$y$j9T$abc$def:19000:0:99999:7:::\nguest::19000:0:99999:7:::\nlocked:!$6$x$y:19000::::::\n");
    put(&t, "etc/ssh/ssh_host_ed25519_key", KEY.as_bytes());
    put(
        &t,
        "etc/ssh/ssh_host_ed25519_key.pub",
        b"ssh-ed25519 AAAA host",
    );
    put(&t, "etc/ssh/sshd_config", b"PermitRootLogin no\n");
    put(&t, "root/.ssh/id_ed25519", KEY.as_bytes());
    put(&t, "root/.ssh/authorized_keys", b"ssh-ed25519 AAAA me");
    put(
        &t,
        "root/.bash_history",
        b"export AWS_SECRET_ACCESS_KEY=...\n",
    );
    put(
        &t,
        "home/ubuntu/.aws/credentials",
        b"[default]\naws_access_key_id = AKIA\n",
    );
    put(
        &t,
        "home/ubuntu/.aws/config",
        b"[default]\nregion = eu-west-1\n",
    );
    put(&t, "home/ubuntu/.azure/accessTokens.json", b"[{}]");
    put(&t, "home/ubuntu/deploy.pem", KEY.as_bytes());
    std::os::unix::fs::symlink("/dev/null", t.join("home/ubuntu/.bash_history")).unwrap();
    put(&t, "etc/machine-id", b"4f9d1c0e8a2b4c6d9e0f1a2b3c4d5e6f\n");
    put(&t, "var/log/syslog", b"Nov 29 build host log\n");
    put(
        &t,
        "var/cache/apt/archives/curl_8.5.0_amd64.deb",
        &[1u8; 4096],
    );
    put(&t, "var/lib/dhcp/dhclient.eth0.leases", b"lease { }\n");
    put(
        &t,
        "etc/udev/rules.d/70-persistent-net.rules",
        b"SUBSYSTEM==\"net\", ATTR{address}==\"52:54:00:12:34:56\"\n",
    );
    put(&t, "var/crash/_usr_bin_app.0.crash", b"crash");
    put(&t, "etc/krb5.keytab", b"\x05\x02keytab");
    put(&t, "etc/shadow-", b"root:$6$old$old:19000::::::\n");
    put(&t, "etc/ssh/sshd_config~", b"PermitRootLogin yes\n");
    put(
        &t,
        "etc/NetworkManager/system-connections/eth0.nmconnection",
        b"[ethernet]\nmac-address=52:54:00:12:34:56\n",
    );
    put(&t, "srv/dataset/blob.bin", &vec![9u8; 3 << 20]);
    let junk: Vec<u8> = (0..(4u32 << 20))
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    put(&t, "junk.bin", &junk);
    t
}

fn lint_json(home: &Path, disk: &Path, extra: &[&str]) -> (i32, serde_json::Value) {
    let (code, out, err) = common::run(
        common::drydock(home)
            .args(["lint", "--format", "json", "--large-dir", "2M"])
            .args(extra)
            .arg(disk),
    );
    assert!(code == 0 || code == 1, "{err}");
    (
        code,
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out} {err}")),
    )
}

fn evidence<'a>(v: &'a serde_json::Value, id: &str) -> Vec<&'a serde_json::Value> {
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == id)
        .unwrap_or_else(|| panic!("no {id} in {v:#}"));
    f["evidence"].as_array().unwrap().iter().collect()
}

fn paths(v: &serde_json::Value, id: &str) -> Vec<String> {
    evidence(v, id)
        .iter()
        .filter_map(|e| e["path"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn a_dirty_image_shows_every_planted_problem_in_every_format() {
    let home = tempfile::tempdir().unwrap();
    let tree = dirty_tree(home.path());
    let disk = disk_from(home.path(), &tree, true, true);
    let mut ids_per_format = Vec::new();
    for image in convert_all(home.path(), &disk) {
        let (code, v) = lint_json(home.path(), &image, &[]);
        assert_eq!(code, 1, "errors fail the default --fail-on error: {v:#}");
        assert_eq!(
            paths(&v, "credentials.private-key"),
            ["/home/ubuntu/deploy.pem", "/root/.ssh/id_ed25519"]
        );
        assert_eq!(
            paths(&v, "credentials.cloud"),
            [
                "/home/ubuntu/.aws/credentials",
                "/home/ubuntu/.azure/accessTokens.json"
            ]
        );
        assert_eq!(
            paths(&v, "credentials.history"),
            ["/root/.bash_history"],
            "a history linked to /dev/null is fine"
        );
        assert_eq!(
            paths(&v, "credentials.ssh-host-key"),
            ["/etc/ssh/ssh_host_ed25519_key"]
        );
        let hash = evidence(&v, "credentials.password-hash");
        assert_eq!(hash.len(), 1);
        assert_eq!(hash[0]["detail"], "user root (line 1)");
        assert_eq!(
            evidence(&v, "accounts.default-password")[0]["detail"],
            "user ubuntu (line 3)"
        );
        assert_eq!(
            evidence(&v, "accounts.empty-password")[0]["detail"],
            "user guest (line 4)"
        );
        assert!(
            !v.to_string().contains("hashhash"),
            "a hash never appears in the output"
        );
        assert_eq!(evidence(&v, "agent.missing").len(), 1);
        assert_eq!(paths(&v, "sysprep.machine-id"), ["/etc/machine-id"]);
        assert_eq!(paths(&v, "sysprep.logs"), ["/var/log"]);
        assert_eq!(
            paths(&v, "sysprep.package-cache"),
            ["/var/cache/apt/archives"]
        );
        assert_eq!(paths(&v, "sysprep.dhcp-leases"), ["/var/lib/dhcp"]);
        assert_eq!(
            paths(&v, "sysprep.persistent-net"),
            ["/etc/udev/rules.d/70-persistent-net.rules"]
        );
        assert_eq!(paths(&v, "sysprep.crash-data"), ["/var/crash"]);
        assert_eq!(
            paths(&v, "credentials.kerberos-keytab"),
            ["/etc/krb5.keytab"]
        );
        assert_eq!(paths(&v, "sysprep.passwd-backups"), ["/etc/shadow-"]);
        assert_eq!(paths(&v, "sysprep.backup-files"), ["/etc/ssh/sshd_config~"]);
        assert_eq!(
            paths(&v, "sysprep.nm-connections"),
            ["/etc/NetworkManager/system-connections"]
        );
        assert_eq!(
            paths(&v, "sysprep.ssh-userdir"),
            ["/root/.ssh/authorized_keys"]
        );
        assert_eq!(paths(&v, "data.large-directory"), ["/srv/dataset"]);
        let swap = evidence(&v, "layout.swap");
        assert_eq!(swap[0]["partition"], 3);
        assert_eq!(swap[0]["offset"], 75 * MIB);
        // The deleted 4 MiB are free but not zero: counted, located, priced.
        let free = evidence(&v, "free-space.not-zeroed");
        assert_eq!(free[0]["partition"], 2);
        let detail = free[0]["detail"].as_str().unwrap();
        let blocks: u64 = detail.split(' ').next().unwrap().parse().unwrap();
        assert_eq!(
            blocks, 4096,
            "4 MiB of 1 KiB blocks (mkfs.ext4 picks 1 KiB for 40 MiB): {detail}"
        );
        let at = free[0]["offset"].as_u64().unwrap();
        assert!(
            at > 36 * MIB && at < 76 * MIB,
            "inside the root partition: {at}"
        );
        assert!(detail.contains("compressed"), "{detail}");
        // Every finding has a fix; errors come first.
        let fs = v["findings"].as_array().unwrap();
        assert!(fs.iter().all(|f| !f["fix"].as_str().unwrap().is_empty()));
        assert_eq!(fs[0]["severity"], "error");
        let ids: Vec<String> = fs
            .iter()
            .map(|f| f["id"].as_str().unwrap().to_string())
            .collect();
        ids_per_format.push(ids);
    }
    assert!(
        ids_per_format.windows(2).all(|w| w[0] == w[1]),
        "{ids_per_format:?}"
    );
    // The table names the ids and where.
    let (code, out, _) = common::run(
        common::drydock(home.path())
            .args(["lint", "--large-dir", "2M"])
            .arg(&disk),
    );
    assert_eq!(code, 1);
    assert!(
        out.contains("credentials.private-key") && out.contains("/root/.ssh/id_ed25519"),
        "{out}"
    );
}

#[test]
fn a_clean_image_passes_and_fail_on_picks_the_threshold() {
    let home = tempfile::tempdir().unwrap();
    let t = home.path().join("clean");
    os(&t);
    put(
        &t,
        "etc/shadow",
        b"root:*:19000:0:99999:7:::\nubuntu:!:19000:0:99999:7:::\n",
    );
    put(&t, "etc/machine-id", b"");
    put(&t, "etc/cloud/cloud.cfg", b"users: [default]\n");
    put(&t, "usr/bin/cloud-init", b"#!/usr/bin/python3\n");
    put(&t, "etc/ssh/sshd_config", b"PermitRootLogin no\n");
    let disk = disk_from(home.path(), &t, false, false);
    let (code, v) = lint_json(home.path(), &disk, &[]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["findings"], serde_json::json!([]), "{v:#}");
    // A swap partition is a warning: clean at --fail-on error, failing at warning.
    let disk = disk_from(home.path(), &t, true, false);
    let (code, v) = lint_json(home.path(), &disk, &[]);
    assert_eq!(code, 0);
    assert_eq!(v["findings"][0]["id"], "layout.swap");
    let (code, _) = lint_json(home.path(), &disk, &["--fail-on", "warning"]);
    assert_eq!(code, 1);
    // A disk that is not an image is an error: exit 2.
    let bad = home.path().join("bad.qcow2");
    std::fs::write(&bad, b"QFI\xfb\0\0\0\x03garbage").unwrap();
    let (code, _, err) = common::run(common::drydock(home.path()).arg("lint").arg(&bad));
    assert_eq!(code, 2, "{err}");
}
