//! Command-line arguments (clap).

use clap::{Args, Parser, Subcommand};
use drydock::config::ColorChoice;
use drydock::drift::Verdict;
use drydock::report::{Format, GroupBy};
use std::path::PathBuf;

/// drydock: find VMs running on outdated, end-of-life or revoked images, and fix them.
#[derive(Debug, Parser)]
#[command(
    name = "drydock",
    version = concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("DRYDOCK_COMMIT"), ")"),
    about,
    after_help = super::exit::HELP
)]
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
    #[arg(long, global = true, value_name = "WHEN", value_parser = named(&ColorChoice::NAMED))]
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

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Report drift: a verdict for every VM (and image) of the fleet.
    #[command(after_help = super::exit::HELP)]
    Report(ReportArgs),
    /// Scan the configured clouds (or the demo) and write an inventory snapshot.
    Scan(ScanArgs),
    /// The simulated demo fleet.
    #[command(subcommand)]
    Demo(DemoCommand),
    /// Print where drydock reads its config and writes logs and data.
    Info(InfoArgs),
    /// Migration plans: rebuild → rollout waves → retire, with a crash-safe journal.
    #[command(subcommand)]
    Plan(Box<PlanCommand>),
    /// Convert a disk image: raw, qcow2, vhd (fixed), vhd-dynamic, vmdk (streamOptimized),
    /// vmdk-sparse, vhdx (read only), ova. Or check one with --check.
    Convert(ConvertArgs),
    /// Pack a disk into an OVA (OVF descriptor, SHA-256 manifest, streamOptimized VMDK), or
    /// unpack and verify one.
    #[command(subcommand)]
    Ova(OvaCommand),
    /// Move an image between local disks, AWS and Azure, streamed through the conversion
    /// engine, provenance kept. Sides: FILE, aws:CONTEXT/REGION[/ami-…],
    /// azure:CONTEXT/LOCATION[/gallery/definition[/version]]. Dry run unless --execute.
    Transfer(Box<TransferArgs>),
    /// What is inside a disk image (any format the engine reads): its partition table and
    /// each partition's filesystem and usage. Offline: no mounting, no root.
    Inspect(InspectArgs),
    /// Hygiene checks on a disk image before it is published: baked-in credentials,
    /// unlocked passwords, shared host keys, no contextualisation agent, sysprep leftovers,
    /// layout, free space that is not zero-filled, large data directories. Exit 1 when a
    /// finding at or above --fail-on exists, 2 on errors.
    #[command(after_help = super::exit::HELP)]
    Lint(LintArgs),
    /// The store: where plans, the journal, leases, claims, the audit log and documents
    /// live (SQLite in the data directory, or PostgreSQL for a team).
    #[command(subcommand)]
    Store(StoreCommand),
    /// Every change the gate let through or refused: when, who, where, what, outcome.
    Audit(AuditArgs),
    /// AWS Organizations: the member accounts drydock scans as contexts, and why others
    /// are skipped. The list is cached in the store (`cache_ttl_secs`).
    #[command(subcommand)]
    Org(OrgCommand),
    /// Print a shell completion script: `drydock completions bash > /etc/bash_completion.d/drydock`
    /// (zsh: a file named `_drydock` on $fpath; fish: ~/.config/fish/completions/drydock.fish).
    Completions {
        /// bash, zsh, fish, powershell or elvish.
        #[arg(value_name = "SHELL")]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff): `drydock man > drydock.1; man ./drydock.1`.
    Man,
}

#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Bring the store's schema up to this drydock's version (opening it does too) and
    /// say where it is and at which version.
    Migrate,
    /// Copy every plan, journal, claim, audit record and document into another store
    /// (e.g. the team's PostgreSQL); a plan both hold must be the same or nothing is copied.
    Copy {
        /// The destination: postgres://USER@HOST/DB or sqlite:PATH.
        #[arg(long, value_name = "URL")]
        to: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Walk each organisation's OU tree now (ignoring the cache), cache the accounts and
    /// list them with the context each becomes or why it is skipped.
    Refresh,
    /// List the accounts as cached (discovering only an organisation not cached yet).
    List,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Only records at or after this time (RFC 3339) or within this span (24h, 7d).
    #[arg(long, value_name = "TIME|SPAN")]
    pub since: Option<String>,
    #[arg(long)]
    pub operator: Option<String>,
    #[arg(long)]
    pub context: Option<String>,
    #[arg(long)]
    pub plan: Option<String>,
    /// table or json.
    #[arg(long, default_value = "table", value_parser = ["table", "json"])]
    pub format: String,
}

#[derive(Debug, Args)]
pub struct LintArgs {
    /// The disk image.
    #[arg(value_name = "DISK")]
    pub disk: PathBuf,
    /// table or json.
    #[arg(long, default_value = "table", value_parser = ["table", "json"])]
    pub format: String,
    /// Exit 1 when a finding of this severity or worse exists (info, warning or error).
    #[arg(long, default_value = "error", value_name = "SEVERITY")]
    pub fail_on: drydock::inspect::lint::Severity,
    /// A data directory at least this large is a finding (bytes, or K, M, G).
    #[arg(long, default_value = "256M", value_parser = parse_size)]
    pub large_dir: u64,
}

/// A size in bytes with an optional K, M, G or T suffix (powers of 1024).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim().trim_end_matches(['B', 'b', 'i']);
    let (num, shift) = match t.chars().last() {
        Some('K' | 'k') => (&t[..t.len() - 1], 10),
        Some('M' | 'm') => (&t[..t.len() - 1], 20),
        Some('G' | 'g') => (&t[..t.len() - 1], 30),
        Some('T' | 't') => (&t[..t.len() - 1], 40),
        _ => (t, 0),
    };
    num.trim()
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(1 << shift))
        .ok_or_else(|| format!("{s:?} is not a size (bytes, or a number with K, M, G or T)"))
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The disk image.
    #[arg(value_name = "DISK", required_unless_present = "diff")]
    pub disk: Option<PathBuf>,
    /// What changed between two image versions (disk images, saved `--format json`
    /// inspections or SPDX documents, as files or http(s) URLs): OS, kernels, packages,
    /// licences.
    #[arg(long, num_args = 2, value_names = ["OLD", "NEW"], conflicts_with = "disk")]
    pub diff: Option<Vec<PathBuf>>,
    /// table, json, spdx (an SPDX 2.3 JSON document of the installed packages), or
    /// markdown (for --diff).
    #[arg(long, default_value = "table", value_parser = ["table", "json", "spdx", "markdown"])]
    pub format: String,
}

#[derive(Debug, Args)]
pub struct TransferArgs {
    /// Where the image comes from.
    #[arg(value_name = "SOURCE")]
    pub source: String,
    /// Where it goes.
    #[arg(value_name = "DEST")]
    pub dest: String,
    /// Create the image; without it a cloud destination is only checked (dry run).
    #[arg(long)]
    pub execute: bool,
    /// Confirm without asking (non-production contexts).
    #[arg(long)]
    pub yes: bool,
    /// Also confirm production contexts (otherwise their name must be typed).
    #[arg(long)]
    pub yes_production: bool,
    /// Provenance: the image family (default: the source's drydock:family).
    #[arg(long)]
    pub family: Option<String>,
    /// Provenance: the image version (default: the source's drydock:version).
    #[arg(long)]
    pub version: Option<String>,
    /// Provenance: the image this one was built from.
    #[arg(long)]
    pub parent: Option<String>,
    /// Provenance: the cm-source JSON array `[tooling, repository, pipeline, release, date]`.
    #[arg(long)]
    pub cm_source: Option<String>,
    /// The new image's name (default: FAMILY-VERSION).
    #[arg(long)]
    pub name: Option<String>,
    /// x86_64 or arm64 (default: the source image's, else x86_64).
    #[arg(long, value_name = "ARCH")]
    pub arch: Option<String>,
    /// uefi, legacy-bios or uefi-preferred (default: the source image's).
    #[arg(long)]
    pub boot_mode: Option<String>,
    /// AWS: ENA support on (default: the source image's, else on).
    #[arg(long, value_name = "BOOL")]
    pub ena: Option<bool>,
    /// AWS: the root device name (default: the source's, else /dev/xvda).
    #[arg(long)]
    pub root_device: Option<String>,
    /// linux or windows (default: the source image's, else linux).
    #[arg(long)]
    pub os_type: Option<String>,
    /// A local destination's format (default: from its extension).
    #[arg(long, value_name = "FORMAT")]
    pub to: Option<String>,
    /// Replace an existing local destination.
    #[arg(long)]
    pub force: bool,
    /// Blocks in flight each way.
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
    /// Stream progress for scripts: `jsonl` prints one JSON event per line on stdout.
    #[arg(long, value_name = "FORMAT", value_parser = ["jsonl"])]
    pub events: Option<String>,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct ConvertArgs {
    /// The image to read (with --check, the image to validate).
    #[arg(value_name = "IN")]
    pub input: PathBuf,
    /// Where to write; appears only once complete and fsync'd.
    #[arg(value_name = "OUT", required_unless_present = "check")]
    pub output: Option<PathBuf>,
    /// Validate IN's structure (every header and table, every allocated byte); write nothing.
    #[arg(long, conflicts_with_all = ["to", "azure", "compress"])]
    pub check: bool,
    /// Input format (default: detected from the content).
    #[arg(long, value_name = "FORMAT")]
    pub from: Option<String>,
    /// Output format (default: from OUT's extension).
    #[arg(long, value_name = "FORMAT")]
    pub to: Option<String>,
    /// Azure rules: a fixed VHD whose virtual size is rounded up to a whole MiB.
    #[arg(long)]
    pub azure: bool,
    /// Compress qcow2 clusters (vmdk is always compressed).
    #[arg(long)]
    pub compress: bool,
    /// Compression threads (default: one per core).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub threads: usize,
    /// Compute the output's SHA-256 while writing and print it.
    #[arg(long)]
    pub sha256: bool,
    /// Print the result as JSON on stdout (for scripts).
    #[arg(long)]
    pub json: bool,
    /// No progress bar.
    #[arg(short, long)]
    pub quiet: bool,
    /// Replace OUT if it exists (without it, an existing OUT is an error and is left alone).
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Subcommand)]
pub enum OvaCommand {
    /// Convert DISK to a streamOptimized VMDK inside a new OVA.
    Pack {
        #[arg(value_name = "DISK")]
        disk: PathBuf,
        #[arg(value_name = "OUT.ova")]
        output: PathBuf,
        /// The virtual machine's name in the descriptor (default: OUT's stem).
        #[arg(long)]
        name: Option<String>,
        #[arg(long, default_value_t = 2)]
        cpus: u32,
        #[arg(long, value_name = "MIB", default_value_t = 4096)]
        memory_mib: u64,
        /// Input format (default: detected).
        #[arg(long, value_name = "FORMAT")]
        from: Option<String>,
        #[arg(long, value_name = "N", default_value_t = 0)]
        threads: usize,
        #[arg(short, long)]
        quiet: bool,
        /// Replace OUT.ova if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Verify an OVA's manifest and extract its members into DIR.
    Unpack {
        #[arg(value_name = "OVA")]
        ova: PathBuf,
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum PlanCommand {
    /// Build a plan for a family from the drift verdicts and write it as a TOML file.
    New(Box<PlanNewArgs>),
    /// Show a plan (id or file) with its blast radius and progress.
    Show { plan: Option<String> },
    /// Run a plan (dry run unless --execute). Without an id, the only unfinished plan.
    #[command(after_help = super::exit::HELP)]
    Run(PlanRunArgs),
    /// Continue a paused, waiting or interrupted plan (same as run).
    #[command(after_help = super::exit::HELP)]
    Resume(PlanRunArgs),
    /// Ask a running plan to pause after its in-flight steps (or pause a stopped one).
    Pause { plan: String },
    /// Stop a plan for good; the cloud is left as it is (roll back first to undo a wave).
    /// Production plans ask for the context's name typed (or --yes-production).
    Abort {
        plan: String,
        /// Confirm a plan in production contexts without typing the name.
        #[arg(long)]
        yes_production: bool,
    },
    /// Remove the current wave's replacements and keep its old VMs.
    Rollback(PlanRunArgs),
    /// Every plan in the store, with its holder, state and next step.
    List,
}

#[derive(Debug, Args)]
pub struct PlanNewArgs {
    #[command(flatten)]
    pub source: Source,
    /// The image family to move forward.
    #[arg(long)]
    pub family: String,
    /// Target version (default: the newest usable one; with a builder, the next).
    #[arg(long, value_name = "VERSION")]
    pub to: Option<String>,
    /// Cumulative wave sizes: counts and percentages.
    #[arg(long, default_value = "1,10%,50%,100%")]
    pub waves: String,
    /// VMs of one scale group or application replaced at once: N or P%.
    #[arg(long, default_value = "25%", value_name = "N|P%")]
    pub max_unavailable: String,
    /// Replacements in flight at once across the plan.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// Extra health check per replacement (sh -c; exit 0 = healthy).
    #[arg(long, value_name = "CMD")]
    pub health_cmd: Option<String>,
    /// How long a replacement may take to become healthy before it counts as failed
    /// (e.g. 90s, 10m, 1h).
    #[arg(long, default_value = "10m", value_name = "SPAN")]
    pub health_timeout: String,
    /// Failed VMs a wave tolerates before the plan pauses.
    #[arg(long, default_value_t = 0)]
    pub wave_failure_limit: usize,
    /// Deprecated → disabled after this long.
    #[arg(long, default_value = "7d", value_name = "SPAN")]
    pub grace: String,
    /// Disabled → deregistered after this long.
    #[arg(long, default_value = "14d", value_name = "SPAN")]
    pub undo_window: String,
    /// Rebuild: capture the new image from this VM (id or name).
    #[arg(long, value_name = "VM", conflicts_with = "builder_cmd")]
    pub builder_vm: Option<String>,
    /// Rebuild: run this command (e.g. packer build), which prints the new image id last.
    #[arg(long, value_name = "CMD", requires_all = ["builder_context", "builder_region"])]
    pub builder_cmd: Option<String>,
    /// Rebuild: transfer this image from another cloud (as `drydock transfer` names it,
    /// e.g. aws:prod/eu-west-1/ami-…) into --builder-context/--builder-region.
    #[arg(long, value_name = "SOURCE", conflicts_with_all = ["builder_vm", "builder_cmd"], requires_all = ["builder_context", "builder_region"])]
    pub from: Option<String>,
    /// Rebuild with --from into Azure: the gallery of the family's image definition.
    #[arg(long, value_name = "GALLERY", requires = "from")]
    pub gallery: Option<String>,
    /// Rebuild with --from DISK: publish only when `drydock lint` of the disk finds nothing
    /// at or above this severity (error, warning or info).
    #[arg(long, value_name = "SEVERITY", requires = "from")]
    pub lint: Option<drydock::inspect::lint::Severity>,
    /// Rebuild with --builder-cmd or --from: the context the new image is made in (as
    /// `drydock info` lists contexts).
    #[arg(long, value_name = "CONTEXT")]
    pub builder_context: Option<String>,
    /// Rebuild with --builder-cmd or --from: the region (AWS) or location (Azure) of the
    /// new image.
    #[arg(long, value_name = "REGION")]
    pub builder_region: Option<String>,
    /// The rebuilt image's parent (default: the builder VM's image).
    #[arg(long, value_name = "IMAGE")]
    pub parent: Option<String>,
    /// Where to write the plan (default: the data directory's plans/ID.toml).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,
    /// Leave out what other unfinished plans claim (listed as skipped) instead of refusing.
    #[arg(long)]
    pub exclude_claimed: bool,
}

#[derive(Debug, Args)]
pub struct PlanRunArgs {
    /// The plan id (default: the only unfinished plan).
    pub plan: Option<String>,
    /// Act; without it the next steps are only validated with the cloud (dry run).
    #[arg(long)]
    pub execute: bool,
    /// Confirm the run and approve every wave without asking.
    #[arg(long)]
    pub yes: bool,
    /// Also confirm production contexts (otherwise their name must be typed).
    #[arg(long)]
    pub yes_production: bool,
    /// Stream progress for scripts: `jsonl` prints one JSON event per line on stdout.
    #[arg(long, value_name = "FORMAT", value_parser = ["jsonl"])]
    pub events: Option<String>,
    /// Take the run over from a holder whose heartbeat stopped for the lease TTL.
    #[arg(long)]
    pub take_over: bool,
}

#[derive(Debug, Args)]
pub struct Source {
    /// Use the embedded demo fleet (no credentials needed).
    #[arg(long, conflicts_with = "snapshot")]
    pub demo: bool,
    /// Read an inventory snapshot written by `drydock scan` or `drydock demo generate`.
    #[arg(long, value_name = "FILE")]
    pub snapshot: Option<PathBuf>,
    /// Read the inventory the last `drydock scan` kept in the store, however old (the
    /// default when it is younger than [scan] shared_max_age_secs).
    #[arg(long, conflicts_with_all = ["demo", "snapshot", "scan"])]
    pub from_store: bool,
    /// Scan the configured contexts now, even when the store holds a fresh inventory.
    #[arg(long, conflicts_with_all = ["demo", "snapshot"])]
    pub scan: bool,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub source: Source,
    /// Compare two snapshots instead of reporting one.
    #[arg(long, num_args = 2, value_names = ["OLD", "NEW"], conflicts_with_all = ["demo", "snapshot", "group_by", "images"])]
    pub diff: Option<Vec<PathBuf>>,
    #[arg(long, default_value = "table", value_parser = named(&Format::NAMED))]
    pub format: Format,
    /// Exit 1 when any VM's verdict is at or above this level
    /// (current < unmanaged < behind < unknown < outdated < eol < revoked).
    #[arg(long, value_name = "LEVEL", value_parser = parse_verdict)]
    pub fail_on: Option<Verdict>,
    #[arg(long, value_parser = named(&GroupBy::NAMED))]
    pub group_by: Option<GroupBy>,
    /// Filter terms: `verdict:outdated family:web-* !region:us-* tag:env=prod text`.
    #[arg(long, value_name = "EXPR", allow_hyphen_values = true)]
    pub filter: Option<String>,
    /// List images instead of VMs (table, csv, markdown).
    #[arg(long)]
    pub images: bool,
    /// Exit 0/1 by drift even when some context or region could not be read (otherwise 3).
    #[arg(long)]
    pub allow_partial: bool,
}

fn parse_verdict(s: &str) -> Result<Verdict, String> {
    s.parse()
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Scan the embedded demo clouds.
    #[arg(long)]
    pub demo: bool,
    /// Also write the snapshot to this file (packed; JSON for a `*.json` name). The scan
    /// is kept in the store either way, for every operator's report and dashboard.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum DemoCommand {
    /// Forget the changes made to the demo clouds (their state files).
    Reset,
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

/// A parser for one of the library's named choices, listing them in `--help` and in errors
/// (the library's enums know their names, not clap).
fn named<T: Copy + Send + Sync + 'static>(
    all: &'static [(&'static str, T)],
) -> impl clap::builder::TypedValueParser<Value = T> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(all.iter().map(|(n, _)| *n)).map(move |name| {
        all.iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| *v)
            .expect("clap admits only the listed names")
    })
}
