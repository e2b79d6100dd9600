//! The AWS provider: scans EC2 instances, images (owned and referenced), launch templates
//! and auto scaling groups per account × region, and applies mutations through EC2.

mod boot;
mod error;
mod images;
mod ops;
pub mod org;
mod provider;
mod records;
mod rollout;
mod session;
pub mod transfer;

pub use drydock_api::accounts::aws::{AwsAccount, AwsOrganization, Regions};
pub use error::kind_of;
pub use ops::TAG_TOKEN;
pub use provider::{sdk_loader, AwsProvider};
