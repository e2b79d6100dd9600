//! A bounded walk over an ext filesystem read by `ext4-view`: every regular file under a
//! directory with its size, at most `limit` entries visited, symlinks not followed. No
//! dependency on the rest of drydock, so the fuzz crate runs it on hostile filesystems.

use ext4_view::Ext4;

/// The files under `dir` (recursively, at most `limit` entries), with their sizes.
pub fn walk(fs: &Ext4, dir: &str, limit: usize) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.trim_end_matches('/').to_string()];
    let mut seen = 0;
    while let Some(d) = stack.pop() {
        let at = if d.is_empty() { "/" } else { d.as_str() };
        let Ok(entries) = fs.read_dir(at) else {
            continue;
        };
        for e in entries.flatten() {
            seen += 1;
            if seen > limit {
                return out;
            }
            let Ok(name) = e.file_name().as_str().map(str::to_string) else {
                continue;
            };
            if name == "." || name == ".." {
                continue;
            }
            let path = format!("{d}/{name}");
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(path),
                Ok(t) if t.is_regular_file() => {
                    if let Ok(m) = e.metadata() {
                        out.push((path, m.len()));
                    }
                }
                _ => {}
            }
        }
    }
    out
}

/// The most bytes drydock reads from one text file inside an image (a dpkg status file of
/// a large system is a few MiB).
pub const MAX_TEXT: u64 = 64 << 20;

/// A file's bytes if it is a regular file of at most `max` bytes: a hostile image cannot
/// make drydock allocate what its inode claims.
pub fn read_capped(fs: &Ext4, path: &str, max: u64) -> Option<Vec<u8>> {
    let m = fs.metadata(path).ok()?;
    if !m.file_type().is_regular_file() || m.len() > max {
        return None;
    }
    fs.read(path).ok()
}

/// A text file (lossy UTF-8) of at most `MAX_TEXT` bytes.
pub fn read_text(fs: &Ext4, path: &str) -> Option<String> {
    read_capped(fs, path, MAX_TEXT).map(|b| String::from_utf8_lossy(&b).into_owned())
}
