//! Benchmark: `drydock inspect` and `drydock lint` of a 4 GiB disk image (GPT, one ext4
//! root made by `mkfs.ext4 -d`) holding 40 % data and a Debian-like system of 1,500 dpkg
//! packages with DEP-5 copyright files, as raw and as qcow2: wall time and peak RSS of each
//! drydock process. Target for `inspect`: under 2 s and 128 MB.
//!
//! virt-inspector is the tool to compare with, but it boots a libguestfs appliance that
//! cannot be installed beside the engine's qemu-img oracle here (see the README); set
//! DRYDOCK_BENCH_VIRT_INSPECTOR to its path to time it on the same disk.
//!
//! Run: `cargo bench --bench inspect` (DRYDOCK_BENCH_GIB sets the size, DRYDOCK_BENCH_DIR
//! where the disks go; they are kept there between runs).

#[allow(dead_code)]
use drydock_testkit::disks;
use drydock_testkit::measure;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const MIB: u64 = 1 << 20;
const PACKAGES: usize = 1_500;

/// A Debian-like tree: os-release, a kernel, dpkg status and copyright files for
/// `PACKAGES` packages, and pseudo-random data files adding up to `data` bytes.
fn make_tree(dir: &Path, data: u64) {
    let w = |rel: &str, bytes: &[u8]| {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    };
    w(
        "etc/os-release",
        b"PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n",
    );
    w("etc/cloud/cloud.cfg", b"users: [default]\n");
    w("boot/vmlinuz-6.1.0-28-amd64", &vec![0x5a; 8 << 20]);
    let licences = [
        "GPL-2+",
        "GPL-3+",
        "LGPL-2.1+",
        "Expat",
        "BSD-3-clause",
        "Apache-2.0",
    ];
    let mut status = String::new();
    for i in 0..PACKAGES {
        status.push_str(&format!(
            "Package: pkg{i:04}\nStatus: install ok installed\nPriority: optional\nSection: libs\n\
             Installed-Size: {}\nMaintainer: Debian Developers <debian@example.org>\n\
             Architecture: amd64\nVersion: {}.{}.{}-{}\nDepends: libc6 (>= 2.36)\n\
             Description: package number {i}\n a package in the benchmark image\n\n",
            100 + i,
            i % 7,
            i % 13,
            i % 29,
            1 + i % 3
        ));
        let lic = licences[i % licences.len()];
        w(
            &format!("usr/share/doc/pkg{i:04}/copyright"),
            format!(
                "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\
                 Upstream-Name: pkg{i:04}\n\nFiles: *\nCopyright: 2020-2026 Someone\nLicense: {lic}\n\n\
                 Files: debian/*\nCopyright: 2026 Debian\nLicense: GPL-2+\n\nLicense: {lic}\n{}\n",
                " The licence text.\n .\n".repeat(40)
            )
            .as_bytes(),
        );
    }
    w("var/lib/dpkg/status", status.as_bytes());
    let per = data / PACKAGES as u64;
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut buf = vec![0u8; per as usize];
    for i in 0..PACKAGES {
        for chunk in buf.chunks_mut(8) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let b = state.to_le_bytes();
            chunk.copy_from_slice(&b[..chunk.len()]);
        }
        w(&format!("usr/lib/pkg{i:04}/data.bin"), &buf);
    }
}

/// The disk: GPT with one Linux partition from 1 MiB, ext4 written into it in place.
fn make_disk(dir: &Path, size: u64) -> PathBuf {
    let disk = dir.join(format!("inspect-{}g.raw", size >> 30));
    if disk.exists() {
        return disk;
    }
    let tree = dir.join("inspect-tree");
    let _ = std::fs::remove_dir_all(&tree);
    eprint!("building the tree ({} MiB of data) ...", size * 2 / 5 / MIB);
    std::io::stderr().flush().unwrap();
    make_tree(&tree, size * 2 / 5 - (8 << 20));
    let part = size - 2 * MIB;
    let (_, linux, _) = disks::TYPES;
    let tmp = dir.join("inspect.tmp");
    disks::gpt_disk(
        &tmp,
        size,
        &[disks::Part {
            type_guid: linux,
            name: "root",
            size: part,
            content: None,
        }],
    );
    eprint!(" mkfs.ext4 ...");
    let ok = Command::new("mkfs.ext4")
        .args([
            "-q",
            "-F",
            "-L",
            "root",
            "-E",
            "offset=1048576,nodiscard",
            "-d",
        ])
        .arg(&tree)
        .arg(&tmp)
        .arg(format!("{}k", part / 1024))
        .status()
        .expect("mkfs.ext4 (e2fsprogs)")
        .success();
    assert!(ok);
    std::fs::rename(&tmp, &disk).unwrap();
    std::fs::remove_dir_all(&tree).unwrap();
    eprintln!(" done");
    disk
}

fn time(label: &str, program: &str, args: &[&str], disk: &Path) -> serde_json::Value {
    let m = measure::measure(
        Command::new(program)
            .args(args)
            .arg(disk)
            .stdout(Stdio::piped())
            .stderr(Stdio::null()),
    );
    assert!(
        m.status == 0 || args[0] == "lint",
        "{label}: status {}",
        m.status
    );
    println!(
        "{label:<34} {:>7.2} s   peak RSS {:>6.1} MB",
        m.secs,
        m.maxrss_kib as f64 / 1024.0
    );
    serde_json::from_str(&m.stdout).unwrap_or(serde_json::Value::Null)
}

fn main() {
    std::env::set_var(
        "PATH",
        format!(
            "{}:/usr/sbin:/sbin",
            std::env::var("PATH").unwrap_or_default()
        ),
    );
    let gib: u64 = std::env::var("DRYDOCK_BENCH_GIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4);
    let dir = std::env::var_os("DRYDOCK_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("drydock-bench"));
    std::fs::create_dir_all(&dir).unwrap();
    let raw = make_disk(&dir, gib << 30);
    let qcow2 = dir.join(format!("inspect-{gib}g.qcow2"));
    if !qcow2.exists() {
        let ok = Command::new("qemu-img")
            .args(["convert", "-O", "qcow2"])
            .arg(&raw)
            .arg(&qcow2)
            .status()
            .unwrap()
            .success();
        assert!(ok);
    }
    let drydock = env!("CARGO_BIN_EXE_drydock");
    println!("{gib} GiB disk, 40 % data, {PACKAGES} dpkg packages (warm page cache)");
    for (name, disk) in [("raw", &raw), ("qcow2", &qcow2)] {
        // One untimed pass warms the page cache, like the runs after it.
        let _ = time(
            &format!("(warm-up) inspect {name}"),
            drydock,
            &["inspect", "--format", "json"],
            disk,
        );
        let v = time(
            &format!("drydock inspect {name}"),
            drydock,
            &["inspect", "--format", "json"],
            disk,
        );
        let pkgs = v["volumes"][0]["contents"]["packages"]
            .as_array()
            .map_or(0, Vec::len);
        assert_eq!(pkgs, PACKAGES, "inspect found every package");
        let l = time(
            &format!("drydock lint {name}"),
            drydock,
            &["lint", "--format", "json"],
            disk,
        );
        let ids: Vec<&str> = l["findings"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|f| f["id"].as_str())
            .collect();
        println!(
            "  lint findings: {}",
            if ids.is_empty() {
                "none".into()
            } else {
                ids.join(", ")
            }
        );
    }
    match std::env::var("DRYDOCK_BENCH_VIRT_INSPECTOR") {
        Ok(v) => {
            let _ = time("virt-inspector raw", &v, &["-a"], &raw);
        }
        Err(_) => {
            println!("virt-inspector: not run (set DRYDOCK_BENCH_VIRT_INSPECTOR to its path)")
        }
    }
}
