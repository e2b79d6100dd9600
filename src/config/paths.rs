//! Where drydock keeps its files (XDG on Linux): the config file, the log file, and the
//! data directory (`DataDir`) whose layout is decided here and nowhere else.

use directories::ProjectDirs;
use std::path::{Path, PathBuf};

fn dirs() -> Option<ProjectDirs> {
    ProjectDirs::from("", "", "drydock")
}

/// `$XDG_CONFIG_HOME/drydock/config.toml`
pub fn config_file() -> Option<PathBuf> {
    dirs().map(|d| d.config_dir().join("config.toml"))
}

/// `$XDG_STATE_HOME/drydock`: logs.
fn state_dir() -> Option<PathBuf> {
    dirs().map(|d| {
        d.state_dir()
            .unwrap_or_else(|| d.data_local_dir())
            .to_path_buf()
    })
}

/// The log file: `$XDG_STATE_HOME/drydock/drydock.log`.
pub fn log_file() -> Option<PathBuf> {
    state_dir().map(|d| d.join("drydock.log"))
}

/// The one environment variable that moves every durable file drydock keeps.
pub const DATA_DIR_ENV: &str = "DRYDOCK_DATA_DIR";

/// The data directory: every durable file drydock keeps, named here and nowhere else.
/// Resolved once by the binary (`$DRYDOCK_DATA_DIR`, else `$XDG_DATA_HOME/drydock`) and
/// handed to whatever writes there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    /// `$DRYDOCK_DATA_DIR` (from `env`), else `$XDG_DATA_HOME/drydock`; `None` without
    /// either (no home directory).
    pub fn resolve(env: &dyn Fn(&str) -> Option<String>) -> Option<DataDir> {
        match env(DATA_DIR_ENV).filter(|v| !v.is_empty()) {
            Some(v) => Some(DataDir::at(v)),
            None => dirs().map(|d| DataDir::at(d.data_dir())),
        }
    }

    /// A data directory at `root` (tests, benches).
    pub fn at(root: impl Into<PathBuf>) -> DataDir {
        DataDir { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The plan journal of drydock before the store (`journal.sqlite`): its plans are
    /// copied into the store when the store is made.
    pub fn journal(&self) -> PathBuf {
        self.root.join("journal.sqlite")
    }

    /// The embedded store (plans, journal, leases, claims, audit, documents):
    /// `store.sqlite`, unless `[store] url` names a PostgreSQL one.
    pub fn store(&self) -> PathBuf {
        self.root.join("store.sqlite")
    }

    /// Plans written by `plan new` and the dashboard: `plans/ID.toml`.
    pub fn plans(&self) -> PathBuf {
        self.root.join("plans")
    }

    /// The dashboard's exports: `exports/`.
    pub fn exports(&self) -> PathBuf {
        self.root.join("exports")
    }
}

/// A name (an image id, a list name) as a file name in one of drydock's directories: every
/// character but ASCII letters, digits, `-` and `.` becomes `_`, and leading `_` and `.`
/// go, so it can neither leave the directory nor hide in it.
pub fn safe_file_name(name: &str) -> String {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    safe.trim_start_matches(['_', '.']).to_string()
}

#[cfg(test)]
mod tests {
    use super::safe_file_name;

    #[test]
    fn one_variable_moves_every_durable_file() {
        let env = |k: &str| (k == super::DATA_DIR_ENV).then(|| "/tmp/dd".to_string());
        let d = super::DataDir::resolve(&env).unwrap();
        for p in [d.journal(), d.store(), d.plans(), d.exports()] {
            assert!(p.starts_with("/tmp/dd"), "{}", p.display());
        }
    }

    #[test]
    fn names_stay_inside_their_directory() {
        assert_eq!(
            safe_file_name("/subscriptions/s/resourceGroups/rg/images/web"),
            "subscriptions_s_resourceGroups_rg_images_web"
        );
        assert_eq!(safe_file_name("ami-0123.v2"), "ami-0123.v2");
        assert_eq!(safe_file_name("../../etc/passwd"), "etc_passwd");
        assert_eq!(safe_file_name("egi basic"), "egi_basic");
    }
}
