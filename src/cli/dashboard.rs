//! The dashboard command (no subcommand): the TUI on the demo fleet, a snapshot or the
//! configured contexts.

use super::args::Cli;
use super::exit::Exit;
use super::{runtime, Ctx};
use anyhow::{bail, Result};
use chrono::{DateTime, Utc};
use drydock::config::ColorChoice;
use drydock_api::Provider;
use std::io::IsTerminal;
use std::sync::Arc;

/// The dashboard, on the demo fleet (the default while no cloud accounts are configured)
/// or on a snapshot.
pub fn run(ctx: &Ctx, cli: &Cli, logs: drydock::tui::logbuf::LogBuffer) -> Result<Exit> {
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
    let history = match super::store::store(ctx) {
        Ok(s) if !demo => drydock::history::load(s.as_ref()),
        _ => Vec::new(),
    };
    let mut app = App::new(
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
        record_history: !demo,
        clock,
        data: ctx.data.clone(),
        journal: super::store::journal(ctx).map_err(|e| e.to_string()),
        scan: if demo {
            Default::default()
        } else {
            ctx.registry.scan_options()
        },
    };
    app.sboms = super::store::store(ctx).ok();
    rt.block_on(runtime.run(app))?;
    Ok(Exit::Ok)
}
