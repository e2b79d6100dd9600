//! The conversion engine's sources (src/convert) compiled on their own for fuzzing, so the
//! fuzz build does not instrument the cloud SDKs the rest of drydock links.

#[path = "../../src/convert/mod.rs"]
pub mod convert;
