//! Fuzz What drydock reads of an OpenStack cloud: clouds.yaml, Glance and Nova pages, a
//! Cinder volume, an error body.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    drydock_fuzz::fuzz_openstack(data);
});
