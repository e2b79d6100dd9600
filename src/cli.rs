//! Command-line arguments (clap).

use clap::{Args, Parser, Subcommand};
use drydock::config::ColorChoice;
use drydock::drift::Verdict;
use drydock::report::{Format, GroupBy};
use std::path::PathBuf;

/// drydock: find VMs running on outdated, end-of-life or revoked images, and fix them.
#[derive(Debug, Parser)]
#[command(name = "drydock", version, about, after_help = EXIT_CODES)]
pub struct Cli {
    /// Config file (default: $DRYDOCK_CONFIG, else $XDG_CONFIG_HOME/drydock/config.toml).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Refuse every mutation.
    #[arg(long, global = true)]
    pub readonly: bool,
    /// Let the provider validate every change without making it.
    #[arg(long, global = true)]
    pub dry_run: bool,
    /// Colour output: auto (terminal and no NO_COLOR), always, never.
    #[arg(long, global = true, value_name = "WHEN")]
    pub color: Option<ColorChoice>,
    /// Evaluate as of this instant (RFC 3339) instead of the clock; for reproducible output.
    #[arg(long, global = true, value_name = "TIME", env = "DRYDOCK_NOW")]
    pub now: Option<String>,
    /// Dashboard: open on the embedded demo fleet (the default while no cloud accounts are
    /// configured).
    #[arg(long)]
    pub demo: bool,
    /// Dashboard: open on an inventory snapshot file.
    #[arg(long, value_name = "FILE", conflicts_with = "demo")]
    pub snapshot: Option<PathBuf>,
    /// Dashboard: start in this context (a provider name; default all).
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
    /// Dashboard: enable the mouse (scroll, click to select). Off by default.
    #[arg(long)]
    pub mouse: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

pub const EXIT_CODES: &str = "Exit codes: 0 no VM at or above --fail-on, 1 some are, 2 error.";

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Report drift: a verdict for every VM (and image) of the fleet.
    Report(ReportArgs),
    /// Scan the configured clouds (or the demo) and write an inventory snapshot.
    Scan(ScanArgs),
    /// The simulated demo fleet.
    #[command(subcommand)]
    Demo(DemoCommand),
    /// Print where drydock reads its config and writes logs and data.
    Info(InfoArgs),
}

#[derive(Debug, Args)]
pub struct Source {
    /// Use the embedded demo fleet (no credentials needed).
    #[arg(long, conflicts_with = "snapshot")]
    pub demo: bool,
    /// Read an inventory snapshot written by `drydock scan` or `drydock demo generate`.
    #[arg(long, value_name = "FILE")]
    pub snapshot: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub source: Source,
    /// Compare two snapshots instead of reporting one.
    #[arg(long, num_args = 2, value_names = ["OLD", "NEW"], conflicts_with_all = ["demo", "snapshot", "group_by", "images"])]
    pub diff: Option<Vec<PathBuf>>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Exit 1 when any VM's verdict is at or above this level
    /// (current < unmanaged < behind < unknown < outdated < eol < revoked).
    #[arg(long, value_name = "LEVEL", value_parser = parse_verdict)]
    pub fail_on: Option<Verdict>,
    #[arg(long, value_enum)]
    pub group_by: Option<GroupBy>,
    /// Filter terms: `verdict:outdated family:web-* !region:us-* tag:env=prod text`.
    #[arg(long, value_name = "EXPR", allow_hyphen_values = true)]
    pub filter: Option<String>,
    /// List images instead of VMs (table, csv, markdown).
    #[arg(long)]
    pub images: bool,
}

fn parse_verdict(s: &str) -> Result<Verdict, String> {
    s.parse()
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Scan the embedded demo clouds.
    #[arg(long)]
    pub demo: bool,
    /// Where to write the snapshot.
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum DemoCommand {
    /// Generate a large simulated estate as a snapshot file.
    Generate {
        #[arg(long, default_value_t = 100_000)]
        vms: usize,
        #[arg(long, default_value_t = 10_000)]
        images: usize,
        #[arg(long, default_value_t = 7)]
        seed: u64,
        #[arg(short, long, value_name = "FILE")]
        output: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct InfoArgs {
    /// Also print the effective configuration as TOML.
    #[arg(long)]
    pub show_config: bool,
}
