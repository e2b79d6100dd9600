//! The fake Azure Resource Manager (`servers/fake_arm.py`, Python standard library only,
//! with disk grants in Azurite through `servers/fake_disks.py`), started on a free loopback
//! port with a seed for one test and stopped when dropped; its log is shown if it exits
//! before it listens.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct FakeArm {
    child: Child,
    log: PathBuf,
    _dir: tempfile::TempDir,
    pub url: String,
}

/// The fake Resource Manager (with `fake_disks.py` beside it).
pub fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("servers/fake_arm.py")
}

impl FakeArm {
    /// Serves `seed` (the JSON the script documents).
    pub fn start(seed: &serde_json::Value) -> FakeArm {
        let dir = tempfile::tempdir().unwrap();
        let seed_file = dir.path().join("seed.json");
        std::fs::write(&seed_file, seed.to_string()).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        let log = dir.path().join("fake_arm.log");
        let child = Command::new("python3")
            .arg(script())
            .arg(port.to_string())
            .arg(&seed_file)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(std::fs::File::create(&log).unwrap()))
            .spawn()
            .expect("python3 runs the fake Resource Manager");
        let mut fake = FakeArm {
            child,
            log,
            _dir: dir,
            url: format!("http://127.0.0.1:{port}"),
        };
        fake.wait(port);
        fake
    }

    fn wait(&mut self, port: u16) {
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "the fake Resource Manager exited ({status}):\n{}",
                    self.log_text()
                );
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "the fake did not listen"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// What the fake logged (one line per request).
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn log_path(&self) -> &Path {
        &self.log
    }
}

impl Drop for FakeArm {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
