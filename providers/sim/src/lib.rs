//! The simulated cloud: the embedded demo fleet, the scale generator and `SimCloud`, the
//! deterministic provider used by the demo and by tests.

pub mod cloud;
pub mod disks;
pub mod fleet;
pub mod generate;
mod ids;
mod ops;
pub mod spec;
mod state;
mod synthetic;

pub use cloud::{SimCloud, SimSettings};
pub use generate::{generate, GenerateSpec};
pub use spec::FleetSpec;
pub use state::{StateError, StateStore};

use chrono::{DateTime, Utc};
use drydock_api::Cloud;

/// The embedded demo fleet as two simulated clouds, `demo-aws` and `demo-azure`, with all
/// dates relative to `now`.
pub fn demo_clouds(now: DateTime<Utc>, settings: SimSettings) -> Vec<SimCloud> {
    clouds_of(&FleetSpec::demo(), now, settings).expect("demo/fleet.toml builds (checked by tests)")
}

/// A fleet spec as the two simulated clouds `demo-aws` and `demo-azure`.
pub fn clouds_of(
    spec: &FleetSpec,
    now: DateTime<Utc>,
    settings: SimSettings,
) -> Result<Vec<SimCloud>, fleet::SpecError> {
    let inventory = fleet::build(spec, now)?;
    Ok(vec![
        SimCloud::new(
            "demo-aws",
            Cloud::Aws,
            inventory.clone(),
            now,
            settings.clone(),
        ),
        SimCloud::new("demo-azure", Cloud::Azure, inventory, now, settings),
    ])
}
