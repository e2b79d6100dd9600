//! Fuzz `drydock ova unpack FILE DIR`: the tar members, the OVF and the manifest verified.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    drydock_fuzz::fuzz_ova_unpack(data);
});
