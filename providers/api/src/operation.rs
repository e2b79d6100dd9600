//! Every mutation a provider can apply, as one enum, so that drydock's mutation gate sees
//! all of them in one place.

use crate::records::Tags;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A change to a cloud. Providers apply these; only the mutation gate hands them out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Operation {
    /// Bake a new image from a VM; `tags` carry the provenance (`drydock:family`, ...).
    CreateImage {
        source_vm: String,
        name: String,
        tags: Tags,
        /// Idempotency key: a repeated call with the same token returns the same image.
        client_token: String,
    },
    /// Add or overwrite tags on a VM or image.
    Tag { resource: String, tags: Tags },
    /// Mark an image deprecated from `at` on.
    Deprecate { image: String, at: DateTime<Utc> },
    /// Make an image unusable for new launches.
    Disable { image: String },
    /// Remove an image (and delete its backing snapshots).
    Deregister { image: String },
    /// Launch a VM like `replaces` but from `image`; tagged `drydock:replaces` plus `tags`
    /// (e.g. `drydock:plan`). The client token makes a repeated call launch nothing new.
    LaunchReplacement {
        replaces: String,
        image: String,
        client_token: String,
        #[serde(default, skip_serializing_if = "Tags::is_empty")]
        tags: Tags,
    },
    /// Terminate a VM.
    Terminate { vm: String },
    /// Point a scale group at `image` and start replacing its members.
    StartRollingUpgrade { scale_group: String, image: String },
    /// Point a scale group (by name or id) or a launch template at `image` for future
    /// launches; running VMs are left alone.
    Repoint { resource: String, image: String },
}

impl Operation {
    /// A short verb for logs and confirmations.
    pub fn verb(&self) -> &'static str {
        match self {
            Operation::CreateImage { .. } => "create image",
            Operation::Tag { .. } => "tag",
            Operation::Deprecate { .. } => "deprecate",
            Operation::Disable { .. } => "disable",
            Operation::Deregister { .. } => "deregister",
            Operation::LaunchReplacement { .. } => "launch replacement",
            Operation::Terminate { .. } => "terminate",
            Operation::StartRollingUpgrade { .. } => "start rolling upgrade",
            Operation::Repoint { .. } => "repoint",
        }
    }

    /// The resource the operation acts on.
    pub fn target(&self) -> &str {
        match self {
            Operation::CreateImage { source_vm, .. } => source_vm,
            Operation::Tag { resource, .. } => resource,
            Operation::Deprecate { image, .. }
            | Operation::Disable { image }
            | Operation::Deregister { image } => image,
            Operation::LaunchReplacement { replaces, .. } => replaces,
            Operation::Terminate { vm } => vm,
            Operation::StartRollingUpgrade { scale_group, .. } => scale_group,
            Operation::Repoint { resource, .. } => resource,
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.verb(), self.target())
    }
}

/// A replacement VM's name: the old name (cut to leave room) and a digest of the client
/// token, within `max` characters; the same token always gives the same name, so a
/// repeated launch finds the VM it made.
pub fn replacement_name(old: &str, token: &str, max: usize) -> String {
    let mut h: u32 = 0x811c_9dc5;
    for b in token.bytes() {
        h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
    }
    let keep: String = old.chars().take(max.saturating_sub(10)).collect();
    format!("{keep}-r{h:08x}")
}

/// What an applied operation produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum OperationOutcome {
    /// The change was made; `created` names a new resource if one was made.
    Done { created: Option<String> },
    /// Dry run: the call would have succeeded.
    WouldSucceed,
}

impl fmt::Display for OperationOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OperationOutcome::Done { created: Some(id) } => write!(f, "done, created {id}"),
            OperationOutcome::Done { created: None } => f.write_str("done"),
            OperationOutcome::WouldSucceed => {
                f.write_str("would succeed (dry run, nothing changed)")
            }
        }
    }
}
