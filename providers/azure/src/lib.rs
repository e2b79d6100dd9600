//! The Azure provider: VMs, managed images and gallery image versions of one subscription
//! through azure_mgmt_compute (the legacy Rust SDK), behind drydock's provider API.

pub mod arm;
pub mod blob;
pub mod capture;
pub mod cleanup;
pub mod credential;
pub mod error;
pub mod graph;
pub mod launch;
pub mod lro;
pub mod marketplace;
pub mod ops;
pub mod permissions;
pub mod provider;
pub mod records;
pub mod scale;
pub mod scan;
pub mod tenant;
pub mod transfer;

pub use drydock_api::accounts::azure::{
    AzureSubscription, AzureTenant, CredentialSource, Locations,
};
pub use provider::AzureProvider;
