//! The `drydock` binary: parses the command line, loads the layered config, sets up the
//! log file and runs a command. Errors print one line to stderr and exit 2.

mod cli;
mod convert_cmd;
mod inspect_cmd;
mod lint_cmd;
mod plan_cmd;
mod transfer_cmd;

use anyhow::{anyhow, bail, Context, Result};
use chrono::{DateTime, Utc};
use clap::Parser;
use cli::{Cli, Command, DemoCommand, InfoArgs, ReportArgs, ScanArgs, Source};
use drydock::config::{self, paths, ColorChoice, Config, Sources};
use drydock::contexts::Registry;
use drydock::drift;
use drydock::gate::Gate;
use drydock::model::{snapshot, Inventory};
use drydock::report::{diff, Exit, Filter, Format, Report, ReportOptions};
use drydock_api::{Provider, ScanProgress};
use drydock_sim::GenerateSpec;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(exit) => ExitCode::from(exit as u8),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(Exit::Error as u8)
        }
    }
}

pub(crate) struct Ctx {
    config: Config,
    sources: Sources,
    now: DateTime<Utc>,
    color: ColorChoice,
    /// Every context and how to build its provider.
    registry: Registry,
    /// The one mutation gate, built from the registry (`--dry-run` and read-only applied).
    gate: Gate,
}

fn run(cli: Cli) -> Result<Exit> {
    let env: Vec<(String, String)> = std::env::vars().collect();
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
    // Image lists feed the verdicts: loaded for the commands that judge images.
    if matches!(
        cli.command,
        None | Some(Command::Report(_)) | Some(Command::Plan(_)) | Some(Command::Info(_))
    ) && !config.policy.image_lists.is_empty()
    {
        let cache = paths::data_dir().map(|d| d.join("image-lists"));
        let (lists, warnings) =
            drydock::image_lists::load(&config.policy.image_lists, cache.as_deref())?;
        for w in warnings {
            tracing::warn!("{w}");
            eprintln!("warning: {w}");
        }
        config.policy.lists = lists;
    }
    let registry = Registry::new(&config);
    let gate = Gate::new(&registry, config.general.readonly, cli.dry_run);
    let ctx = Ctx {
        config,
        sources,
        now,
        color,
        registry,
        gate,
    };
    match &cli.command {
        None => dashboard(
            &ctx,
            &cli,
            logs.unwrap_or_else(|| drydock::tui::logbuf::LogBuffer::new(1)),
        ),
        Some(Command::Report(args)) => report(&ctx, args),
        Some(Command::Scan(args)) => scan(&ctx, args),
        Some(Command::Demo(DemoCommand::Generate {
            vms,
            images,
            seed,
            output,
        })) => {
            if *images == 0 {
                bail!("--images must be at least 1 (VMs need images to be launched from)");
            }
            let spec = GenerateSpec {
                vms: *vms,
                images: *images,
                seed: *seed,
            };
            let inv = drydock_sim::generate(spec, ctx.now);
            let inv = Inventory::from_scan(ctx.now, vec![format!("generated (seed {seed})")], inv);
            snapshot::write(output, &inv)?;
            eprintln!(
                "wrote {} VMs and {} images to {}",
                inv.vms.len(),
                inv.images.len(),
                output.display()
            );
            Ok(Exit::Clean)
        }
        Some(Command::Info(args)) => info(&ctx, args),
        Some(Command::Plan(cmd)) => plan_cmd::run(&ctx, &cli, cmd),
        Some(Command::Convert(args)) => convert_cmd::convert(args),
        Some(Command::Ova(cmd)) => convert_cmd::ova(cmd),
        Some(Command::Transfer(args)) => transfer_cmd::run(&ctx, args),
        Some(Command::Inspect(args)) => inspect_cmd::run(args),
        Some(Command::Lint(args)) => lint_cmd::run(args),
        Some(Command::Demo(DemoCommand::Reset)) => {
            if let Some(dir) = ctx.registry.demo_state_dir() {
                match std::fs::remove_dir_all(dir) {
                    Ok(()) => eprintln!("forgot the demo clouds' changes ({})", dir.display()),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                        eprintln!("the demo clouds are unchanged")
                    }
                    Err(e) => bail!("cannot remove {}: {e}", dir.display()),
                }
            }
            Ok(Exit::Clean)
        }
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

/// The dashboard, on the demo fleet (the default while no cloud accounts are configured)
/// or on a snapshot.
fn dashboard(ctx: &Ctx, cli: &Cli, logs: drydock::tui::logbuf::LogBuffer) -> Result<Exit> {
    use drydock::tui::{runtime::Runtime, theme::Theme, App, AppOptions};
    if !std::io::stdout().is_terminal() {
        bail!("the dashboard needs a terminal; for scripts use `drydock report`");
    }
    let rt = runtime()?;
    // The demo unless a snapshot is named or cloud accounts are configured (and not --demo).
    let (providers, demo): (Vec<Arc<dyn Provider>>, bool) = match &cli.snapshot {
        Some(path) => {
            let name = path
                .file_stem()
                .map_or("snapshot".into(), |s| s.to_string_lossy().to_string());
            let p = drydock::scan::SnapshotProvider {
                name,
                path: path.clone(),
            };
            (vec![Arc::new(p)], false)
        }
        None if !cli.demo && ctx.registry.has_cloud_accounts() => {
            (ctx.registry.cloud_providers(&rt)?, false)
        }
        None => (ctx.registry.demo_providers(ctx.now)?, true),
    };
    if let Some(c) = &cli.context {
        if !providers.iter().any(|p| p.name() == c) {
            let names: Vec<_> = providers.iter().map(|p| p.name().to_string()).collect();
            bail!("unknown context `{c}`; contexts: {}", names.join(", "));
        }
    }
    if demo {
        tracing::info!("dashboard starting on the simulated demo fleet");
    } else {
        tracing::info!("dashboard starting on {} context(s)", providers.len());
    }
    let history_file = if demo { None } else { paths::history_file() };
    let history = history_file
        .as_deref()
        .map(drydock::history::load)
        .unwrap_or_default();
    let app = App::new(
        AppOptions {
            policy: ctx.config.policy.clone(),
            contexts: ctx.registry.contexts().to_vec(),
            gate: ctx.gate.clone(),
            context: cli.context.clone(),
            demo,
            now: ctx.now,
            history,
        },
        logs,
    );
    let now = ctx.now;
    let clock: Arc<dyn Fn() -> DateTime<Utc> + Send + Sync> = if cli.now.is_some() {
        Arc::new(move || now)
    } else {
        Arc::new(Utc::now)
    };
    let color = match ctx.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    };
    let runtime = Runtime {
        providers,
        theme: Theme { color },
        mouse: cli.mouse,
        history_file,
        export_dir: paths::export_dir(),
        clock,
        journal: drydock::plan::journal_path(),
        plans_dir: paths::data_dir().map(|d| d.join("plans")),
    };
    rt.block_on(runtime.run(app))?;
    Ok(Exit::Clean)
}

fn use_color(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::env::var("TERM").map_or(true, |t| t != "dumb")
        }
    }
}

/// The async runtime for scans and the dashboard (2 workers: these machines have 2 cores).
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

fn scan_providers(
    ctx: &Ctx,
    rt: &tokio::runtime::Runtime,
    providers: Vec<Arc<dyn Provider>>,
    show_progress: bool,
) -> Inventory {
    let progress: Arc<dyn Fn(ScanProgress) + Send + Sync> = Arc::new(move |p: ScanProgress| {
        tracing::info!(provider = %p.provider, scope = %p.scope, "scanned {}/{}", p.done, p.total);
        if show_progress {
            eprintln!(
                "scanned {} {} ({}/{})",
                p.provider, p.scope, p.done, p.total
            );
        }
    });
    let now = ctx.now;
    rt.block_on(drydock::scan::scan_all(&providers, progress, move || now))
}

/// Where an inventory comes from: a snapshot, the demo, or the configured accounts.
pub(crate) fn load_inventory(ctx: &Ctx, source: &Source, show_progress: bool) -> Result<Inventory> {
    if let Some(path) = &source.snapshot {
        return Ok(snapshot::read(path)?);
    }
    let rt = runtime()?;
    let providers = if source.demo {
        ctx.registry.demo_providers(ctx.now)?
    } else {
        ctx.registry.cloud_providers(&rt)?
    };
    if providers.is_empty() {
        bail!(
            "no inventory: pass --demo for the embedded demo fleet, --snapshot FILE, or {}",
            drydock::contexts::CONFIGURE_HINT
        );
    }
    let inv = scan_providers(ctx, &rt, providers, show_progress);
    for p in &inv.problems {
        eprintln!("warning: {} {}: {}", p.provider, p.scope, p.message);
    }
    // A scan where every provider failed has nothing to report: that is an error.
    if inv.vms.is_empty() && inv.images.is_empty() && !inv.problems.is_empty() {
        bail!("every scan failed (see the warnings above)");
    }
    Ok(inv)
}

fn report(ctx: &Ctx, args: &ReportArgs) -> Result<Exit> {
    let filter = Filter::parse(args.filter.as_deref().unwrap_or(""))?;
    let policy = &ctx.config.policy;
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    if let Some(paths) = &args.diff {
        let old = snapshot::read(&paths[0])?;
        let new = snapshot::read(&paths[1])?;
        let old_a = drift::evaluate(&old, policy, old.scanned_at);
        let new_a = drift::evaluate(&new, policy, new.scanned_at);
        let d = diff::diff((&old, &old_a), (&new, &new_a), &filter, args.fail_on);
        write_out(d.write(args.format, &mut out))?;
        write_out(out.flush())?;
        return Ok(d.exit());
    }
    let inv = load_inventory(ctx, &args.source, false)?;
    let assessment = drift::evaluate(&inv, policy, ctx.now);
    let opts = ReportOptions {
        format: args.format,
        group_by: args.group_by,
        filter,
        fail_on: args.fail_on,
        color: args.format == Format::Table && use_color(ctx.color),
        images: args.images,
    };
    let report = Report::build(&inv, &assessment, &opts);
    write_out(report.write(&opts, &mut out))?;
    write_out(out.flush())?;
    let exit = report.exit(&opts);
    // The process ends right after this; freeing 100k VMs one allocation at a time would
    // cost a tenth of the run. The OS reclaims the memory at exit.
    std::mem::forget(report);
    std::mem::forget(assessment);
    std::mem::forget(inv);
    Ok(exit)
}

/// A closed pipe (`drydock report | head`) is not an error worth a message.
fn write_out(r: std::io::Result<()>) -> Result<()> {
    match r {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        r => r.context("cannot write the report to stdout"),
    }
}

fn scan(ctx: &Ctx, args: &ScanArgs) -> Result<Exit> {
    let source = Source {
        demo: args.demo,
        snapshot: None,
    };
    let inv = load_inventory(ctx, &source, true)?;
    snapshot::write(&args.output, &inv)?;
    record_history(ctx, &inv);
    eprintln!(
        "wrote {} VMs, {} images, {} scale groups to {}",
        inv.vms.len(),
        inv.images.len(),
        inv.scale_groups.len(),
        args.output.display()
    );
    Ok(Exit::Clean)
}

/// Appends the scan's verdict counts to the history the dashboard's trend line reads.
fn record_history(ctx: &Ctx, inv: &Inventory) {
    let Some(path) = paths::history_file() else {
        return;
    };
    let a = drift::evaluate(inv, &ctx.config.policy, inv.scanned_at);
    let point = drydock::history::HistoryPoint {
        scanned_at: inv.scanned_at,
        counts: drift::Verdict::ALL.into_iter().zip(a.vm_counts()).collect(),
    };
    if let Err(e) = drydock::history::append(&path, &point) {
        tracing::warn!("cannot record scan history in {}: {e}", path.display());
    }
}

fn info(ctx: &Ctx, args: &InfoArgs) -> Result<Exit> {
    let show = |p: Option<std::path::PathBuf>| {
        p.map_or_else(|| "(no home directory)".into(), |p| p.display().to_string())
    };
    let file = match &ctx.sources.file {
        Some(f) => format!("{} (read)", f.display()),
        None => format!(
            "{} (not present; built-in defaults in use)",
            show(paths::config_file())
        ),
    };
    println!("config file:  {file}");
    if !ctx.sources.env.is_empty() {
        println!("config env:   {}", ctx.sources.env.join(", "));
    }
    println!("log file:     {}", show(paths::log_file()));
    println!("data dir:     {}", show(paths::data_dir()));
    println!("state dir:    {}", show(paths::state_dir()));
    println!("readonly:     {}", ctx.config.general.readonly);
    for l in &ctx.config.policy.lists {
        let expiry = match l.expires {
            Some(t) if t <= ctx.now => format!(
                "EXPIRED {} ({} days ago): its images are eol",
                t.format("%Y-%m-%d"),
                (ctx.now - t).num_days()
            ),
            Some(t) => format!(
                "expires {} (in {} days)",
                t.format("%Y-%m-%d"),
                (t - ctx.now).num_days()
            ),
            None => "no expiry date".into(),
        };
        println!(
            "image list:   {} = {:?} version {}, {} images, {expiry}; from {}{}",
            l.name,
            l.title,
            l.version,
            l.images.len(),
            l.source,
            l.stale.as_ref().map_or(String::new(), |p| format!(
                " (source unreadable: cached copy {p})"
            ))
        );
    }
    if args.show_config {
        println!(
            "\n# effective configuration\n{}",
            toml::to_string_pretty(&ctx.config)?
        );
    }
    Ok(Exit::Clean)
}
