//! Fuzz the ext free-space walk, ext4-view's load with drydock's bounded directory walk,
//! and the package-database parsers on arbitrary bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    drydock_fuzz::inspect::fuzz_filesystem(data);
});
