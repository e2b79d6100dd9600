//! Counted nouns for messages: "1 VM", "2 VMs", "1 provider/region". Every message that
//! prints a count with its noun goes through [`count`], so none says "1 VMs".

/// `n` and `noun`, with an `s` (or `es` after s, x, ch, sh) when `n` is not 1. Nouns
/// whose plural is not regular ("capacity") are not counted with this.
pub fn count(n: impl Into<u64>, noun: &str) -> String {
    let n: u64 = n.into();
    if n == 1 {
        return format!("1 {noun}");
    }
    let es = ["s", "x", "ch", "sh"].iter().any(|e| noun.ends_with(e));
    format!("{n} {noun}{}", if es { "es" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::count;

    #[test]
    fn one_is_singular_everything_else_plural() {
        assert_eq!(count(1u32, "VM"), "1 VM");
        assert_eq!(count(0u32, "VM"), "0 VMs");
        assert_eq!(count(2u32, "image"), "2 images");
        assert_eq!(count(1u32, "provider/region"), "1 provider/region");
        assert_eq!(count(3u32, "provider/region"), "3 provider/regions");
        assert_eq!(count(2u32, "patch"), "2 patches");
    }
}
