//! Outputs never destroy what they should not: `--force` replaces only regular files,
//! temporary files go on error and on signal, names from cloud data stay inside the data
//! directory.

use std::os::fd::{FromRawFd, OwnedFd};

/// A pipe whose reading end is already closed: every write to it fails with EPIPE.
fn closed_pipe() -> OwnedFd {
    let mut fds = [0; 2];
    // SAFETY: pipe fills two descriptors this test then owns.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: both descriptors were just created and are owned once each.
    unsafe {
        drop(OwnedFd::from_raw_fd(fds[0]));
        OwnedFd::from_raw_fd(fds[1])
    }
}

#[test]
fn a_closed_stdout_ends_every_command_quietly() {
    let home = tempfile::tempdir().unwrap();
    let disk = home.path().join("d.raw");
    std::fs::File::create(&disk)
        .unwrap()
        .set_len(16 << 20)
        .unwrap();
    let d = disk.to_str().unwrap();
    let commands: &[&[&str]] = &[
        &["lint", d, "--format", "json"],
        &["lint", d],
        &["inspect", "--diff", d, d, "--format", "json"],
        &["inspect", d],
        &["inspect", d, "--format", "spdx"],
        &["convert", "--check", d],
        &["report", "--demo"],
        &["report", "--demo", "--format", "json"],
        &["info"],
        &["plan", "list"],
        &["completions", "bash"],
    ];
    for args in commands {
        let out = crate::common::drydock_process(home.path())
            .args(*args)
            .stdout(std::process::Stdio::from(closed_pipe()))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {err}");
        assert!(
            !err.contains("panicked") && !err.contains("Broken pipe"),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn force_replaces_only_regular_files() {
    use std::os::unix::fs::FileTypeExt;
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    std::fs::File::create(h.join("d.raw"))
        .unwrap()
        .set_len(1 << 20)
        .unwrap();
    crate::mkfifo(&h.join("fifo"));
    std::os::unix::fs::symlink("/dev/null", h.join("link")).unwrap();
    let mut outputs = vec![("fifo", "FIFO"), ("link", "symbolic link")];
    // A character device like /dev/null's, where this user may make one.
    let node = std::ffi::CString::new(h.join("node").to_str().unwrap()).unwrap();
    // SAFETY: a path string the test owns; makedev(1, 3) is /dev/null's number.
    if unsafe { libc::mknod(node.as_ptr(), libc::S_IFCHR | 0o600, libc::makedev(1, 3)) } == 0 {
        outputs.push(("node", "a character device"));
    }
    for (out, what) in outputs {
        for args in [
            &["convert", "d.raw", out, "--to", "raw", "--force"][..],
            &["transfer", "d.raw", out, "--to", "raw", "--force"],
        ] {
            let ran = crate::hostile(h, args);
            assert_eq!(ran.code, 2, "{args:?}: {}", ran.err);
            assert!(
                ran.err.contains(what) && ran.err.contains("only regular files"),
                "{}",
                ran.err
            );
        }
        let t = std::fs::symlink_metadata(h.join(out)).unwrap().file_type();
        assert!(
            t.is_fifo() || t.is_symlink() || t.is_char_device(),
            "{out} was replaced"
        );
    }
}

#[test]
fn a_family_from_cloud_data_never_leaves_the_plans_directory() {
    let now = crate::common::now();
    let mut inv = crate::common::demo_inventory(now);
    let evil = "../../../../../../x/PWNED";
    for img in &mut inv.images {
        if img.tags.get("drydock:family") == Some("app-checkout") {
            img.tags.insert("drydock:family", evil);
        }
    }
    let (config, _) = drydock::config::load(Some(std::path::Path::new("/dev/null")), &[]).unwrap();
    let a = drydock::drift::evaluate(&inv, &config.policy, now);
    let plan = drydock::plan::build(&inv, &a, &drydock::plan::PlanRequest::new(evil), now)
        .expect("a plan for the renamed family");
    assert!(plan.id.starts_with("x_PWNED-"), "{}", plan.id);
    assert!(
        !plan.id.contains('/') && !plan.id.starts_with('.'),
        "{}",
        plan.id
    );
    // A hand-edited plan whose id is a path is refused when read.
    let text = toml::to_string(&plan)
        .unwrap()
        .replace(&plan.id, "../../etc/cron.d/x");
    let e = drydock::plan::Plan::parse(&text).unwrap_err().to_string();
    assert!(e.contains("not a plain name"), "{e}");
}

/// An OVA drydock packs from a 4 MiB disk with data, then unpacked into `dir` with tar.
fn ova_members(h: &std::path::Path) -> (std::path::PathBuf, Vec<String>) {
    let disk = h.join("d.raw");
    let mut data = vec![0u8; 4 << 20];
    for (i, b) in data.iter_mut().enumerate().step_by(4093) {
        *b = (i % 251) as u8 + 1;
    }
    std::fs::write(&disk, &data).unwrap();
    let ran = crate::hostile(h, &["convert", "d.raw", "x.ova"]);
    assert_eq!(ran.code, 0, "{}", ran.err);
    let parts = h.join("parts");
    std::fs::create_dir_all(&parts).unwrap();
    let out = Command::new("tar")
        .arg("-tf")
        .arg(h.join("x.ova"))
        .output()
        .unwrap();
    let names: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    assert!(Command::new("tar")
        .arg("-xf")
        .arg(h.join("x.ova"))
        .arg("-C")
        .arg(&parts)
        .status()
        .unwrap()
        .success());
    (parts, names)
}

/// Packs `names` from `parts` into `ova` as a ustar archive, in that order.
fn tar_ova(parts: &std::path::Path, ova: &std::path::Path, names: &[&str]) {
    let ok = Command::new("tar")
        .args(["--format=ustar", "-cf"])
        .arg(ova)
        .arg("-C")
        .arg(parts)
        .args(names)
        .status()
        .unwrap();
    assert!(ok.success());
}

use std::process::Command;

#[test]
fn an_ova_manifest_is_verified_wherever_its_disk_is_read() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let (parts, names) = ova_members(h);
    let mf = names.iter().find(|n| n.ends_with(".mf")).unwrap().clone();
    let text = std::fs::read_to_string(parts.join(&mf)).unwrap();
    // One digit of the disk's digest changed.
    let (head, digest) = text.trim_end().rsplit_once("= ").unwrap();
    let flipped = format!(
        "{}{}",
        if digest.starts_with('0') { "1" } else { "0" },
        &digest[1..]
    );
    let lines: Vec<String> = text
        .lines()
        .map(|l| {
            if l.ends_with(digest) {
                format!("{head}= {flipped}")
            } else {
                l.to_string()
            }
        })
        .collect();
    std::fs::write(parts.join(&mf), lines.join("\n") + "\n").unwrap();
    let order: Vec<&str> = names.iter().map(String::as_str).collect();
    tar_ova(&parts, &h.join("bad.ova"), &order);
    for args in [
        &["convert", "--check", "bad.ova"][..],
        &["inspect", "bad.ova"],
        &["lint", "bad.ova"],
        &["transfer", "bad.ova", "out.raw"],
        &["ova", "unpack", "bad.ova", "un"],
    ] {
        let ran = crate::hostile(h, args);
        assert_eq!(ran.code, 2, "{args:?}: {}", ran.out);
        assert!(
            ran.err.contains("the manifest says"),
            "{args:?}: {}",
            ran.err
        );
    }
    assert!(!h.join("out.raw").exists() && !h.join("un").join(&names[2]).exists());
    // A megabyte of blank lines before the wrong line is still read to the end.
    std::fs::write(
        parts.join(&mf),
        "\n".repeat(1 << 19) + &lines.join("\n") + "\n",
    )
    .unwrap();
    tar_ova(&parts, &h.join("padded.ova"), &order);
    let ran = crate::hostile(h, &["ova", "unpack", "padded.ova", "un2"]);
    assert_eq!(ran.code, 2, "{}", ran.out);
    assert!(ran.err.contains("the manifest says"), "{}", ran.err);
    // Two members of one name are refused, and nothing is left behind.
    std::fs::copy(parts.join(&names[2]), parts.join("again")).unwrap();
    let dup = h.join("dup.ova");
    tar_ova(&parts, &dup, &order);
    let ok = Command::new("tar")
        .args(["--format=ustar", "-rf"])
        .arg(&dup)
        .arg("-C")
        .arg(&parts)
        .arg(&names[2])
        .status()
        .unwrap();
    assert!(ok.success());
    let ran = crate::hostile(h, &["ova", "unpack", "dup.ova", "un3"]);
    assert_eq!(ran.code, 2, "{}", ran.out);
    assert!(ran.err.contains("appears twice"), "{}", ran.err);
    let left: Vec<_> = std::fs::read_dir(h.join("un3"))
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "{left:?}");
    // Cancelled half-way, an unpack leaves no temporary file.
    let un4 = h.join("un4");
    let e = drydock::convert::ova::unpack(&h.join("x.ova"), &un4, &mut |p| p.done < 4096)
        .unwrap_err()
        .to_string();
    assert!(e.contains("cancelled"), "{e}");
    let left: Vec<_> = std::fs::read_dir(&un4)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn the_sha256_printed_is_of_the_final_bytes() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    std::fs::write(h.join("d.raw"), vec![7u8; 1 << 20]).unwrap();
    for out in ["o.ova", "o.qcow2", "o.vhd", "o.vmdk"] {
        let ran = crate::hostile(h, &["convert", "d.raw", out, "--sha256"]);
        assert_eq!(ran.code, 0, "{}", ran.err);
        let said = ran
            .out
            .lines()
            .find_map(|l| l.strip_prefix("sha256 "))
            .unwrap_or_else(|| panic!("{}", ran.out));
        let real = Command::new("sha256sum").arg(h.join(out)).output().unwrap();
        let real = String::from_utf8(real.stdout).unwrap();
        assert_eq!(said, real.split_whitespace().next().unwrap(), "{out}");
    }
}
