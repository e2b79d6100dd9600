//! Fuzz The package databases found inside images: dpkg status, apk installed, DEP-5 copyright, an rpm header blob.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    drydock_fuzz::fuzz_packages(data);
});
