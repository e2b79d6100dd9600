//! OVA manifests: the `.mf` drydock writes (SHA-256, ovftool's spelling), the lines it
//! reads from OVAs made elsewhere (SHA-1, SHA-256 or SHA-512; `SHA256(f)= d` or
//! `SHA256 (f) = d`), and checking an OVA's members against them.

use super::error::{corrupt, unsupported, Result};
use super::ova::Member;
use super::sink::hex;
use super::source::Source;
use sha2::{Digest, Sha256};

const F: &str = "ova";

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

/// Checks `members` against the manifest, if there is one, reading each member it names;
/// done once per file and process (`inspect` opens an OVA's disk more than once).
pub(super) fn verify_once(src: &Source, members: &[Member]) -> Result<()> {
    let Some(checks) = manifest_checks(src, members)? else {
        return Ok(());
    };
    let id = src.identity();
    if id.is_some_and(|id| VERIFIED.lock().is_ok_and(|v| v.contains(&id))) {
        return Ok(());
    }
    let mut sums = std::collections::HashMap::new();
    for name in checks.files() {
        if let Some(m) = members.iter().find(|m| m.name == name) {
            sums.insert(name.to_string(), digests_of(src, m)?);
        }
    }
    checks.verify(&sums)?;
    if let (Some(id), Ok(mut v)) = (id, VERIFIED.lock()) {
        v.insert(id);
    }
    Ok(())
}

/// OVAs whose manifest was verified in this process: (device, inode, mtime, length).
static VERIFIED: std::sync::Mutex<std::collections::BTreeSet<(u64, u64, i64, u64)>> =
    std::sync::Mutex::new(std::collections::BTreeSet::new());

/// The most manifest text read (a manifest names a handful of files).
const MAX_MANIFEST: u64 = 1 << 20;

/// A manifest's lines: (line number, algorithm, file, wanted digest), and where it starts.
pub(super) struct Checks {
    offset: u64,
    lines: Vec<(usize, String, String, String)>,
}

/// The manifest member's checks, read whole (a larger one is refused, not cut).
pub(super) fn manifest_checks(src: &Source, members: &[Member]) -> Result<Option<Checks>> {
    let Some(mf) = members
        .iter()
        .find(|m| m.name.to_ascii_lowercase().ends_with(".mf"))
    else {
        return Ok(None);
    };
    if mf.size > MAX_MANIFEST {
        return Err(corrupt(
            F,
            "manifest",
            mf.offset,
            format!("{} bytes; a manifest is at most {MAX_MANIFEST}", mf.size),
        ));
    }
    let mut b = vec![0u8; mf.size as usize];
    src.read_at(F, "manifest", mf.offset, &mut b)?;
    let text = String::from_utf8_lossy(&b);
    let mut lines = Vec::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let Some((algo, file, want)) = manifest_line(line) else {
            let shown: String = line.chars().take(80).collect();
            return Err(corrupt(
                F,
                "manifest",
                mf.offset,
                format!("line {}: {shown:?} is not ALGO(file)= digest", i + 1),
            ));
        };
        if !members.iter().any(|m| m.name == file) {
            return Err(corrupt(
                F,
                "manifest",
                mf.offset,
                format!(
                    "line {}: names {file:?}, which is not in the archive",
                    i + 1
                ),
            ));
        }
        lines.push((i + 1, algo, file.to_string(), want));
    }
    Ok(Some(Checks {
        offset: mf.offset,
        lines,
    }))
}

impl Checks {
    fn files(&self) -> impl Iterator<Item = &str> {
        self.lines.iter().map(|(_, _, f, _)| f.as_str())
    }

    /// Compares each line with the members' digests; returns how many were verified.
    pub(super) fn verify(
        &self,
        sums: &std::collections::HashMap<String, Digests>,
    ) -> Result<usize> {
        for (n, algo, file, want) in &self.lines {
            let bad = |d: String| corrupt(F, "manifest", self.offset, format!("line {n}: {d}"));
            let d = sums
                .get(file)
                .ok_or_else(|| bad(format!("{file:?} was not read")))?;
            let got = match algo.as_str() {
                "SHA256" => &d.sha256,
                "SHA512" => &d.sha512,
                "SHA1" => &d.sha1,
                other => {
                    return Err(unsupported(
                        F,
                        format!("manifest digest {other}"),
                        "SHA1, SHA256 and SHA512 are checked",
                    ))
                }
            };
            if got != want {
                return Err(bad(format!(
                    "{file}: {algo} is {got}, the manifest says {want}"
                )));
            }
        }
        Ok(self.lines.len())
    }
}

/// A member's digests, read through once.
fn digests_of(src: &Source, m: &Member) -> Result<Digests> {
    read_member(src, m, &mut |_| Ok(()))
}

/// Reads member `m` a MiB at a time, handing each piece to `each`, and returns its digests.
pub(super) fn read_member(
    src: &Source,
    m: &Member,
    each: &mut dyn FnMut(&[u8]) -> Result<()>,
) -> Result<Digests> {
    let (mut sha256, mut sha512, mut sha1) =
        (Sha256::new(), sha2::Sha512::new(), sha1::Sha1::new());
    let mut buf = vec![0u8; 1 << 20];
    let mut done = 0;
    while done < m.size {
        let n = ((m.size - done) as usize).min(buf.len());
        let piece = &mut buf[..n];
        src.read_at(F, "tar member", m.offset + done, piece)?;
        sha256.update(&*piece);
        sha512.update(&*piece);
        sha1.update(&*piece);
        each(piece)?;
        done += n as u64;
    }
    Ok(Digests {
        sha256: hex(&sha256.finalize()),
        sha512: hex(&sha512.finalize()),
        sha1: hex(&sha1.finalize()),
    })
}
