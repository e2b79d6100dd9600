//! Fuzz `drydock report --snapshot FILE`: the snapshot read and judged.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    drydock_fuzz::fuzz_snapshot(data);
});
