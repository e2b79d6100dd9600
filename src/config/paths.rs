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
