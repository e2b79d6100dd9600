//! Inventory snapshots on disk, written atomically: the packed form (`drydock.snapshot/v2`,
//! see `packed`) by default, JSON (`drydock.snapshot/v1`) for a file named `*.json`;
//! either is read, whatever its name.

use super::Inventory;
use serde::{Deserialize, Serialize};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use thiserror::Error;

/// The schema tag every JSON snapshot carries; readers refuse other major versions.
pub const SNAPSHOT_SCHEMA: &str = "drydock.snapshot/v1";
/// The schema of a packed snapshot.
pub const PACKED_SCHEMA: &str = "drydock.snapshot/v2";

#[derive(Debug, Error)]
pub enum SnapshotError {
    #[error(transparent)]
    Read(#[from] drydock_convert::input::InputError),
    #[error("snapshot {path} is not valid (line {line}, column {column}): {message}")]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("snapshot {path} has schema `{found}`; this drydock reads `{SNAPSHOT_SCHEMA}`")]
    Schema { path: PathBuf, found: String },
    #[error("snapshot {path} is damaged: {source}")]
    Packed {
        path: PathBuf,
        source: super::packed::PackedError,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

#[derive(Serialize)]
struct SnapshotOut<'a> {
    schema: &'a str,
    #[serde(flatten)]
    inventory: &'a Inventory,
}

/// The reading side spells out `Inventory`'s fields: `#[serde(flatten)]` would buffer the
/// whole document before deserialising it, doubling the cost of a 100k-VM snapshot.
#[derive(Deserialize)]
struct SnapshotIn {
    schema: String,
    scanned_at: chrono::DateTime<chrono::Utc>,
    sources: Vec<String>,
    vms: Vec<super::Vm>,
    images: Vec<super::Image>,
    scale_groups: Vec<super::ScaleGroup>,
    launch_templates: Vec<super::LaunchTemplate>,
    #[serde(default)]
    problems: Vec<super::ScanProblem>,
    #[serde(default)]
    accounts: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    outcomes: Vec<super::ScopeOutcome>,
}

#[derive(Deserialize)]
struct SchemaOnly {
    schema: Option<String>,
}

/// The largest snapshot read (a million VMs take about 700 MB).
pub const MAX_SNAPSHOT: u64 = 4 << 30;

/// Reads a snapshot file.
pub fn read(path: &Path) -> Result<Inventory, SnapshotError> {
    let bytes = drydock_convert::input::read_regular(
        path,
        "snapshot",
        MAX_SNAPSHOT,
        "a snapshot this large is not one drydock wrote",
    )?;
    if bytes.starts_with(super::packed::MAGIC) {
        return super::packed::read(&bytes, PACKED_SCHEMA).map_err(|source| {
            SnapshotError::Packed {
                path: path.to_path_buf(),
                source,
            }
        });
    }
    let parse_err = |e: serde_json::Error| SnapshotError::Parse {
        path: path.to_path_buf(),
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    };
    let schema_error = |found: Option<String>| SnapshotError::Schema {
        path: path.to_path_buf(),
        found: found.unwrap_or_else(|| "(none)".into()),
    };
    let snap: SnapshotIn = match serde_json::from_slice(&bytes) {
        Ok(snap) => snap,
        // A file of another schema fails to parse too; say which schema it has.
        Err(e) => match serde_json::from_slice::<SchemaOnly>(&bytes) {
            Ok(head) if head.schema.as_deref() != Some(SNAPSHOT_SCHEMA) => {
                return Err(schema_error(head.schema))
            }
            _ => return Err(parse_err(e)),
        },
    };
    if snap.schema != SNAPSHOT_SCHEMA {
        return Err(schema_error(Some(snap.schema)));
    }
    Ok(Inventory {
        scanned_at: snap.scanned_at,
        sources: snap.sources,
        vms: snap.vms,
        images: snap.images,
        scale_groups: snap.scale_groups,
        launch_templates: snap.launch_templates,
        problems: snap.problems,
        accounts: snap.accounts,
        outcomes: snap.outcomes,
    })
}

/// Whether `path` names a JSON snapshot (`*.json`) rather than a packed one.
pub fn is_json(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

/// Writes a snapshot atomically (temp file in the same directory, fsync, rename): JSON for
/// a `*.json` name, packed otherwise.
pub fn write(path: &Path, inventory: &Inventory) -> Result<(), SnapshotError> {
    if !is_json(path) {
        return write_atomic(path, |w| super::packed::write(w, inventory, PACKED_SCHEMA)).map_err(
            |source| SnapshotError::Write {
                path: path.to_path_buf(),
                source,
            },
        );
    }
    write_atomic(path, |w| {
        serde_json::to_writer(
            &mut *w,
            &SnapshotOut {
                schema: SNAPSHOT_SCHEMA,
                inventory,
            },
        )
        .map_err(std::io::Error::other)
    })
    .map_err(|source| SnapshotError::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// Writes a file through `fill` into a temp file beside `path`, then renames it into place,
/// so a reader never sees a half-written file and a failure leaves the old file intact.
pub fn write_atomic(
    path: &Path,
    fill: impl FnOnce(&mut BufWriter<std::fs::File>) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::other("output path has no file name"))?;
    let tmp = dir.join(format!(
        ".{}.tmp.{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let file = std::fs::File::create(&tmp)?;
        let mut w = BufWriter::with_capacity(1 << 20, file);
        fill(&mut w)?;
        w.flush()?;
        let file = w.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
