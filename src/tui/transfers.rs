//! Transfers in the Conversions view: a prompt line whose source or destination names a
//! cloud (`SOURCE DEST [--family F] [--version V] [--parent P] [--name N] [--to FORMAT]
//! [--force]`) is a transfer. Into a cloud it waits at the prompt for what the gate needs
//! (`y`, or a production context's name typed); a read-only context refuses in place. The
//! job runs on a thread through `transfer::prepare` and `transfer::run`, with the gate's
//! admission, reporting progress like a conversion.

use super::conversions::{ConversionJob, ConversionsState, JobState};
use super::messages::{Action, ConversionPrompt, Effect, Finished, Mode, PendingTransfer, Reply};
use crate::convert::{Format, Progress};
use crate::gate::{Confirmation, Gate, Needed};
use crate::transfer::{self, provenance, Endpoint, Request};
use crossterm::event::{KeyCode, KeyEvent};
use drydock_api::Provider;
use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// Parse a transfer line. Every error names what to fix.
pub fn parse_transfer(line: &str) -> Result<Request, String> {
    let mut words = line.split_whitespace();
    let mut sides = Vec::new();
    let mut flags = provenance::Flags::default();
    let (mut name, mut to, mut force) = (None, None, false);
    while let Some(w) = words.next() {
        let mut value = || {
            words
                .next()
                .map(String::from)
                .ok_or(format!("{w} needs a value"))
        };
        match w {
            "--family" => flags.family = Some(value()?),
            "--version" => flags.version = Some(value()?),
            "--parent" => flags.parent = Some(value()?),
            "--name" => name = Some(value()?),
            "--to" => to = Some(Format::parse(&value()?).map_err(|e| e.to_string())?),
            "--force" => force = true,
            f if f.starts_with('-') => {
                return Err(format!(
                    "unknown option {f}; a transfer takes --family --version --parent --name --to --force"
                ))
            }
            side => sides.push(Endpoint::parse(side).map_err(|e| e.to_string())?),
        }
    }
    let [source, dest] = <[Endpoint; 2]>::try_from(sides)
        .map_err(|_| "expected SOURCE DEST (a local file, aws:… or azure:…)".to_string())?;
    Ok(Request {
        source,
        dest,
        provenance: flags,
        name,
        settings: Default::default(),
        to,
        force,
        concurrency: 16,
    })
}

impl ConversionsState {
    /// Enter on a transfer line: start it, or hold it for the gate's confirmation.
    pub(super) fn submit_transfer(&mut self, mut prompt: ConversionPrompt, gate: &Gate) -> Reply {
        let line = prompt.input.value().to_string();
        let req = match parse_transfer(&line) {
            Ok(r) => r,
            Err(e) => {
                prompt.error = Some(e);
                return Reply::mode(Mode::NewConversion(prompt));
            }
        };
        let Endpoint::Cloud(c) = &req.dest else {
            // A download changes no cloud; reading an Azure image admits its temporary
            // disk when the job starts.
            return self.start_transfer(req, Confirmation::Yes);
        };
        let (typed, message) = match gate.needs(&c.context) {
            Needed::Refused(e) => {
                prompt.error = Some(format!("{c}: {e}"));
                return Reply::mode(Mode::NewConversion(prompt));
            }
            Needed::Yes => (false, format!("creates an image in {}: y confirms, any other key goes back to editing", c.context)),
            Needed::Typed(ctx) => (
                true,
                format!("production context {ctx}: type its name and Enter to create the image (esc cancels)"),
            ),
        };
        prompt.error = Some(message);
        prompt.pending = Some(PendingTransfer {
            line: line.clone(),
            context: c.context.clone(),
            typed,
        });
        if typed {
            prompt.input = tui_input::Input::default();
        }
        Reply::mode(Mode::NewConversion(prompt))
    }

    /// A key while a transfer waits for its confirmation.
    pub(super) fn on_confirm_key(
        &mut self,
        key: KeyEvent,
        mut prompt: ConversionPrompt,
        p: PendingTransfer,
    ) -> Reply {
        let confirmed = match (p.typed, key.code) {
            (_, KeyCode::Esc) => {
                return Reply {
                    status: Some("cancelled; nothing was transferred".into()),
                    ..Reply::mode(Mode::Normal)
                }
            }
            (false, KeyCode::Char('y')) => Some(Confirmation::Yes),
            (true, KeyCode::Enter) => Some(Confirmation::Typed(prompt.input.value().to_string())),
            (true, _) => {
                if let Some(req) = super::keymap::input_request(&key) {
                    prompt.input.handle(req);
                }
                prompt.pending = Some(p);
                return Reply::mode(Mode::NewConversion(prompt));
            }
            (false, _) => None,
        };
        match confirmed {
            Some(c) => match parse_transfer(&p.line) {
                Ok(req) => self.start_transfer(req, c),
                Err(e) => {
                    prompt.error = Some(e);
                    Reply::mode(Mode::NewConversion(prompt))
                }
            },
            None => {
                // Any other key: back to editing the line.
                prompt.input = tui_input::Input::new(p.line);
                prompt.error = None;
                Reply::mode(Mode::NewConversion(prompt))
            }
        }
    }

    fn start_transfer(&mut self, req: Request, confirmation: Confirmation) -> Reply {
        self.next_id += 1;
        let cancel = Arc::new(AtomicBool::new(false));
        self.jobs.push(ConversionJob {
            id: self.next_id,
            input: req.source.to_string().into(),
            output: req.dest.to_string().into(),
            to: req.to.unwrap_or(Format::Raw),
            transfer: true,
            progress: Progress::default(),
            seconds: 0.0,
            state: JobState::Running,
            cancel: Arc::clone(&cancel),
        });
        self.list.bottom(self.jobs.len());
        Reply {
            effects: vec![Effect::Transfer {
                id: self.next_id,
                request: Box::new(req),
                confirmation,
                cancel,
            }],
            status: Some("transfer started".into()),
            mode: Some(Mode::Normal),
        }
    }
}

/// Runs transfer `id` on this thread: prepare, the gate's admission with `confirmation`,
/// then the streamed transfer, sending progress (at most every 100 ms) and the outcome.
#[allow(clippy::too_many_arguments)]
pub fn run_transfer_job(
    id: usize,
    req: &Request,
    confirmation: &Confirmation,
    gate: &Gate,
    providers: &HashMap<String, Arc<dyn Provider>>,
    store: Option<&Arc<dyn drydock_store::Store>>,
    rt: &tokio::runtime::Handle,
    cancel: &AtomicBool,
    send: &dyn Fn(Action),
) {
    let result = (|| -> Result<Finished, String> {
        let t = transfer::prepare(req, providers, rt).map_err(|e| e.to_string())?;
        let cloud_dest = matches!(req.dest, Endpoint::Cloud(_));
        let admitted = t
            .admit(gate, cloud_dest.then_some(confirmation))
            .map_err(|e| e.to_string())?;
        let store = store.ok_or("no store for the transfer ledger (see the Plans view)")?;
        let mut progress = super::conversions::progress_sender(id, cancel, send);
        let out =
            transfer::run(t, &admitted, store, rt, &mut progress).map_err(|e| e.to_string())?;
        Ok(Finished {
            created: Some(out.created),
            sha256: Some(out.sha256),
            size: out.sent.bytes.max(out.data_bytes),
            warnings: out
                .removed
                .iter()
                .map(|r| format!("removed {r}, left by an interrupted transfer"))
                .collect(),
            seconds: out.elapsed.as_secs_f64(),
            virtual_size: out.virtual_size,
            data: out.data_bytes,
        })
    })();
    if let Err(e) = &result {
        tracing::warn!("transfer {} → {} failed: {e}", req.source, req.dest);
    }
    send(Action::ConversionDone { id, result });
}
