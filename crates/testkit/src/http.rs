//! A static HTTP server for one test: Python's `http.server` serving a directory on a free
//! loopback port (image lists, SBOMs and OVAs fetched by URL), stopped when dropped.

use std::path::Path;

/// Python's `http.server` serving `dir` on a free local port, stopped when dropped.
pub struct HttpServer {
    pub port: u16,
    child: std::process::Child,
}

impl HttpServer {
    pub fn serve(dir: &Path) -> HttpServer {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let python = std::env::var("DRYDOCK_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
        let child = std::process::Command::new(python)
            .args([
                "-m",
                "http.server",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--directory",
            ])
            .arg(dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("python3 -m http.server starts");
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        HttpServer { port, child }
    }

    /// The URL of `file` in the served directory.
    pub fn url(&self, file: &str) -> String {
        format!("http://127.0.0.1:{}/{file}", self.port)
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
