//! SBOMs of image versions: the inspection of the disk an image was made from, kept in
//! the store (documents of kind `sbom`, keyed by image id, written when a transfer
//! publishes a local disk), or named by the image's `drydock:sbom` tag (a file path, `file://` URL, or
//! an http(s) URL, which `inspect --diff` reads and the dashboard fetches off its UI thread). The Images view shows a version's
//! components and its diff against the previous version of its family from these.

use crate::inspect::diff::Components;
use crate::inspect::Inspection;
use crate::model::Image;
use drydock_store::Store;
use std::path::{Path, PathBuf};

/// The tag that names an image's SBOM.
pub const TAG: &str = "drydock:sbom";

/// The largest SBOM read (an inspection of a large image is a few MiB).
pub const MAX_SBOM: u64 = 64 << 20;

/// The kind of the store's documents that hold SBOMs.
pub const KIND: &str = "sbom";

/// Record `found` as the SBOM of `image_id` in `store`; says where.
pub fn record_in(
    store: &dyn Store,
    image_id: &str,
    found: &Inspection,
) -> Result<String, drydock_store::StoreError> {
    let body = serde_json::to_vec_pretty(found).unwrap_or_default();
    store.put_document(KIND, image_id, &body, None)?;
    Ok(format!("{} ({KIND} {image_id})", store.describe()))
}

/// Why an SBOM could not be recorded.
#[derive(Debug, thiserror::Error)]
pub enum SbomError {
    #[error("inspect {}: {source}", disk.display())]
    Inspect {
        disk: PathBuf,
        source: crate::inspect::InspectError,
    },
    #[error(transparent)]
    Write(#[from] drydock_store::StoreError),
}

/// Inspect `disk` and record it as `image_id`'s SBOM in `store`.
pub fn record(store: &dyn Store, image_id: &str, disk: &Path) -> Result<String, SbomError> {
    let found = crate::inspect::inspect(disk).map_err(|source| SbomError::Inspect {
        disk: disk.to_path_buf(),
        source,
    })?;
    Ok(record_in(store, image_id, &found)?)
}

/// Why a known SBOM cannot be shown.
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    #[error(transparent)]
    Read(drydock_convert::input::InputError),
    #[error("{0}: not an inspection or SPDX document")]
    NotAnSbom(String),
    /// Named by URL: not fetched here (the dashboard's runtime and `inspect --diff` do).
    #[error("SBOM at {0} (drydock inspect --diff reads it)")]
    AtUrl(String),
}

/// The images whose SBOMs `store` holds (one query, for a whole inventory).
pub fn recorded(store: Option<&dyn Store>) -> std::collections::HashSet<String> {
    store
        .and_then(|s| s.documents(KIND).ok())
        .map(|d| d.into_iter().map(|d| d.key).collect())
        .unwrap_or_default()
}

/// An image's SBOM, if one is known: `Ok` with its components, or why it could not be
/// read (a URL is not fetched here; the dashboard's runtime fetches it). `recorded` is
/// what [`recorded`] said of `store`.
pub fn lookup(
    store: Option<&dyn Store>,
    recorded: &std::collections::HashSet<String>,
    img: &Image,
) -> Option<Result<Components, LookupError>> {
    let parse = |path: &Path| {
        drydock_convert::input::read_regular_text(
            path,
            "SBOM",
            MAX_SBOM,
            "an SBOM drydock wrote is far smaller",
        )
        .map_err(LookupError::Read)
        .and_then(|t| {
            Components::from_json(&t)
                .ok_or_else(|| LookupError::NotAnSbom(path.display().to_string()))
        })
    };
    if let (Some(store), true) = (store, recorded.contains(&img.id)) {
        if let Ok(Some(d)) = store.document(KIND, &img.id) {
            let text = String::from_utf8_lossy(&d.body);
            return Some(Components::from_json(&text).ok_or_else(|| {
                LookupError::NotAnSbom(format!("{} ({KIND} {})", store.describe(), img.id))
            }));
        }
    }
    let tag = img.tags.get(TAG)?.trim();
    if tag.starts_with("http://") || tag.starts_with("https://") {
        return Some(Err(LookupError::AtUrl(tag.to_string())));
    }
    Some(parse(Path::new(tag.strip_prefix("file://").unwrap_or(tag))))
}
