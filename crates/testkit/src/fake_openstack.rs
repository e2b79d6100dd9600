//! The fake OpenStack (`servers/fake_openstack.py`: Keystone v3, Glance v2, Nova v2.1 and
//! the Cinder volumes servers boot from, Python standard library only), on a free loopback
//! port for one test.

use crate::script_server::ScriptServer;
use std::io::{Read, Write};

/// The demo site's user, password, project and application credential.
pub const USER: &str = "drydock";
pub const PASSWORD: &str = "secret";
pub const PROJECT_ID: &str = "b7d1bd5e4f4a4c5ba5b1c8e3a0d2f001";
pub const APP_CREDENTIAL: (&str, &str) = ("ac-1", "ac-secret");

pub struct FakeOpenStack(ScriptServer);

impl std::ops::Deref for FakeOpenStack {
    type Target = ScriptServer;

    fn deref(&self) -> &ScriptServer {
        &self.0
    }
}

impl FakeOpenStack {
    /// The demo site: images with lineage, a deactivated and a hidden one, a public and a
    /// shared vendor base, servers on each, one booted from a volume.
    pub fn demo() -> FakeOpenStack {
        FakeOpenStack(ScriptServer::start(
            "the fake OpenStack",
            "fake_openstack.py",
            |_| vec!["--demo".into()],
        ))
    }

    /// Serves `seed` (the shape of the script's `DEMO`).
    pub fn start(seed: &serde_json::Value) -> FakeOpenStack {
        FakeOpenStack(ScriptServer::seeded(
            "the fake OpenStack",
            "fake_openstack.py",
            seed,
        ))
    }

    /// Keystone's v3 root (`auth_url` in `clouds.yaml`).
    pub fn auth_url(&self) -> String {
        format!("{}/identity/v3", self.url)
    }

    /// One HTTP/1.1 exchange (`Connection: close`): status, headers (lower-cased names), body.
    pub fn call(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> (u16, Vec<(String, String)>, Vec<u8>) {
        let host = self.url.trim_start_matches("http://");
        let mut s = std::net::TcpStream::connect(host).unwrap();
        let mut req = format!(
            "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n",
            body.len()
        );
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        s.write_all(req.as_bytes()).unwrap();
        s.write_all(body).unwrap();
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).unwrap();
        let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        let head = String::from_utf8_lossy(&raw[..split]).to_string();
        let mut lines = head.lines();
        let status = lines
            .next()
            .unwrap()
            .split(' ')
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        let headers = lines
            .filter_map(|l| l.split_once(": "))
            .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
            .collect();
        (status, headers, raw[split + 4..].to_vec())
    }

    /// A token, by the demo's application credential.
    pub fn token(&self) -> String {
        let auth = serde_json::json!({"auth": {"identity": {"methods": ["application_credential"],
            "application_credential": {"id": APP_CREDENTIAL.0, "secret": APP_CREDENTIAL.1}}}});
        let (status, headers, body) = self.call(
            "POST",
            "/identity/v3/auth/tokens",
            &[("Content-Type", "application/json")],
            auth.to_string().as_bytes(),
        );
        assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
        headers
            .into_iter()
            .find(|(k, _)| k == "x-subject-token")
            .map(|(_, v)| v)
            .expect("X-Subject-Token")
    }

    /// `method path` with a fresh token (JSON or octets as `body` says): status and body.
    pub fn authed(&self, method: &str, path: &str, body: &[u8]) -> (u16, Vec<u8>) {
        let token = self.token();
        let (status, _, body) = self.call(method, path, &[("X-Auth-Token", &token)], body);
        (status, body)
    }

    /// `GET path` with a token, as JSON.
    pub fn get_json(&self, path: &str) -> serde_json::Value {
        let (status, body) = self.authed("GET", path, b"");
        assert_eq!(
            status,
            200,
            "GET {path}: {}",
            String::from_utf8_lossy(&body)
        );
        serde_json::from_slice(&body).unwrap()
    }
}
