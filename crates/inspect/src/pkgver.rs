//! Package version order as dpkg defines it (`epoch:upstream-revision`, `~` before
//! anything, letters before other symbols, digit runs numerically), which also orders rpm's
//! `version-release` and apk's `-rN` the way their users expect.

use std::cmp::Ordering;

fn split(v: &str) -> (u64, &str, &str) {
    let (epoch, rest) = match v.split_once(':') {
        Some((e, r)) if e.bytes().all(|b| b.is_ascii_digit()) && !e.is_empty() => {
            (e.parse().unwrap_or(u64::MAX), r)
        }
        _ => (0, v),
    };
    match rest.rsplit_once('-') {
        Some((up, rev)) => (epoch, up, rev),
        None => (epoch, rest, ""),
    }
}

/// The weight of a non-digit character: `~` sorts first, then the end, then letters, then
/// other symbols.
fn weight(c: Option<u8>) -> i32 {
    match c {
        Some(b'~') => -1,
        None => 0,
        Some(c) if c.is_ascii_alphabetic() => i32::from(c),
        Some(c) => i32::from(c) + 256,
    }
}

fn part(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    while !a.is_empty() || !b.is_empty() {
        // The non-digit prefix, character by character.
        loop {
            let ca = a.first().copied().filter(|c| !c.is_ascii_digit());
            let cb = b.first().copied().filter(|c| !c.is_ascii_digit());
            if ca.is_none() && cb.is_none() {
                break;
            }
            let ord = weight(ca).cmp(&weight(cb));
            if ord != Ordering::Equal {
                return ord;
            }
            a = &a[1..];
            b = &b[1..];
        }
        let na = a.iter().take_while(|c| c.is_ascii_digit()).count();
        let nb = b.iter().take_while(|c| c.is_ascii_digit()).count();
        let da = std::str::from_utf8(&a[..na])
            .unwrap_or("")
            .trim_start_matches('0');
        let db = std::str::from_utf8(&b[..nb])
            .unwrap_or("")
            .trim_start_matches('0');
        let ord = da.len().cmp(&db.len()).then_with(|| da.cmp(db));
        if ord != Ordering::Equal {
            return ord;
        }
        a = &a[na..];
        b = &b[nb..];
    }
    Ordering::Equal
}

/// Compare two package versions.
pub fn compare(a: &str, b: &str) -> Ordering {
    let (ea, ua, ra) = split(a);
    let (eb, ub, rb) = split(b);
    ea.cmp(&eb)
        .then_with(|| part(ua, ub))
        .then_with(|| part(ra, rb))
}

#[cfg(test)]
mod tests {
    use super::compare;
    use std::cmp::Ordering::*;

    #[test]
    fn dpkg_order() {
        assert_eq!(compare("1:1.0", "2.0"), Greater);
        assert_eq!(compare("1.0~rc1", "1.0"), Less);
        assert_eq!(compare("1.10", "1.9"), Greater);
        assert_eq!(compare("5.2.15-2+b7", "5.2.15-2"), Greater);
        assert_eq!(compare("1.0a", "1.0+"), Less);
        assert_eq!(compare("3.0.7-27.el9", "3.0.7-24.el9"), Greater);
        assert_eq!(compare("1.36.1-r29", "1.36.1-r5"), Greater);
        assert_eq!(compare("1.0", "1.00"), Equal);
    }
}
