//! An SPDX 2.3 JSON document of what `inspect` found: one package per installed package,
//! its declared licences as an SPDX expression (Debian's short names mapped to SPDX ids,
//! others as `LicenseRef-…`), all described by the document.

use super::Inspection;
use serde_json::{json, Value};

/// Whether `n` is an SPDX licence id drydock recognises as such.
fn is_spdx_id(n: &str) -> bool {
    const FAMILIES: &[&str] = &["GPL-", "LGPL-", "AGPL-", "GFDL-", "MPL-", "EPL-", "CC-BY-"];
    const ONLY_OR_LATER: &[&str] = &["-only", "-or-later"];
    FAMILIES.iter().any(|f| n.starts_with(f))
        && (ONLY_OR_LATER.iter().any(|s| n.ends_with(s))
            || n.starts_with("MPL-")
            || n.starts_with("EPL-")
            || n.starts_with("CC-BY-"))
        || matches!(
            n,
            "BSD-1-Clause"
                | "0BSD"
                | "Unlicense"
                | "BSL-1.0"
                | "Python-2.0"
                | "curl"
                | "X11"
                | "WTFPL"
        )
}

/// Debian's DEP-5 short names for the common licences, as SPDX ids.
fn spdx_id(name: &str) -> String {
    let known = match name {
        "GPL-2" => "GPL-2.0-only",
        "GPL-2+" => "GPL-2.0-or-later",
        "GPL-3" => "GPL-3.0-only",
        "GPL-3+" => "GPL-3.0-or-later",
        "LGPL-2.1" => "LGPL-2.1-only",
        "LGPL-2.1+" => "LGPL-2.1-or-later",
        "LGPL-3" => "LGPL-3.0-only",
        "LGPL-3+" => "LGPL-3.0-or-later",
        "Apache-2.0" | "MIT" | "Zlib" | "ISC" | "BSD-2-Clause" | "BSD-3-Clause" | "MPL-2.0"
        | "Artistic-2.0" | "CC0-1.0" | "OpenSSL" | "PSF-2.0" => name,
        "Expat" => "MIT",
        // rpm's older (Fedora "callaway") short names.
        "ASL 2.0" => "Apache-2.0",
        "GPLv2" => "GPL-2.0-only",
        "GPLv2+" => "GPL-2.0-or-later",
        "GPLv3" => "GPL-3.0-only",
        "GPLv3+" => "GPL-3.0-or-later",
        "LGPLv2+" => "LGPL-2.0-or-later",
        "LGPLv2.1+" | "LGPLv2+ or LGPLv3+" => "LGPL-2.1-or-later",
        "Public Domain" => "LicenseRef-public-domain",
        // Already SPDX ids (rpm since Fedora 37, apk).
        n if is_spdx_id(n) => n,
        "public-domain" => "LicenseRef-public-domain",
        _ => "",
    };
    if !known.is_empty() {
        return known.to_string();
    }
    let clean: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("LicenseRef-{clean}")
}

/// An rpm-style "A AND B" (or "A and B") term as SPDX ids.
fn conjunction(term: &str) -> String {
    let parts: Vec<String> = term
        .split(" AND ")
        .flat_map(|p| p.split(" and "))
        .map(|p| spdx_id(p.trim().trim_matches(['(', ')'])))
        .collect();
    if parts.len() == 1 {
        parts[0].clone()
    } else {
        format!("({})", parts.join(" AND "))
    }
}

/// The declared licence of a package: its licences joined with AND, or NOASSERTION.
fn declared(licenses: &[String]) -> String {
    if licenses.is_empty() {
        return "NOASSERTION".into();
    }
    // Each field is an expression of its own ("A or B"); fields all apply (AND).
    let terms: Vec<String> = licenses
        .iter()
        .map(|l| {
            let alts: Vec<String> = l
                .split(" or ")
                .flat_map(|a| a.split(" OR "))
                .map(|a| conjunction(a.trim()))
                .collect();
            if alts.len() == 1 {
                alts[0].clone()
            } else {
                format!("({})", alts.join(" OR "))
            }
        })
        .collect();
    if terms.len() == 1 {
        terms[0].clone()
    } else {
        format!("({})", terms.join(" AND "))
    }
}

/// The SPDX 2.3 document for `found`, named after `name`, created at `created` (RFC 3339).
pub fn document(found: &Inspection, name: &str, created: &str) -> Value {
    let mut packages = Vec::new();
    let mut relationships = Vec::new();
    for v in &found.volumes {
        let Some(c) = &v.contents else { continue };
        for (i, p) in c.packages.iter().enumerate() {
            let id = format!("SPDXRef-Package-{}-{}", v.partition.number, i + 1);
            packages.push(json!({
                "name": p.name,
                "SPDXID": id,
                "versionInfo": p.version,
                "downloadLocation": "NOASSERTION",
                "filesAnalyzed": false,
                "licenseConcluded": "NOASSERTION",
                "licenseDeclared": declared(&p.licenses),
                "copyrightText": "NOASSERTION",
                "externalRefs": [{
                    "referenceCategory": "PACKAGE-MANAGER",
                    "referenceType": "purl",
                    "referenceLocator": format!(
                        "pkg:{}/{}/{}@{}{}",
                        match c.package_manager.as_deref() {
                            Some("rpm") => "rpm",
                            Some("apk") => "apk",
                            _ => "deb",
                        },
                        c.os_id.as_deref().unwrap_or("debian"),
                        p.name,
                        p.version,
                        if p.architecture.is_empty() { String::new() } else { format!("?arch={}", p.architecture) }
                    ),
                }],
            }));
            relationships.push(json!({
                "spdxElementId": "SPDXRef-DOCUMENT",
                "relationshipType": "DESCRIBES",
                "relatedSpdxElement": id,
            }));
        }
    }
    let digest = namespace_digest(&[name, created]);
    json!({
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": name,
        "documentNamespace": format!("https://drydock.invalid/spdx/{name}-{digest}"),
        "creationInfo": {
            "created": created,
            "creators": [format!("Tool: drydock-{}", env!("CARGO_PKG_VERSION"))],
        },
        "packages": packages,
        "relationships": relationships,
        "annotations": found.volumes.iter().filter_map(|v| v.contents.as_ref()?.os.as_ref()).take(1).map(|os| json!({
            "annotator": format!("Tool: drydock-{}", env!("CARGO_PKG_VERSION")),
            "annotationDate": created,
            "annotationType": "OTHER",
            "comment": format!("os: {os}"),
        })).collect::<Vec<_>>(),
    })
}

/// A short stable digest that keeps document namespaces unique (FNV-1a, 64 bits: the
/// namespace must differ per name and time, not resist an adversary).
fn namespace_digest(parts: &[&str]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in parts.iter().flat_map(|p| p.bytes().chain([0])) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debian_short_names_become_spdx_expressions() {
        assert_eq!(declared(&["GPL-3+".into()]), "GPL-3.0-or-later");
        assert_eq!(
            declared(&["Expat".into(), "GPL-2+ or Artistic-2.0".into()]),
            "(MIT AND (GPL-2.0-or-later OR Artistic-2.0))"
        );
        assert_eq!(declared(&[]), "NOASSERTION");
        assert_eq!(declared(&["odd licence".into()]), "LicenseRef-odd-licence");
        assert_eq!(
            declared(&["GPL-3.0-or-later AND MIT".into()]),
            "(GPL-3.0-or-later AND MIT)"
        );
        assert_eq!(declared(&["ASL 2.0".into()]), "Apache-2.0");
    }
}
