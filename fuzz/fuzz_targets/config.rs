//! Fuzz `drydock --config FILE`: the file read, merged over the embedded defaults and typed.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    drydock_fuzz::fuzz_config(data);
});
