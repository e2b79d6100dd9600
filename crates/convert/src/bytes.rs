//! The one byte reader of on-disk structures, shared by the engine's formats and the
//! inspection parsers: little- and big-endian integers at an offset of a buffer, bounded.
//!
//! - `get_*` return `None` for a field past the buffer's end: for offsets computed from
//!   input (an entry of a table, a field of a structure whose length the input declares),
//!   where the caller turns `None` into a corrupt-structure error naming the offset.
//! - The plain forms are for the fixed layout of a header the caller read whole (a field
//!   at a constant offset inside it). They never panic: a field past the end would be a
//!   sizing mistake in drydock, caught by a debug assertion in tests, and reads as 0.

fn field<const N: usize>(b: &[u8], at: usize) -> Option<[u8; N]> {
    b.get(at..at.checked_add(N)?)?.try_into().ok()
}

fn fixed<T: Default>(v: Option<T>, len: usize, at: usize, n: usize) -> T {
    debug_assert!(
        v.is_some(),
        "a {n}-byte field at {at} of a {len}-byte buffer: the header buffer is too small"
    );
    v.unwrap_or_default()
}

pub fn get_le16(b: &[u8], at: usize) -> Option<u16> {
    field(b, at).map(u16::from_le_bytes)
}
pub fn get_le32(b: &[u8], at: usize) -> Option<u32> {
    field(b, at).map(u32::from_le_bytes)
}
pub fn get_le64(b: &[u8], at: usize) -> Option<u64> {
    field(b, at).map(u64::from_le_bytes)
}
pub fn get_be16(b: &[u8], at: usize) -> Option<u16> {
    field(b, at).map(u16::from_be_bytes)
}
pub fn get_be32(b: &[u8], at: usize) -> Option<u32> {
    field(b, at).map(u32::from_be_bytes)
}
pub fn get_be64(b: &[u8], at: usize) -> Option<u64> {
    field(b, at).map(u64::from_be_bytes)
}

pub fn le16(b: &[u8], at: usize) -> u16 {
    fixed(get_le16(b, at), b.len(), at, 2)
}
pub fn le32(b: &[u8], at: usize) -> u32 {
    fixed(get_le32(b, at), b.len(), at, 4)
}
pub fn le64(b: &[u8], at: usize) -> u64 {
    fixed(get_le64(b, at), b.len(), at, 8)
}
pub fn be16(b: &[u8], at: usize) -> u16 {
    fixed(get_be16(b, at), b.len(), at, 2)
}
pub fn be32(b: &[u8], at: usize) -> u32 {
    fixed(get_be32(b, at), b.len(), at, 4)
}
pub fn be64(b: &[u8], at: usize) -> u64 {
    fixed(get_be64(b, at), b.len(), at, 8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_past_the_end_are_none_never_a_panic() {
        let b = [1u8, 2, 3, 4, 5];
        assert_eq!(get_le16(&b, 0), Some(0x0201));
        assert_eq!(get_be32(&b, 1), Some(0x0203_0405));
        assert_eq!(get_le32(&b, 2), None);
        assert_eq!(get_le64(&b, usize::MAX - 2), None, "no overflow either");
        assert_eq!(get_be16(&[], 0), None);
    }
}
