//! The PostgreSQL the tests share: `DRYDOCK_TEST_PG_URL` (tests/run.sh starts a throwaway
//! cluster and sets it). Each test gets a database of its own.

use std::sync::atomic::{AtomicU32, Ordering};

/// The server's URL, or `None` when no server was given (outside CI the PostgreSQL tests
/// then skip; under CI a missing server fails them).
pub fn server() -> Option<String> {
    match std::env::var("DRYDOCK_TEST_PG_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            assert!(
                std::env::var_os("CI").is_none(),
                "DRYDOCK_TEST_PG_URL is not set under CI: run the tests through tests/run.sh"
            );
            eprintln!("DRYDOCK_TEST_PG_URL is not set: skipping the PostgreSQL half of this test");
            None
        }
    }
}

/// A new, empty database on the test server, as a URL (`None`: no server).
pub fn database(tag: &str) -> Option<String> {
    static N: AtomicU32 = AtomicU32::new(0);
    let base = server()?;
    let name = format!(
        "t_{}_{}_{}",
        tag.chars()
            .map(|c| if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            })
            .take(30)
            .collect::<String>(),
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    let mut admin = postgres::Client::connect(&base, postgres::NoTls)
        .unwrap_or_else(|e| panic!("cannot reach the test PostgreSQL at {base}: {e}"));
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap_or_else(|e| panic!("cannot create database {name}: {e}"));
    let (head, _) = base.rsplit_once('/').expect("a URL with a database");
    Some(format!("{head}/{name}"))
}

/// A PostgreSQL cluster of one test's own (for tests that restart the server): data and
/// socket in a temp dir, loopback only, trust auth; as root it runs as `postgres`.
pub struct Cluster {
    dir: tempfile::TempDir,
    bin: std::path::PathBuf,
    opts: String,
    pub url: String,
}

impl Cluster {
    /// Starts one; `None` when no PostgreSQL server binaries are installed (outside CI).
    pub fn start() -> Option<Cluster> {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .filter(|b| b.join("initdb").exists())
            .max()?;
        let dir = tempfile::Builder::new()
            .prefix("drydock-pg")
            .tempdir()
            .ok()?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .ok()?
            .port();
        let opts = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            dir.path().display()
        );
        let c = Cluster {
            url: format!("postgres://drydock@127.0.0.1:{port}/postgres"),
            dir,
            bin,
            opts,
        };
        if unsafe { libc::geteuid() } == 0 {
            let _ = std::process::Command::new("chown")
                .arg("postgres")
                .arg(c.dir.path())
                .status();
        }
        let data = c.dir.path().join("data");
        assert!(c.run(
            "initdb",
            &["-D", data.to_str()?, "-A", "trust", "-U", "drydock"]
        ));
        assert!(c.ctl(&["start", "-w", "-o", &c.opts]));
        Some(c)
    }

    fn run(&self, tool: &str, args: &[&str]) -> bool {
        let exe = self.bin.join(tool);
        let mut cmd = if unsafe { libc::geteuid() } == 0 {
            let mut c = std::process::Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(exe);
            c
        } else {
            std::process::Command::new(exe)
        };
        cmd.args(args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// A cluster that also speaks TLS, with a self-signed certificate for `localhost`
    /// (made with the `openssl` command); `None` without the binaries.
    pub fn start_tls() -> Option<Cluster> {
        let mut c = Cluster::start()?;
        let d = c.dir.path();
        let (ca, ca_key) = (d.join("ca.crt"), d.join("ca.key"));
        let (cert, key, csr, ext) = (
            d.join("server.crt"),
            d.join("server.key"),
            d.join("server.csr"),
            d.join("server.ext"),
        );
        std::fs::write(
            &ext,
            "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n",
        )
        .ok()?;
        let openssl = |args: &[&std::ffi::OsStr]| {
            std::process::Command::new("openssl")
                .args(args)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        let os = |s: &'static str| std::ffi::OsStr::new(s);
        // A CA, and the server's certificate for `localhost` signed by it.
        let made = openssl(&[
            os("req"),
            os("-x509"),
            os("-newkey"),
            os("rsa:2048"),
            os("-nodes"),
            os("-days"),
            os("2"),
            os("-subj"),
            os("/CN=drydock test CA"),
            os("-keyout"),
            ca_key.as_os_str(),
            os("-out"),
            ca.as_os_str(),
        ]) && openssl(&[
            os("req"),
            os("-newkey"),
            os("rsa:2048"),
            os("-nodes"),
            os("-subj"),
            os("/CN=localhost"),
            os("-keyout"),
            key.as_os_str(),
            os("-out"),
            csr.as_os_str(),
        ]) && openssl(&[
            os("x509"),
            os("-req"),
            os("-in"),
            csr.as_os_str(),
            os("-CA"),
            ca.as_os_str(),
            os("-CAkey"),
            ca_key.as_os_str(),
            os("-CAcreateserial"),
            os("-days"),
            os("2"),
            os("-extfile"),
            ext.as_os_str(),
            os("-out"),
            cert.as_os_str(),
        ]);
        if !made {
            return None;
        }
        if unsafe { libc::geteuid() } == 0 {
            let _ = std::process::Command::new("chown")
                .arg("postgres")
                .arg(&key)
                .arg(&cert)
                .status();
        }
        let _ = std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o600));
        assert!(c.ctl(&["stop", "-m", "fast", "-w"]));
        c.opts = format!(
            "{} -c ssl=on -c ssl_cert_file={} -c ssl_key_file={}",
            c.opts,
            cert.display(),
            key.display()
        );
        assert!(c.ctl(&["start", "-w", "-o", &c.opts]));
        Some(c)
    }

    /// The CA that signed the TLS cluster's certificate.
    pub fn cert(&self) -> std::path::PathBuf {
        self.dir.path().join("ca.crt")
    }

    /// Stops the server, waits `down`, starts it again.
    pub fn restart_after(&self, down: std::time::Duration) -> bool {
        if !self.ctl(&["stop", "-m", "fast", "-w"]) {
            return false;
        }
        std::thread::sleep(down);
        self.ctl(&["start", "-w", "-o", &self.opts])
    }

    /// `pg_ctl -D DATA ARGS…` (`stop`, `status`…).
    pub fn ctl(&self, args: &[&str]) -> bool {
        let data = self.dir.path().join("data");
        let log = self.dir.path().join("server.log");
        let mut all = vec![
            "-D",
            data.to_str().unwrap_or_default(),
            "-l",
            log.to_str().unwrap_or_default(),
        ];
        all.extend_from_slice(args);
        self.run("pg_ctl", &all)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.ctl(&["stop", "-m", "immediate"]);
    }
}
