//! `drydock store …` and `drydock audit`: opening the store the config names (the embedded
//! SQLite file by default), migrating it, copying it to the team's PostgreSQL, and listing
//! the audit log. Also the plan journal every command shares.

use super::args::{AuditArgs, StoreCommand};
use super::exit::Exit;
use super::{out, Ctx};
use anyhow::{anyhow, bail, Result};
use drydock::config::paths::DataDir;
use drydock::config::Config;
use drydock::plan::Journal;
use drydock_store::{AuditFilter, Location, Store};
use std::sync::Arc;

/// Opens the store the config names; a new embedded store adopts the plans of the
/// journal drydock kept before the store. The error is one line for people.
pub(crate) fn open(config: &Config, data: Option<&DataDir>) -> Result<Arc<dyn Store>, String> {
    let location = config
        .store_location(data, &|k| std::env::var(k).ok())
        .map_err(|e| e.to_string())?
        .ok_or_else(|| {
            format!(
                "no store: there is no home directory; set {} or {}",
                drydock::config::paths::DATA_DIR_ENV,
                drydock::config::STORE_URL_ENV
            )
        })?;
    let store: Arc<dyn Store> =
        Arc::from(drydock_store::open(&location).map_err(|e| e.to_string())?);
    if let (Location::Sqlite(_), Some(d)) = (&location, data) {
        match drydock::plan::legacy::adopt(&d.journal(), store.as_ref()) {
            Ok(0) => {}
            Ok(n) => eprintln!(
                "moved {} from {} into the store {}",
                drydock::words::count(n as u64, "plan"),
                d.journal().display(),
                store.describe()
            ),
            Err(e) => eprintln!("warning: the old journal was not copied into the store: {e}"),
        }
    }
    Ok(store)
}

/// The store this command opened.
pub(crate) fn store(ctx: &Ctx) -> Result<Arc<dyn Store>> {
    match &ctx.store {
        Some(Ok(s)) => Ok(Arc::clone(s)),
        Some(Err(e)) => bail!("{e}"),
        None => open(&ctx.config, ctx.data.as_ref()).map_err(|e| anyhow!(e)),
    }
}

/// The plan journal in the store, as this operator.
pub(crate) fn journal(ctx: &Ctx) -> Result<Arc<Journal>> {
    Ok(Arc::new(
        Journal::new(store(ctx)?, ctx.operator.clone()).with_lease_ttl(ctx.config.lease_ttl()),
    ))
}

pub(crate) fn run(ctx: &Ctx, cmd: &StoreCommand) -> Result<Exit> {
    let from = store(ctx)?;
    match cmd {
        StoreCommand::Migrate => {
            let v = from.schema_version().map_err(|e| anyhow!(e))?;
            out!(
                "store {}: schema version {v} (this drydock: {})",
                from.describe(),
                drydock_store::SCHEMA_VERSION
            );
        }
        StoreCommand::Copy { to } => {
            let loc =
                Location::parse(to, ctx.config.store.ca_file.clone()).map_err(|e| anyhow!(e))?;
            let dest = drydock_store::open(&loc).map_err(|e| anyhow!(e))?;
            if dest.describe() == from.describe() {
                bail!("{} is the store this drydock already uses", dest.describe());
            }
            let dump = from.export().map_err(|e| anyhow!(e))?;
            let n = dest.import(&dump).map_err(|e| anyhow!(e))?;
            out!(
                "copied {} → {}: {} ({} already there), {}, {}, {}",
                from.describe(),
                dest.describe(),
                drydock::words::count(n.plans as u64, "plan"),
                n.plans_present,
                drydock::words::count(n.claims as u64, "claim"),
                drydock::words::count(n.audit as u64, "audit record"),
                drydock::words::count(n.documents as u64, "document"),
            );
            eprintln!(
                "point the team at it: `[store] url = \"{}\"` (or {}=…)",
                dest.describe(),
                drydock::config::STORE_URL_ENV
            );
        }
    }
    Ok(Exit::Ok)
}

pub(crate) fn audit(ctx: &Ctx, args: &AuditArgs) -> Result<Exit> {
    let since = match &args.since {
        None => None,
        Some(s) => Some(match chrono::DateTime::parse_from_rfc3339(s) {
            Ok(t) => t.with_timezone(&chrono::Utc),
            Err(_) => {
                let span: drydock::plan::Span = s.parse().map_err(|e| anyhow!("--since: {e}"))?;
                ctx.now - span.0
            }
        }),
    };
    let records = store(ctx)?
        .audit(&AuditFilter {
            since,
            operator: args.operator.clone(),
            context: args.context.clone(),
            plan: args.plan.clone(),
        })
        .map_err(|e| anyhow!(e))?;
    if args.format == "json" {
        out!(
            "{}",
            serde_json::to_string_pretty(&records).map_err(|e| anyhow!(e))?
        );
        return Ok(Exit::Ok);
    }
    let mut t = comfy_table::Table::new();
    t.load_preset(comfy_table::presets::NOTHING);
    t.set_header([
        "WHEN",
        "OPERATOR",
        "CONTEXT",
        "OPERATION",
        "TARGET",
        "DRY RUN",
        "CONFIRMED",
        "OUTCOME",
        "PLAN",
        "ERROR",
    ]);
    for r in &records {
        t.add_row([
            r.at.format("%Y-%m-%d %H:%M:%S").to_string(),
            r.operator.clone(),
            r.context.clone(),
            r.operation.clone(),
            r.target.clone(),
            if r.dry_run { "yes" } else { "no" }.to_string(),
            r.confirmation.clone(),
            r.outcome.clone(),
            r.plan.clone().unwrap_or_default(),
            r.error.clone().unwrap_or_default(),
        ]);
    }
    out!("{t}");
    eprintln!(
        "{}",
        drydock::words::count(records.len() as u64, "audit record")
    );
    Ok(Exit::Ok)
}
