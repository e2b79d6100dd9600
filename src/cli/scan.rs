//! `drydock scan`: scan the configured contexts (or the demo) into a snapshot file and
//! record the verdict counts for the dashboard's trend.

use super::args::{ScanArgs, Source};
use super::exit::Exit;
use super::inventory::load_inventory;
use super::Ctx;
use anyhow::Result;
use drydock::drift;
use drydock::model::{snapshot, Inventory};

pub fn run(ctx: &Ctx, args: &ScanArgs) -> Result<Exit> {
    let source = Source {
        demo: args.demo,
        snapshot: None,
        from_store: false,
        scan: true,
    };
    let inv = load_inventory(ctx, &source, true)?;
    if let Some(out) = &args.output {
        snapshot::write(out, &inv)?;
    }
    // Kept in the store for every operator (the team's, on PostgreSQL).
    let store = super::store::store(ctx)?;
    drydock::inventory_store::put(store.as_ref(), &inv, &ctx.operator)?;
    record_history(ctx, &inv);
    for line in drydock::report::text::gap_lines(&inv) {
        eprintln!("{line}");
    }
    let to = match &args.output {
        Some(p) => format!("{} and {}", p.display(), store.describe()),
        None => store.describe(),
    };
    eprintln!(
        "wrote {} VMs, {} images, {} scale groups to {to}",
        inv.vms.len(),
        inv.images.len(),
        inv.scale_groups.len(),
    );
    Ok(Exit::Ok)
}

/// Appends the scan's verdict counts to the history the dashboard's trend line reads.
fn record_history(ctx: &Ctx, inv: &Inventory) {
    let Ok(store) = super::store::store(ctx) else {
        return;
    };
    let a = drift::evaluate(inv, &ctx.config.policy, inv.scanned_at);
    let point = drydock::history::HistoryPoint {
        context: None,
        scanned_at: inv.scanned_at,
        counts: drift::Verdict::ALL.into_iter().zip(a.vm_counts()).collect(),
    };
    if let Err(e) = drydock::history::append(store.as_ref(), &point) {
        tracing::warn!("cannot record scan history: {e}");
    }
}
