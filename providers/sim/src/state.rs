//! The simulated cloud's state file: its inventory (terminated VMs included) and the client
//! tokens it has seen, as JSON, replaced atomically (temp file + rename) on every change.

/// Why a simulated cloud's saved state cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("{} is not a simulated cloud's state ({source}); `drydock demo reset` starts the demo afresh", path.display())]
    NotState {
        path: std::path::PathBuf,
        source: serde_json::Error,
    },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("cannot encode the state: {0}")]
    Encode(serde_json::Error),
}

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
    pub(crate) fn load(path: &Path) -> Result<Option<Persisted>, StateError> {
        let text = match std::fs::read(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(StateError::Read {
                    path: path.to_path_buf(),
                    source,
                })
            }
        };
        serde_json::from_slice(&text)
            .map(Some)
            .map_err(|source| StateError::NotState {
                path: path.to_path_buf(),
                source,
            })
    }

    /// Writes the state next to `path` and renames it into place: a reader (or a process
    /// killed mid-write) sees the old state or the new one, never half of one.
    pub(crate) fn save(
        path: &Path,
        inventory: &ScanResult,
        tokens: &BTreeMap<String, String>,
    ) -> Result<(), StateError> {
        let dir = path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|source| StateError::Write {
            path: dir.to_path_buf(),
            source,
        })?;
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        let body =
            serde_json::to_vec(&PersistedRef { inventory, tokens }).map_err(StateError::Encode)?;
        let write = || -> std::io::Result<()> {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&body)?;
            std::fs::rename(&tmp, path)
        };
        write().map_err(|source| {
            let _ = std::fs::remove_file(&tmp);
            StateError::Write {
                path: path.to_path_buf(),
                source,
            }
        })
    }
}
