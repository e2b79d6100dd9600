//! The shared inventory: `drydock scan` keeps its snapshot in the store (packed, with who
//! scanned and when), so that with a team's PostgreSQL one scheduled scanner with an
//! organisation-wide read role scans and every operator's report and dashboard read it.

use crate::model::{packed, snapshot, Inventory};
use chrono::{DateTime, Utc};
use drydock_store::{Store, StoreError};
use serde::{Deserialize, Serialize};

/// The kind of the store's documents holding the shared inventory (key [`LATEST`]).
pub const INVENTORY: &str = "inventory";
/// The kind of the documents saying who scanned it, when, and what it holds.
pub const INVENTORY_META: &str = "inventory-meta";
/// The key of the latest scan.
pub const LATEST: &str = "latest";

/// Who scanned the stored inventory, when, and what it holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stored {
    pub operator: String,
    pub scanned_at: DateTime<Utc>,
    pub vms: usize,
    pub images: usize,
    pub sources: Vec<String>,
    /// Whether every context and region was read.
    pub complete: bool,
}

/// Why the stored inventory could not be kept or read.
#[derive(Debug, thiserror::Error)]
pub enum InventoryStoreError {
    #[error("the store: {0}")]
    Store(#[from] StoreError),
    #[error("the inventory in {store} is damaged: {source}")]
    Damaged {
        store: String,
        source: packed::PackedError,
    },
    #[error("cannot pack the inventory: {0}")]
    Pack(#[from] std::io::Error),
}

/// Keeps `inv` as the latest shared inventory, scanned by `operator`.
pub fn put(
    store: &dyn Store,
    inv: &Inventory,
    operator: &str,
) -> Result<Stored, InventoryStoreError> {
    let mut body = Vec::new();
    packed::write(&mut body, inv, snapshot::PACKED_SCHEMA)?;
    let meta = Stored {
        operator: operator.to_string(),
        scanned_at: inv.scanned_at,
        vms: inv.vms.len(),
        images: inv.images.len(),
        sources: inv.sources.clone(),
        complete: !inv.incomplete(),
    };
    store.put_document(INVENTORY, LATEST, &body, None)?;
    let m = serde_json::to_vec(&meta).unwrap_or_default();
    store.put_document(INVENTORY_META, LATEST, &m, None)?;
    Ok(meta)
}

/// Who scanned the latest shared inventory, and when it was stored (the store's clock),
/// if there is one.
pub fn meta(store: &dyn Store) -> Result<Option<(Stored, DateTime<Utc>)>, InventoryStoreError> {
    Ok(store
        .document(INVENTORY_META, LATEST)?
        .and_then(|d| Some((serde_json::from_slice(&d.body).ok()?, d.updated))))
}

/// The latest shared inventory, if there is one.
pub fn get(store: &dyn Store) -> Result<Option<Inventory>, InventoryStoreError> {
    let Some(d) = store.document(INVENTORY, LATEST)? else {
        return Ok(None);
    };
    packed::read(&d.body, snapshot::PACKED_SCHEMA)
        .map(Some)
        .map_err(|source| InventoryStoreError::Damaged {
            store: store.describe(),
            source,
        })
}
