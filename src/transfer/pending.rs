//! Transfers in flight, recorded in the store (documents of kind `transfer`, keyed by
//! token) before anything is created in a cloud and removed once the image is registered
//! or the partial snapshot or disk is deleted. A record left behind means a transfer was
//! killed: the next transfer to that context (from any process of the team) removes what it
//! left (the provider finds it by its token tag).

use drydock_store::{Store, StoreError};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The kind of the store's documents that hold the ledger.
pub const KIND: &str = "transfer";

/// One transfer in flight.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Pending {
    pub token: String,
    pub context: String,
    pub place: String,
    /// What is being created (for messages).
    pub what: String,
    pub started: String,
}

/// The ledger in a store.
#[derive(Clone)]
pub struct Ledger {
    store: Arc<dyn Store>,
}

impl Ledger {
    pub fn in_store(store: Arc<dyn Store>) -> Ledger {
        Ledger { store }
    }

    /// Record `p` durably (one committed write) before its first cloud call.
    pub fn record(&self, p: &Pending) -> Result<(), StoreError> {
        let body = serde_json::to_vec(p).unwrap_or_default();
        self.store
            .put_document(KIND, &p.token, &body, None)
            .map(|_| ())
    }

    /// The transfer finished or was cleaned up.
    pub fn clear(&self, token: &str) -> Result<(), StoreError> {
        self.store.delete_document(KIND, token).map(|_| ())
    }

    /// Records of transfers to `context` that never finished (unreadable ones skipped).
    pub fn left_in(&self, context: &str) -> Vec<Pending> {
        let keys = self.store.documents(KIND).unwrap_or_default();
        let mut out: Vec<Pending> = keys
            .iter()
            .filter_map(|d| self.store.document(KIND, &d.key).ok().flatten())
            .filter_map(|d| serde_json::from_slice::<Pending>(&d.body).ok())
            .filter(|p| p.context == context)
            .collect();
        out.sort_by(|a, b| a.started.cmp(&b.started));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_survive_until_cleared() {
        let dir = tempfile::tempdir().unwrap();
        let store =
            drydock_store::open(&drydock_store::Location::Sqlite(dir.path().join("s"))).unwrap();
        let l = Ledger::in_store(Arc::from(store));
        let p = Pending {
            token: "t1".into(),
            context: "prod".into(),
            place: "eu-west-1".into(),
            what: "snapshot".into(),
            started: "2026-11-29T10:00:00Z".into(),
        };
        l.record(&p).unwrap();
        assert_eq!(l.left_in("prod"), vec![p]);
        assert!(l.left_in("other").is_empty());
        l.clear("t1").unwrap();
        l.clear("t1").unwrap();
        assert!(l.left_in("prod").is_empty());
    }
}
