//! The Conversions view's state: disk-image conversions started from the dashboard (`n`,
//! then `IN OUT [--to F] [--azure] [--compress]`), each run on a thread through the
//! conversion engine, reporting progress for its gauge; `x` cancels the selected one.

use super::app::{input_request, Action, App, Effect, Mode};
use super::list::ListState;
use crate::convert::{self, Format, Options, Progress};
use crossterm::event::{KeyCode, KeyEvent};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tui_input::Input;

/// Where a job is.
#[derive(Debug, Clone, PartialEq)]
pub enum JobState {
    Running,
    Done {
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

/// A finished job's outcome, sent back by the runtime.
#[derive(Debug, Clone)]
pub struct Finished {
    pub sha256: Option<String>,
    pub size: u64,
    pub warnings: Vec<String>,
    pub seconds: f64,
}

#[derive(Debug, Default)]
pub struct ConversionsState {
    pub jobs: Vec<ConversionJob>,
    pub list: ListState,
    next_id: usize,
}

/// What the prompt line asks for.
pub const PROMPT_HELP: &str = "IN OUT [--to FORMAT] [--from FORMAT] [--azure] [--compress]";

/// Parse the prompt: paths first, then flags.
pub fn parse_request(text: &str) -> Result<(PathBuf, PathBuf, Options), String> {
    let mut words = text.split_whitespace();
    let mut paths = Vec::new();
    let mut opts = Options::default();
    while let Some(w) = words.next() {
        match w {
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
            flag if flag.starts_with("--") => return Err(format!("unknown option {flag}")),
            path => paths.push(PathBuf::from(expand_home(path))),
        }
    }
    match <[PathBuf; 2]>::try_from(paths) {
        Ok([input, output]) => {
            convert::output_format(&output, &opts).map_err(|e| e.to_string())?;
            Ok((input, output, opts))
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
    pub fn start(&mut self, text: &str) -> Result<Effect, String> {
        let (input, output, mut opts) = parse_request(text)?;
        opts.sha256 = true;
        let to = convert::output_format(&output, &opts).map_err(|e| e.to_string())?;
        self.next_id += 1;
        let cancel = Arc::new(AtomicBool::new(false));
        self.jobs.push(ConversionJob {
            id: self.next_id,
            input: input.clone(),
            output: output.clone(),
            to,
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
                job.progress.done = job.progress.total;
                job.seconds = f.seconds;
                job.state = JobState::Done {
                    sha256: f.sha256,
                    size: f.size,
                    warnings: f.warnings,
                };
                format!(
                    "converted {} → {}",
                    job.input.display(),
                    job.output.display()
                )
            }
            Err(e) if job.cancel.load(Ordering::Relaxed) => {
                let _ = e;
                job.state = JobState::Cancelled;
                format!("cancelled {}; nothing was written", job.output.display())
            }
            Err(e) => {
                job.state = JobState::Failed(e.clone());
                format!("conversion failed: {e}")
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

/// Keys while the new-conversion prompt is open.
pub fn on_prompt_key(app: &mut App, key: KeyEvent, mut input: Input) -> Vec<Effect> {
    match key.code {
        KeyCode::Esc => {
            app.mode = Mode::Normal;
            return vec![];
        }
        KeyCode::Enter => {
            return match app.conversions.start(input.value()) {
                Ok(effect) => {
                    app.mode = Mode::Normal;
                    app.status = Some("conversion started".into());
                    vec![effect]
                }
                Err(e) => {
                    app.status = Some(e);
                    app.mode = Mode::NewConversion(input);
                    vec![]
                }
            };
        }
        _ => {
            if let Some(req) = input_request(&key) {
                input.handle(req);
            }
        }
    }
    app.mode = Mode::NewConversion(input);
    vec![]
}

/// Progress and completion actions for job `id`.
pub fn progress_action(id: usize, progress: Progress, seconds: f64) -> Action {
    Action::ConversionProgress {
        id,
        progress,
        seconds,
    }
}
