//! `drydock transfer SOURCE DEST`: parses the sides, builds only the providers they name,
//! prepares the transfer (the source opened, the destination checked), shows what a dry run
//! would create, asks the gate (read-only contexts refuse; production needs the typed name)
//! and runs it with a progress bar or `--events jsonl`.

use super::args::TransferArgs;
use super::confirm::confirm;
use super::exit::Exit;
use super::outln;
use super::progress::Bar;
use super::Ctx;
use anyhow::{anyhow, bail, Result};
use drydock::convert::{human_bytes as human, Format, Progress};
use drydock::gate::Needed;
use drydock::transfer::{self, provenance, Destination, Endpoint, Request};
use std::collections::HashMap;
use std::io::{IsTerminal, Write};

fn request(args: &TransferArgs) -> Result<Request> {
    let source = Endpoint::parse(&args.source).map_err(|e| anyhow!("SOURCE {e}"))?;
    let dest = Endpoint::parse(&args.dest).map_err(|e| anyhow!("DEST {e}"))?;
    if source == dest {
        bail!("SOURCE and DEST are both {source}");
    }
    Ok(Request {
        source,
        dest,
        provenance: provenance::Flags {
            family: args.family.clone(),
            version: args.version.clone(),
            parent: args.parent.clone(),
            cm_source: args.cm_source.clone(),
        },
        name: args.name.clone(),
        settings: transfer::SettingsFlags {
            architecture: args.arch.clone(),
            boot_mode: args.boot_mode.clone(),
            ena: args.ena,
            root_device: args.root_device.clone(),
            os_type: args.os_type.clone(),
        },
        to: args.to.as_deref().map(Format::parse).transpose()?,
        force: args.force,
        concurrency: args.concurrency,
    })
}

fn emit(jsonl: bool, value: serde_json::Value) {
    if jsonl {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{value}");
        let _ = out.flush();
    }
}

pub fn run(ctx: &Ctx, args: &TransferArgs) -> Result<Exit> {
    let req = request(args)?;
    let jsonl = args.events.as_deref() == Some("jsonl");
    let names: Vec<&str> = [&req.source, &req.dest]
        .into_iter()
        .filter_map(|e| match e {
            Endpoint::Cloud(c) => Some(c.context.as_str()),
            Endpoint::Local(_) => None,
        })
        .collect();
    let rt = super::runtime()?;
    let providers: HashMap<_, _> = if names.is_empty() {
        HashMap::new()
    } else {
        ctx.registry
            .providers_for(&names, &rt, ctx.now)
            .map_err(|e| anyhow!("transfer: {e}"))?
            .into_iter()
            .map(|p| (p.name().to_string(), p))
            .collect()
    };
    // Read-only contexts refuse before anything is read.
    if let Endpoint::Cloud(c) = &req.dest {
        if let Needed::Refused(e) = ctx.gate.needs(&c.context) {
            bail!("transfer to {c} refused: {e}");
        }
    }
    let t = transfer::prepare(&req, &providers, rt.handle())?;
    let what = format!("transfer {} → {}", req.source, req.dest);
    emit(
        jsonl,
        serde_json::json!({"event": "planned", "source": req.source.to_string(), "dest": req.dest.to_string(), "virtual_size": t.virtual_size, "plan": t.plan}),
    );
    let confirmation = match &t.dest {
        Destination::Cloud { cref, .. } => {
            // `--dry-run` (the global flag) wins over --execute.
            if !args.execute || ctx.gate.dry_run() {
                // What the gate would refuse, a dry run says too.
                t.admit(&ctx.gate, None)?;
                if !jsonl {
                    outln!("dry run: {what} ({} virtual) would:", human(t.virtual_size));
                    for line in &t.plan {
                        outln!("  - {line}");
                    }
                    outln!("nothing was created; pass --execute to transfer");
                }
                return Ok(Exit::Ok);
            }
            Some(confirm(
                ctx.gate.needs(&cref.context),
                &cref.context,
                &what,
                &format!("{what}?"),
                args.yes,
                args.yes_production,
            )?)
        }
        Destination::Local { .. } => None,
    };
    let admitted = t.admit(&ctx.gate, confirmation.as_ref())?;
    let store = super::store::store(ctx)?;
    let mut bar = Bar::new(!args.quiet && !jsonl && std::io::stderr().is_terminal());
    let mut last = std::time::Instant::now();
    let mut progress = |p: Progress| {
        if jsonl && (last.elapsed().as_millis() >= 500 || p.done == p.total) {
            last = std::time::Instant::now();
            emit(
                true,
                serde_json::json!({"event": "progress", "done": p.done, "total": p.total, "data": p.data}),
            );
        }
        bar.update(p)
    };
    let out = transfer::run(t, &admitted, &store, rt.handle(), &mut progress);
    bar.clear();
    let out = out?;
    for r in &out.removed {
        eprintln!("removed {r}, left by an interrupted transfer");
    }
    let secs = out.elapsed.as_secs_f64().max(1e-6);
    emit(
        jsonl,
        serde_json::json!({
            "event": "done", "created": out.created, "virtual_size": out.virtual_size,
            "data_bytes": out.data_bytes, "puts": out.sent.puts, "sent_bytes": out.sent.bytes,
            "sha256": out.sha256, "tags": out.tags, "removed": out.removed, "seconds": secs,
            "sbom": out.sbom,
        }),
    );
    if !jsonl {
        outln!(
            "{} → {}: created {}; {} virtual, {} of data{} in {:.2} s ({:.0} MiB/s of data)\nsha256 {}",
            req.source,
            req.dest,
            out.created,
            human(out.virtual_size),
            human(out.data_bytes),
            if out.sent.puts > 0 {
                format!(", {} blocks sent ({})", out.sent.puts, human(out.sent.bytes))
            } else {
                String::new()
            },
            secs,
            out.data_bytes as f64 / secs / 1048576.0,
            out.sha256
        );
        if let Some(p) = &out.sbom {
            outln!("sbom {p}");
        }
    }
    Ok(Exit::Ok)
}
