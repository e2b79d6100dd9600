//! Starts Azurite's blob service (Microsoft's Azure Storage emulator, npm package `azurite`,
//! installed by tests/run.sh) on a free loopback port with a private data directory, for one
//! test or benchmark; stops it when dropped. Its access log (one line per request) is kept
//! so tests can count Put Page calls.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Azurite's documented development account.
pub const ACCOUNT: &str = "devstoreaccount1";
pub const KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

pub struct Azurite {
    child: Child,
    dir: tempfile::TempDir,
    pub url: String,
}

/// `DRYDOCK_TEST_AZURITE` (tests/run.sh sets it), else where tests/run.sh installs it.
pub fn binary() -> PathBuf {
    if let Some(p) = std::env::var_os("DRYDOCK_TEST_AZURITE") {
        return p.into();
    }
    PathBuf::from(std::env::var("HOME").unwrap_or_default())
        .join(".cache/drydock-azurite/node_modules/.bin/azurite-blob")
}

impl Azurite {
    pub fn start() -> Azurite {
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        let log = std::fs::File::create(dir.path().join("access.log")).unwrap();
        let bin = binary();
        let child = Command::new(&bin)
            .args(["--blobHost", "127.0.0.1", "--blobPort", &port.to_string()])
            .arg("--location")
            .arg(dir.path().join("data"))
            .args(["--skipApiVersionCheck", "--disableTelemetry"])
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start Azurite ({}): {e}; run the suite with `bash tests/run.sh`",
                    bin.display()
                )
            });
        let mut a = Azurite {
            child,
            dir,
            url: format!("http://127.0.0.1:{port}"),
        };
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = a.child.try_wait() {
                panic!("Azurite exited ({status}):\n{}", a.log());
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "Azurite did not listen:\n{}",
                a.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        a
    }

    /// The seed entry that tells the fake Resource Manager where disk bytes go.
    pub fn seed(&self) -> serde_json::Value {
        serde_json::json!({"url": self.url, "account": ACCOUNT, "key": KEY})
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("access.log")).unwrap_or_default()
    }

    /// Put Page requests served so far, but for the fake Resource Manager's own copies.
    pub fn put_pages(&self) -> usize {
        self.log()
            .lines()
            .filter(|l| l.contains("PUT ") && l.contains("comp=page") && !l.contains("by=fake"))
            .count()
    }
}

impl Drop for Azurite {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
