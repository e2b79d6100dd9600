//! Test disks built the way an image pipeline builds them, without root: filesystems made
//! by `mkfs.ext4 -d` and `mkswap` in files, copied into a raw disk behind a GPT (protective
//! MBR, primary and backup headers and entry arrays with their CRC32s) or an MBR written
//! here, then turned into every format by qemu-img.

use std::os::unix::fs::FileExt;
use std::path::Path;
use std::process::Command;

pub const MIB: u64 = 1 << 20;
const LINUX_FS: &str = "0FC63DAF-8483-4772-8E79-3D69D8477DE4";
const SWAP: &str = "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F";
const BIOS_BOOT: &str = "21686148-6449-6E6F-744E-656564454649";

fn guid_bytes(g: &str) -> [u8; 16] {
    let h: Vec<u8> = g
        .replace('-', "")
        .as_bytes()
        .chunks(2)
        .map(|c| u8::from_str_radix(std::str::from_utf8(c).unwrap(), 16).unwrap())
        .collect();
    let mut b = [0u8; 16];
    b[..4].copy_from_slice(&[h[3], h[2], h[1], h[0]]);
    b[4..6].copy_from_slice(&[h[5], h[4]]);
    b[6..8].copy_from_slice(&[h[7], h[6]]);
    b[8..].copy_from_slice(&h[8..16]);
    b
}

/// A partition to lay out: type GUID, name, size, and an image file to copy in (if any).
pub struct Part<'a> {
    pub type_guid: &'a str,
    pub name: &'a str,
    pub size: u64,
    pub content: Option<&'a Path>,
}

fn entry(p: &Part, first: u64) -> [u8; 128] {
    let mut e = [0u8; 128];
    e[..16].copy_from_slice(&guid_bytes(p.type_guid));
    e[16..32].copy_from_slice(&guid_bytes("11111111-2222-3333-4444-555555555555"));
    e[32..40].copy_from_slice(&first.to_le_bytes());
    e[40..48].copy_from_slice(&(first + p.size / 512 - 1).to_le_bytes());
    for (i, c) in p.name.encode_utf16().take(36).enumerate() {
        e[56 + i * 2..58 + i * 2].copy_from_slice(&c.to_le_bytes());
    }
    e
}

fn gpt_header(current: u64, backup: u64, array: u64, last: u64, array_crc: u32) -> [u8; 512] {
    let mut h = [0u8; 512];
    h[..8].copy_from_slice(b"EFI PART");
    h[8..12].copy_from_slice(&0x0001_0000u32.to_le_bytes());
    h[12..16].copy_from_slice(&92u32.to_le_bytes());
    h[24..32].copy_from_slice(&current.to_le_bytes());
    h[32..40].copy_from_slice(&backup.to_le_bytes());
    h[40..48].copy_from_slice(&34u64.to_le_bytes());
    h[48..56].copy_from_slice(&(last - 33).to_le_bytes());
    h[56..72].copy_from_slice(&guid_bytes("AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE"));
    h[72..80].copy_from_slice(&array.to_le_bytes());
    h[80..84].copy_from_slice(&128u32.to_le_bytes());
    h[84..88].copy_from_slice(&128u32.to_le_bytes());
    h[88..92].copy_from_slice(&array_crc.to_le_bytes());
    let crc = crc32fast::hash(&h[..92]);
    h[16..20].copy_from_slice(&crc.to_le_bytes());
    h
}

/// A raw GPT disk of `size` bytes with `parts` laid out from 1 MiB.
pub fn gpt_disk(path: &Path, size: u64, parts: &[Part]) {
    let f = std::fs::File::create(path).unwrap();
    f.set_len(size).unwrap();
    let last = size / 512 - 1;
    let mut mbr = [0u8; 512];
    mbr[446 + 4] = 0xEE;
    mbr[446 + 8..446 + 12].copy_from_slice(&1u32.to_le_bytes());
    mbr[446 + 12..446 + 16].copy_from_slice(&((last) as u32).to_le_bytes());
    mbr[510] = 0x55;
    mbr[511] = 0xAA;
    f.write_all_at(&mbr, 0).unwrap();
    let mut array = vec![0u8; 128 * 128];
    let mut at = MIB;
    for (i, p) in parts.iter().enumerate() {
        array[i * 128..(i + 1) * 128].copy_from_slice(&entry(p, at / 512));
        if let Some(c) = p.content {
            let bytes = std::fs::read(c).unwrap();
            assert!(bytes.len() as u64 <= p.size);
            f.write_all_at(&bytes, at).unwrap();
        }
        at += p.size;
    }
    assert!(at <= (last - 33) * 512, "partitions overflow the disk");
    let crc = crc32fast::hash(&array);
    f.write_all_at(&array, 2 * 512).unwrap();
    f.write_all_at(&gpt_header(1, last, 2, last, crc), 512)
        .unwrap();
    f.write_all_at(&array, (last - 32) * 512).unwrap();
    f.write_all_at(&gpt_header(last, 1, last - 32, last, crc), last * 512)
        .unwrap();
}

/// A raw MBR disk: one Linux partition from 1 MiB holding `content`.
pub fn mbr_disk(path: &Path, size: u64, content: &Path) {
    let f = std::fs::File::create(path).unwrap();
    f.set_len(size).unwrap();
    let bytes = std::fs::read(content).unwrap();
    let sectors = bytes.len() as u64 / 512;
    let mut mbr = [0u8; 512];
    mbr[446] = 0x80;
    mbr[446 + 4] = 0x83;
    mbr[446 + 8..446 + 12].copy_from_slice(&2048u32.to_le_bytes());
    mbr[446 + 12..446 + 16].copy_from_slice(&(sectors as u32).to_le_bytes());
    mbr[510] = 0x55;
    mbr[511] = 0xAA;
    f.write_all_at(&mbr, 0).unwrap();
    f.write_all_at(&bytes, MIB).unwrap();
}

/// `mkfs.ext4 -d DIR` into a new file of `size` bytes, labelled `label`.
pub fn ext4(path: &Path, size: u64, dir: &Path, label: &str) {
    let ok = Command::new("mkfs.ext4")
        .args(["-q", "-F", "-L", label, "-d"])
        .arg(dir)
        .arg(path)
        .arg(format!("{}k", size / 1024))
        .status()
        .expect("mkfs.ext4 (e2fsprogs) runs")
        .success();
    assert!(ok, "mkfs.ext4");
}

/// `mkswap` into a new file of `size` bytes.
pub fn swap(path: &Path, size: u64) {
    std::fs::File::create(path).unwrap().set_len(size).unwrap();
    let ok = Command::new("mkswap")
        .args(["-q", "-L", "swap0"])
        .arg(path)
        .status()
        .expect("mkswap runs")
        .success();
    assert!(ok, "mkswap");
}

pub const TYPES: (&str, &str, &str) = (BIOS_BOOT, LINUX_FS, SWAP);
pub const EFI_SYSTEM: &str = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B";

/// `mkfs.vfat` into a new file of `size` bytes holding `files` (path, bytes), copied in
/// with mtools (no mount).
pub fn vfat(path: &Path, size: u64, files: &[(&str, &[u8])]) {
    std::fs::File::create(path).unwrap().set_len(size).unwrap();
    let ok = Command::new("mkfs.vfat")
        .args(["-n", "ESP"])
        .arg(path)
        .output()
        .expect("mkfs.vfat (dosfstools) runs")
        .status
        .success();
    assert!(ok, "mkfs.vfat");
    let staging = tempfile::tempdir().unwrap();
    for (name, bytes) in files {
        let mut dir = String::new();
        for part in name
            .trim_start_matches('/')
            .split('/')
            .collect::<Vec<_>>()
            .split_last()
            .unwrap()
            .1
        {
            dir = format!("{dir}/{part}");
            // mmd fails on a directory that exists; that is fine.
            let _ = Command::new("mmd")
                .arg("-i")
                .arg(path)
                .arg(format!("::{dir}"))
                .output();
        }
        let local = staging.path().join("f");
        std::fs::write(&local, bytes).unwrap();
        let ok = Command::new("mcopy")
            .arg("-i")
            .arg(path)
            .arg(&local)
            .arg(format!("::{name}"))
            .status()
            .expect("mcopy (mtools) runs")
            .success();
        assert!(ok, "mcopy {name}");
    }
}

/// Delete `file` from an ext image with debugfs, which leaves its blocks as they were:
/// free space that is not zero.
pub fn ext_delete(image: &Path, file: &str) {
    let ok = Command::new("debugfs")
        .args(["-w", "-R", &format!("rm {file}")])
        .arg(image)
        .output()
        .expect("debugfs (e2fsprogs) runs")
        .status
        .success();
    assert!(ok, "debugfs rm {file}");
}

/// A real rpm SQLite database under `root/var/lib/rpm`: rpmbuild makes empty packages from
/// (name, version, release, licence) and rpm installs them with --justdb.
pub fn rpm_db(root: &Path, packages: &[(&str, &str, &str, &str)]) {
    let work = tempfile::tempdir().unwrap();
    let db = root.join("var/lib/rpm");
    std::fs::create_dir_all(&db).unwrap();
    let run = |cmd: &mut Command| {
        let out = cmd.output().expect("rpm / rpmbuild run");
        assert!(
            out.status.success(),
            "{cmd:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(Command::new("rpm").arg("--dbpath").arg(&db).arg("--initdb"));
    for (name, version, release, licence) in packages {
        let spec = work.path().join(format!("{name}.spec"));
        std::fs::write(
            &spec,
            format!("Name: {name}\nVersion: {version}\nRelease: {release}\nSummary: t\nLicense: {licence}\nBuildArch: noarch\n%description\nt\n%files\n"),
        )
        .unwrap();
        run(Command::new("rpmbuild")
            .arg("-bb")
            .arg("--define")
            .arg(format!("_topdir {}", work.path().join("build").display()))
            .arg(&spec));
        let rpm = work.path().join(format!(
            "build/RPMS/noarch/{name}-{version}-{release}.noarch.rpm"
        ));
        run(Command::new("rpm")
            .arg("--dbpath")
            .arg(&db)
            .args(["-i", "--justdb", "--nodeps", "--noscripts"])
            .arg(&rpm));
    }
}

/// A sparse raw disk of `size` bytes whose every first 2 of 5 MiB hold pseudo-random data
/// (40 % data, incompressible); the rest are holes. Returns the data bytes.
pub fn forty_percent(path: &Path, size: u64) -> u64 {
    let mibs = size / MIB;
    let f = std::fs::File::create(path).unwrap();
    f.set_len(size).unwrap();
    let mut buf = vec![0u8; MIB as usize];
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let mut data = 0;
    for m in (0..mibs).filter(|m| m % 5 < 2) {
        for chunk in buf.chunks_exact_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            chunk.copy_from_slice(&x.to_le_bytes());
        }
        f.write_all_at(&buf, m * MIB).unwrap();
        data += MIB;
    }
    f.sync_all().unwrap();
    data
}
