//! SBOMs of image versions: the inspection of the disk an image was made from, kept in
//! the data directory (`sboms/IMAGE.json`, written atomically when a transfer publishes a
//! local disk), or named by the image's `drydock:sbom` tag (a file path, `file://` URL, or
//! an http(s) URL, which `inspect --diff` reads and the dashboard fetches off its UI thread). The Images view shows a version's
//! components and its diff against the previous version of its family from these.

use crate::inspect::diff::Components;
use crate::inspect::Inspection;
use crate::model::snapshot::write_atomic;
use crate::model::Image;
use std::path::{Path, PathBuf};

/// The tag that names an image's SBOM.
pub const TAG: &str = "drydock:sbom";

/// The largest SBOM read (an inspection of a large image is a few MiB).
pub const MAX_SBOM: u64 = 64 << 20;

/// The file name an image's SBOM is kept under (ids hold `/` and `:` on Azure).
fn file_name(image_id: &str) -> String {
    format!("{}.json", crate::config::paths::safe_file_name(image_id))
}

/// Record `found` as the SBOM of `image_id` in `dir`, atomically.
pub fn record_in(dir: &Path, image_id: &str, found: &Inspection) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join(file_name(image_id));
    write_atomic(&path, |w| {
        serde_json::to_writer_pretty(w, found).map_err(std::io::Error::other)
    })?;
    Ok(path)
}

/// Why an SBOM could not be recorded.
#[derive(Debug, thiserror::Error)]
pub enum SbomError {
    #[error("inspect {}: {source}", disk.display())]
    Inspect {
        disk: PathBuf,
        source: crate::inspect::InspectError,
    },
    #[error("{}: {source}", dir.display())]
    Write {
        dir: PathBuf,
        source: std::io::Error,
    },
}

/// Inspect `disk` and record it as `image_id`'s SBOM in `dir` (the data directory's
/// `sboms/`).
pub fn record(dir: &Path, image_id: &str, disk: &Path) -> Result<PathBuf, SbomError> {
    let found = crate::inspect::inspect(disk).map_err(|source| SbomError::Inspect {
        disk: disk.to_path_buf(),
        source,
    })?;
    record_in(dir, image_id, &found).map_err(|source| SbomError::Write {
        dir: dir.to_path_buf(),
        source,
    })
}

/// Why a known SBOM cannot be shown.
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    #[error(transparent)]
    Read(drydock_convert::input::InputError),
    #[error("{}: not an inspection or SPDX document", path.display())]
    NotAnSbom { path: PathBuf },
    /// Named by URL: not fetched here (the dashboard's runtime and `inspect --diff` do).
    #[error("SBOM at {0} (drydock inspect --diff reads it)")]
    AtUrl(String),
}

/// An image's SBOM, if one is known: `Ok` with its components, or why it could not be
/// read (a URL is not fetched here; the dashboard's runtime fetches it).
pub fn lookup(dir: Option<&Path>, img: &Image) -> Option<Result<Components, LookupError>> {
    let parse = |path: &Path| {
        drydock_convert::input::read_regular_text(
            path,
            "SBOM",
            MAX_SBOM,
            "an SBOM drydock wrote is far smaller",
        )
        .map_err(LookupError::Read)
        .and_then(|t| {
            Components::from_json(&t).ok_or_else(|| LookupError::NotAnSbom {
                path: path.to_path_buf(),
            })
        })
    };
    if let Some(p) = dir
        .map(|d| d.join(file_name(&img.id)))
        .filter(|p| p.exists())
    {
        return Some(parse(&p));
    }
    let tag = img.tags.get(TAG)?.trim();
    if tag.starts_with("http://") || tag.starts_with("https://") {
        return Some(Err(LookupError::AtUrl(tag.to_string())));
    }
    Some(parse(Path::new(tag.strip_prefix("file://").unwrap_or(tag))))
}
