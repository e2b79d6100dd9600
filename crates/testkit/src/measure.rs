//! How long a child process ran and its peak RSS, from wait4's rusage (Child::wait gives no
//! rusage), with its stdout kept when the command pipes it. Shared by the benches that time
//! drydock and the tools it is compared with.

use std::io::Read;
use std::process::Command;
use std::time::Instant;

/// One finished run.
pub struct Measured {
    pub secs: f64,
    /// Peak resident set in KiB (ru_maxrss on Linux).
    pub maxrss_kib: i64,
    /// The raw wait status.
    pub status: i32,
    /// Its stdout, when the command pipes it.
    pub stdout: String,
}

/// Run `cmd` to the end.
// The child is reaped by wait4 (which also gives its rusage), not by Child::wait.
#[allow(clippy::zombie_processes)]
pub fn measure(cmd: &mut Command) -> Measured {
    let started = Instant::now();
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("{:?}: {e}", cmd.get_program()));
    let reader = child.stdout.take().map(|mut out| {
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = out.read_to_string(&mut s);
            s
        })
    });
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waiting for the child we just spawned.
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    assert!(pid > 0, "wait4 failed for {:?}", cmd.get_program());
    Measured {
        secs: started.elapsed().as_secs_f64(),
        maxrss_kib: usage.ru_maxrss,
        status,
        stdout: reader
            .map(|r| r.join().unwrap_or_default())
            .unwrap_or_default(),
    }
}
