//! The fake Azure Resource Manager (`servers/fake_arm.py`, Python standard library only,
//! with disk grants in Azurite through `servers/fake_disks.py`), started on a free loopback
//! port with a seed for one test and stopped when dropped; its log is shown if it exits
//! before it listens.

use crate::script_server::ScriptServer;
use std::path::PathBuf;

pub struct FakeArm(ScriptServer);

impl std::ops::Deref for FakeArm {
    type Target = ScriptServer;

    fn deref(&self) -> &ScriptServer {
        &self.0
    }
}

/// The fake Resource Manager (with `fake_disks.py` beside it).
pub fn script() -> PathBuf {
    crate::script_server::script("fake_arm.py")
}

impl FakeArm {
    /// Serves `seed` (the JSON the script documents).
    pub fn start(seed: &serde_json::Value) -> FakeArm {
        FakeArm(ScriptServer::seeded(
            "the fake Resource Manager",
            "fake_arm.py",
            seed,
        ))
    }
}
