//! Where drydock keeps its files (XDG on Linux): config, data (snapshots), state (logs).

use directories::ProjectDirs;
use std::path::PathBuf;

fn dirs() -> Option<ProjectDirs> {
    ProjectDirs::from("", "", "drydock")
}

/// `$XDG_CONFIG_HOME/drydock/config.toml`
pub fn config_file() -> Option<PathBuf> {
    dirs().map(|d| d.config_dir().join("config.toml"))
}

/// `$XDG_DATA_HOME/drydock`: snapshots and the plan journal.
pub fn data_dir() -> Option<PathBuf> {
    dirs().map(|d| d.data_dir().to_path_buf())
}

/// `$XDG_STATE_HOME/drydock`: logs.
pub fn state_dir() -> Option<PathBuf> {
    dirs().map(|d| {
        d.state_dir()
            .unwrap_or_else(|| d.data_local_dir())
            .to_path_buf()
    })
}

/// The log file.
pub fn log_file() -> Option<PathBuf> {
    state_dir().map(|d| d.join("drydock.log"))
}

/// Verdict counts of recorded scans.
pub fn history_file() -> Option<PathBuf> {
    data_dir().map(|d| d.join("history.jsonl"))
}

/// Where the dashboard's exports go.
pub fn export_dir() -> Option<PathBuf> {
    data_dir().map(|d| d.join("exports"))
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
