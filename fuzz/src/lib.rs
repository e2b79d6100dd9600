//! The conversion engine's sources (src/convert) and the inspection parsers (partition
//! tables, filesystem signatures) compiled on their own for fuzzing, so the fuzz build does
//! not instrument the cloud SDKs the rest of drydock links.

#[path = "../../src/convert/mod.rs"]
pub mod convert;

/// The partition-table and filesystem-signature parsers of src/inspect.
pub mod inspect;
