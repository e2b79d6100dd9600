//! Migration plans end to end on the simulated clouds: waves, health gates, approvals, rollback, the retire ladder, crash safety (SIGKILL at random points) and faults.

#[path = "../common/mod.rs"]
mod common;
mod env;
mod runs;
mod team;
mod team_pg;
