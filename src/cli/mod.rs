//! The `drydock` binary: argument parsing (`args`), one module per command, the exit codes
//! (`exit`) and what the commands share (the context `Ctx`, confirmations, the progress
//! bar, where an inventory comes from). The library knows nothing of this folder; this
//! folder wires the cloud providers into the library's context registry.

mod args;
mod clouds;
mod confirm;
mod convert;
mod dashboard;
mod demo;
mod exit;
mod info;
mod inspect;
mod inventory;
mod lint;
mod org;
mod plan;
mod progress;
mod report;
mod scan;
mod shell;
mod store;
mod transfer;

use anyhow::{anyhow, Context, Result};
use args::{Cli, Command};
use chrono::{DateTime, Utc};
use clap::Parser;
use drydock::config::paths::{self, DataDir};
use drydock::config::{self, ColorChoice, Config, Sources};
use drydock::contexts::Registry;
use drydock::gate::Gate;
pub use exit::Exit;
use std::process::ExitCode;

/// Parse the command line, run the command, print an error as one line and exit.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(exit) => ExitCode::from(exit.code()),
        Err(e) => {
            eprintln!("error: {}", one_line(&e));
            ExitCode::from(Exit::Error.code())
        }
    }
}

/// An error and its causes as one line, each said once: a library error that names its
/// cause in its message and also carries it as its source is not repeated.
/// `println!` for command output: a closed stdout (`drydock lint … | head -1`) ends the
/// process quietly with exit 0, as ripgrep does; any other write error exits 2.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::cli::write_out(format_args!("{}\n", format_args!($($arg)*)))
    };
}
/// `print!` for command output, with [`outln!`]'s handling of a closed stdout.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::cli::write_out(format_args!($($arg)*))
    };
}
pub(crate) use {out, outln};

/// Writes command output; see [`outln!`].
pub fn write_out(args: std::fmt::Arguments) {
    use std::io::Write;
    let mut o = std::io::stdout().lock();
    if let Err(e) = o.write_fmt(args).and_then(|()| o.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write the output: {e}");
        std::process::exit(2);
    }
}

/// An error about the file at `path`, named once: prefixed with the path unless its text
/// already starts with it.
pub fn about(path: &std::path::Path, e: impl std::fmt::Display) -> anyhow::Error {
    let (p, text) = (path.display().to_string(), e.to_string());
    if text.starts_with(&format!("{p}:")) {
        anyhow::anyhow!(text)
    } else {
        anyhow::anyhow!("{p}: {text}")
    }
}

fn one_line(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if out.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}

/// What every command gets: the configuration and where it came from, the time, the
/// colour choice, the context registry and the mutation gate.
pub(crate) struct Ctx {
    config: Config,
    sources: Sources,
    now: DateTime<Utc>,
    color: ColorChoice,
    /// Every context and how to build its provider.
    registry: Registry,
    /// The one mutation gate, built from the registry (`--dry-run` and read-only applied).
    gate: Gate,
    /// Where every durable file goes (`None`: no home directory and no DRYDOCK_DATA_DIR).
    data: Option<DataDir>,
    /// Who is acting (journal events, approvals, the audit log).
    operator: String,
    /// `--now` was given: plans run on that clock (grace periods, undo windows).
    fixed_now: bool,
    /// The store, opened for the commands that use it (`Err`: why it could not be).
    store: Option<std::result::Result<std::sync::Arc<dyn drydock_store::Store>, String>>,
}

fn run(cli: Cli) -> Result<Exit> {
    // Shell integration needs no config, no log file and no data directory.
    match &cli.command {
        Some(Command::Completions { shell }) => return shell::completions(*shell),
        Some(Command::Man) => return shell::man(),
        _ => {}
    }
    let env: Vec<(String, String)> = std::env::vars().collect();
    let data = DataDir::resolve(&|k| std::env::var(k).ok());
    let (mut config, sources) = config::load(cli.config.as_deref(), &env)?;
    if cli.readonly {
        config.general.readonly = true;
    }
    let color = cli.color.unwrap_or(config.general.color);
    let now = match &cli.now {
        Some(s) => DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| anyhow!("--now / DRYDOCK_NOW {s:?} is not an RFC 3339 time: {e}"))?,
        None => Utc::now(),
    };
    // The dashboard's Log view reads the same events the log file gets.
    let logs = cli
        .command
        .is_none()
        .then(|| drydock::tui::logbuf::LogBuffer::new(5_000));
    let _log = init_logging(&config, logs.clone());
    // The commands that plan, change or read what the team shares open the store; every
    // change the gate lets through is recorded there (unreachable: changes are refused).
    let store = matches!(
        &cli.command,
        None | Some(Command::Plan(_))
            | Some(Command::Transfer(_))
            | Some(Command::Store(_))
            | Some(Command::Audit(_))
            | Some(Command::Demo(_))
            | Some(Command::Report(_))
            | Some(Command::Scan(_))
            | Some(Command::Info(_))
            | Some(Command::Org(_))
    )
    .then(|| store::open(&config, data.as_ref()));
    // Image lists feed the verdicts: fetched for the commands that judge images now
    // (report, plan new); read from their cached copies, never the network, by the ones
    // that must work with every source down (the dashboard at start-up, info, the plan
    // commands that run, pause, abort or list).
    if !config.policy.image_lists.is_empty() {
        let cache: Option<std::sync::Arc<dyn drydock_store::Store>> =
            store.as_ref().and_then(|s| s.as_ref().ok()).cloned();
        let subs = &config.policy.image_lists;
        let fetch = matches!(&cli.command, Some(Command::Report(_)))
            || matches!(&cli.command, Some(Command::Plan(p)) if matches!(**p, args::PlanCommand::New(_)));
        let cached = matches!(
            &cli.command,
            None | Some(Command::Info(_)) | Some(Command::Plan(_))
        );
        let (lists, warnings) = if fetch {
            drydock::image_lists::load(subs, cache.as_deref())?
        } else if cached {
            drydock::image_lists::load_cached(subs, cache.as_deref())
        } else {
            (Vec::new(), Vec::new())
        };
        let quiet = cli.command.is_none();
        for w in warnings {
            tracing::warn!("{w}");
            if !quiet {
                eprintln!("warning: {w}");
            }
        }
        config.policy.lists = lists;
        // The dashboard refreshes the cached copies in the background for the next start.
        if cli.command.is_none() {
            let (subs, cache) = (subs.clone(), cache.clone());
            std::thread::spawn(move || {
                if let Err(e) = drydock::image_lists::load(&subs, cache.as_deref()) {
                    tracing::warn!("image lists not refreshed: {e}");
                }
            });
        }
    }
    let operator =
        drydock::config::operator::resolve(config.operator.as_deref(), &|k| std::env::var(k).ok());
    // The demo clouds keep their state in the store, shared by every process using it.
    let mut registry = Registry::new(&config)
        .with_demo_state(store.as_ref().and_then(|s| s.as_ref().ok()).cloned())
        .with_connector(std::sync::Arc::new(clouds::Clouds::default()));
    // Organisations become contexts (their account lists cached in the store) for the
    // commands that reach the clouds.
    let orgs = drydock::organizations::Organization::all(&config);
    if !orgs.is_empty() && reaches_clouds(&cli) {
        let rt = runtime()?;
        let shared = store.as_ref().and_then(|s| s.as_ref().ok()).cloned();
        let finder = drydock::organizations::Organizations {
            store: shared.as_deref(),
            connector: Some(&clouds::Clouds::default()),
            rt: &rt,
            now: Utc::now(),
            force: false,
        };
        registry = registry.with_organizations(&orgs, &finder);
    }
    let mut gate = Gate::new(&registry, config.general.readonly, cli.dry_run);
    match &store {
        Some(Ok(s)) => {
            gate = gate.with_audit(drydock::audit::AuditLog::new(
                std::sync::Arc::clone(s),
                operator.clone(),
            ))
        }
        Some(Err(e)) => gate = gate.unaudited(e.clone()),
        None => {}
    }
    let ctx = Ctx {
        fixed_now: cli.now.is_some(),
        operator,
        store,
        config,
        sources,
        now,
        color,
        registry,
        gate,
        data,
    };
    match &cli.command {
        None => dashboard::run(
            &ctx,
            &cli,
            logs.unwrap_or_else(|| drydock::tui::logbuf::LogBuffer::new(1)),
        ),
        Some(Command::Report(args)) => report::run(&ctx, args),
        Some(Command::Scan(args)) => scan::run(&ctx, args),
        Some(Command::Demo(cmd)) => demo::run(&ctx, cmd),
        Some(Command::Info(args)) => info::run(&ctx, args),
        Some(Command::Plan(cmd)) => plan::run(&ctx, &cli, cmd),
        Some(Command::Convert(args)) => convert::convert(args),
        Some(Command::Ova(cmd)) => convert::ova(cmd),
        Some(Command::Transfer(args)) => transfer::run(&ctx, args),
        Some(Command::Inspect(args)) => inspect::run(args),
        Some(Command::Lint(args)) => lint::run(args),
        Some(Command::Store(cmd)) => store::run(&ctx, cmd),
        Some(Command::Audit(args)) => store::audit(&ctx, args),
        Some(Command::Org(cmd)) => org::run(&ctx, cmd),
        Some(Command::Completions { .. } | Command::Man) => unreachable!("handled before"),
    }
}

/// Whether `command` reads or changes the configured clouds (not the demo, not a snapshot).
fn reaches_clouds(cli: &Cli) -> bool {
    match &cli.command {
        None => !cli.demo && cli.snapshot.is_none(),
        Some(Command::Report(a)) => {
            !a.source.demo && a.source.snapshot.is_none() && a.diff.is_none()
        }
        Some(Command::Scan(a)) => !a.demo,
        Some(Command::Plan(_) | Command::Transfer(_) | Command::Info(_)) => true,
        _ => false,
    }
}

/// Logs go to a file under the XDG state directory (and, in the dashboard, to the Log
/// view's ring buffer), never to the terminal.
fn init_logging(
    config: &Config,
    buffer: Option<drydock::tui::logbuf::LogBuffer>,
) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let filter = tracing_subscriber::EnvFilter::try_from_env("DRYDOCK_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(config.general.log_level.as_str()));
    let file = paths::log_file().and_then(|path| {
        std::fs::create_dir_all(path.parent()?).ok()?;
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .ok()
    });
    let (file_layer, guard) = match file {
        Some(f) => {
            let (writer, guard) = tracing_appender::non_blocking(f);
            let layer = tracing_subscriber::fmt::layer()
                .with_writer(writer)
                .with_ansi(false);
            (Some(layer), Some(guard))
        }
        None => (None, None),
    };
    tracing_subscriber::registry()
        .with(filter)
        .with(file_layer)
        .with(buffer)
        .try_init()
        .ok()?;
    guard
}

/// The data directory, or an error saying how to name one.
pub(crate) fn data_dir(ctx: &Ctx) -> Result<&DataDir> {
    ctx.data.as_ref().ok_or_else(|| {
        anyhow!(
            "no data directory: there is no home directory; set {}",
            paths::DATA_DIR_ENV
        )
    })
}

/// The async runtime for scans and the dashboard: one worker per available core.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}
