//! Shell integration, generated from the argument definitions so it never drifts from
//! them: completion scripts (clap_complete) and the manual page (clap_mangen).

use super::args::Cli;
use super::exit::Exit;
use anyhow::{Context, Result};
use clap::CommandFactory;
use std::io::Write;

/// `drydock completions SHELL`: the completion script on stdout.
pub fn completions(shell: clap_complete::Shell) -> Result<Exit> {
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "drydock", &mut out);
    write_stdout(&out)
}

/// `drydock man`: the manual page (roff) on stdout: synopsis, options, subcommands, exit
/// codes.
pub fn man() -> Result<Exit> {
    let mut out = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut out)
        .context("cannot render the manual page")?;
    write_stdout(&out)
}

fn write_stdout(bytes: &[u8]) -> Result<Exit> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(Exit::Ok),
        r => r.map(|()| Exit::Ok).context("cannot write to stdout"),
    }
}
