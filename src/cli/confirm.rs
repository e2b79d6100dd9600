//! Confirmations from the flags or the terminal: what the mutation gate asks for a change
//! (a y/N answer, or a production context's typed name), for every command that changes a
//! cloud.

use anyhow::{bail, Result};
use drydock::gate::{Confirmation, Needed};
use std::io::{BufRead, IsTerminal, Write};

/// Reads a line from the terminal after a prompt.
pub fn ask(prompt: &str) -> String {
    eprint!("{prompt}");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    let _ = std::io::stdin().lock().read_line(&mut line);
    line.trim().to_string()
}

/// What a change in `context` needs, from the flags or the terminal. `subject` names the
/// change in messages (`plan ID`, `transfer A → B`); `question` is the y/N prompt. A typed
/// name must be the context's.
pub fn confirm(
    need: Needed,
    context: &str,
    subject: &str,
    question: &str,
    yes: bool,
    yes_production: bool,
) -> Result<Confirmation> {
    let tty = std::io::stdin().is_terminal();
    let c = match need {
        Needed::Refused(e) => bail!("{subject}: {e}"),
        Needed::Typed(_) if yes_production => Confirmation::Typed(context.into()),
        Needed::Typed(_) if tty => Confirmation::Typed(ask(&format!(
            "{subject} changes production context `{context}`: type its name to confirm: "
        ))),
        Needed::Typed(_) => bail!("{subject} changes production context `{context}`: pass --yes-production or run it in a terminal and type the name"),
        _ if yes => Confirmation::Yes,
        _ if tty => {
            let a = ask(&format!("{question} [y/N] "));
            if a.eq_ignore_ascii_case("y") || a.eq_ignore_ascii_case("yes") {
                Confirmation::Yes
            } else {
                bail!("not confirmed; nothing changed");
            }
        }
        _ => bail!("{subject} needs confirmation: pass --yes (scripts) or run it in a terminal"),
    };
    if let Confirmation::Typed(t) = &c {
        if t.trim() != context {
            bail!("typed `{t}`, not `{context}`: not confirmed; nothing changed");
        }
    }
    Ok(c)
}
