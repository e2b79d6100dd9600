//! Every reader on images qemu-img made: several sizes (some not MiB-aligned), cluster and
//! block sizes, compressed, every VMDK subformat.

use super::*;

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
