//! Hostile input, end to end: every command run over inputs made to crash, hang or exhaust
//! it, under `prlimit --as=1G` and `timeout 20`, must end with an exit code of 0–3 and no
//! panic, and each finding of the hardening issue has a test here that makes its input.

#[path = "../common/mod.rs"]
mod common;
mod corpus;
mod inputs;
mod outputs;
mod replay;

use std::path::Path;
use std::process::Command;

/// What a command did under the limits.
pub struct Ran {
    pub code: i32,
    pub out: String,
    pub err: String,
    pub secs: f64,
}

/// Runs drydock with `args` in `home` under a 1 GiB address-space limit and a 20 s timeout;
/// asserts it ended by itself with 0–3 and did not panic.
pub fn hostile(home: &Path, args: &[&str]) -> Ran {
    let started = std::time::Instant::now();
    let base = common::drydock_process(home);
    let mut cmd = Command::new("prlimit");
    cmd.arg("--as=1073741824")
        .arg("--")
        .args(["timeout", "-s", "KILL", "20"])
        .arg(base.get_program())
        .args(args)
        .current_dir(home)
        .env_clear();
    for (k, v) in base.get_envs() {
        if let Some(v) = v {
            cmd.env(k, v);
        }
    }
    let out = cmd
        .output()
        .expect("prlimit and timeout run (util-linux, coreutils)");
    let ran = Ran {
        code: out.status.code().unwrap_or(-1),
        out: String::from_utf8_lossy(&out.stdout).into_owned(),
        err: String::from_utf8_lossy(&out.stderr).into_owned(),
        secs: started.elapsed().as_secs_f64(),
    };
    assert!(
        (0..=3).contains(&ran.code) && !ran.err.contains("panicked"),
        "drydock {args:?} ended with {} after {:.1} s:\n{}\n{}",
        ran.code,
        ran.secs,
        ran.out,
        ran.err
    );
    ran
}

/// Makes a FIFO at `path`.
pub fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    // SAFETY: a path string the test owns.
    assert_eq!(
        unsafe { libc::mkfifo(c.as_ptr(), 0o600) },
        0,
        "mkfifo {path:?}"
    );
}
