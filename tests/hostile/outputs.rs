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
