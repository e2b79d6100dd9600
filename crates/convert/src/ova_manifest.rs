//! OVA manifests: the `.mf` drydock writes (SHA-256, ovftool's spelling) and the lines it
//! reads from OVAs made elsewhere (SHA-1, SHA-256 or SHA-512; `SHA256(f)= d` or
//! `SHA256 (f) = d`).

/// An OVA manifest as drydock writes it: `SHA256(file)= digest` lines.
pub(super) fn manifest(entries: &[(&str, &str)]) -> String {
    entries
        .iter()
        .map(|(file, digest)| format!("SHA256({file})= {digest}\n"))
        .collect()
}

/// A member's digests, for whichever algorithm its manifest uses.
pub(super) struct Digests {
    pub sha256: String,
    pub sha512: String,
    pub sha1: String,
}

/// One manifest line in either spelling: `SHA256(file)= hex` (OpenSSL, ovftool) or
/// `SHA256 (file) = hex` (BSD, some VirtualBox versions); the algorithm in upper case.
pub(super) fn manifest_line(line: &str) -> Option<(String, &str, String)> {
    let (left, want) = line.rsplit_once('=')?;
    let left = left.trim();
    let open = left.find('(')?;
    let file = left[open + 1..].strip_suffix(')')?;
    let algo = left[..open].trim().to_ascii_uppercase();
    let want = want.trim().to_ascii_lowercase();
    if algo.is_empty() || file.is_empty() || want.is_empty() {
        return None;
    }
    Some((algo, file, want))
}
