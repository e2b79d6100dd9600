//! `drydock org refresh|list`: the accounts of each `[[aws.organizations]]` entry and the
//! subscriptions of each `[[azure.tenants]]` entry, the context each becomes (with its
//! production/read-only flags) or why it is skipped.

use super::args::OrgCommand;
use super::exit::Exit;
use super::{outln, runtime, Ctx};
use anyhow::{bail, Result};
use drydock::organizations::{Organization, Organizations, Origin};
use drydock_api::accounts::org::Decision;

pub fn run(ctx: &Ctx, cmd: &OrgCommand) -> Result<Exit> {
    let orgs = Organization::all(&ctx.config);
    if orgs.is_empty() {
        bail!("no organisation configured: add an [[aws.organizations]] or [[azure.tenants]] entry (see README, Organisations)");
    }
    let rt = runtime()?;
    let store = super::store::store(ctx).ok();
    let finder = Organizations {
        store: store.as_deref(),
        connector: ctx.registry.connector(),
        rt: &rt,
        // The cache's age is real time, whatever --now says about verdicts.
        now: chrono::Utc::now(),
        force: matches!(cmd, OrgCommand::Refresh),
    };
    let mut failed = false;
    for org in orgs {
        let (d, origin) = match finder.accounts(org) {
            Ok(x) => x,
            Err(e) => {
                eprintln!("organization {}: {e}", org.name());
                failed = true;
                continue;
            }
        };
        let from = match &origin {
            Origin::Cache => format!("cached {}", d.discovered_at.format("%Y-%m-%d %H:%M:%SZ")),
            Origin::Discovered => "discovered now".to_string(),
            Origin::Stale(why) => {
                failed = true;
                format!("discovery failed ({why}); cached {}", d.discovered_at)
            }
        };
        outln!(
            "organization {}: {} accounts, {from}",
            org.name(),
            d.accounts.len()
        );
        let taken = |n: &str| {
            ctx.config.aws.accounts.iter().any(|a| a.name == n)
                || ctx.config.azure.subscriptions.iter().any(|s| s.name == n)
        };
        let mut t = comfy_table::Table::new();
        t.load_preset(drydock::report::text::PLAIN).set_header([
            "account",
            "name",
            "ou",
            "status",
            "context",
            "flags / why skipped",
        ]);
        for (name, a, decision) in org.decisions(&d.accounts, &taken) {
            let (context, why) = match decision {
                Decision::Scan {
                    production,
                    readonly,
                } => {
                    let flags: Vec<&str> = [("production", production), ("readonly", readonly)]
                        .into_iter()
                        .filter_map(|(f, on)| on.then_some(f))
                        .collect();
                    (name.as_str(), flags.join(", "))
                }
                Decision::Skip(why) => ("-", format!("skipped: {why}")),
            };
            t.add_row([a.id.as_str(), &a.name, &a.path, &a.status, context, &why]);
        }
        outln!("{t}");
    }
    Ok(if failed { Exit::Error } else { Exit::Ok })
}
