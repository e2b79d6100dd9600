//! The simulated cloud's state file: its inventory (terminated VMs included) and the client
//! tokens it has seen, as JSON, replaced atomically (temp file + rename) on every change.

use drydock_api::ScanResult;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

#[derive(Serialize, Deserialize)]
pub(crate) struct Persisted {
    pub(crate) inventory: ScanResult,
    pub(crate) tokens: BTreeMap<String, String>,
}

#[derive(Serialize)]
struct PersistedRef<'a> {
    inventory: &'a ScanResult,
    tokens: &'a BTreeMap<String, String>,
}

impl Persisted {
    /// The saved state, `None` when there is no file yet.
    pub(crate) fn load(path: &Path) -> Result<Option<Persisted>, String> {
        let text = match std::fs::read(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        };
        serde_json::from_slice(&text).map(Some).map_err(|e| {
            format!(
                "{} is not a simulated cloud's state ({e}); delete it to start the demo afresh",
                path.display()
            )
        })
    }

    /// Writes the state next to `path` and renames it into place: a reader (or a process
    /// killed mid-write) sees the old state or the new one, never half of one.
    pub(crate) fn save(
        path: &Path,
        inventory: &ScanResult,
        tokens: &BTreeMap<String, String>,
    ) -> Result<(), String> {
        let dir = path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        let body = serde_json::to_vec(&PersistedRef { inventory, tokens })
            .map_err(|e| format!("cannot encode the state: {e}"))?;
        let write = || -> std::io::Result<()> {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&body)?;
            std::fs::rename(&tmp, path)
        };
        write().map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            format!("cannot write {}: {e}", path.display())
        })
    }
}
