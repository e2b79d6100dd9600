//! `drydock inspect DISK`: the partition table, filesystems and packages of a disk image,
//! as a table, JSON or an SPDX 2.3 document.

use crate::cli::InspectArgs;
use anyhow::Result;
use comfy_table::{presets::NOTHING, Cell, Table};
use drydock::convert::human_bytes as human;
use drydock::inspect;
use drydock::report::Exit;

pub fn run(args: &InspectArgs) -> Result<Exit> {
    let found = inspect::inspect(&args.disk)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.disk.display()))?;
    if args.format == "spdx" {
        let name = args
            .disk
            .file_name()
            .map_or_else(|| "disk".into(), |n| n.to_string_lossy().into_owned());
        let created = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let doc = inspect::spdx::document(&found, &name, &created);
        println!("{}", serde_json::to_string_pretty(&doc)?);
        return Ok(Exit::Clean);
    }
    if args.format == "json" {
        println!("{}", serde_json::to_string_pretty(&found)?);
        return Ok(Exit::Clean);
    }
    println!(
        "{}: {} image, virtual size {}, {} partition table",
        args.disk.display(),
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
            Cell::new(&f.kind),
            Cell::new(&f.label),
            Cell::new(used),
        ]);
    }
    println!("{t}");
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
            println!("partition {}: {}", v.partition.number, parts.join("; "));
        }
    }
    for w in &found.warnings {
        eprintln!("warning: {w}");
    }
    Ok(Exit::Clean)
}
