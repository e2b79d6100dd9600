//! `drydock inspect DISK`: the partition table, filesystems and packages of a disk image,
//! as a table, JSON or an SPDX 2.3 document.

use super::args::InspectArgs;
use super::exit::Exit;
use super::{out, outln};
use anyhow::Result;
use comfy_table::{presets::NOTHING, Cell, Table};
use drydock::convert::human_bytes as human;
use drydock::inspect;
use drydock::inspect::diff::Components;
use std::path::Path;

pub fn run(args: &InspectArgs) -> Result<Exit> {
    if let Some(pair) = &args.diff {
        return diff(&pair[0], &pair[1], &args.format);
    }
    let disk = args
        .disk
        .as_deref()
        .expect("clap requires DISK without --diff");
    if args.format == "markdown" {
        anyhow::bail!("--format markdown is for --diff; use table, json or spdx");
    }
    let found = inspect::inspect(disk).map_err(|e| super::about(disk, e))?;
    if args.format == "spdx" {
        let name = disk
            .file_name()
            .map_or_else(|| "disk".into(), |n| n.to_string_lossy().into_owned());
        let created = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let doc = inspect::spdx::document(&found, &name, &created);
        outln!("{}", serde_json::to_string_pretty(&doc)?);
        return Ok(Exit::Ok);
    }
    if args.format == "json" {
        outln!("{}", serde_json::to_string_pretty(&found)?);
        return Ok(Exit::Ok);
    }
    outln!(
        "{}: {} image, virtual size {}, {} partition table",
        disk.display(),
        found.format,
        human(found.virtual_size),
        match found.scheme {
            inspect::partitions::Scheme::Gpt => "GPT",
            inspect::partitions::Scheme::Mbr => "MBR",
            inspect::partitions::Scheme::None => "no",
        }
    );
    let mut t = Table::new();
    t.load_preset(NOTHING);
    t.set_header([
        "#",
        "start",
        "size",
        "type",
        "name",
        "filesystem",
        "label",
        "used",
    ]);
    for v in &found.volumes {
        let (p, f) = (&v.partition, &v.filesystem);
        let used = match (f.used, f.capacity) {
            (Some(u), Some(c)) if c > 0 => {
                format!(
                    "{} of {} ({:.0} %)",
                    human(u),
                    human(c),
                    u as f64 * 100.0 / c as f64
                )
            }
            _ if !f.readable && f.kind != "unknown" && f.kind != "swap" && f.kind != "vfat" => {
                "not readable by drydock".into()
            }
            _ => "-".into(),
        };
        t.add_row([
            Cell::new(p.number),
            Cell::new(p.start),
            Cell::new(human(p.size)),
            Cell::new(&p.kind),
            Cell::new(&p.name),
            // A filesystem drydock reads but could not: said in the row, not only above it.
            Cell::new(if f.problem.is_some() && !f.readable {
                format!("{} (corrupt)", f.kind)
            } else {
                f.kind.clone()
            }),
            Cell::new(&f.label),
            Cell::new(used),
        ]);
    }
    outln!("{t}");
    for v in &found.volumes {
        let Some(c) = &v.contents else { continue };
        let mut parts: Vec<String> = c.os.iter().cloned().collect();
        if !c.kernels.is_empty() {
            parts.push(format!("kernels {}", c.kernels.join(", ")));
        }
        if !c.boot_loaders.is_empty() {
            parts.push(format!("boot loaders {}", c.boot_loaders.join(", ")));
        }
        if let Some(pm) = &c.package_manager {
            parts.push(format!("{} {pm} packages", c.packages.len()));
        }
        if !parts.is_empty() {
            outln!("partition {}: {}", v.partition.number, parts.join("; "));
        }
    }
    for w in &found.warnings {
        eprintln!("warning: {w}");
    }
    Ok(Exit::Ok)
}

/// `inspect --diff OLD NEW`.
fn diff(old: &Path, new: &Path, format: &str) -> Result<Exit> {
    let load = |p: &Path| -> Result<Components> {
        let s = p.to_string_lossy();
        if s.starts_with("https://") || s.starts_with("http://") {
            // An SBOM published by URL (a `drydock:sbom` tag may name one).
            let body = drydock::image_lists::read_source(&s)?;
            return Components::from_json(&body).ok_or_else(|| {
                anyhow::anyhow!("{s}: neither an `inspect --format json` document nor SPDX 2.3")
            });
        }
        Components::load(p).map_err(|e| super::about(p, e))
    };
    let d = inspect::diff::diff(&load(old)?, &load(new)?);
    let (o, n) = (old.display().to_string(), new.display().to_string());
    match format {
        "json" => outln!("{}", serde_json::to_string_pretty(&d)?),
        "markdown" => out!("{}", inspect::diff::markdown(&d, &o, &n)),
        "table" => out!("{}", diff_table(&d, &o, &n)),
        _ => anyhow::bail!("--diff writes table, json or markdown"),
    }
    Ok(Exit::Ok)
}

/// The diff as a terminal table: one row per change.
pub fn diff_table(d: &inspect::diff::Diff, old: &str, new: &str) -> String {
    let mut out = format!("{old} -> {new}\n");
    if let Some(os) = &d.os {
        out.push_str(&format!("os: {} -> {}\n", os.old, os.new));
    }
    for k in &d.kernels_added {
        out.push_str(&format!("kernel added: {k}\n"));
    }
    for k in &d.kernels_removed {
        out.push_str(&format!("kernel removed: {k}\n"));
    }
    let mut t = Table::new();
    t.load_preset(NOTHING);
    t.set_header(["change", "package", "old", "new"]);
    for p in &d.added {
        t.add_row(["added", &p.name, "", &p.version]);
    }
    for p in &d.removed {
        t.add_row(["removed", &p.name, &p.version, ""]);
    }
    for (kind, list) in [
        ("upgraded", &d.upgraded),
        ("downgraded", &d.downgraded),
        ("licence", &d.licence_changes),
    ] {
        for c in list {
            t.add_row([kind, &c.name, &c.old, &c.new]);
        }
    }
    if d.is_empty() {
        out.push_str("no changes\n");
    } else {
        out.push_str(&format!("{t}\n"));
    }
    out
}
