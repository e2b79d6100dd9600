//! Fuzz the partition-table (MBR, GPT) and filesystem-signature parsers on arbitrary disks.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    drydock_fuzz::inspect::fuzz_disk(data);
});
