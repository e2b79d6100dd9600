//! `drydock lint DISK`: hygiene findings as a table or JSON; the exit code says whether a
//! finding at or above `--fail-on` exists.

use super::args::LintArgs;
use super::exit::Exit;
use super::outln;
use anyhow::Result;
use comfy_table::{presets::NOTHING, Cell, Table};
use drydock::inspect::lint::{self, LintOptions};

pub fn run(args: &LintArgs) -> Result<Exit> {
    let opts = LintOptions {
        large_dir: args.large_dir,
    };
    let found = lint::lint(&args.disk, &opts).map_err(|e| super::about(&args.disk, e))?;
    if args.format == "json" {
        outln!("{}", serde_json::to_string_pretty(&found)?);
    } else {
        if found.findings.is_empty() {
            outln!("{}: no findings", args.disk.display());
        }
        let mut t = Table::new();
        t.load_preset(NOTHING);
        t.set_header(["severity", "id", "finding", "where", "fix"]);
        for f in &found.findings {
            let places: Vec<String> = f
                .evidence
                .iter()
                .map(|e| {
                    let mut at = format!("p{}", e.partition);
                    if let Some(p) = &e.path {
                        at.push_str(&format!(" {p}"));
                    }
                    if let Some(o) = e.offset {
                        at.push_str(&format!(" @{o}"));
                    }
                    if !e.detail.is_empty() {
                        at.push_str(&format!(" ({})", e.detail));
                    }
                    at
                })
                .collect();
            t.add_row([
                Cell::new(f.severity),
                Cell::new(f.id),
                Cell::new(&f.title),
                Cell::new(places.join("\n")),
                Cell::new(f.fix),
            ]);
        }
        if !found.findings.is_empty() {
            outln!("{t}");
        }
    }
    for w in &found.warnings {
        eprintln!("warning: {w}");
    }
    Ok(match found.worst() {
        Some(s) if s >= args.fail_on => Exit::Findings,
        _ => Exit::Ok,
    })
}
