//! Fuzz what `drydock convert --check` and `drydock inspect` do with a file, seeded with
//! vhd images: any bytes must give an answer or an error, never a panic, a hang or
//! unbounded memory. The format is probed, as on the command line.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    drydock_fuzz::fuzz_image(data);
});
