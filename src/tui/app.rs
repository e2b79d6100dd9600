//! The dashboard's state and its reducer: `App::update(Action) -> Vec<Effect>` is
//! synchronous and does no I/O, so tests drive it directly; the runtime performs the
//! effects (scans, gated mutations, exports) in tasks and feeds results back as actions.
//! The message types live in `messages`, key handling in `keys`.

use super::data::Data;
use super::fleet::FleetState;
use super::images::ImagesState;
pub use super::keymap::input_request;
use super::keymap::{Keymap, View};
use super::list::ListState;
use super::logbuf::LogBuffer;
pub use super::messages::{
    Action, ConfirmState, Effect, ExportFormat, Mode, MutationResult, Reply,
};
use crate::contexts::Context;
use crate::drift::{Policy, Verdict};
use crate::gate::Gate;
use crate::history::HistoryPoint;
use crate::model::Inventory;
use crate::tui::text::short_id;
use chrono::{DateTime, Utc};

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
    /// The audit log from the store, shown instead of the log while set (`A` toggles).
    pub audit: Option<Vec<super::logbuf::LogLine>>,
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
    pub full: Option<std::sync::Arc<Inventory>>,
    pub data: Option<Data>,
    pub view: View,
    pub mode: Mode,
    pub fleet: FleetState,
    pub images: ImagesState,
    pub drift_by_region: bool,
    /// The Drift matrix, computed once per data and grouping (not per frame).
    pub drift_matrix: Vec<super::matrix::MatrixRow>,
    /// The cursor on the Drift matrix's rows (enter opens the Fleet on that cell).
    pub drift: ListState,
    /// The cursor on the Contexts view.
    pub ctx_list: ListState,
    /// The terminal's size (columns, rows), from the runtime.
    pub size: (u16, u16),
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
    /// Lines the detail pane (or the selected plan's pane) is scrolled down by; the
    /// renderer keeps it within the pane's text.
    pub pane_scroll: usize,
    /// Every status line and failure cause, in full, newest last (the `M` overlay).
    pub messages: std::collections::VecDeque<(DateTime<Utc>, String)>,
    /// The palette's last tab completion: what was typed and which candidate is shown.
    pub palette_tab: Option<(String, usize)>,
    /// Ids whose change failed: marked again after the refresh, for a retry.
    pub retry: std::collections::BTreeSet<String>,
    /// Where recorded SBOMs are read from (the data directory's `sboms/`; `None`: only
    /// those named by tags).
    /// The store holding recorded SBOMs (`None`: none are shown but tagged ones).
    pub sboms: Option<std::sync::Arc<dyn drydock_store::Store>>,
    /// SBOMs named by URL: fetched (`Some`) or on their way (`None`).
    pub sbom_urls:
        std::collections::HashMap<String, Option<Result<crate::inspect::diff::Components, String>>>,
    pub history: Vec<HistoryPoint>,
    pub quit: bool,
    pub fatal: Option<String>,
    /// Rows per page of the current list (set by the renderer).
    pub page: usize,
    /// Screen row of the first list row (set by the renderer, for mouse clicks).
    pub rows_top: u16,
    pub spinner: usize,
    pub(super) pending_g: bool,
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
            sboms: None,
            data: None,
            view: View::Fleet,
            mode: Mode::Normal,
            fleet: FleetState::default(),
            images: ImagesState::default(),
            drift_by_region: false,
            drift_matrix: Vec::new(),
            drift: ListState::default(),
            ctx_list: ListState::default(),
            size: (120, 40),
            log: LogState {
                follow: true,
                list: ListState::default(),
                filter: String::new(),
                audit: None,
            },
            logs,
            plans: Default::default(),
            conversions: Default::default(),
            detail: false,
            refresh: Refresh::default(),
            now: opts.now,
            status: None,
            filter_error: None,
            pane_scroll: 0,
            messages: Default::default(),
            retry: Default::default(),
            sbom_urls: Default::default(),
            palette_tab: None,
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
    /// Every context's outcome in the last scan (all contexts, whichever is selected).
    pub fn context_outcomes(&self) -> Vec<drydock_api::outcome::ContextOutcome<'_>> {
        self.full
            .as_ref()
            .map(|f| drydock_api::outcome::by_context(&f.outcomes))
            .unwrap_or_default()
    }

    pub fn context_config(&self, name: &str) -> Option<&Context> {
        self.contexts.iter().find(|c| c.name == name)
    }

    /// Whether a provider's context is marked production (the gate decides).
    pub fn is_production(&self, provider: &str) -> bool {
        self.gate.is_production(provider)
    }

    /// The reducer: applies `action`, keeps every new status line in the messages.
    pub fn update(&mut self, action: Action) -> Vec<Effect> {
        let before = self.status.clone();
        let effects = self.reduce(action);
        self.sync_view();
        if self.status != before {
            if let Some(s) = self.status.clone() {
                self.note(s);
            }
        }
        effects
    }

    fn reduce(&mut self, action: Action) -> Vec<Effect> {
        match action {
            Action::Key(key) => self.on_key(key),
            Action::Mouse(m) => {
                self.on_mouse(m);
                vec![]
            }
            Action::Resize(w, h) => {
                self.size = (w, h);
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
            Action::AuditLoaded(r) => {
                match r {
                    Ok(lines) => {
                        self.status = Some(format!(
                            "audit log: {} (A returns to the log)",
                            crate::words::count(lines.len() as u64, "record")
                        ));
                        self.log.audit = Some(lines);
                        self.log.follow = true;
                    }
                    Err(e) => self.status = Some(format!("audit log: {e}")),
                }
                vec![]
            }
            Action::PlansChanged => {
                if self.view == View::Plans {
                    self.plans.since_load = 0;
                    return vec![Effect::LoadPlans];
                }
                vec![]
            }
            Action::PlansLoaded(r) => {
                self.plans.on_loaded(r);
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
            Action::PlanSaved(r) => {
                self.status = Some(match r {
                    Ok(s) => s,
                    Err(e) => format!("the plan was not written: {e}"),
                });
                vec![Effect::LoadPlans]
            }
            Action::PlanActionDone(r) => {
                self.status = Some(match r {
                    Ok(s) => super::plans::in_dashboard_words(&s),
                    Err(e) => format!(
                        "plan action failed: {}",
                        super::plans::in_dashboard_words(&e)
                    ),
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
            Action::MutationsFinished(results) => self.on_mutations(results),
            Action::Exported(r) => {
                self.status = Some(match r {
                    Ok(p) => format!("exported to {}", p.display()),
                    Err(e) => format!("export failed: {e}"),
                });
                vec![]
            }
            Action::SbomFetched { url, result } => {
                if let Err(e) = &result {
                    tracing::warn!("SBOM {url}: {e}");
                }
                self.sbom_urls.insert(url, Some(result));
                self.apply_sboms();
                vec![]
            }
            Action::Fatal(e) => {
                self.fatal = Some(e);
                self.quit = true;
                vec![Effect::Quit]
            }
        }
    }

    /// A bulk action finished: every failure's cause goes to the messages, the failed rows
    /// stay marked (through the refresh) so that the same key retries them.
    fn on_mutations(&mut self, results: Vec<MutationResult>) -> Vec<Effect> {
        let ok = results.iter().filter(|r| r.result.is_ok()).count();
        let failed: Vec<&MutationResult> = results.iter().filter(|r| r.result.is_err()).collect();
        let done = if self.dry_run {
            "validated (dry run, nothing changed)"
        } else {
            "applied"
        };
        for f in &failed {
            if let Err(e) = &f.result {
                self.note(format!(
                    "{} failed in {}: {e}",
                    short_id(&f.target),
                    f.provider
                ));
            }
        }
        self.status = Some(match failed.first() {
            None => format!("{ok} change(s) {done}; refreshing"),
            Some(first) => format!(
                "{ok} {done}, {} failed and still marked for a retry (M lists every cause): {}: {}",
                failed.len(),
                short_id(&first.target),
                first.result.as_ref().err().map_or("", |e| e.as_str())
            ),
        });
        self.retry = failed.iter().map(|r| r.target.clone()).collect();
        self.fleet.rows.marked.clear();
        self.images.rows.marked.clear();
        self.refresh.running = true;
        vec![Effect::Scan]
    }

    /// Applies what a view's key handling asked for.
    pub(super) fn apply(&mut self, reply: Reply) -> Vec<Effect> {
        if let Some(s) = reply.status {
            self.status = Some(s);
        }
        if let Some(m) = reply.mode {
            self.mode = m;
        }
        reply.effects
    }

    /// Keeps `text` in the messages (the `M` overlay), newest last, at most 200.
    pub fn note(&mut self, text: String) {
        if self.messages.len() == 200 {
            self.messages.pop_front();
        }
        self.messages.push_back((self.now, text));
    }

    fn on_scan(&mut self, inv: Inventory) -> Vec<Effect> {
        self.refresh.running = false;
        self.refresh.progress.clear();
        self.refresh.error = None;
        self.refresh.last = Some(inv.scanned_at);
        self.full = Some(std::sync::Arc::new(inv));
        self.rebuild();
        let mut effects = vec![];
        if let Some(d) = &self.data {
            let point = HistoryPoint {
                context: self.context.clone(),
                scanned_at: d.inv.scanned_at,
                counts: Verdict::ALL.into_iter().zip(d.a.vm_counts()).collect(),
            };
            self.history.push(point.clone());
            effects.push(Effect::RecordHistory(point));
        }
        // SBOMs named by URL are fetched once each, off the UI thread.
        let mut fetch = Vec::new();
        for img in self.full.iter().flat_map(|f| &f.images) {
            if let Some(url) = sbom_url(img) {
                if !self.sbom_urls.contains_key(url) {
                    self.sbom_urls.insert(url.to_string(), None);
                    fetch.push(url.to_string());
                }
            }
        }
        if !fetch.is_empty() {
            effects.push(Effect::FetchSboms(fetch));
        }
        effects
    }

    /// The shown data's SBOMs named by URL, from what has been fetched.
    fn apply_sboms(&mut self) {
        let Some(d) = &mut self.data else { return };
        for (i, img) in d.inv.images.iter().enumerate() {
            let Some(url) = sbom_url(img) else { continue };
            d.sboms[i] = Some(match self.sbom_urls.get(url) {
                Some(Some(r)) => r.clone(),
                _ => Err(format!("fetching the SBOM at {url}")),
            });
        }
    }

    /// Recomputes the shown data after a scan or a context switch, keeping sort and filters.
    pub fn rebuild(&mut self) {
        let Some(full) = &self.full else { return };
        let data = Data::build(
            full,
            self.context.as_deref(),
            &self.policy,
            self.now,
            self.sboms.as_deref(),
        );
        self.fleet.rows.marked.clear();
        self.images.rows.marked.clear();
        // Rows whose change failed are marked again for a retry.
        let retry = std::mem::take(&mut self.retry);
        if !retry.is_empty() {
            for (i, vm) in data.inv.vms.iter().enumerate() {
                if retry.contains(vm.id.as_str()) {
                    self.fleet.rows.marked.insert(i as u32);
                }
            }
            for (i, img) in data.inv.images.iter().enumerate() {
                if retry.contains(&img.id) {
                    self.images.rows.marked.insert(i as u32);
                }
            }
        }
        self.fleet.measure(&data);
        self.fleet.resort(&data);
        self.images.regroup(&data);
        self.data = Some(data);
        self.apply_sboms();
        self.rebuild_matrix();
    }

    /// Recomputes the Drift matrix for the current data and grouping (once per change, not
    /// per frame).
    pub fn rebuild_matrix(&mut self) {
        self.drift_matrix = match &self.data {
            Some(d) => super::matrix::build(d, self.drift_by_region),
            None => Vec::new(),
        };
        self.drift.clamp(self.drift_matrix.len());
    }

    /// The current view's list and its length.
    pub(super) fn list_mut(&mut self) -> (&mut ListState, usize) {
        match self.view {
            View::Fleet => (&mut self.fleet.rows.list, self.fleet.rows.shown.len()),
            View::Images => (&mut self.images.rows.list, self.images.rows.shown.len()),
            View::Log => {
                let n = self.log_lines().len();
                (&mut self.log.list, n)
            }
            View::Plans => (&mut self.plans.list, self.plans.plans.len()),
            View::Conversions => (&mut self.conversions.list, self.conversions.jobs.len()),
            View::Drift => (&mut self.drift, self.drift_matrix.len()),
            View::Contexts => {
                let n = self.context_outcomes().len();
                (&mut self.ctx_list, n)
            }
        }
    }

    /// After every action: the page size and first row's line for this terminal size, and
    /// the current list scrolled so its cursor shows (the Log view's tail when following).
    fn sync_view(&mut self) {
        let area = ratatui::layout::Rect::new(0, 0, self.size.0, self.size.1);
        let (rows, top) = super::layout::page(&self.shape(), area);
        (self.page, self.rows_top) = (rows, top);
        let follow = self.view == View::Log && self.log.follow;
        let (list, len) = self.list_mut();
        if follow {
            list.bottom(len);
        }
        list.scroll_into_view(rows, len);
    }
}

/// The URL an image's `drydock:sbom` tag names, if it names one.
fn sbom_url(img: &crate::model::Image) -> Option<&str> {
    img.tags
        .get(crate::sbom::TAG)
        .map(|t| t.trim())
        .filter(|t| t.starts_with("http://") || t.starts_with("https://"))
}
