//! `drydock convert` and `drydock ova`: the command-line surface of the conversion engine,
//! with a progress bar on a terminal and a JSON result for scripts. Ctrl-C (or SIGTERM)
//! cancels a conversion cleanly: the temporary output is removed, nothing reaches the
//! destination.

use super::args::{ConvertArgs, OvaCommand};
use super::exit::Exit;
use super::outln;
use super::progress::Bar;
use anyhow::{anyhow, Result};
use drydock::convert::{self, human_bytes as human, Format, Options};
use std::io::IsTerminal;

pub fn convert(args: &ConvertArgs) -> Result<Exit> {
    let from = args.from.as_deref().map(Format::parse).transpose()?;
    let mut bar = Bar::new(!args.quiet && !args.json && std::io::stderr().is_terminal());
    if args.check {
        let report = convert::check(&args.input, from, &mut |p| bar.update(p))?;
        bar.clear();
        if args.json {
            outln!(
                "{}",
                serde_json::json!({
                    "file": args.input,
                    "format": report.info.format.name(),
                    "virtual_size": report.info.virtual_size,
                    "data_bytes": report.data_bytes,
                    "details": report.info.details,
                    "ok": true,
                })
            );
        } else {
            outln!(
                "{}: {} image, virtual size {} ({} bytes), {} of data; structure OK{}",
                args.input.display(),
                report.info.format,
                human(report.info.virtual_size),
                report.info.virtual_size,
                human(report.data_bytes),
                details(&report.info.details)
            );
        }
        return Ok(Exit::Ok);
    }
    let output = args
        .output
        .as_ref()
        .ok_or_else(|| anyhow!("OUT is required"))?;
    if !args.force {
        convert::refuse_existing(output)?;
    }
    let opts = Options {
        from,
        to: args.to.as_deref().map(Format::parse).transpose()?,
        azure: args.azure,
        compress: args.compress,
        threads: args.threads,
        sha256: args.sha256,
        hardware: None,
    };
    let report = convert::convert(&args.input, output, &opts, &mut |p| bar.update(p))?;
    bar.clear();
    for w in &report.warnings {
        eprintln!("warning: {w}");
    }
    if args.json {
        outln!(
            "{}",
            serde_json::json!({
                "input": args.input,
                "input_format": report.input.format.name(),
                "output": report.output.path,
                "output_format": report.output_format.name(),
                "virtual_size": report.input.virtual_size,
                "data_bytes": report.data_bytes,
                "output_bytes": report.output.size,
                "sha256": report.output.sha256,
                "seconds": report.elapsed.as_secs_f64(),
                "warnings": report.warnings,
            })
        );
    } else {
        let secs = report.elapsed.as_secs_f64().max(1e-6);
        outln!(
            "{} ({}) → {} ({}): virtual size {}, {} of data, {} written in {:.2} s ({:.0} MiB/s){}",
            args.input.display(),
            report.input.format,
            report.output.path.display(),
            report.output_format,
            human(report.input.virtual_size),
            human(report.data_bytes),
            human(report.output.size),
            secs,
            report.input.virtual_size as f64 / secs / 1048576.0,
            report
                .output
                .sha256
                .as_ref()
                .map_or(String::new(), |s| format!("\nsha256 {s}"))
        );
    }
    Ok(Exit::Ok)
}

pub fn ova(cmd: &OvaCommand) -> Result<Exit> {
    match cmd {
        OvaCommand::Pack {
            disk,
            output,
            name,
            cpus,
            memory_mib,
            from,
            threads,
            quiet,
            force,
        } => {
            if !force {
                convert::refuse_existing(output)?;
            }
            let opts = Options {
                from: from.as_deref().map(Format::parse).transpose()?,
                to: Some(Format::Ova),
                azure: false,
                compress: false,
                threads: *threads,
                sha256: true,
                hardware: Some(convert::ova::Hardware {
                    name: name.clone().unwrap_or_else(|| convert::stem(output)),
                    cpus: *cpus,
                    memory_mib: *memory_mib,
                }),
            };
            let mut bar = Bar::new(!quiet && std::io::stderr().is_terminal());
            let report = convert::convert(disk, output, &opts, &mut |p| bar.update(p))?;
            bar.clear();
            for w in &report.warnings {
                eprintln!("warning: {w}");
            }
            outln!(
                "{} → {}: {} disk ({} of data) packed as a streamOptimized VMDK, {} in {:.2} s\nsha256 {}",
                disk.display(),
                report.output.path.display(),
                human(report.input.virtual_size),
                human(report.data_bytes),
                human(report.output.size),
                report.elapsed.as_secs_f64(),
                report.output.sha256.clone().unwrap_or_default()
            );
            Ok(Exit::Ok)
        }
        OvaCommand::Unpack { ova, dir } => {
            // Ctrl-C cancels: the temporary files go, nothing appears in DIR.
            let mut bar = Bar::new(std::io::stderr().is_terminal());
            let out = convert::ova::unpack(ova, dir, &mut |p| bar.update(p));
            bar.clear();
            let out = out?;
            for (path, size, sha) in &out.files {
                outln!("{}  {}  {}", sha, human(*size), path.display());
            }
            outln!(
                "{} member(s) extracted; {} verified against the manifest",
                out.files.len(),
                out.verified
            );
            Ok(Exit::Ok)
        }
    }
}

fn details(d: &[String]) -> String {
    if d.is_empty() {
        String::new()
    } else {
        format!(" ({})", d.join(", "))
    }
}
