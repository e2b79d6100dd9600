//! `convert --check` refuses every header that qemu-img refuses to open (`info`) or reports
//! as corrupt (`check`): table sizes beyond the format's limits and tables past the end of
//! the file, each named by its field and offset. Images are made by `qemu-img create`, one
//! header field changed (checksums fixed up where the format has them).

use super::*;

/// A field to overwrite: (offset, bytes); negative offsets count from the end of the file.
type Patch = (i64, Vec<u8>);
/// (image, qemu format, patches, fix VHD checksums, what drydock must name).
type Case<'a> = (&'a [u8], &'a str, Vec<Patch>, bool, &'a str);

fn be32(v: u32) -> Vec<u8> {
    v.to_be_bytes().to_vec()
}
fn be64(v: u64) -> Vec<u8> {
    v.to_be_bytes().to_vec()
}
fn le32(v: u32) -> Vec<u8> {
    v.to_le_bytes().to_vec()
}
fn le64(v: u64) -> Vec<u8> {
    v.to_le_bytes().to_vec()
}

fn base(dir: &Path, format: &str, opts: &[&str]) -> Vec<u8> {
    let path = dir.join(format!("base-{format}-{}", opts.len()));
    let mut args = vec!["create", "-q", "-f", format];
    args.extend(opts);
    args.extend([path.to_str().unwrap(), "64M"]);
    qemu_img(&args);
    std::fs::read(path).unwrap()
}

fn apply(bytes: &[u8], patches: &[Patch]) -> Vec<u8> {
    let mut b = bytes.to_vec();
    for (at, v) in patches {
        let at = if *at < 0 { b.len() as i64 + at } else { *at } as usize;
        b[at..at + v.len()].copy_from_slice(v);
    }
    b
}

/// VHD footers (first and last 512 bytes) and the dynamic header get their checksums back.
fn vhd_sums(b: &mut [u8]) {
    let n = b.len();
    for (at, len, sum_at) in [(0, 512, 64), (n - 512, 512, 64), (512, 1024, 36)] {
        b[at + sum_at..at + sum_at + 4].fill(0);
        let s: u32 = b[at..at + len].iter().map(|&x| x as u32).sum();
        b[at + sum_at..at + sum_at + 4].copy_from_slice(&(!s).to_be_bytes());
    }
}

/// qemu-img refuses the file (info fails, or check reports corruption).
fn qemu_refuses(path: &Path, format: &str) -> bool {
    let info = Command::new("qemu-img")
        .args(["info", "-f", format])
        .arg(path)
        .output()
        .unwrap();
    let check = Command::new("qemu-img")
        .args(["check", "-f", format])
        .arg(path)
        .output()
        .unwrap();
    !info.status.success() || matches!(check.status.code(), Some(1..=3))
}

fn drydock_check(path: &Path) -> std::result::Result<String, String> {
    convert::check(path, None, &mut |_| true)
        .map(|r| format!("{r:?}"))
        .map_err(|e| e.to_string())
}

#[test]
fn check_refuses_what_qemu_img_refuses_naming_field_and_offset() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let qcow2 = base(d, "qcow2", &[]);
    let vpc = base(d, "vpc", &[]);
    let vmdk = base(d, "vmdk", &[]);
    let stream = base(d, "vmdk", &["-o", "subformat=streamOptimized"]);
    let cases: Vec<Case> = vec![
        (
            &qcow2,
            "qcow2",
            vec![(20, be32(8))],
            false,
            "header at offset 20",
        ),
        (
            &qcow2,
            "qcow2",
            vec![(20, be32(22))],
            false,
            "header at offset 20",
        ),
        (
            &qcow2,
            "qcow2",
            vec![(36, be32(0x1000_0000))],
            false,
            "L1 table at offset 36",
        ),
        (
            &qcow2,
            "qcow2",
            vec![(36, be32(0))],
            false,
            "L1 table at offset 36",
        ),
        (
            &qcow2,
            "qcow2",
            vec![(40, be64(0x10001))],
            false,
            "L1 table at offset 40",
        ),
        (
            &qcow2,
            "qcow2",
            vec![(40, be64(1 << 40))],
            false,
            "L1 table at offset 1099511627776",
        ),
        (
            &qcow2,
            "qcow2",
            vec![(48, be64(0x10001))],
            false,
            "refcount table at offset 48",
        ),
        (
            &qcow2,
            "qcow2",
            vec![(48, be64(1 << 40))],
            false,
            "refcount table at offset 48",
        ),
        (
            &qcow2,
            "qcow2",
            vec![(56, be32(0x100_0000))],
            false,
            "refcount table at offset 56",
        ),
        (
            &qcow2,
            "qcow2",
            vec![(60, be32(100_000))],
            false,
            "snapshot table at offset 60",
        ),
        (
            &qcow2,
            "qcow2",
            vec![(60, be32(1)), (64, be64(0x10001))],
            false,
            "snapshot table at offset 64",
        ),
        (
            &qcow2,
            "qcow2",
            vec![(60, be32(1)), (64, be64(1 << 40))],
            false,
            "snapshot table at offset 64",
        ),
        (
            &qcow2,
            "qcow2",
            vec![(96, be32(7))],
            false,
            "header at offset 96",
        ),
        (
            &qcow2,
            "qcow2",
            vec![(100, be32(50))],
            false,
            "header at offset 100",
        ),
        (
            &qcow2,
            "qcow2",
            vec![(24, be64(1 << 62))],
            false,
            "L1 table at offset 36",
        ),
        (
            &vpc,
            "vpc",
            vec![(512 + 28, be32(0x1000_0000))],
            true,
            "dynamic header at offset 540",
        ),
        (
            &vpc,
            "vpc",
            vec![(512 + 28, be32(1))],
            true,
            "dynamic header at offset 540",
        ),
        (
            &vpc,
            "vpc",
            vec![(512 + 32, be32(3))],
            true,
            "dynamic header at offset 544",
        ),
        (
            &vpc,
            "vpc",
            vec![(512 + 32, be32(0))],
            true,
            "dynamic header at offset 544",
        ),
        (
            &vpc,
            "vpc",
            vec![(512 + 16, be64(1 << 40))],
            true,
            "dynamic header at offset 528",
        ),
        (
            &vmdk,
            "vmdk",
            vec![(20, le64(0))],
            false,
            "sparse header at offset 20",
        ),
        (
            &vmdk,
            "vmdk",
            vec![(44, le32(1000))],
            false,
            "sparse header at offset 44",
        ),
        (
            &vmdk,
            "vmdk",
            vec![(44, le32(0))],
            false,
            "sparse header at offset 44",
        ),
        (&vmdk, "vmdk", vec![(4, le32(4))], false, "version 4"),
        (
            &stream,
            "vmdk",
            vec![(44, le32(1000))],
            false,
            "sparse header at offset 44",
        ),
    ];
    for (k, (image, format, patches, sums, named)) in cases.into_iter().enumerate() {
        let mut b = apply(image, &patches);
        if sums {
            vhd_sums(&mut b);
        }
        let path = d.join(format!("case{k}.img"));
        std::fs::write(&path, &b).unwrap();
        assert!(
            qemu_refuses(&path, format),
            "case {k}: qemu-img accepts {patches:?}"
        );
        let err = drydock_check(&path)
            .expect_err(&format!("case {k} ({format} {patches:?}) must be refused"));
        assert!(err.contains(named), "case {k}: {err}");
    }
}

/// VHDX: the file parameters, sector size and disk size in the metadata region.
#[test]
fn check_refuses_vhdx_metadata_qemu_img_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let b = base(dir.path(), "vhdx", &[]);
    let guid = |s: &str| {
        let h: Vec<u8> = s
            .replace('-', "")
            .as_bytes()
            .chunks(2)
            .map(|c| u8::from_str_radix(std::str::from_utf8(c).unwrap(), 16).unwrap())
            .collect();
        let mut g = vec![h[3], h[2], h[1], h[0], h[5], h[4], h[7], h[6]];
        g.extend(&h[8..16]);
        g
    };
    let u32_at = |o: usize| u32::from_le_bytes(b[o..o + 4].try_into().unwrap());
    let rt = 192 * 1024;
    let meta = (0..u32_at(rt + 8) as usize)
        .map(|i| rt + 16 + i * 32)
        .find(|&e| b[e..e + 16] == guid("8B7CA206-4790-4B9A-B8FE-575F050F886E")[..])
        .map(|e| u64::from_le_bytes(b[e + 16..e + 24].try_into().unwrap()) as usize)
        .unwrap();
    let count = u16::from_le_bytes([b[meta + 10], b[meta + 11]]) as usize;
    let item = |id: &str| {
        (0..count)
            .map(|i| meta + 32 + i * 32)
            .find(|&e| b[e..e + 16] == guid(id)[..])
            .map(|e| meta + u32_at(e + 16) as usize)
            .unwrap()
    };
    let params = item("CAA16737-FA36-4D43-B3B6-33F0AA44E76B");
    let size = item("2FA54224-CD1B-4876-B211-5DBED83BF4B8");
    let sector = item("8141BF1D-A96F-4709-BA47-F233A8FAAB5F");
    let cases: Vec<(usize, Vec<u8>, &str)> = vec![
        (params, le32(3), "file parameters"),
        (params, le32(512 << 10), "file parameters"),
        (params, le32(512 << 20), "file parameters"),
        (sector, le32(1000), "logical sector size"),
        (size, le64(0), "virtual disk size"),
        (size, le64(1 << 60), "virtual disk size"),
        (meta + 10, 3000u16.to_le_bytes().to_vec(), "metadata table"),
    ];
    for (k, (at, bytes, named)) in cases.into_iter().enumerate() {
        let mut c = b.clone();
        c[at..at + bytes.len()].copy_from_slice(&bytes);
        let path = dir.path().join(format!("v{k}.vhdx"));
        std::fs::write(&path, &c).unwrap();
        assert!(qemu_refuses(&path, "vhdx"), "case {k}: qemu-img accepts it");
        let err = drydock_check(&path).expect_err("must be refused");
        assert!(
            err.contains(named) && err.contains(&format!("offset {at}"))
                || err.contains(named) && named == "metadata table",
            "case {k}: {err}"
        );
    }
}
