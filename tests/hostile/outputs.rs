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
        outputs.push(("node", "a device"));
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
        if img.tags.get("drydock:family").map(String::as_str) == Some("app-checkout") {
            img.tags.insert("drydock:family".into(), evil.into());
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
