//! Every writer checked by qemu-img (compare, check, info), compressed qcow2, the Azure VHD
//! rules and the OVA's member order and manifest.

use super::*;

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
    let unpacked = convert::ova::unpack(&out, &un, &mut |_| true).unwrap();
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
    let err = convert::ova::unpack(&bad, &un2, &mut |_| true)
        .unwrap_err()
        .to_string();
    assert!(err.contains("manifest"), "{err}");
    assert_eq!(
        std::fs::read_dir(&un2).unwrap().count(),
        0,
        "nothing extracted"
    );
}
