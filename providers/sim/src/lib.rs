//! The simulated cloud: the embedded demo fleet, the scale generator and `SimCloud`, the
//! deterministic provider used by the demo and by tests.

pub mod cloud;
pub mod fleet;
pub mod generate;
mod ids;
mod ops;
pub mod spec;
mod state;

pub use cloud::{SimCloud, SimSettings};
pub use generate::{generate, GenerateSpec};
pub use spec::FleetSpec;

use chrono::{DateTime, Utc};
use drydock_api::Cloud;

/// The embedded demo fleet as two simulated clouds, `demo-aws` and `demo-azure`, with all
/// dates relative to `now`.
pub fn demo_clouds(now: DateTime<Utc>, settings: SimSettings) -> Vec<SimCloud> {
    let inventory =
        fleet::build(&FleetSpec::demo(), now).expect("demo/fleet.toml builds (checked by tests)");
    vec![
        SimCloud::new(
            "demo-aws",
            Cloud::Aws,
            inventory.clone(),
            now,
            settings.clone(),
        ),
        SimCloud::new("demo-azure", Cloud::Azure, inventory, now, settings),
    ]
}
