//! Fuzz an ext filesystem as a whole disk through `drydock inspect` and `drydock lint`
//! (free-space walk, ext4-view's load, drydock's bounded walk), and the package-database
//! parsers on the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    drydock_fuzz::fuzz_filesystem(data);
});
