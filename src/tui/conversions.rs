//! The Conversions view's state: disk-image conversions started from the dashboard (`n`,
//! then `IN OUT [--to F] [--azure] [--compress]`), and transfers when a side names a cloud
//! (`transfers.rs`), each run on a thread through the engine, reporting progress for its
//! gauge; `x` cancels the selected one.

use super::keymap::input_request;
use super::list::ListState;
use super::messages::{Action, Effect, Mode, Reply};
pub use super::messages::{ConversionPrompt, Finished};
use crate::convert::{self, Format, Options, Progress};
use crossterm::event::{KeyCode, KeyEvent};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Where a job is.
#[derive(Debug, Clone, PartialEq)]
pub enum JobState {
    Running,
    Done {
        /// What a transfer created.
        created: Option<String>,
        sha256: Option<String>,
        size: u64,
        warnings: Vec<String>,
    },
    Failed(String),
    Cancelled,
}

/// One conversion.
#[derive(Debug, Clone)]
pub struct ConversionJob {
    pub id: usize,
    pub input: PathBuf,
    pub output: PathBuf,
    pub to: Format,
    /// A transfer (the sides may be clouds), not a conversion.
    pub transfer: bool,
    pub progress: Progress,
    pub seconds: f64,
    pub state: JobState,
    pub cancel: Arc<AtomicBool>,
}

impl ConversionJob {
    /// Virtual MiB per second so far.
    pub fn rate(&self) -> f64 {
        if self.seconds <= 0.0 {
            0.0
        } else {
            self.progress.done as f64 / self.seconds / 1048576.0
        }
    }
}

#[derive(Debug, Default)]
pub struct ConversionsState {
    pub jobs: Vec<ConversionJob>,
    pub list: ListState,
    pub(super) next_id: usize,
}

/// What the prompt line asks for.
pub const PROMPT_HELP: &str =
    "IN OUT [--to FORMAT] [--from FORMAT] [--azure] [--compress] [--force]; a side may be aws:CTX/REGION[/ami-…] or azure:CTX/LOCATION/gallery/definition[/version] (transfer: --family F --version V --name N)";

/// A parsed prompt line.
#[derive(Debug, Clone)]
pub struct Request {
    pub input: PathBuf,
    pub output: PathBuf,
    pub opts: Options,
    /// Replace an existing output without asking.
    pub force: bool,
}

/// Parse the prompt: paths first, then flags. Every error names what to fix.
pub fn parse_request(text: &str) -> Result<Request, String> {
    let mut words = text.split_whitespace();
    let mut paths = Vec::new();
    let mut opts = Options::default();
    let mut force = false;
    while let Some(w) = words.next() {
        match w {
            "--force" => force = true,
            "--azure" => opts.azure = true,
            "--compress" => opts.compress = true,
            "--to" | "--from" => {
                let v = words.next().ok_or(format!("{w} needs a format"))?;
                let f = Format::parse(v).map_err(|e| e.to_string())?;
                if w == "--to" {
                    opts.to = Some(f);
                } else {
                    opts.from = Some(f);
                }
            }
            flag if flag.starts_with('-') => {
                return Err(format!("unknown option {flag}; options: {PROMPT_HELP}"))
            }
            path => paths.push(PathBuf::from(expand_home(path))),
        }
    }
    match <[PathBuf; 2]>::try_from(paths) {
        Ok([input, output]) => {
            convert::output_format(&output, &opts).map_err(|e| e.to_string())?;
            if !input.is_file() {
                return Err(format!("{}: no such file", input.display()));
            }
            Ok(Request {
                input,
                output,
                opts,
                force,
            })
        }
        Err(_) => Err(format!("expected {PROMPT_HELP}")),
    }
}

fn expand_home(path: &str) -> String {
    match (path.strip_prefix("~/"), std::env::var("HOME")) {
        (Some(rest), Ok(home)) => format!("{home}/{rest}"),
        _ => path.to_string(),
    }
}

impl ConversionsState {
    /// Queue a conversion; the effect starts it.
    pub fn start(&mut self, req: Request) -> Result<Effect, String> {
        let Request {
            input,
            output,
            mut opts,
            ..
        } = req;
        opts.sha256 = true;
        let to = convert::output_format(&output, &opts).map_err(|e| e.to_string())?;
        self.next_id += 1;
        let cancel = Arc::new(AtomicBool::new(false));
        self.jobs.push(ConversionJob {
            id: self.next_id,
            input: input.clone(),
            output: output.clone(),
            to,
            transfer: false,
            progress: Progress::default(),
            seconds: 0.0,
            state: JobState::Running,
            cancel: Arc::clone(&cancel),
        });
        self.list.bottom(self.jobs.len());
        Ok(Effect::Convert {
            id: self.next_id,
            input,
            output,
            opts: Box::new(opts),
            cancel,
        })
    }

    pub fn on_progress(&mut self, id: usize, progress: Progress, seconds: f64) {
        if let Some(job) = self.jobs.iter_mut().find(|j| j.id == id) {
            job.progress = progress;
            job.seconds = seconds;
        }
    }

    pub fn on_done(&mut self, id: usize, result: Result<Finished, String>) -> String {
        let Some(job) = self.jobs.iter_mut().find(|j| j.id == id) else {
            return String::new();
        };
        match result {
            Ok(f) => {
                job.progress.total = f.virtual_size;
                job.progress.done = f.virtual_size;
                job.progress.data = f.data;
                job.seconds = f.seconds;
                let verb = if job.transfer {
                    "transferred"
                } else {
                    "converted"
                };
                job.state = JobState::Done {
                    created: f.created.clone(),
                    sha256: f.sha256,
                    size: f.size,
                    warnings: f.warnings,
                };
                format!(
                    "{verb} {} → {}{}",
                    job.input.display(),
                    job.output.display(),
                    f.created
                        .map_or(String::new(), |c| format!(": created {c}"))
                )
            }
            Err(e) if job.cancel.load(Ordering::Relaxed) => {
                let _ = e;
                job.state = JobState::Cancelled;
                format!("cancelled {}; nothing was written", job.output.display())
            }
            Err(e) => {
                job.state = JobState::Failed(e.clone());
                let what = if job.transfer {
                    "transfer"
                } else {
                    "conversion"
                };
                format!("{what} failed: {e}")
            }
        }
    }

    /// Keys while the new-conversion prompt is open. Errors stay in the prompt (under the
    /// line) until the text changes; an existing output needs `y` (or `--force`).
    pub fn on_prompt_key(
        &mut self,
        key: KeyEvent,
        mut prompt: ConversionPrompt,
        gate: &crate::gate::Gate,
    ) -> Reply {
        if let Some(p) = prompt.pending.take() {
            return self.on_confirm_key(key, prompt, p);
        }
        if prompt.overwrite.take().is_some() {
            prompt.error = None;
            if key.code == KeyCode::Char('y') {
                return self.submit(prompt, true);
            }
            if key.code == KeyCode::Esc {
                return Reply {
                    status: Some("cancelled; nothing was converted".into()),
                    ..Reply::mode(Mode::Normal)
                };
            }
            // Any other key answers the question (back to editing): it is not typed.
            return Reply::mode(Mode::NewConversion(prompt));
        }
        match key.code {
            KeyCode::Esc => return Reply::mode(Mode::Normal),
            KeyCode::Enter if is_transfer(prompt.input.value()) => {
                return self.submit_transfer(prompt, gate)
            }
            KeyCode::Enter => return self.submit(prompt, false),
            _ => {
                if let Some(req) = input_request(&key) {
                    if prompt.input.handle(req).is_some_and(|c| c.value) {
                        prompt.error = None;
                    }
                }
            }
        }
        Reply::mode(Mode::NewConversion(prompt))
    }

    /// Enter (or `y` to overwrite): start the conversion, or keep the prompt with why not.
    fn submit(&mut self, mut prompt: ConversionPrompt, overwrite: bool) -> Reply {
        let req = match parse_request(prompt.input.value()) {
            Ok(r) => r,
            Err(e) => {
                prompt.error = Some(e);
                return Reply::mode(Mode::NewConversion(prompt));
            }
        };
        if !(req.force || overwrite) {
            if let Ok(m) = std::fs::metadata(&req.output) {
                prompt.error = Some(format!(
                    "{} exists ({}): y replaces it, any other key goes back to editing",
                    req.output.display(),
                    convert::human_bytes(m.len())
                ));
                prompt.overwrite = Some(req.output);
                return Reply::mode(Mode::NewConversion(prompt));
            }
        }
        match self.start(req) {
            Ok(effect) => Reply {
                effects: vec![effect],
                status: Some("conversion started".into()),
                mode: Some(Mode::Normal),
            },
            Err(e) => {
                prompt.error = Some(e);
                Reply::mode(Mode::NewConversion(prompt))
            }
        }
    }

    /// Ask the selected running job to stop.
    pub fn cancel_selected(&mut self) -> Option<String> {
        let job = self.jobs.get(self.list.selected)?;
        if job.state != JobState::Running {
            return Some("that conversion is not running".into());
        }
        job.cancel.store(true, Ordering::Relaxed);
        Some(format!("cancelling {}…", job.output.display()))
    }
}

/// The progress callback of job `id`: sends its progress at most every 100 ms and answers
/// `false` (stop) once `cancel` is set.
pub(super) fn progress_sender<'a>(
    id: usize,
    cancel: &'a AtomicBool,
    send: &'a dyn Fn(Action),
) -> impl FnMut(Progress) -> bool + 'a {
    let started = std::time::Instant::now();
    let mut last = started;
    move |progress| {
        let now = std::time::Instant::now();
        if now - last >= std::time::Duration::from_millis(100) {
            last = now;
            let seconds = (now - started).as_secs_f64();
            send(Action::ConversionProgress {
                id,
                progress,
                seconds,
            });
        }
        !cancel.load(Ordering::Relaxed)
    }
}

/// Runs conversion `id` on this thread through the engine, sending its progress (at most
/// every 100 ms) and its outcome as actions; `cancel` stops it at the next chunk.
pub fn run_job(
    id: usize,
    input: &std::path::Path,
    output: &std::path::Path,
    opts: &Options,
    cancel: &AtomicBool,
    send: &dyn Fn(Action),
) {
    let result = convert::convert(input, output, opts, &mut progress_sender(id, cancel, send));
    let result = result
        .map(|r| Finished {
            created: None,
            sha256: r.output.sha256,
            size: r.output.size,
            warnings: r.warnings,
            seconds: r.elapsed.as_secs_f64(),
            virtual_size: r.input.virtual_size,
            data: r.data_bytes,
        })
        .map_err(|e| e.to_string());
    if let Err(e) = &result {
        tracing::warn!("conversion of {} failed: {e}", output.display());
    }
    send(Action::ConversionDone { id, result });
}

/// Whether a prompt line is a transfer: its first or second word names a cloud.
pub fn is_transfer(line: &str) -> bool {
    line.split_whitespace()
        .take(2)
        .any(|w| w.starts_with("aws:") || w.starts_with("azure:"))
}
