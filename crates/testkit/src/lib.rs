//! Unpublished: starts and seeds the real components drydock's tests and benchmarks run
//! against, one copy for every crate that needs them (`tests/run.sh` installs them):
//!
//! - [`moto`]: moto, a local AWS (EC2, Auto Scaling, EBS direct APIs, STS, Organizations);
//! - [`fake_arm`]: the fake Azure Resource Manager, [`azure_seed`] its seeded subscription;
//! - [`fake_openstack`]: the fake OpenStack (Keystone, Glance, Nova, Cinder volumes);
//! - [`script_server`]: how both fakes are started and stopped;
//! - [`azurite`]: Azurite's blob service, the page blobs behind managed-disk grants;
//! - [`disks`]: test disks made by `mkfs.ext4 -d`, `mkswap` and qemu-img, behind a GPT or MBR;
//! - [`http`]: a static HTTP server for files fetched by URL;
//! - [`measure`]: a child process's wall time and peak RSS, for the benches.

pub mod azure_seed;
pub mod azurite;
pub mod disks;
pub mod fake_arm;
pub mod fake_openstack;
pub mod http;
pub mod measure;
pub mod moto;
pub mod pg;
pub mod script_server;
