//! The conversion engine against qemu-img as the oracle: drydock reads what qemu-img writes,
//! qemu-img reads (compare, check, info) what drydock writes, and hostile images fail with
//! an error naming format, structure and offset, leaving nothing at the destination.

use drydock::convert::{self, ConvertError, Format, Options};
use std::path::{Path, PathBuf};
use std::process::Command;

fn qemu_img(args: &[&str]) -> String {
    let out = Command::new("qemu-img")
        .args(args)
        .output()
        .expect("qemu-img is installed");
    assert!(
        out.status.success(),
        "qemu-img {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn virtual_size(path: &Path, fmt: &str) -> u64 {
    let json = qemu_img(&["info", "--output=json", "-f", fmt, path.to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    v["virtual-size"].as_u64().unwrap()
}

/// A raw image of `size` bytes: random data, text-like data, zero gaps, and data in the
/// last partial cluster.
fn make_raw(dir: &Path, name: &str, size: u64, seed: u64) -> PathBuf {
    let mut state = seed | 1;
    let mut rnd = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut bytes = vec![0u8; size as usize];
    let mut at = 0usize;
    while at < bytes.len() {
        let kind = rnd() % 4;
        let len = ((rnd() % 300_000) as usize + 1).min(bytes.len() - at);
        match kind {
            0 => bytes[at..at + len]
                .iter_mut()
                .for_each(|b| *b = rnd() as u8),
            1 => {
                let text =
                    b"root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1::/usr/sbin:/usr/sbin/nologin\n";
                for (i, b) in bytes[at..at + len].iter_mut().enumerate() {
                    *b = text[i % text.len()];
                }
            }
            _ => {}
        }
        at += len;
    }
    let tail = bytes.len().saturating_sub(700);
    bytes[tail..tail + 100].fill(0xAB);
    let path = dir.join(name);
    std::fs::write(&path, &bytes).unwrap();
    path
}

fn no_progress() -> impl FnMut(convert::Progress) -> bool {
    |_| true
}

fn to_raw(input: &Path, out: &Path) -> convert::Report {
    convert::convert(
        input,
        out,
        &Options {
            to: Some(Format::Raw),
            sha256: true,
            ..Options::default()
        },
        &mut no_progress(),
    )
    .unwrap_or_else(|e| panic!("drydock reading {}: {e}", input.display()))
}

/// Sizes: MiB-aligned, sector-aligned but not MiB-aligned, small.
const SIZES: &[u64] = &[10 << 20, 5_000_192, (1 << 20) + 1536];

#[test]
fn every_reader_reads_what_qemu_img_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let variants: &[(&str, &[&str], &str)] = &[
        ("qcow2", &["-O", "qcow2"], "qcow2"),
        (
            "qcow2",
            &["-O", "qcow2", "-o", "cluster_size=4096"],
            "qcow2",
        ),
        ("qcow2", &["-O", "qcow2", "-o", "cluster_size=2M"], "qcow2"),
        ("qcow2", &["-O", "qcow2", "-o", "compat=0.10"], "qcow2"),
        ("qcow2", &["-O", "qcow2", "-c"], "qcow2"),
        (
            "qcow2",
            &["-O", "qcow2", "-c", "-o", "cluster_size=8192"],
            "qcow2",
        ),
        (
            "vhd",
            &["-O", "vpc", "-o", "subformat=fixed,force_size=on"],
            "vpc",
        ),
        ("vhd", &["-O", "vpc", "-o", "subformat=fixed"], "vpc"),
        ("vhd", &["-O", "vpc", "-o", "subformat=dynamic"], "vpc"),
        (
            "vmdk",
            &["-O", "vmdk", "-o", "subformat=streamOptimized"],
            "vmdk",
        ),
        (
            "vmdk",
            &["-O", "vmdk", "-o", "subformat=monolithicSparse"],
            "vmdk",
        ),
        (
            "vmdk",
            &["-O", "vmdk", "-o", "subformat=monolithicFlat"],
            "vmdk",
        ),
        (
            "vmdk",
            &["-O", "vmdk", "-o", "subformat=twoGbMaxExtentSparse"],
            "vmdk",
        ),
        ("vhdx", &["-O", "vhdx"], "vhdx"),
        ("vhdx", &["-O", "vhdx", "-o", "block_size=32M"], "vhdx"),
    ];
    for (i, &size) in SIZES.iter().enumerate() {
        let raw = make_raw(d, &format!("src{i}.raw"), size, 7 + i as u64);
        for (j, (ext, args, qfmt)) in variants.iter().enumerate() {
            let img = d.join(format!("q{i}-{j}.{ext}"));
            let mut a = vec!["convert", "-f", "raw"];
            a.extend_from_slice(args);
            a.push(raw.to_str().unwrap());
            a.push(img.to_str().unwrap());
            qemu_img(&a);
            let back = d.join(format!("q{i}-{j}.back.raw"));
            let report = to_raw(&img, &back);
            let want = virtual_size(&img, qfmt);
            assert_eq!(
                report.input.virtual_size, want,
                "{args:?} size {size}: virtual size"
            );
            let got = std::fs::read(&back).unwrap();
            let src = std::fs::read(&raw).unwrap();
            let n = src.len().min(got.len());
            assert_eq!(
                got.len() as u64,
                want,
                "{args:?} size {size}: output length"
            );
            assert!(
                got[..n] == src[..n],
                "{args:?} size {size}: content differs"
            );
            assert!(
                got[n..].iter().all(|&b| b == 0),
                "{args:?}: padding not zero"
            );
            // The reported digest is the file's.
            let sha = sha256_of(&back);
            assert_eq!(report.output.sha256, Some(sha));
        }
    }
}

fn sha256_of(path: &Path) -> String {
    use sha2::{Digest, Sha256};
    let bytes = std::fs::read(path).unwrap();
    Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn every_writer_is_read_back_identically_by_qemu_img() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let outputs: &[(&str, Format, bool, &str, bool)] = &[
        ("raw", Format::Raw, false, "raw", false),
        ("qcow2", Format::Qcow2, false, "qcow2", true),
        ("qcow2", Format::Qcow2, true, "qcow2", true),
        ("vhd", Format::Vhd, false, "vpc", false),
        ("vhd", Format::VhdDynamic, false, "vpc", false),
        ("vmdk", Format::Vmdk, false, "vmdk", true),
        ("vmdk", Format::VmdkSparse, false, "vmdk", true),
    ];
    for (i, &size) in SIZES.iter().enumerate() {
        let raw = make_raw(d, &format!("src{i}.raw"), size, 100 + i as u64);
        for (j, (ext, fmt, compress, qfmt, check)) in outputs.iter().enumerate() {
            let out = d.join(format!("w{i}-{j}.{ext}"));
            let report = convert::convert(
                &raw,
                &out,
                &Options {
                    to: Some(*fmt),
                    compress: *compress,
                    threads: 2,
                    sha256: true,
                    ..Options::default()
                },
                &mut no_progress(),
            )
            .unwrap_or_else(|e| panic!("writing {fmt}: {e}"));
            let (o, r) = (out.to_str().unwrap(), raw.to_str().unwrap());
            let cmp = qemu_img(&["compare", "-f", "raw", "-F", qfmt, r, o]);
            assert!(cmp.contains("identical"), "{fmt} size {size}: {cmp}");
            if *check {
                let c = qemu_img(&["check", "-f", qfmt, o]);
                assert!(c.contains("No errors"), "{fmt}: {c}");
            }
            assert_eq!(virtual_size(&out, qfmt), size, "{fmt} size {size}");
            assert_eq!(report.output.sha256, Some(sha256_of(&out)), "{fmt}: digest");
            // And drydock reads its own output back to the same bytes.
            let back = d.join(format!("w{i}-{j}.back.raw"));
            to_raw(&out, &back);
            assert!(std::fs::read(&back).unwrap() == std::fs::read(&raw).unwrap());
        }
    }
}

#[test]
fn compressed_qcow2_holds_compressed_clusters_and_is_smaller() {
    let dir = tempfile::tempdir().unwrap();
    let raw = make_raw(dir.path(), "src.raw", 16 << 20, 3);
    let (plain, packed) = (dir.path().join("p.qcow2"), dir.path().join("c.qcow2"));
    for (out, compress) in [(&plain, false), (&packed, true)] {
        convert::convert(
            &raw,
            out,
            &Options {
                compress,
                ..Options::default()
            },
            &mut no_progress(),
        )
        .unwrap();
    }
    let check = qemu_img(&["check", "-f", "qcow2", packed.to_str().unwrap()]);
    assert!(check.contains("compressed clusters"), "{check}");
    assert!(!check.contains(" 0.00% compressed"), "{check}");
    let (a, b) = (
        std::fs::metadata(&plain).unwrap().len(),
        std::fs::metadata(&packed).unwrap().len(),
    );
    assert!(b < a * 3 / 4, "compressed {b} vs plain {a}");
}

#[test]
fn azure_vhd_is_fixed_with_a_whole_mib_size_and_a_valid_footer() {
    let dir = tempfile::tempdir().unwrap();
    let raw = make_raw(dir.path(), "src.raw", 5_000_192, 9);
    let out = dir.path().join("azure.vhd");
    let report = convert::convert(
        &raw,
        &out,
        &Options {
            azure: true,
            ..Options::default()
        },
        &mut no_progress(),
    )
    .unwrap();
    let want = 5_000_192u64.div_ceil(1 << 20) << 20;
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.contains("whole number of MiB")),
        "{:?}",
        report.warnings
    );
    let bytes = std::fs::read(&out).unwrap();
    assert_eq!(
        bytes.len() as u64,
        want + 512,
        "fixed: data then one footer"
    );
    let footer = &bytes[bytes.len() - 512..];
    assert_eq!(&footer[..8], b"conectix");
    assert_eq!(
        u32::from_be_bytes(footer[60..64].try_into().unwrap()),
        2,
        "fixed"
    );
    assert_eq!(u64::from_be_bytes(footer[48..56].try_into().unwrap()), want);
    let sum: u32 = footer
        .iter()
        .enumerate()
        .filter(|(i, _)| !(64..68).contains(i))
        .fold(0u32, |s, (_, &b)| s.wrapping_add(b as u32));
    assert_eq!(u32::from_be_bytes(footer[64..68].try_into().unwrap()), !sum);
    assert_eq!(virtual_size(&out, "vpc"), want);
    assert_eq!(want % (1 << 20), 0);
    let cmp = qemu_img(&[
        "compare",
        "-f",
        "raw",
        "-F",
        "vpc",
        raw.to_str().unwrap(),
        out.to_str().unwrap(),
    ]);
    assert!(cmp.contains("identical"), "{cmp}");
    // --azure with another output format is refused.
    let err = convert::convert(
        &raw,
        &dir.path().join("x.qcow2"),
        &Options {
            azure: true,
            to: Some(Format::Qcow2),
            ..Options::default()
        },
        &mut no_progress(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("--azure"), "{err}");
}

#[test]
fn ova_has_descriptor_then_manifest_then_disk_with_matching_digests() {
    let dir = tempfile::tempdir().unwrap();
    let raw = make_raw(dir.path(), "src.raw", 6 << 20, 11);
    let out = dir.path().join("golden.ova");
    convert::convert(&raw, &out, &Options::default(), &mut no_progress()).unwrap();
    // Read the tar with the tar crate.
    let mut archive = tar::Archive::new(std::fs::File::open(&out).unwrap());
    let mut names = Vec::new();
    let mut digests = std::collections::HashMap::new();
    let mut manifest = String::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        assert!(entry.header().as_ustar().is_some(), "USTAR headers");
        let name = entry.path().unwrap().to_string_lossy().into_owned();
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut bytes).unwrap();
        use sha2::Digest;
        let hex: String = sha2::Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        if name.ends_with(".mf") {
            manifest = String::from_utf8(bytes.clone()).unwrap();
        }
        if name.ends_with(".ovf") {
            let text = String::from_utf8(bytes.clone()).unwrap();
            assert!(text.contains("<DiskSection>") && text.contains("<VirtualHardwareSection>"));
            assert!(text.contains(&format!("ovf:capacity=\"{}\"", 6 << 20)));
            assert!(text.contains("<rasd:ResourceType>17</rasd:ResourceType>"));
        }
        digests.insert(name.clone(), hex);
        names.push(name);
    }
    assert_eq!(names, ["golden.ovf", "golden.mf", "golden-disk1.vmdk"]);
    for name in ["golden.ovf", "golden-disk1.vmdk"] {
        assert!(
            manifest.contains(&format!("SHA256({name})= {}\n", digests[name])),
            "{manifest}"
        );
    }
    // Unpack verifies and extracts; the disk is identical to the source for qemu-img.
    let un = dir.path().join("un");
    let unpacked = convert::ova::unpack(&out, &un).unwrap();
    assert_eq!(unpacked.verified, 2);
    let cmp = qemu_img(&[
        "compare",
        "-f",
        "raw",
        "-F",
        "vmdk",
        raw.to_str().unwrap(),
        un.join("golden-disk1.vmdk").to_str().unwrap(),
    ]);
    assert!(cmp.contains("identical"), "{cmp}");
    // Reading the OVA as an input gives the disk back.
    let back = dir.path().join("back.raw");
    to_raw(&out, &back);
    assert!(std::fs::read(&back).unwrap() == std::fs::read(&raw).unwrap());
    // A tampered disk fails the manifest and extracts nothing.
    let mut bytes = std::fs::read(&out).unwrap();
    let n = bytes.len();
    bytes[n - 4000] ^= 0xff;
    let bad = dir.path().join("bad.ova");
    std::fs::write(&bad, &bytes).unwrap();
    let un2 = dir.path().join("un2");
    let err = convert::ova::unpack(&bad, &un2).unwrap_err().to_string();
    assert!(err.contains("manifest"), "{err}");
    assert_eq!(
        std::fs::read_dir(&un2).unwrap().count(),
        0,
        "nothing extracted"
    );
}

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

#[test]
fn ctrl_c_on_the_command_line_removes_the_temporary_output() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // 384 MiB of compressible, non-zero text: compressing it takes a while on any machine.
    let src = d.join("big.raw");
    let mut text = Vec::with_capacity(384 << 20);
    let mut n = 0u64;
    while text.len() < 384 << 20 {
        text.extend_from_slice(format!("line {n} of a log the disk holds\n").as_bytes());
        n += 1;
    }
    text.truncate(384 << 20);
    std::fs::write(&src, &text).unwrap();
    drop(text);
    let dest = d.join("out.qcow2");
    let mut child = Command::new(env!("CARGO_BIN_EXE_drydock"))
        .args(["convert", "-q", "--compress"])
        .arg(&src)
        .arg(&dest)
        .spawn()
        .unwrap();
    // Wait for the temporary output to appear, then interrupt.
    let temp = |d: &Path| {
        std::fs::read_dir(d)
            .unwrap()
            .filter_map(|e| e.ok())
            .any(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
    };
    let started = std::time::Instant::now();
    while !temp(d) {
        assert!(started.elapsed().as_secs() < 30, "no temporary output");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(2), "cancelled, not killed: {status}");
    assert!(!dest.exists(), "nothing at the destination");
    assert!(!temp(d), "temporary output removed");
    // A temporary output left by a killed run (its process is gone) is swept by the next
    // conversion to the same name; one of a live process is not.
    let mut gone = Command::new("true").spawn().unwrap();
    gone.wait().unwrap();
    let stale = d.join(format!(".out.qcow2.drydock-{}.tmp", gone.id()));
    let live = d.join(format!(
        ".out.qcow2.drydock-{}.tmp",
        std::os::unix::process::parent_id()
    ));
    std::fs::write(&stale, b"left by a killed run").unwrap();
    std::fs::write(&live, b"someone else's").unwrap();
    let small = make_raw(d, "small.raw", 1 << 20, 3);
    convert::convert(&small, &dest, &Options::default(), &mut no_progress()).unwrap();
    assert!(!stale.exists(), "stale temporary output swept");
    assert!(live.exists(), "a live process's temporary output is kept");
}

#[test]
fn check_validates_structure_and_detects_formats() {
    let dir = tempfile::tempdir().unwrap();
    let raw = make_raw(dir.path(), "src.raw", 3 << 20, 2);
    let r = raw.to_str().unwrap();
    for (args, want) in [
        (vec!["-O", "qcow2"], Format::Qcow2),
        (
            vec!["-O", "vpc", "-o", "subformat=fixed,force_size=on"],
            Format::Vhd,
        ),
        (vec!["-O", "vpc"], Format::VhdDynamic),
        (
            vec!["-O", "vmdk", "-o", "subformat=streamOptimized"],
            Format::Vmdk,
        ),
        (vec!["-O", "vmdk"], Format::VmdkSparse),
        (vec!["-O", "vhdx"], Format::Vhdx),
    ] {
        let p = dir.path().join(format!("img-{}", want.name()));
        let mut a = vec!["convert", "-f", "raw"];
        a.extend(args);
        a.extend([r, p.to_str().unwrap()]);
        qemu_img(&a);
        let report = convert::check(&p, None, &mut no_progress()).unwrap();
        assert_eq!(report.info.format, want);
        assert!(report.data_bytes > 0);
    }
}

#[test]
fn cli_converts_with_json_output_and_checks() {
    let dir = tempfile::tempdir().unwrap();
    let raw = make_raw(dir.path(), "src.raw", 2 << 20, 4);
    let out = dir.path().join("out.vmdk");
    let bin = env!("CARGO_BIN_EXE_drydock");
    let o = Command::new(bin)
        .args([
            "convert",
            "--json",
            "--sha256",
            raw.to_str().unwrap(),
            out.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["output_format"], "vmdk");
    assert_eq!(v["input_format"], "raw");
    assert_eq!(v["sha256"].as_str().unwrap(), sha256_of(&out));
    let o = Command::new(bin)
        .args(["convert", "--check", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).contains("structure OK"));
    // A corrupt file: exit 2 and one line naming format, structure and offset.
    let bad = dir.path().join("bad.vmdk");
    let mut b = std::fs::read(&out).unwrap();
    b[73] = b'x';
    std::fs::write(&bad, b).unwrap();
    let o = Command::new(bin)
        .args(["convert", "--check", bad.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("vmdk: corrupt sparse header at offset 73"),
        "{err}"
    );
    // Unknown extension without --to.
    let o = Command::new(bin)
        .args([
            "convert",
            raw.to_str().unwrap(),
            dir.path().join("x.foo").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--to"));
}
