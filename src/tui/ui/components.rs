//! The Images view's components section: what an image version holds (from its SBOM) and
//! what changed since the previous version of its family that has one.

use crate::inspect::diff::{self, Components};
use crate::tui::data::Data;
use crate::tui::theme::Theme;
use ratatui::text::Line;

/// The newest version of image `i`'s family older than it that has an SBOM.
fn previous(d: &Data, i: usize) -> Option<(usize, &Components)> {
    let fam = d.a.images[i].family.as_deref()?;
    let version = d.a.images[i].version.as_deref()?;
    (0..d.inv.images.len())
        .filter(|&k| k != i && d.a.images[k].family.as_deref() == Some(fam))
        .filter_map(|k| {
            let v = d.a.images[k].version.as_deref()?;
            let c = d.sboms[k].as_ref()?.as_ref().ok()?;
            (crate::drift::version::compare(v, version).is_lt()).then_some((k, v, c))
        })
        .max_by(|a, b| crate::drift::version::compare(a.1, b.1))
        .map(|(k, _, c)| (k, c))
}

fn names(list: &[String]) -> String {
    const SHOWN: usize = 6;
    let mut s = list
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if list.len() > SHOWN {
        s.push_str(&format!(" … +{}", list.len() - SHOWN));
    }
    s
}

/// The lines for image `i`: nothing when no SBOM is known.
pub fn lines(d: &Data, i: usize, theme: Theme) -> Vec<Line<'static>> {
    let Some(sbom) = &d.sboms[i] else {
        return Vec::new();
    };
    let c = match sbom {
        Ok(c) => c,
        Err(e) => return vec![Line::styled(format!("components: {e}"), theme.title())],
    };
    let licensed = c.packages.iter().filter(|p| !p.licenses.is_empty()).count();
    let mut out = vec![Line::styled(
        format!(
            "components: {}; kernel {}; {} packages ({licensed} with licences)",
            c.os.as_deref().unwrap_or("OS unknown"),
            if c.kernels.is_empty() {
                "-".into()
            } else {
                c.kernels.join(", ")
            },
            c.packages.len()
        ),
        theme.title(),
    )];
    let Some((k, old)) = previous(d, i) else {
        out.push(Line::raw(
            "  no earlier version of the family has an SBOM to compare",
        ));
        return out;
    };
    let ch = diff::diff(old, c);
    let prev = d.a.images[k].version.clone().unwrap_or_default();
    if ch.is_empty() {
        out.push(Line::raw(format!("  since {prev}: no changes")));
        return out;
    }
    out.push(Line::raw(format!(
        "  since {prev}: +{} −{} ↑{} ↓{}, {} licence changes",
        ch.added.len(),
        ch.removed.len(),
        ch.upgraded.len(),
        ch.downgraded.len(),
        ch.licence_changes.len()
    )));
    if let Some(os) = &ch.os {
        out.push(Line::raw(format!("    os: {} → {}", os.old, os.new)));
    }
    if !ch.kernels_added.is_empty() {
        out.push(Line::raw(format!(
            "    kernel: {}",
            ch.kernels_added.join(", ")
        )));
    }
    let pkg = |v: &[crate::inspect::packages::Package]| {
        names(&v.iter().map(|p| p.name.clone()).collect::<Vec<_>>())
    };
    let chg = |v: &[diff::Change]| {
        names(
            &v.iter()
                .map(|c| format!("{} {}→{}", c.name, c.old, c.new))
                .collect::<Vec<_>>(),
        )
    };
    for (label, text, n) in [
        ("added", pkg(&ch.added), ch.added.len()),
        ("removed", pkg(&ch.removed), ch.removed.len()),
        ("upgraded", chg(&ch.upgraded), ch.upgraded.len()),
        ("downgraded", chg(&ch.downgraded), ch.downgraded.len()),
        (
            "licences",
            chg(&ch.licence_changes),
            ch.licence_changes.len(),
        ),
    ] {
        if n > 0 {
            out.push(Line::raw(format!("    {label}: {text}")));
        }
    }
    out
}
