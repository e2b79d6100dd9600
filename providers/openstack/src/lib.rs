//! The OpenStack provider: Nova servers and Glance images of one project (in one or more
//! regions), reached through Keystone v3 and its service catalog, behind drydock's
//! provider API, and Glance as a side of `drydock transfer`. Typed calls on the workspace's
//! reqwest 0.12 (rustls on ring): openstack_sdk 0.22 would bring reqwest 0.13, rustls on
//! aws-lc-rs (a C build) and every auth plugin into the build.

pub mod clouds;
mod digest;
pub mod error;
pub mod ops;
pub mod provider;
pub mod records;
pub mod scan;
pub mod servers;
pub mod session;
pub mod transfer;

pub use drydock_api::accounts::openstack::OpenStackCloud;
pub use provider::{OpenStackProvider, SetupError};
