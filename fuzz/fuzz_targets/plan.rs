//! Fuzz A plan file as `plan show FILE` reads it: TOML, validated.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    drydock_fuzz::fuzz_plan(data);
});
