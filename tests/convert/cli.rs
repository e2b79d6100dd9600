//! The command line: Ctrl-C, `--check`, `--json`, and stale temporary outputs.

use super::*;

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
    // Its stderr is read, not leaked into the test run's output.
    let child = Command::new(env!("CARGO_BIN_EXE_drydock"))
        .args(["convert", "-q", "--compress"])
        .arg(&src)
        .arg(&dest)
        .stderr(std::process::Stdio::piped())
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
    let out = child.wait_with_output().unwrap();
    let status = out.status;
    assert_eq!(status.code(), Some(2), "cancelled, not killed: {status}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cancelled; nothing was written"), "{err}");
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

#[test]
fn an_existing_output_is_never_overwritten_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let src = make_raw(d, "src.raw", 1 << 20, 5);
    let dest = d.join("keep.qcow2");
    std::fs::write(&dest, b"precious").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_drydock"))
        .args(["convert", "-q"])
        .arg(&src)
        .arg(&dest)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("already exists") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(std::fs::read(&dest).unwrap(), b"precious");
    let ova = d.join("keep.ova");
    std::fs::write(&ova, b"precious").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_drydock"))
        .args(["ova", "pack", "-q"])
        .arg(&src)
        .arg(&ova)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(std::fs::read(&ova).unwrap(), b"precious");
    // --force replaces it, atomically, with a valid image.
    let out = Command::new(env!("CARGO_BIN_EXE_drydock"))
        .args(["convert", "-q", "--force"])
        .arg(&src)
        .arg(&dest)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(&std::fs::read(&dest).unwrap()[..4], b"QFI\xfb");
}
