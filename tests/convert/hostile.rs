//! Hostile and corrupt images fail with format, structure and offset; a failed or
//! cancelled conversion leaves the destination as it was.

use super::*;

fn expect_corrupt(path: &Path, from: Option<Format>, format: &str, structure: &str) -> String {
    let out = path.with_extension("out.raw");
    let err = convert::convert(
        path,
        &out,
        &Options {
            from,
            to: Some(Format::Raw),
            ..Options::default()
        },
        &mut no_progress(),
    )
    .expect_err("hostile input must fail");
    let text = err.to_string();
    assert!(
        text.starts_with(&format!("{format}:")) && text.contains(structure),
        "{}: {text}",
        path.display()
    );
    assert!(!out.exists(), "nothing at the destination");
    let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".drydock-"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
    text
}

fn patch(src: &Path, dst: &Path, at: usize, bytes: &[u8]) {
    let mut b = std::fs::read(src).unwrap();
    b[at..at + bytes.len()].copy_from_slice(bytes);
    std::fs::write(dst, b).unwrap();
}

#[test]
fn hostile_images_fail_with_format_structure_and_offset() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let raw = make_raw(d, "src.raw", 4 << 20, 5);
    let r = raw.to_str().unwrap();
    let make = |name: &str, args: &[&str]| {
        let p = d.join(name);
        let mut a = vec!["convert", "-f", "raw"];
        a.extend_from_slice(args);
        a.extend_from_slice(&[r, p.to_str().unwrap()]);
        qemu_img(&a);
        p
    };
    let q = make("ok.qcow2", &["-O", "qcow2"]);
    // Absurd L1 size.
    let p = d.join("l1.qcow2");
    patch(&q, &p, 36, &u32::MAX.to_be_bytes());
    patch(&p, &p, 24, &(1u64 << 60).to_be_bytes());
    let e = expect_corrupt(&p, None, "qcow2", "L1 table");
    assert!(e.contains("offset"), "{e}");
    // L1 table past the end of the file.
    let p = d.join("l1off.qcow2");
    patch(&q, &p, 40, &(1u64 << 40).to_be_bytes());
    expect_corrupt(&p, None, "qcow2", "L1 table");
    // Truncated: data clusters cut off.
    let p = d.join("short.qcow2");
    let b = std::fs::read(&q).unwrap();
    std::fs::write(&p, &b[..b.len() / 2]).unwrap();
    expect_corrupt(&p, None, "qcow2", "");
    // Backing file, encryption, unknown incompatible feature.
    let p = d.join("backing.qcow2");
    patch(&q, &p, 8, &512u64.to_be_bytes());
    assert!(expect_corrupt(&p, None, "qcow2", "backing file").contains("not supported"));
    let p = d.join("enc.qcow2");
    patch(&q, &p, 32, &1u32.to_be_bytes());
    expect_corrupt(&p, None, "qcow2", "encrypted");
    let p = d.join("feature.qcow2");
    patch(&q, &p, 72, &(1u64 << 40).to_be_bytes());
    expect_corrupt(&p, None, "qcow2", "incompatible feature");
    // A compressed cluster with garbage.
    let qc = make("c.qcow2", &["-O", "qcow2", "-c"]);
    let mut b = std::fs::read(&qc).unwrap();
    let n = b.len();
    for x in &mut b[n / 2..n / 2 + 4096] {
        *x = 0x5a;
    }
    let p = d.join("garbage.qcow2");
    std::fs::write(&p, &b).unwrap();
    let out = p.with_extension("out.raw");
    let e = convert::convert(
        &p,
        &out,
        &Options {
            to: Some(Format::Raw),
            ..Options::default()
        },
        &mut no_progress(),
    );
    if let Err(e) = e {
        assert!(e.to_string().starts_with("qcow2:"), "{e}");
        assert!(!out.exists());
    }
    // VHD: bad footer checksum (fixed: probed by footer, falls back to raw only if unparsable).
    let v = make("d.vhd", &["-O", "vpc", "-o", "subformat=dynamic"]);
    let p = d.join("badsum.vhd");
    patch(&v, &p, 64, &[0, 0, 0, 0]);
    let len = std::fs::metadata(&p).unwrap().len() as usize;
    patch(&p, &p, len - 512 + 64, &[0, 0, 0, 0]);
    expect_corrupt(&p, Some(Format::VhdDynamic), "vhd", "footer");
    // VHD dynamic: BAT entry past the end.
    let p = d.join("bat.vhd");
    let b = std::fs::read(&v).unwrap();
    let table = u64::from_be_bytes(b[512 + 16..512 + 24].try_into().unwrap()) as usize;
    patch(&v, &p, table, &0x7fff_fff0u32.to_be_bytes());
    expect_corrupt(&p, None, "vhd", "block allocation table");
    // VMDK: grain directory past the end; text-mode damage.
    let m = make("m.vmdk", &["-O", "vmdk"]);
    let p = d.join("gd.vmdk");
    patch(&m, &p, 56, &(1u64 << 40).to_be_bytes());
    expect_corrupt(&p, None, "vmdk", "grain directory");
    let p = d.join("eol.vmdk");
    patch(&m, &p, 73, b"\r\r\r\r");
    expect_corrupt(&p, None, "vmdk", "sparse header");
    let p = d.join("grain.vmdk");
    patch(&m, &p, 20, &3u64.to_le_bytes());
    expect_corrupt(&p, None, "vmdk", "sparse header");
    // Found by the fuzzer: a descriptor offset whose byte offset overflows.
    let p = d.join("desc.vmdk");
    patch(&m, &p, 28, &u64::MAX.to_le_bytes());
    let e = expect_corrupt(&p, None, "vmdk", "sparse header");
    assert!(e.contains("past the end"), "{e}");
    // VMDK stream: footer missing.
    let s = make("s.vmdk", &["-O", "vmdk", "-o", "subformat=streamOptimized"]);
    let b = std::fs::read(&s).unwrap();
    let p = d.join("nofooter.vmdk");
    let mut h = b.clone();
    h[56..64].copy_from_slice(&u64::MAX.to_le_bytes());
    std::fs::write(&p, &h[..h.len() - 1536]).unwrap();
    expect_corrupt(&p, None, "vmdk", "footer");
    // VMDK descriptor escaping its directory.
    let p = d.join("evil.vmdk");
    std::fs::write(
        &p,
        "# Disk DescriptorFile\nversion=1\nparentCID=ffffffff\ncreateType=\"monolithicFlat\"\n# Extent description\nRW 8 FLAT \"../../etc/passwd\" 0\n",
    )
    .unwrap();
    let e = expect_corrupt(&p, None, "vmdk", "descriptor");
    assert!(e.contains("line 6"), "{e}");
    // VHDX: a log to replay (log GUID set, CRC fixed up), and a broken region table.
    let x = make("x.vhdx", &["-O", "vhdx"]);
    let mut b = std::fs::read(&x).unwrap();
    for at in [64 << 10, 128 << 10] {
        b[at + 48..at + 64].copy_from_slice(&[7u8; 16]);
        b[at + 4..at + 8].fill(0);
        let crc = crc32c::crc32c(&b[at..at + 4096]);
        b[at + 4..at + 8].copy_from_slice(&crc.to_le_bytes());
    }
    let p = d.join("dirty.vhdx");
    std::fs::write(&p, &b).unwrap();
    assert!(expect_corrupt(&p, None, "vhdx", "log to replay").contains("not supported"));
    let mut b = std::fs::read(&x).unwrap();
    for at in [192 << 10, 256 << 10] {
        b[at + 20] ^= 0xff;
    }
    let p = d.join("region.vhdx");
    std::fs::write(&p, &b).unwrap();
    expect_corrupt(&p, None, "vhdx", "region table");
    // OVA: a member claiming more bytes than the file has.
    let ova = d.join("ok.ova");
    convert::convert(&raw, &ova, &Options::default(), &mut no_progress()).unwrap();
    let mut b = std::fs::read(&ova).unwrap();
    let mut h = tar::Header::new_ustar();
    h.set_path("ok.ovf").unwrap();
    h.set_size(1 << 40);
    h.set_cksum();
    b[..512].copy_from_slice(h.as_bytes());
    let p = d.join("bad.ova");
    std::fs::write(&p, &b).unwrap();
    expect_corrupt(&p, Some(Format::Ova), "ova", "tar member");
}

#[test]
fn a_failed_conversion_leaves_an_existing_destination_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let dest = d.join("keep.qcow2");
    std::fs::write(&dest, b"precious").unwrap();
    let bad = d.join("bad.qcow2");
    let mut h = vec![0u8; 4096];
    h[..4].copy_from_slice(b"QFI\xfb");
    h[4..8].copy_from_slice(&3u32.to_be_bytes());
    h[20..24].copy_from_slice(&40u32.to_be_bytes());
    std::fs::write(&bad, &h).unwrap();
    let err = convert::convert(&bad, &dest, &Options::default(), &mut no_progress()).unwrap_err();
    assert!(matches!(err, ConvertError::Corrupt { .. }), "{err}");
    assert!(err.to_string().contains("cluster_bits 40"), "{err}");
    assert_eq!(std::fs::read(&dest).unwrap(), b"precious");
    // Cancelling mid-way also leaves it.
    let raw = make_raw(d, "src.raw", 8 << 20, 1);
    let mut calls = 0;
    let err = convert::convert(&raw, &dest, &Options::default(), &mut |_| {
        calls += 1;
        calls < 3
    })
    .unwrap_err();
    assert!(matches!(err, ConvertError::Cancelled));
    assert_eq!(std::fs::read(&dest).unwrap(), b"precious");
    assert_eq!(
        std::fs::read_dir(d).unwrap().count(),
        3,
        "no temporary file left"
    );
}
