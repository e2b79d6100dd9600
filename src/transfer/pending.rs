//! Transfers in flight, recorded next to the plan journal (`transfers/TOKEN.json`) before
//! anything is created in a cloud and removed once the image is registered or the partial
//! snapshot or disk is deleted. A record left behind means a transfer was killed: the next
//! transfer to that context removes what it left (the provider finds it by its token tag).

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// One transfer in flight.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Pending {
    pub token: String,
    pub context: String,
    pub place: String,
    /// What is being created (for messages).
    pub what: String,
    pub started: String,
}

/// The directory of records.
#[derive(Clone, Debug)]
pub struct Ledger {
    dir: PathBuf,
}

impl Ledger {
    pub fn at(dir: &Path) -> Ledger {
        Ledger {
            dir: dir.to_path_buf(),
        }
    }

    fn file(&self, token: &str) -> PathBuf {
        self.dir.join(format!("{token}.json"))
    }

    /// Record `p` durably (temporary file, fsync, rename) before its first cloud call.
    pub fn record(&self, p: &Pending) -> std::io::Result<()> {
        use std::io::Write;
        std::fs::create_dir_all(&self.dir)?;
        let path = self.file(&p.token);
        let tmp = path.with_extension("json.tmp");
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(
            serde_json::to_string(p)
                .map_err(std::io::Error::other)?
                .as_bytes(),
        )?;
        f.sync_all()?;
        std::fs::rename(&tmp, &path)
    }

    /// The transfer finished or was cleaned up.
    pub fn clear(&self, token: &str) -> std::io::Result<()> {
        match std::fs::remove_file(self.file(token)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// Records of transfers to `context` that never finished.
    pub fn left_in(&self, context: &str) -> Vec<Pending> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut out: Vec<Pending> = entries
            .filter_map(|e| e.ok())
            .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
            .filter_map(|e| std::fs::read_to_string(e.path()).ok())
            .filter_map(|t| serde_json::from_str::<Pending>(&t).ok())
            .filter(|p| p.context == context)
            .collect();
        out.sort_by(|a, b| a.started.cmp(&b.started));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_survive_until_cleared() {
        let dir = tempfile::tempdir().unwrap();
        let l = Ledger::at(dir.path());
        let p = Pending {
            token: "t1".into(),
            context: "prod".into(),
            place: "eu-west-1".into(),
            what: "snapshot".into(),
            started: "2026-11-29T10:00:00Z".into(),
        };
        l.record(&p).unwrap();
        assert_eq!(l.left_in("prod"), vec![p]);
        assert!(l.left_in("other").is_empty());
        l.clear("t1").unwrap();
        l.clear("t1").unwrap();
        assert!(l.left_in("prod").is_empty());
    }
}
