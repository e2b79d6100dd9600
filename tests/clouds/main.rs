//! drydock end to end against the real components of each cloud: moto for AWS, the fake Resource Manager for Azure, the fake OpenStack.

#[path = "../common/mod.rs"]
mod common;

mod aws_e2e;
mod azure_e2e;
mod azure_tenant;
mod openstack_e2e;
mod org_moto;
mod team_moto;
mod three_clouds;
