//! A fake service written in Python (a script under `servers/`), started on a free loopback
//! port for one test and stopped when dropped; its log (stderr, one line per request) is
//! shown if it exits before it listens.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct ScriptServer {
    child: Child,
    log: PathBuf,
    _dir: tempfile::TempDir,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
}

/// A script of `servers/`.
pub fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("servers")
        .join(name)
}

impl ScriptServer {
    /// Runs `servers/NAME PORT ARGS…`, `args` made in a temporary directory of the server's
    /// own (for seed files); returns once the port answers. `what` names it in a panic.
    pub fn start(
        what: &str,
        name: &str,
        args: impl FnOnce(&Path) -> Vec<OsString>,
    ) -> ScriptServer {
        let dir = tempfile::tempdir().unwrap();
        let args = args(dir.path());
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        let log = dir.path().join("server.log");
        let child = Command::new("python3")
            .arg(script(name))
            .arg(port.to_string())
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(std::fs::File::create(&log).unwrap()))
            .spawn()
            .unwrap_or_else(|e| panic!("python3 runs {what}: {e}"));
        let mut server = ScriptServer {
            child,
            log,
            _dir: dir,
            url: format!("http://127.0.0.1:{port}"),
        };
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("{what} exited ({status}):\n{}", server.log_text());
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "{what} did not listen"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }

    /// Runs `servers/NAME PORT SEED_FILE`, the seed written as JSON.
    pub fn seeded(what: &str, name: &str, seed: &serde_json::Value) -> ScriptServer {
        ScriptServer::start(what, name, |dir| {
            let file = dir.join("seed.json");
            std::fs::write(&file, seed.to_string()).unwrap();
            vec![file.into_os_string()]
        })
    }

    /// What the server logged (one line per request).
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The server's process id (a benchmark pins it to a CPU).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn log_path(&self) -> &Path {
        &self.log
    }
}

impl Drop for ScriptServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
