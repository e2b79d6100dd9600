//! Fuzz filter expressions (`report --filter`, the dashboard's `/`): parsed, matched, and
//! the narrowing of one typed after another checked.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    drydock_fuzz::fuzz_filter(data);
});
