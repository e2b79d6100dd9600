//! The fake OpenStack (`servers/fake_openstack.py`: Keystone v3, Glance v2, Nova v2.1 and
//! the Cinder volumes servers boot from, Python standard library only), on a free loopback
//! port for one test.

use crate::script_server::ScriptServer;

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
}
