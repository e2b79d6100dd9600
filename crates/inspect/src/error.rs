//! The inspection error (a corrupt structure names itself and its offset) and the
//! positional read the parsers take. No dependency on the rest of drydock, so the fuzz
//! crate compiles the parsers on their own.

/// Positional reads of the virtual disk: fill the buffer from the offset.
pub type ReadAt<'a> = dyn FnMut(u64, &mut [u8]) -> Result<(), InspectError> + 'a;

/// Why an image cannot be inspected: the structure and the offset for a corrupt one.
#[derive(Clone, Debug, thiserror::Error)]
pub enum InspectError {
    #[error("corrupt {structure} at offset {offset} ({offset:#x}): {detail}")]
    Corrupt {
        structure: &'static str,
        offset: u64,
        detail: String,
    },
    #[error("{0}")]
    Engine(String),
}

impl InspectError {
    pub fn corrupt(structure: &'static str, offset: u64, detail: String) -> InspectError {
        InspectError::Corrupt {
            structure,
            offset,
            detail,
        }
    }
}
