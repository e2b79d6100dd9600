//! Deterministic, realistic-looking resource ids for simulated resources.

/// FNV-1a over the parts, separated so that ("ab","c") and ("a","bc") differ.
fn hash(parts: &[&str], salt: u64) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ salt;
    for part in parts {
        for b in part.bytes().chain(std::iter::once(0xff)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

/// An AWS-style id: `prefix-` and 17 hex digits (e.g. `ami-0a1b2c3d4e5f60718`).
pub fn aws(prefix: &str, parts: &[&str]) -> String {
    let a = hash(parts, 1);
    let b = hash(parts, 2);
    format!("{prefix}-0{:08x}{:08x}", a as u32, b as u32)
}

/// A UUID-shaped id.
pub fn uuid_like(parts: &[&str]) -> String {
    let a = hash(parts, 3);
    let b = hash(parts, 4);
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xffff,
        b >> 48,
        b & 0xffff_ffff_ffff
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_and_shaped() {
        let id = aws("ami", &["web", "1", "eu-west-1"]);
        assert_eq!(id, aws("ami", &["web", "1", "eu-west-1"]));
        assert_eq!(id.len(), "ami-".len() + 17);
        assert_ne!(aws("i", &["ab", "c"]), aws("i", &["a", "bc"]));
        assert_eq!(uuid_like(&["x"]).len(), 36);
    }
}
