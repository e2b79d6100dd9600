//! `drydock convert` and `drydock ova`: the command-line surface of the conversion engine,
//! with a progress bar on a terminal and a JSON result for scripts. Ctrl-C (or SIGTERM)
//! cancels a conversion cleanly: the temporary output is removed, nothing reaches the
//! destination.

use crate::cli::{ConvertArgs, OvaCommand};
use anyhow::{anyhow, Result};
use drydock::convert::{self, human_bytes as human, Format, Options, Progress};
use drydock::report::Exit;
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

pub fn convert(args: &ConvertArgs) -> Result<Exit> {
    let from = args.from.as_deref().map(Format::parse).transpose()?;
    let mut bar = Bar::new(!args.quiet && !args.json && std::io::stderr().is_terminal());
    if args.check {
        let report = convert::check(&args.input, from, &mut |p| bar.update(p))?;
        bar.clear();
        if args.json {
            println!(
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
            println!(
                "{}: {} image, virtual size {} ({} bytes), {} of data; structure OK{}",
                args.input.display(),
                report.info.format,
                human(report.info.virtual_size),
                report.info.virtual_size,
                human(report.data_bytes),
                details(&report.info.details)
            );
        }
        return Ok(Exit::Clean);
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
        println!(
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
        println!(
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
    Ok(Exit::Clean)
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
            println!(
                "{} → {}: {} disk ({} of data) packed as a streamOptimized VMDK, {} in {:.2} s\nsha256 {}",
                disk.display(),
                report.output.path.display(),
                human(report.input.virtual_size),
                human(report.data_bytes),
                human(report.output.size),
                report.elapsed.as_secs_f64(),
                report.output.sha256.clone().unwrap_or_default()
            );
            Ok(Exit::Clean)
        }
        OvaCommand::Unpack { ova, dir } => {
            let out = convert::ova::unpack(ova, dir)?;
            for (path, size, sha) in &out.files {
                println!("{}  {}  {}", sha, human(*size), path.display());
            }
            println!(
                "{} member(s) extracted; {} verified against the manifest",
                out.files.len(),
                out.verified
            );
            Ok(Exit::Clean)
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

/// Set by SIGINT or SIGTERM while a conversion runs.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_interrupt(_: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// From now on SIGINT and SIGTERM ask the running conversion to stop at its next chunk.
fn catch_interrupts() {
    let handler = on_interrupt as extern "C" fn(libc::c_int) as libc::sighandler_t;
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
    unsafe {
        libc::signal(libc::SIGINT, handler);
        libc::signal(libc::SIGTERM, handler);
    }
}

/// A one-line progress bar on stderr, redrawn at most ten times a second; it also carries
/// Ctrl-C to the engine (a cancelled conversion cleans up after itself).
pub(crate) struct Bar {
    on: bool,
    started: Instant,
    last: Option<Instant>,
}

impl Bar {
    pub(crate) fn new(on: bool) -> Bar {
        catch_interrupts();
        Bar {
            on,
            started: Instant::now(),
            last: None,
        }
    }

    pub(crate) fn update(&mut self, p: Progress) -> bool {
        if INTERRUPTED.load(Ordering::SeqCst) {
            self.clear();
            return false;
        }
        if !self.on {
            return true;
        }
        let now = Instant::now();
        if self
            .last
            .is_some_and(|t| now - t < Duration::from_millis(100))
            && p.done < p.total
        {
            return true;
        }
        self.last = Some(now);
        let frac = if p.total == 0 {
            1.0
        } else {
            p.done as f64 / p.total as f64
        };
        let width = 30;
        let filled = (frac * width as f64) as usize;
        let secs = self.started.elapsed().as_secs_f64().max(1e-3);
        let _ = write!(
            std::io::stderr(),
            "\r[{}{}] {:5.1}%  {} / {}  {:.0} MiB/s ",
            "#".repeat(filled),
            "-".repeat(width - filled),
            frac * 100.0,
            human(p.done),
            human(p.total),
            p.done as f64 / secs / 1048576.0
        );
        true
    }

    pub(crate) fn clear(&mut self) {
        if self.on {
            let _ = write!(std::io::stderr(), "\r{:70}\r", "");
        }
    }
}
