//! `drydock report`: the drift report (table, JSON, CSV, Markdown) of a scan, a snapshot or
//! the demo, and `--diff` of two snapshots; exits 1 over `--fail-on`.

use super::args::ReportArgs;
use super::exit::Exit;
use super::inventory::load_inventory;
use super::Ctx;
use anyhow::{Context, Result};
use drydock::config::ColorChoice;
use drydock::drift;
use drydock::model::snapshot;
use drydock::report::{diff, Filter, Format, Report, ReportOptions};
use std::io::{IsTerminal, Write};

pub fn run(ctx: &Ctx, args: &ReportArgs) -> Result<Exit> {
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
        return Ok(if d.worsened() { Exit::Drift } else { Exit::Ok });
    }
    let t0 = std::time::Instant::now();
    let inv = load_inventory(ctx, &args.source, false)?;
    let t1 = std::time::Instant::now();
    let assessment = drift::evaluate(&inv, policy, ctx.now);
    let t2 = std::time::Instant::now();
    let opts = ReportOptions {
        format: args.format,
        group_by: args.group_by,
        filter,
        fail_on: args.fail_on,
        color: args.format == Format::Table && use_color(ctx.color),
        images: args.images,
    };
    let report = Report::build(&inv, &assessment, &opts);
    let t3 = std::time::Instant::now();
    write_out(report.write(&opts, &mut out))?;
    write_out(out.flush())?;
    let t4 = std::time::Instant::now();
    let timings = format!(
        "inventory {:?}, verdicts {:?}, rows {:?}, written {:?}",
        t1 - t0,
        t2 - t1,
        t3 - t2,
        t4 - t3
    );
    tracing::info!(vms = inv.vms.len(), "report: {timings}");
    if std::env::var_os("DRYDOCK_TIMINGS").is_some() {
        eprintln!("timings: {timings}");
    }
    if matches!(opts.format, Format::Csv | Format::Json) {
        // CSV and JSON stay data only (JSON has `contexts`): what the scan missed is told
        // on stderr too.
        for line in drydock::report::text::gap_lines(&inv) {
            eprintln!("{line}");
        }
    }
    let exit = if inv.incomplete() && !args.allow_partial {
        Exit::Incomplete
    } else if report.over_threshold(&opts) {
        Exit::Drift
    } else {
        Exit::Ok
    };
    // The process ends right after this; freeing 100k VMs one allocation at a time would
    // cost a tenth of the run. The OS reclaims the memory at exit.
    std::mem::forget(report);
    std::mem::forget(assessment);
    std::mem::forget(inv);
    Ok(exit)
}

/// A closed pipe (`drydock report | head`) is not an error worth a message.
pub fn write_out(r: std::io::Result<()>) -> Result<()> {
    match r {
        Err(e) if broken_pipe(&e) => std::process::exit(0),
        r => r.context("cannot write the report to stdout"),
    }
}

/// Whether `e`, or an error it wraps (a JSON encoder's), is a closed pipe.
fn broken_pipe(e: &std::io::Error) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::BrokenPipe {
                return true;
            }
            if let Some(inner) = io.get_ref() {
                cur = Some(inner);
                continue;
            }
        }
        if let Some(j) = err.downcast_ref::<serde_json::Error>() {
            if j.io_error_kind() == Some(std::io::ErrorKind::BrokenPipe) {
                return true;
            }
        }
        cur = err.source();
    }
    false
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
