//! Fuzz An image list as a subscription fetches it (HEPiX/AppDB JSON or a signed list), parsed.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    drydock_fuzz::fuzz_image_list(data);
});
