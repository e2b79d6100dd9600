//! Text that must fit a cell without lying about it: a cut value ends with `…`, and a long
//! cloud id keeps its distinguishing tail (for Azure, `resource-group/name`), never a prefix
//! that every id of a subscription shares.

/// `s` in at most `max` characters; a cut ends with `…`.
pub fn ellipsize(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let mut out: String = s.chars().take(max - 1).collect();
    out.push('…');
    out
}

/// The part of a cloud id that tells it apart from its neighbours: an Azure resource id
/// (`/subscriptions/…/resourceGroups/RG/providers/…/NAME`) becomes `RG/NAME` (a gallery image
/// version `RG/gallery/definition/version`); other ids are kept whole.
pub fn short_id(id: &str) -> String {
    if !id.starts_with("/subscriptions/") {
        return id.to_string();
    }
    let parts: Vec<&str> = id.split('/').filter(|p| !p.is_empty()).collect();
    let rg = parts
        .iter()
        .position(|p| p.eq_ignore_ascii_case("resourceGroups"))
        .and_then(|i| parts.get(i + 1));
    let provider = parts
        .iter()
        .position(|p| p.eq_ignore_ascii_case("providers"));
    // After `providers/Namespace`, names alternate type/name: keep the names.
    let names: Vec<&str> = match provider {
        Some(i) => parts[i + 2..].iter().skip(1).step_by(2).copied().collect(),
        None => parts.last().into_iter().copied().collect(),
    };
    match (rg, names.is_empty()) {
        (Some(rg), false) => format!("{rg}/{}", names.join("/")),
        (None, false) => names.join("/"),
        (_, true) => id.to_string(),
    }
}

/// `short_id`, then cut from the left (`…` first) to `max` characters: the end of an id is
/// what differs.
pub fn id_cell(id: &str, max: usize) -> String {
    let s = short_id(id);
    let n = s.chars().count();
    if n <= max || max < 2 {
        return s;
    }
    let skip = n - (max - 1);
    format!("…{}", s.chars().skip(skip).collect::<String>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_values_end_with_an_ellipsis() {
        assert_eq!(ellipsize("2026.11.1", 9), "2026.11.1");
        assert_eq!(ellipsize("2026.11.10", 9), "2026.11.…");
        assert_eq!(ellipsize("abc", 0), "");
    }

    #[test]
    fn azure_ids_keep_their_distinguishing_tail() {
        let vm = "/subscriptions/6b1f3c00-0000-0000-0000-000000000000/resourceGroups/rg-pay/providers/Microsoft.Compute/virtualMachines/ledger-001";
        assert_eq!(short_id(vm), "rg-pay/ledger-001");
        let ver = "/subscriptions/6b1f3c/resourceGroups/rg-img/providers/Microsoft.Compute/galleries/golden/images/payment/versions/2026.11.1";
        assert_eq!(short_id(ver), "rg-img/golden/payment/2026.11.1");
        assert_eq!(short_id("ami-0abc"), "ami-0abc");
        assert_eq!(id_cell(vm, 12), "…/ledger-001");
        assert_eq!(id_cell("i-0123456789abcdef0", 21), "i-0123456789abcdef0");
    }
}
