//! OVAs as the field exports them: VMware ovftool (GNU tar headers, manifest second, SHA-1,
//! SHA-256 or SHA-512, a signing certificate member) and VirtualBox (ustar headers, manifest
//! last, `SHA256 (file) = digest` spelling, CRLF). `ova unpack` verifies and extracts them,
//! and `inspect` reads the disk inside.

use super::common;
use super::disks::{ext4, mbr_disk, MIB};
use sha2::Digest;
use std::path::{Path, PathBuf};

const OVF: &str =
    "<?xml version=\"1.0\"?><Envelope xmlns=\"http://schemas.dmtf.org/ovf/envelope/1\"/>\n";

#[derive(Clone, Copy)]
enum Tool {
    Ovftool,
    VirtualBox,
}

fn digest(algo: &str, b: &[u8]) -> String {
    let hex = |d: &[u8]| d.iter().map(|x| format!("{x:02x}")).collect::<String>();
    match algo {
        "SHA1" => hex(&sha1::Sha1::digest(b)),
        "SHA256" => hex(&sha2::Sha256::digest(b)),
        _ => hex(&sha2::Sha512::digest(b)),
    }
}

/// An OVA of `disk` (a streamOptimized VMDK) laid out the way `tool` writes one.
fn ova(dir: &Path, name: &str, tool: Tool, algo: &str, disk: &[u8], tamper: bool) -> PathBuf {
    let (ovf, vmdk, mf) = match tool {
        Tool::Ovftool => ("vm.ovf", "vm-disk1.vmdk", "vm.mf"),
        Tool::VirtualBox => ("box.ovf", "box-disk001.vmdk", "box.mf"),
    };
    let line = |file: &str, bytes: &[u8]| {
        let mut d = digest(algo, bytes);
        if tamper && file == vmdk {
            d = d.replace('0', "1").replace('a', "b");
        }
        match tool {
            Tool::Ovftool => format!("{algo}({file})= {d}\n"),
            Tool::VirtualBox => format!("{algo} ({file}) = {d}\r\n"),
        }
    };
    let manifest = format!("{}{}", line(ovf, OVF.as_bytes()), line(vmdk, disk));
    let mut members: Vec<(&str, &[u8])> = vec![(ovf, OVF.as_bytes())];
    match tool {
        Tool::Ovftool => {
            members.push((mf, manifest.as_bytes()));
            members.push((vmdk, disk));
            members.push(("vm.cert", b"-----BEGIN CERTIFICATE-----\n"));
        }
        Tool::VirtualBox => {
            members.push((vmdk, disk));
            members.push((mf, manifest.as_bytes()));
        }
    }
    let path = dir.join(name);
    let mut b = tar::Builder::new(std::fs::File::create(&path).unwrap());
    for (n, bytes) in members {
        let mut h = match tool {
            Tool::Ovftool => tar::Header::new_gnu(),
            Tool::VirtualBox => tar::Header::new_ustar(),
        };
        h.set_path(n).unwrap();
        h.set_size(bytes.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append(&h, bytes).unwrap();
    }
    b.finish().unwrap();
    path
}

fn stream_vmdk(dir: &Path) -> Vec<u8> {
    let tree = dir.join("tree");
    std::fs::create_dir_all(tree.join("etc")).unwrap();
    std::fs::write(
        tree.join("etc/os-release"),
        "PRETTY_NAME=\"Field OS 1\"\nID=field\n",
    )
    .unwrap();
    let fs = dir.join("r.ext4");
    ext4(&fs, 8 * MIB, &tree, "field");
    let raw = dir.join("d.raw");
    mbr_disk(&raw, 10 * MIB, &fs);
    let vmdk = dir.join("d.vmdk");
    let ok = std::process::Command::new("qemu-img")
        .args(["convert", "-O", "vmdk", "-o", "subformat=streamOptimized"])
        .arg(&raw)
        .arg(&vmdk)
        .status()
        .unwrap()
        .success();
    assert!(ok);
    std::fs::read(vmdk).unwrap()
}

#[test]
fn ovas_from_ovftool_and_virtualbox_unpack_and_inspect() {
    let home = tempfile::tempdir().unwrap();
    let disk = stream_vmdk(home.path());
    let cases = [
        (Tool::Ovftool, "SHA1"),
        (Tool::Ovftool, "SHA256"),
        (Tool::Ovftool, "SHA512"),
        (Tool::VirtualBox, "SHA1"),
        (Tool::VirtualBox, "SHA256"),
        (Tool::VirtualBox, "SHA512"),
    ];
    for (k, (tool, algo)) in cases.into_iter().enumerate() {
        let path = ova(home.path(), &format!("{k}.ova"), tool, algo, &disk, false);
        let out = home.path().join(format!("out{k}"));
        let (code, stdout, err) = common::run(
            common::drydock(home.path())
                .args(["ova", "unpack"])
                .arg(&path)
                .arg(&out),
        );
        assert_eq!(code, 0, "{algo}: {err}");
        assert!(
            stdout.contains("2 verified") || err.contains("2 verified"),
            "{algo}: {stdout}{err}"
        );
        let vmdk = match tool {
            Tool::Ovftool => "vm-disk1.vmdk",
            Tool::VirtualBox => "box-disk001.vmdk",
        };
        assert_eq!(std::fs::read(out.join(vmdk)).unwrap(), disk);
        // inspect reads the disk inside the OVA directly.
        let (code, stdout, err) = common::run(
            common::drydock(home.path())
                .args(["inspect", "--format", "json"])
                .arg(&path),
        );
        assert_eq!(code, 0, "{err}");
        let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(v["volumes"][0]["contents"]["os"], "Field OS 1", "{v}");
        // A digest that does not match: nothing is extracted, the line is named.
        let bad = ova(home.path(), &format!("bad{k}.ova"), tool, algo, &disk, true);
        let out = home.path().join(format!("bad{k}"));
        let (code, _, err) = common::run(
            common::drydock(home.path())
                .args(["ova", "unpack"])
                .arg(&bad)
                .arg(&out),
        );
        assert_eq!(code, 2, "{algo}");
        assert!(err.contains(&format!("line 2: {vmdk}: {algo} is")), "{err}");
        assert!(
            std::fs::read_dir(&out).unwrap().next().is_none(),
            "nothing left behind"
        );
    }
}
