//! Names the commit the binary was built from, for `drydock --version`: `git describe`
//! of the checkout's HEAD, or "unknown commit" outside a git checkout (a source tarball).

use std::process::Command;

fn main() {
    let described = Command::new("git")
        .args(["describe", "--always", "--abbrev=12"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    let commit = described.unwrap_or_else(|| "unknown commit".into());
    println!("cargo:rustc-env=DRYDOCK_COMMIT={commit}");
    // A new commit or checkout changes HEAD or the branch it points to.
    for f in [".git/HEAD", ".git/refs/heads"] {
        if std::path::Path::new(f).exists() {
            println!("cargo:rerun-if-changed={f}");
        }
    }
}
