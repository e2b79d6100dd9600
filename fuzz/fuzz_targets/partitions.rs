//! Fuzz `drydock inspect` and `drydock lint` on arbitrary disks: partition tables (MBR,
//! GPT), filesystem signatures and what follows from them. The format is probed.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    drydock_fuzz::fuzz_disk(data);
});
