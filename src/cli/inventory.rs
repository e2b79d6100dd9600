//! Where a command's inventory comes from: a snapshot, the demo fleet or a scan of the
//! configured contexts (with progress on stderr for `scan`).

use super::args::Source;
use super::{runtime, Ctx};
use anyhow::{bail, Result};
use drydock::model::{snapshot, Inventory};
use drydock_api::{Provider, ScanProgress};
use std::sync::Arc;

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
    let options = ctx.registry.scan_options();
    rt.block_on(drydock::scan::scan_all_within(
        &providers,
        progress,
        move || now,
        &options,
    ))
}

/// Where an inventory comes from: a snapshot, the demo, or the configured accounts.
pub fn load_inventory(ctx: &Ctx, source: &Source, show_progress: bool) -> Result<Inventory> {
    if let Some(path) = &source.snapshot {
        return Ok(snapshot::read(path)?);
    }
    let rt = runtime()?;
    let providers = if source.demo {
        ctx.registry.demo_providers(ctx.now)?
    } else {
        ctx.registry.cloud_providers(&rt)?
    };
    let gaps: Vec<String> = ctx
        .registry
        .scan_options()
        .outcomes
        .iter()
        .filter(|o| o.state.is_gap())
        .map(|o| format!("{}: {}", o.context, o.reason.as_deref().unwrap_or("")))
        .collect();
    if providers.is_empty() && !gaps.is_empty() {
        bail!("nothing to scan: {}", gaps.join("; "));
    }
    if providers.is_empty() {
        bail!(
            "no inventory: pass --demo for the embedded demo fleet, --snapshot FILE, or {}",
            drydock::contexts::CONFIGURE_HINT
        );
    }
    let inv = scan_providers(ctx, &rt, providers, show_progress);
    // A scan where every provider failed has nothing to report: that is an error.
    if inv.vms.is_empty() && inv.images.is_empty() && inv.incomplete() {
        for line in drydock::report::text::gap_lines(&inv) {
            eprintln!("{line}");
        }
        bail!("every scan failed (see above)");
    }
    Ok(inv)
}
