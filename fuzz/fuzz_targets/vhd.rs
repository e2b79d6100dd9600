//! Fuzz the vhd reader: any bytes must give an image or an error, never a panic, a hang or
//! unbounded memory.
#![no_main]

use drydock_fuzz::convert::{fuzz_read, Format};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    fuzz_read(Format::VhdDynamic, data);
});
