//! drydock end to end against the real components of each cloud: moto for AWS, the fake Resource Manager for Azure.

#[path = "../common/mod.rs"]
mod common;

mod aws_e2e;
mod azure_e2e;
mod azure_tenant;
mod org_moto;
mod team_moto;
