//! moto (a local EC2, Auto Scaling, EBS, STS and Organizations API) with drydock's
//! additions in `servers/moto_server.py`, started on a free loopback port for one test or
//! benchmark and stopped when dropped. moto's log goes to a file; if the server exits before
//! it listens, the panic shows that log instead of waiting out the timeout.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long moto may take to listen: its imports take 2 s on an idle machine.
const START_TIMEOUT: Duration = Duration::from_secs(90);

/// A running moto server.
pub struct MotoServer {
    child: Child,
    log: PathBuf,
    pub port: u16,
    pub url: String,
}

/// The python that has moto: `DRYDOCK_TEST_PYTHON` (tests/run.sh sets it), else the venv
/// tests/run.sh makes, else `python3`.
pub fn python() -> String {
    if let Ok(p) = std::env::var("DRYDOCK_TEST_PYTHON") {
        return p;
    }
    let venv = format!(
        "{}/.cache/drydock-test-venv/bin/python",
        std::env::var("HOME").unwrap_or_default()
    );
    if Path::new(&venv).exists() {
        venv
    } else {
        "python3".into()
    }
}

/// The workspace root (two levels above this crate).
pub fn workspace_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.ancestors()
        .nth(2)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| here.to_path_buf())
}

/// moto's server with drydock's additions (image deprecation, the EBS direct APIs' gaps).
pub fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("servers/moto_server.py")
}

impl MotoServer {
    /// Starts moto with extra environment variables (e.g. `MOTO_AMIS_PATH`), waits until it
    /// accepts connections and sets the dummy AWS credentials the SDK needs.
    pub fn start(env: &[(&str, &OsStr)]) -> MotoServer {
        let python = python();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        let log =
            std::env::temp_dir().join(format!("drydock-moto-{}-{port}.log", std::process::id()));
        let log_file = std::fs::File::create(&log).expect("moto log file");
        let mut command = Command::new(&python);
        command
            .arg(script())
            .arg(port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log_file));
        for (key, value) in env {
            command.env(key, value);
        }
        let child = command.spawn().unwrap_or_else(|e| {
            panic!("cannot start moto with {python}: {e} (run the suite with `bash tests/run.sh`)")
        });
        let mut server = MotoServer {
            child,
            log,
            port,
            url: format!("http://127.0.0.1:{port}"),
        };
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!(
                    "moto exited ({status}) before listening on port {port}; is moto installed for {python}? Its log:\n{}",
                    server.log_tail()
                );
            }
            assert!(
                start.elapsed() < START_TIMEOUT,
                "moto did not listen on port {port} within {START_TIMEOUT:?}; its log:\n{}",
                server.log_tail()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        // Set before any SDK client is built; each test runs in its own process under nextest.
        std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
        std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
        server
    }

    /// Everything moto logged (one line per request, werkzeug's format).
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The last lines moto wrote to its log.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}
