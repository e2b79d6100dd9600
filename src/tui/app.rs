//! The dashboard's state and its reducer: `App::update(Action) -> Vec<Effect>` is
//! synchronous and does no I/O, so tests drive it directly; the runtime performs the
//! effects (scans, gated mutations, exports) in tasks and feeds results back as actions.

use super::data::Data;
use super::fleet::FleetState;
use super::images::ImagesState;
use super::keymap::{key_name, Command, Keymap, View};
use super::list::ListState;
use super::logbuf::LogBuffer;
use crate::contexts::Context;
use crate::drift::{Policy, Verdict};
use crate::gate::{Confirmation, Gate, MutationRequest};
use crate::history::HistoryPoint;
use crate::model::Inventory;
use crate::report::Filter;
use chrono::{DateTime, Utc};
use crossterm::event::{KeyCode, KeyEvent, MouseEvent, MouseEventKind};
use std::path::PathBuf;
use tui_input::{Input, InputRequest};

/// Something that happened: a key, a tick, a result from a task.
#[derive(Debug)]
pub enum Action {
    Key(KeyEvent),
    Mouse(MouseEvent),
    Tick(DateTime<Utc>),
    ScanProgress {
        provider: String,
        done: usize,
        total: usize,
    },
    ScanFinished(Box<Inventory>),
    ScanFailed(String),
    MutationsFinished(Vec<Result<String, String>>),
    /// The plans read from the journal.
    PlansLoaded(Result<Vec<super::plans::PlanView>, String>),
    /// A plan action finished: what happened, or why it failed.
    PlanActionDone(Result<String, String>),
    Exported(Result<PathBuf, String>),
    /// A conversion's progress and elapsed seconds.
    ConversionProgress {
        id: usize,
        progress: crate::convert::Progress,
        seconds: f64,
    },
    ConversionDone {
        id: usize,
        result: Result<super::conversions::Finished, String>,
    },
    /// A task died (e.g. panicked): leave the dashboard with this error.
    Fatal(String),
}

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Json,
}

/// Work for the runtime.
#[derive(Debug)]
pub enum Effect {
    Scan,
    Apply {
        requests: Vec<MutationRequest>,
        confirmation: Confirmation,
    },
    Export(ExportFormat),
    RecordHistory(HistoryPoint),
    /// Read the plans from the journal.
    LoadPlans,
    /// Act on a plan (through the executor and the mutation gate).
    PlanAction {
        plan: String,
        action: super::plans::PlanAction,
        confirmation: Confirmation,
    },
    /// Convert a disk image on a thread (local files only: no mutation gate).
    Convert {
        id: usize,
        input: PathBuf,
        output: PathBuf,
        opts: Box<crate::convert::Options>,
        cancel: std::sync::Arc<std::sync::atomic::AtomicBool>,
    },
    Quit,
}

/// A pending change awaiting confirmation.
#[derive(Debug, Clone)]
pub struct ConfirmState {
    pub title: String,
    pub lines: Vec<String>,
    pub requests: Vec<MutationRequest>,
    /// For production contexts: the text to type.
    pub expected: Option<String>,
    pub typed: Input,
    /// A plan action instead of `requests`.
    pub plan: Option<(String, super::plans::PlanAction)>,
}

/// What has the keyboard.
#[derive(Debug, Clone)]
pub enum Mode {
    Normal,
    Filter(Input),
    Palette(Input),
    /// The help overlay, scrolled by `scroll` lines.
    Help {
        scroll: usize,
    },
    Json {
        text: String,
        scroll: usize,
    },
    Confirm(Box<ConfirmState>),
    /// The new-conversion prompt.
    NewConversion(super::conversions::ConversionPrompt),
}

/// Refresh state shown in the header.
#[derive(Debug, Clone, Default)]
pub struct Refresh {
    pub running: bool,
    /// Scopes scanned / in all, per provider.
    pub progress: std::collections::BTreeMap<String, (usize, usize)>,
    pub last: Option<DateTime<Utc>>,
    pub error: Option<String>,
}

/// The Log view's state.
#[derive(Debug, Clone)]
pub struct LogState {
    pub follow: bool,
    pub list: ListState,
    pub filter: String,
}

/// How the dashboard starts.
#[derive(Debug, Clone)]
pub struct AppOptions {
    pub policy: Policy,
    /// Every context of the registry (names, clouds, accents).
    pub contexts: Vec<Context>,
    /// The mutation gate: what each change needs (read-only, dry-run, typed names).
    pub gate: Gate,
    pub context: Option<String>,
    /// The data is the simulated demo fleet (said in the header).
    pub demo: bool,
    pub now: DateTime<Utc>,
    pub history: Vec<HistoryPoint>,
}

impl AppOptions {
    /// The options for `config` as `drydock` builds them: its registry's contexts and a
    /// gate with its read-only flag (and `dry_run`), on the demo fleet.
    pub fn from_config(config: &crate::config::Config, dry_run: bool, now: DateTime<Utc>) -> Self {
        let registry = crate::contexts::Registry::new(config).with_demo_state(None);
        AppOptions {
            policy: config.policy.clone(),
            contexts: registry.contexts().to_vec(),
            gate: Gate::new(&registry, config.general.readonly, dry_run),
            context: None,
            demo: true,
            now,
            history: vec![],
        }
    }
}

/// The whole dashboard state.
pub struct App {
    pub policy: Policy,
    pub contexts: Vec<Context>,
    pub gate: Gate,
    pub context: Option<String>,
    /// Read-only mode (the gate's): no mutating keys.
    pub readonly: bool,
    /// Dry-run mode (the gate's): changes are validated by the provider, not made.
    pub dry_run: bool,
    pub demo: bool,
    pub keymap: Keymap,
    pub full: Option<Inventory>,
    pub data: Option<Data>,
    pub view: View,
    pub mode: Mode,
    pub fleet: FleetState,
    pub images: ImagesState,
    pub drift_by_region: bool,
    /// The Drift matrix, computed once per data and grouping (not per frame).
    pub drift_matrix: Option<(bool, std::rc::Rc<Vec<super::matrix::MatrixRow>>)>,
    pub log: LogState,
    pub logs: LogBuffer,
    pub plans: super::plans::PlansState,
    pub conversions: super::conversions::ConversionsState,
    pub detail: bool,
    pub refresh: Refresh,
    pub now: DateTime<Utc>,
    pub status: Option<String>,
    /// Why the filter being typed is invalid (shown under the prompt, live).
    pub filter_error: Option<String>,
    pub history: Vec<HistoryPoint>,
    pub quit: bool,
    pub fatal: Option<String>,
    /// Rows per page of the current list (set by the renderer).
    pub page: usize,
    /// Screen row of the first list row (set by the renderer, for mouse clicks).
    pub rows_top: u16,
    pub spinner: usize,
    pending_g: bool,
}

impl App {
    pub fn new(opts: AppOptions, logs: LogBuffer) -> App {
        App {
            policy: opts.policy,
            contexts: opts.contexts,
            readonly: opts.gate.readonly(),
            dry_run: opts.gate.dry_run(),
            keymap: Keymap::new(opts.gate.readonly()),
            gate: opts.gate,
            context: opts.context,
            demo: opts.demo,
            full: None,
            data: None,
            view: View::Fleet,
            mode: Mode::Normal,
            fleet: FleetState::default(),
            images: ImagesState::default(),
            drift_by_region: false,
            drift_matrix: None,
            log: LogState {
                follow: true,
                list: ListState::default(),
                filter: String::new(),
            },
            logs,
            plans: Default::default(),
            conversions: Default::default(),
            detail: false,
            refresh: Refresh::default(),
            now: opts.now,
            status: None,
            filter_error: None,
            history: opts.history,
            quit: false,
            fatal: None,
            page: 20,
            rows_top: 0,
            spinner: 0,
            pending_g: false,
        }
    }

    /// Lines of the help overlay for the current view (the renderer draws the same).
    pub fn help_lines(&self) -> usize {
        // Title, the keys, a blank, the filter syntax, its fields, and the read-only note.
        self.keymap.help(self.view).len() + 4 + usize::from(self.readonly)
    }

    /// Starts the first scan.
    pub fn start(&mut self) -> Vec<Effect> {
        self.refresh.running = true;
        vec![Effect::Scan]
    }

    /// The settings of a context, if the registry knows it.
    pub fn context_config(&self, name: &str) -> Option<&Context> {
        self.contexts.iter().find(|c| c.name == name)
    }

    /// Whether a provider's context is marked production (the gate decides).
    pub fn is_production(&self, provider: &str) -> bool {
        self.gate.is_production(provider)
    }

    /// The reducer.
    pub fn update(&mut self, action: Action) -> Vec<Effect> {
        match action {
            Action::Key(key) => self.on_key(key),
            Action::Mouse(m) => {
                self.on_mouse(m);
                vec![]
            }
            Action::Tick(now) => {
                self.now = now;
                if self.refresh.running {
                    self.spinner = self.spinner.wrapping_add(1);
                }
                if self.view == View::Plans {
                    self.plans.since_load += 1;
                    if self.plans.since_load >= 4 {
                        self.plans.since_load = 0;
                        return vec![Effect::LoadPlans];
                    }
                }
                vec![]
            }
            Action::PlansLoaded(r) => {
                self.on_plans(r);
                vec![]
            }
            Action::ConversionProgress {
                id,
                progress,
                seconds,
            } => {
                self.conversions.on_progress(id, progress, seconds);
                vec![]
            }
            Action::ConversionDone { id, result } => {
                self.status = Some(self.conversions.on_done(id, result));
                vec![]
            }
            Action::PlanActionDone(r) => {
                self.status = Some(match r {
                    Ok(s) => s,
                    Err(e) => format!("plan action failed: {e}"),
                });
                self.refresh.running = true;
                vec![Effect::LoadPlans, Effect::Scan]
            }
            Action::ScanProgress {
                provider,
                done,
                total,
            } => {
                self.refresh.progress.insert(provider, (done, total));
                vec![]
            }
            Action::ScanFinished(inv) => self.on_scan(*inv),
            Action::ScanFailed(e) => {
                self.refresh.running = false;
                self.refresh.progress.clear();
                self.refresh.error = Some(e.clone());
                self.status = Some(format!("refresh failed: {e}; showing the previous data"));
                vec![]
            }
            Action::MutationsFinished(results) => {
                let ok = results.iter().filter(|r| r.is_ok()).count();
                let failed: Vec<&String> =
                    results.iter().filter_map(|r| r.as_ref().err()).collect();
                let done = if self.dry_run {
                    "validated (dry run, nothing changed)"
                } else {
                    "applied"
                };
                self.status = Some(match failed.first() {
                    None => format!("{ok} change(s) {done}; refreshing"),
                    Some(first) => format!("{ok} applied, {} failed: {first}", failed.len()),
                });
                self.fleet.rows.marked.clear();
                self.images.rows.marked.clear();
                self.refresh.running = true;
                vec![Effect::Scan]
            }
            Action::Exported(r) => {
                self.status = Some(match r {
                    Ok(p) => format!("exported to {}", p.display()),
                    Err(e) => format!("export failed: {e}"),
                });
                vec![]
            }
            Action::Fatal(e) => {
                self.fatal = Some(e);
                self.quit = true;
                vec![Effect::Quit]
            }
        }
    }

    fn on_scan(&mut self, inv: Inventory) -> Vec<Effect> {
        self.refresh.running = false;
        self.refresh.progress.clear();
        self.refresh.error = None;
        self.refresh.last = Some(inv.scanned_at);
        self.full = Some(inv);
        self.rebuild();
        let mut effects = vec![];
        if let Some(d) = &self.data {
            let point = HistoryPoint {
                scanned_at: d.inv.scanned_at,
                counts: Verdict::ALL.into_iter().zip(d.a.vm_counts()).collect(),
            };
            self.history.push(point.clone());
            effects.push(Effect::RecordHistory(point));
        }
        effects
    }

    /// Recomputes the shown data after a scan or a context switch, keeping sort and filters.
    pub fn rebuild(&mut self) {
        let Some(full) = &self.full else { return };
        let data = Data::build(full, self.context.as_deref(), &self.policy, self.now);
        self.fleet.rows.marked.clear();
        self.images.rows.marked.clear();
        self.fleet.resort(&data);
        self.images.regroup(&data);
        self.data = Some(data);
        self.drift_matrix = None;
    }

    /// The Drift matrix for the current data and grouping.
    pub fn matrix(&mut self) -> std::rc::Rc<Vec<super::matrix::MatrixRow>> {
        let by_region = self.drift_by_region;
        match (&self.drift_matrix, &self.data) {
            (Some((b, m)), _) if *b == by_region => std::rc::Rc::clone(m),
            (_, Some(d)) => {
                let m = std::rc::Rc::new(super::matrix::build(d, by_region));
                self.drift_matrix = Some((by_region, std::rc::Rc::clone(&m)));
                m
            }
            (_, None) => std::rc::Rc::new(Vec::new()),
        }
    }

    fn on_mouse(&mut self, m: MouseEvent) {
        match m.kind {
            MouseEventKind::ScrollDown => self.command(Command::Down),
            MouseEventKind::ScrollUp => self.command(Command::Up),
            MouseEventKind::Down(_) if m.row >= self.rows_top => {
                let row = (m.row - self.rows_top) as usize;
                let (list, len) = match self.view {
                    View::Fleet => (&mut self.fleet.rows.list, self.fleet.rows.shown.len()),
                    View::Images => (&mut self.images.rows.list, self.images.rows.shown.len()),
                    _ => return,
                };
                if list.offset + row < len {
                    list.selected = list.offset + row;
                }
            }
            _ => {}
        };
    }

    fn on_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        self.status = None;
        match std::mem::replace(&mut self.mode, Mode::Normal) {
            Mode::Normal => self.on_normal_key(key),
            Mode::Filter(input) => self.on_filter_key(key, input),
            Mode::Palette(input) => self.on_palette_key(key, input),
            Mode::NewConversion(input) => super::conversions::on_prompt_key(self, key, input),
            // ctrl-c and q quit from the help as the key table says; ctrl-c from JSON too.
            Mode::Help { .. } if matches!(key_name(&key).as_deref(), Some("ctrl-c" | "q")) => {
                self.run(Command::Quit)
            }
            Mode::Json { .. } if key_name(&key).as_deref() == Some("ctrl-c") => {
                self.run(Command::Quit)
            }
            Mode::Help { scroll } => {
                let last = self.help_lines().saturating_sub(1);
                let scroll = match key_name(&key).as_deref() {
                    Some("esc" | "?" | "enter") => return vec![],
                    Some("j" | "down") => scroll + 1,
                    Some("k" | "up") => scroll.saturating_sub(1),
                    Some("pgdn" | "space") => scroll + 10,
                    Some("pgup") => scroll.saturating_sub(10),
                    Some("g" | "home") => 0,
                    Some("G" | "end") => last,
                    _ => scroll,
                };
                self.mode = Mode::Help {
                    scroll: scroll.min(last),
                };
                vec![]
            }
            Mode::Json { text, scroll } => {
                let scroll = match key_name(&key).as_deref() {
                    Some("esc" | "q" | "y" | "enter") => return vec![],
                    Some("j" | "down") => scroll + 1,
                    Some("k" | "up") => scroll.saturating_sub(1),
                    Some("pgdn") => scroll + 20,
                    Some("pgup") => scroll.saturating_sub(20),
                    _ => scroll,
                };
                self.mode = Mode::Json { text, scroll };
                vec![]
            }
            Mode::Confirm(c) => self.on_confirm_key(key, *c),
        }
    }

    fn on_normal_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let Some(name) = key_name(&key) else {
            return vec![];
        };
        let command = self.keymap.lookup(self.view, &name);
        if command != Some(Command::GotoPrefix) {
            self.pending_g = false;
        }
        match command {
            Some(Command::GotoPrefix) => {
                if std::mem::take(&mut self.pending_g) {
                    self.command(Command::GotoPrefix);
                } else {
                    self.pending_g = true;
                }
                vec![]
            }
            Some(c) => self.run(c),
            None => vec![],
        }
    }

    /// Runs a command (from a key or the palette).
    pub fn run(&mut self, c: Command) -> Vec<Effect> {
        match c {
            Command::Quit => {
                self.quit = true;
                return vec![Effect::Quit];
            }
            Command::Refresh => {
                if !self.refresh.running {
                    self.refresh.running = true;
                    return vec![Effect::Scan];
                }
            }
            Command::Export => return vec![Effect::Export(ExportFormat::Csv)],
            Command::TagRetire | Command::Deprecate => self.open_confirm(c),
            Command::PlanApprove => return self.confirm_plan(super::plans::PlanAction::Approve),
            Command::PlanPause => return self.pause_plan(),
            Command::PlanAbort => return self.confirm_plan(super::plans::PlanAction::Abort),
            Command::PlanRollback => return self.confirm_plan(super::plans::PlanAction::Rollback),
            Command::ConvertNew => self.mode = Mode::NewConversion(Default::default()),
            Command::ConvertCancel => self.status = self.conversions.cancel_selected(),
            Command::Show(View::Plans) => {
                self.view = View::Plans;
                return vec![Effect::LoadPlans];
            }
            other => self.command(other),
        }
        vec![]
    }

    /// Commands that only change the view state.
    fn command(&mut self, c: Command) {
        let page = self.page.max(1);
        let (list, len) = match self.view {
            View::Fleet => (Some(&mut self.fleet.rows.list), self.fleet.rows.shown.len()),
            View::Images => (
                Some(&mut self.images.rows.list),
                self.images.rows.shown.len(),
            ),
            View::Log => (Some(&mut self.log.list), self.logs.len()),
            View::Plans => (Some(&mut self.plans.list), self.plans.plans.len()),
            View::Conversions => (
                Some(&mut self.conversions.list),
                self.conversions.jobs.len(),
            ),
            View::Drift => (None, 0),
        };
        if let Some(list) = list {
            match c {
                Command::Up => list.up(1),
                Command::Down => list.down(1, len),
                Command::GotoPrefix => list.top(),
                Command::Bottom => list.bottom(len),
                Command::PageUp => list.up(page),
                Command::PageDown => list.down(page, len),
                _ => {}
            }
            if self.view == View::Log
                && matches!(c, Command::Up | Command::PageUp | Command::GotoPrefix)
            {
                self.log.follow = false;
            }
        }
        match c {
            Command::Help => self.mode = Mode::Help { scroll: 0 },
            Command::Back => self.back(),
            Command::Palette => self.mode = Mode::Palette(Input::default()),
            Command::Filter => {
                let current = match self.view {
                    View::Fleet => self.fleet.rows.filter.to_string(),
                    View::Images => self.images.rows.filter.to_string(),
                    View::Log => self.log.filter.clone(),
                    View::Drift | View::Plans | View::Conversions => return,
                };
                self.mode = Mode::Filter(Input::new(current));
            }
            Command::Show(v) => self.view = v,
            Command::Detail => self.detail = !self.detail,
            Command::Json => self.open_json(),
            Command::Mark => self.toggle_mark(),
            Command::SortNext => {
                if let Some(d) = &self.data {
                    self.fleet.sort_next(d);
                }
            }
            Command::SortReverse => {
                if let Some(d) = &self.data {
                    self.fleet.reverse(d);
                }
            }
            Command::ToggleGrouping => self.drift_by_region = !self.drift_by_region,
            Command::Follow => self.log.follow = !self.log.follow,
            _ => {}
        }
    }

    fn back(&mut self) {
        if self.detail {
            self.detail = false;
            return;
        }
        match self.view {
            View::Fleet if !self.fleet.rows.filter.is_empty() => _ = self.set_filter(""),
            View::Images if !self.images.rows.filter.is_empty() => _ = self.set_filter(""),
            View::Log if !self.log.filter.is_empty() => _ = self.set_filter(""),
            View::Fleet if !self.fleet.rows.marked.is_empty() => self.fleet.rows.marked.clear(),
            View::Images if !self.images.rows.marked.is_empty() => self.images.rows.marked.clear(),
            View::Fleet => {}
            _ => self.view = View::Fleet,
        }
    }

    fn toggle_mark(&mut self) {
        match self.view {
            View::Fleet => self.fleet.rows.toggle_mark(),
            View::Images => self.images.rows.toggle_mark(),
            _ => {}
        }
    }

    /// Applies a filter expression to the current view; a bad term leaves the old filter
    /// in place, records why in `filter_error` and returns false.
    pub fn set_filter(&mut self, text: &str) -> bool {
        self.filter_error = None;
        let parsed = match self.view {
            View::Log => {
                self.log.filter = text.trim().to_string();
                return true;
            }
            View::Drift | View::Plans | View::Conversions => return true,
            _ => Filter::parse(text),
        };
        let filter = match parsed {
            Ok(f) => f,
            Err(e) => {
                self.filter_error = Some(e.to_string());
                return false;
            }
        };
        let Some(d) = &self.data else { return true };
        match self.view {
            View::Fleet => {
                self.fleet.rows.filter = filter;
                self.fleet.refilter(d);
            }
            View::Images => {
                self.images.rows.filter = filter;
                self.images.refilter(d);
            }
            _ => {}
        }
        true
    }

    fn on_filter_key(&mut self, key: KeyEvent, mut input: Input) -> Vec<Effect> {
        match key.code {
            KeyCode::Enter => {
                // An invalid filter keeps the prompt open with its error: never a silent
                // filter that matches nothing or the last valid prefix.
                if !self.set_filter(input.value()) {
                    self.mode = Mode::Filter(input);
                }
                return vec![];
            }
            KeyCode::Esc => {
                self.set_filter("");
                return vec![];
            }
            _ => {}
        }
        if let Some(req) = input_request(&key) {
            input.handle(req);
            // Live: every keystroke re-filters, so the list follows the typing.
            let value = input.value().to_string();
            self.set_filter(&value);
        }
        self.mode = Mode::Filter(input);
        vec![]
    }
}

/// Maps a key to a text-field edit.
pub fn input_request(key: &KeyEvent) -> Option<InputRequest> {
    use crossterm::event::KeyModifiers as M;
    let ctrl = key.modifiers.contains(M::CONTROL);
    Some(match key.code {
        KeyCode::Char('w') if ctrl => InputRequest::DeletePrevWord,
        KeyCode::Char('u') if ctrl => InputRequest::DeleteFromStart,
        KeyCode::Char('a') if ctrl => InputRequest::GoToStart,
        KeyCode::Char('e') if ctrl => InputRequest::GoToEnd,
        KeyCode::Char(c) if !ctrl => InputRequest::InsertChar(c),
        KeyCode::Backspace => InputRequest::DeletePrevChar,
        KeyCode::Delete => InputRequest::DeleteNextChar,
        KeyCode::Left => InputRequest::GoToPrevChar,
        KeyCode::Right => InputRequest::GoToNextChar,
        KeyCode::Home => InputRequest::GoToStart,
        KeyCode::End => InputRequest::GoToEnd,
        _ => return None,
    })
}
