//! The configuration of each cloud's accounts (`[[aws.accounts]]`, `[[azure.subscriptions]]`, `[[openstack.clouds]]`):
//! plain records the config file deserialises and the context registry names, here so that
//! the library reads them without linking a cloud SDK. Each provider crate builds its
//! provider from its own record.

pub mod aws;
pub mod azure;
pub mod openstack;
pub mod org;
