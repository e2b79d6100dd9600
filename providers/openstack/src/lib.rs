//! The OpenStack provider: Nova servers and Glance images of one project (in one or more
//! regions), reached through Keystone v3 and its service catalog, behind drydock's
//! provider API. Typed calls on reqwest (see the crate's README note in DESIGN: openstack_sdk
//! would bring a second TLS stack and HTTP client into the build).

pub mod clouds;
pub mod error;
pub mod ops;
pub mod provider;
pub mod records;
pub mod scan;
pub mod session;

pub use drydock_api::accounts::openstack::OpenStackCloud;
pub use provider::{OpenStackProvider, SetupError};
