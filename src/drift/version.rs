//! Version ordering: natural order (`2026.10.1` > `2026.9.1`, `1.10` > `1.9`), so versions
//! compare the way people write them.

use std::cmp::Ordering;

/// Compares two version strings run by run: digit runs numerically, other runs as text.
pub fn compare(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    loop {
        match (a.is_empty(), b.is_empty()) {
            (true, true) => return Ordering::Equal,
            (true, false) => return Ordering::Less,
            (false, true) => return Ordering::Greater,
            _ => {}
        }
        let (ra, rest_a) = run(a);
        let (rb, rest_b) = run(b);
        let ord = match (ra[0].is_ascii_digit(), rb[0].is_ascii_digit()) {
            (true, true) => {
                let ta = trim_zeros(ra);
                let tb = trim_zeros(rb);
                ta.len().cmp(&tb.len()).then_with(|| ta.cmp(tb))
            }
            // A number sorts after text in the same place: `1.0-rc1` < `1.0.1`.
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            (false, false) => ra.cmp(rb),
        };
        if ord != Ordering::Equal {
            return ord;
        }
        a = rest_a;
        b = rest_b;
    }
}

fn run(s: &[u8]) -> (&[u8], &[u8]) {
    let digit = s[0].is_ascii_digit();
    let end = s
        .iter()
        .position(|c| c.is_ascii_digit() != digit)
        .unwrap_or(s.len());
    s.split_at(end)
}

fn trim_zeros(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|&c| c != b'0').unwrap_or(s.len());
    &s[start..]
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::*;

    #[test]
    fn natural_order() {
        assert_eq!(compare("2026.10.1", "2026.9.1"), Greater);
        assert_eq!(compare("1.10", "1.9"), Greater);
        assert_eq!(compare("1.0", "1.0"), Equal);
        assert_eq!(compare("1.0", "1.0.1"), Less);
        assert_eq!(compare("20261104", "20260903"), Greater);
        assert_eq!(compare("v007", "v7"), Equal);
        assert_eq!(compare("", "1"), Less);
        assert_eq!(compare("1.0-rc1", "1.0.1"), Less);
    }
}
