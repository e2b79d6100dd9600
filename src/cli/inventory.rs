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

/// The inventory `drydock scan` kept in the store: with `--from-store` whatever its age,
/// by default when younger than `[scan] shared_max_age_secs` (never for `--demo`/`--scan`).
fn shared(ctx: &Ctx, source: &Source) -> Result<Option<Inventory>> {
    if source.demo || source.scan {
        return Ok(None);
    }
    let max = ctx.config.scan.shared_max_age_secs;
    if !source.from_store && max == 0 {
        return Ok(None);
    }
    let store = match super::store::store(ctx) {
        Ok(s) => s,
        Err(e) if source.from_store => return Err(e),
        Err(_) => return Ok(None),
    };
    let Some((meta, stored)) = drydock::inventory_store::meta(store.as_ref())? else {
        if source.from_store {
            bail!(
                "{} holds no inventory yet: run `drydock scan` (with a read role in every account) first",
                store.describe()
            );
        }
        return Ok(None);
    };
    let age = chrono::Utc::now() - stored;
    if !source.from_store && (age.num_seconds() < 0 || age.num_seconds() as u64 > max) {
        return Ok(None);
    }
    let Some(inv) = drydock::inventory_store::get(store.as_ref())? else {
        return Ok(None);
    };
    eprintln!(
        "inventory from {}: scanned by {} {} ago ({} VMs){}",
        store.describe(),
        meta.operator,
        drydock::plan::journal::ago(age),
        meta.vms,
        if source.from_store {
            ""
        } else {
            "; --scan scans now"
        }
    );
    Ok(Some(inv))
}

/// Where an inventory comes from: a snapshot, the demo, or the configured accounts.
pub fn load_inventory(ctx: &Ctx, source: &Source, show_progress: bool) -> Result<Inventory> {
    if let Some(path) = &source.snapshot {
        return Ok(snapshot::read(path)?);
    }
    if let Some(inv) = shared(ctx, source)? {
        return Ok(inv);
    }
    let rt = runtime()?;
    let providers = if source.demo {
        ctx.registry.demo_providers(ctx.now)?
    } else {
        ctx.registry.cloud_providers(&rt)?
    };
    if providers.is_empty() {
        // Discovery that found nothing to scan says why.
        let gaps: Vec<String> = ctx
            .registry
            .discovery()
            .iter()
            .filter(|o| o.state.is_gap())
            .map(|o| format!("{}: {}", o.context, o.reason.as_deref().unwrap_or("")))
            .collect();
        if !gaps.is_empty() {
            bail!("nothing to scan: {}", gaps.join("; "));
        }
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
