//! Where a simulated cloud's state (its inventory, terminated VMs included, and the client
//! tokens it has seen) lives between processes: a versioned document in a [`StateStore`]
//! (drydock's store, shared by every process of the data directory or the team). Every
//! scan and call first catches up with the stored revision; every change is written with
//! compare-and-swap, and a change that lost a race is redone on the newer state, so two
//! processes never overwrite each other's changes.

use drydock_api::ScanResult;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Why a simulated cloud's saved state cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("cannot read the simulated cloud's state from {store}: {message}")]
    Read { store: String, message: String },
    #[error("the simulated cloud's state in {store} cannot be read ({source}); `drydock demo reset` starts the demo afresh")]
    NotState {
        store: String,
        source: serde_json::Error,
    },
    #[error("cannot write the simulated cloud's state to {store}: {message}")]
    Write { store: String, message: String },
    #[error("cannot encode the state: {0}")]
    Encode(serde_json::Error),
}

/// A versioned document holding one simulated cloud's state.
pub trait StateStore: Send + Sync {
    /// Where it is, for messages.
    fn describe(&self) -> String;
    /// The stored state and its revision, `None` when there is none yet.
    fn load(&self) -> Result<Option<(i64, Vec<u8>)>, String>;
    /// Stores `body` if the revision is still `expect` (0: absent); the new revision, or
    /// `None` when another process wrote first.
    fn save(&self, expect: i64, body: &[u8]) -> Result<Option<i64>, String>;
}

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
    /// The stored state newer than revision `have`, if any.
    pub(crate) fn load_newer(
        store: &dyn StateStore,
        have: i64,
    ) -> Result<Option<(i64, Persisted)>, StateError> {
        match store.load() {
            Ok(None) => Ok(None),
            Ok(Some((rev, _))) if rev == have => Ok(None),
            Ok(Some((rev, body))) => serde_json::from_slice(&body)
                .map(|p| Some((rev, p)))
                .map_err(|source| StateError::NotState {
                    store: store.describe(),
                    source,
                }),
            Err(message) => Err(StateError::Read {
                store: store.describe(),
                message,
            }),
        }
    }

    /// Writes the state if the stored revision is still `expect`.
    pub(crate) fn save(
        store: &dyn StateStore,
        expect: i64,
        inventory: &ScanResult,
        tokens: &BTreeMap<String, String>,
    ) -> Result<Option<i64>, StateError> {
        let body =
            serde_json::to_vec(&PersistedRef { inventory, tokens }).map_err(StateError::Encode)?;
        store
            .save(expect, &body)
            .map_err(|message| StateError::Write {
                store: store.describe(),
                message,
            })
    }
}
