//! The event loop: crossterm's event stream, a tick and scan/mutation tasks feed actions
//! to the reducer; the UI never awaits the network. Effects from the reducer start tasks.

use super::app::{Action, App, Effect};
use super::terminal;
use super::theme::Theme;
use super::ui;
use crate::config::paths::DataDir;
use crate::model::snapshot::write_atomic;
use crate::model::Inventory;
use chrono::{DateTime, Utc};
use crossterm::event::{Event, EventStream, KeyEventKind};
use drydock_api::{Provider, ScanProgress};
use futures_util::StreamExt;
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::{unbounded_channel, UnboundedSender};

/// What the runtime needs besides the app.
pub struct Runtime {
    pub providers: Vec<Arc<dyn Provider>>,
    pub theme: Theme,
    pub mouse: bool,
    /// Whether refreshes are recorded in the data directory's history (not on the demo).
    pub record_history: bool,
    /// The clock (fixed in tests).
    pub clock: Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>,
    /// The data directory: the plan journal the Plans view reads and acts on, plans made in
    /// the dashboard, exports, history, the transfer ledger (`None`: no home directory).
    pub data: Option<DataDir>,
    /// The plan journal in the store (shared with the team on PostgreSQL); `None`: the
    /// store could not be opened (the Plans view says why).
    pub journal: Result<Arc<crate::plan::Journal>, String>,
    /// How refreshes scan (time limit, contexts at once, outcomes of skipped accounts).
    pub scan: crate::scan::ScanOptions,
}

const TICK: Duration = Duration::from_millis(250);

/// Why the dashboard stopped other than by the user quitting.
#[derive(Debug, thiserror::Error)]
pub enum DashboardError {
    /// The terminal could not be set up, read or drawn on.
    #[error("terminal: {0}")]
    Terminal(#[from] std::io::Error),
    /// The dashboard stopped on an error it cannot go on from (said in the app's state).
    #[error("{0}")]
    Fatal(String),
}

impl Runtime {
    /// Runs the dashboard until the user quits. The terminal is restored whatever happens.
    pub async fn run(self, mut app: App) -> Result<(), DashboardError> {
        let mut term = terminal::enter(self.mouse)?;
        let result = self.event_loop(&mut app, &mut term).await;
        terminal::restore();
        result?;
        match app.fatal.take() {
            Some(e) => Err(DashboardError::Fatal(e)),
            None => Ok(()),
        }
    }

    async fn event_loop(
        &self,
        app: &mut App,
        term: &mut terminal::Term,
    ) -> Result<(), DashboardError> {
        let (tx, mut rx) = unbounded_channel::<Action>();
        let mut events = EventStream::new();
        let mut tick = tokio::time::interval(TICK);
        if let Ok(size) = term.size() {
            app.update(Action::Resize(size.width, size.height));
        }
        let effects = app.start();
        self.perform(effects, app, &tx);
        self.watch_plans(&tx);
        // Fault injection for the terminal-hygiene tests.
        let fault = std::env::var("DRYDOCK_TUI_FAULT").unwrap_or_default();
        loop {
            term.draw(|f| ui::draw(f, app, self.theme))?;
            if fault == "ui-panic" && app.data.is_some() {
                panic!("injected fault: the UI thread panicked (DRYDOCK_TUI_FAULT=ui-panic)");
            }
            let action = tokio::select! {
                ev = events.next() => match ev {
                    Some(Ok(Event::Key(k))) if k.kind != KeyEventKind::Release => Action::Key(k),
                    Some(Ok(Event::Mouse(m))) => Action::Mouse(m),
                    Some(Ok(Event::Resize(w, h))) => Action::Resize(w, h),
                    Some(Ok(_)) => continue,
                    Some(Err(e)) => return Err(DashboardError::Terminal(e)),
                    None => return Ok(()),
                },
                _ = tick.tick() => Action::Tick((self.clock)()),
                Some(a) = rx.recv() => a,
            };
            let effects = app.update(action);
            // Drain whatever else is queued before drawing again.
            let mut effects = effects;
            while let Ok(a) = rx.try_recv() {
                effects.extend(app.update(a));
            }
            self.perform(effects, app, &tx);
            if app.quit {
                return Ok(());
            }
        }
    }

    /// Tells the app when another process (another operator, on PostgreSQL) changed a
    /// plan: LISTEN/NOTIFY wakes it at once, SQLite is polled. Ends with the dashboard.
    fn watch_plans(&self, tx: &UnboundedSender<Action>) {
        let Ok(journal) = &self.journal else { return };
        let store = Arc::clone(journal.store());
        let tx = tx.clone();
        std::thread::Builder::new()
            .name("plans-watch".into())
            .spawn(move || {
                let mut mark = store.change_mark().unwrap_or_default();
                loop {
                    match store.wait_change(mark, Duration::from_secs(2)) {
                        Ok(true) => {
                            mark = store.change_mark().unwrap_or(mark);
                            if tx.send(Action::PlansChanged).is_err() {
                                return;
                            }
                        }
                        Ok(false) => {
                            if tx.is_closed() {
                                return;
                            }
                        }
                        Err(e) => {
                            tracing::warn!("watching the store for plan changes: {e}");
                            std::thread::sleep(Duration::from_secs(2));
                            if tx.is_closed() {
                                return;
                            }
                        }
                    }
                }
            })
            .ok();
    }

    fn perform(&self, effects: Vec<Effect>, app: &App, tx: &UnboundedSender<Action>) {
        for effect in effects {
            match effect {
                Effect::Quit => {}
                Effect::Scan => self.spawn_scan(tx.clone()),
                Effect::Apply {
                    requests,
                    confirmation,
                } => {
                    let providers = self.providers.clone();
                    let gate = app.gate.clone();
                    let tx2 = tx.clone();
                    supervise(tx, async move {
                        let mut results = Vec::new();
                        for req in &requests {
                            let r = match providers.iter().find(|p| p.name() == req.provider) {
                                Some(p) => gate
                                    .apply(p.as_ref(), req, &confirmation)
                                    .await
                                    .map(|o| format!("{}: {o}", req.op))
                                    .map_err(|e| e.to_string()),
                                None => Err(format!("no context named {}", req.provider)),
                            };
                            if let Err(e) = &r {
                                tracing::warn!("{}: {} failed: {e}", req.provider, req.op);
                            }
                            results.push(super::app::MutationResult {
                                provider: req.provider.clone(),
                                target: req.op.target().to_string(),
                                result: r,
                            });
                        }
                        let _ = tx2.send(Action::MutationsFinished(results));
                    });
                }
                Effect::Export(format) => {
                    let result = app.export(format).and_then(|(stem, bytes)| {
                        let dir = self
                            .data
                            .as_ref()
                            .map(DataDir::exports)
                            .ok_or("no data directory for exports")?;
                        std::fs::create_dir_all(&dir)
                            .map_err(|e| format!("{}: {e}", dir.display()))?;
                        let ext = match format {
                            super::app::ExportFormat::Csv => "csv",
                            super::app::ExportFormat::Json => "json",
                        };
                        let path = dir.join(format!(
                            "drydock-{stem}-{}.{ext}",
                            (self.clock)().format("%Y%m%d-%H%M%S")
                        ));
                        write_atomic(&path, |w| w.write_all(&bytes))
                            .map_err(|e| format!("{}: {e}", path.display()))?;
                        Ok(path)
                    });
                    let _ = tx.send(Action::Exported(result.map_err(|e: String| e)));
                }
                Effect::SavePlan(plan) => {
                    let dir = self.data.as_ref().map(DataDir::plans);
                    let journal = self.journal.clone();
                    let tx = tx.clone();
                    tokio::task::spawn_blocking(move || {
                        let _ = tx.send(Action::PlanSaved(super::new_plan::save(
                            &plan,
                            dir.as_deref(),
                            journal,
                        )));
                    });
                }
                Effect::LoadAudit => {
                    let journal = self.journal.clone();
                    let tx = tx.clone();
                    tokio::task::spawn_blocking(move || {
                        let r = journal.and_then(|j| {
                            j.store()
                                .audit(&drydock_store::AuditFilter::default())
                                .map(|recs| {
                                    recs.iter()
                                        .map(super::logbuf::LogLine::from_audit)
                                        .collect()
                                })
                                .map_err(|e| e.to_string())
                        });
                        let _ = tx.send(Action::AuditLoaded(r));
                    });
                }
                Effect::LoadPlans => {
                    let journal = self.journal.clone();
                    let readonly = app.readonly;
                    let tx = tx.clone();
                    tokio::task::spawn_blocking(move || {
                        let r = journal.and_then(|j| {
                            super::plans::load(&j, readonly).map_err(|e| e.to_string())
                        });
                        let _ = tx.send(Action::PlansLoaded(r));
                    });
                }
                Effect::PlanAction {
                    plan,
                    action,
                    confirmation,
                } => {
                    let tx2 = tx.clone();
                    let job = super::plan_job::PlanJob {
                        data: self.data.clone(),
                        journal: self.journal.clone(),
                        providers: self.providers.clone(),
                        gate: app.gate.clone(),
                        clock: Arc::clone(&self.clock),
                    };
                    supervise(tx, async move {
                        let r = job
                            .run(&plan, action, confirmation)
                            .await
                            .map_err(|e| e.to_string());
                        let _ = tx2.send(Action::PlanActionDone(r));
                    });
                }
                Effect::FetchSboms(urls) => {
                    let tx = tx.clone();
                    std::thread::spawn(move || {
                        for url in urls {
                            let result = crate::image_lists::read_source(&url)
                                .map_err(|e| e.to_string())
                                .and_then(|body| {
                                    crate::inspect::diff::Components::from_json(&body).ok_or_else(
                                        || format!("{url}: not an inspection or SPDX document"),
                                    )
                                });
                            let _ = tx.send(Action::SbomFetched { url, result });
                        }
                    });
                }
                Effect::Convert {
                    id,
                    input,
                    output,
                    opts,
                    cancel,
                } => {
                    let tx = tx.clone();
                    std::thread::spawn(move || {
                        let send = |a: Action| _ = tx.send(a);
                        supervised_job(id, &send, || {
                            super::conversions::run_job(id, &input, &output, &opts, &cancel, &send)
                        });
                    });
                }
                Effect::Transfer {
                    id,
                    request,
                    confirmation,
                    cancel,
                } => {
                    let tx = tx.clone();
                    let gate = app.gate.clone();
                    let providers: std::collections::HashMap<_, _> = self
                        .providers
                        .iter()
                        .map(|p| (p.name().to_string(), Arc::clone(p)))
                        .collect();
                    let rt = tokio::runtime::Handle::current();
                    let store = self.journal.as_ref().ok().map(|j| Arc::clone(j.store()));
                    std::thread::spawn(move || {
                        let send = |a: Action| _ = tx.send(a);
                        supervised_job(id, &send, || {
                            super::transfers::run_transfer_job(
                                id,
                                &request,
                                &confirmation,
                                &gate,
                                &providers,
                                store.as_ref(),
                                &rt,
                                &cancel,
                                &send,
                            )
                        });
                    });
                }
                Effect::RecordHistory(point) => {
                    if let (Ok(j), true) = (&self.journal, self.record_history) {
                        let store = Arc::clone(j.store());
                        tokio::task::spawn_blocking(move || {
                            if let Err(e) = crate::history::append(store.as_ref(), &point) {
                                tracing::warn!("cannot record scan history: {e}");
                            }
                        });
                    }
                }
            }
        }
    }

    fn spawn_scan(&self, tx: UnboundedSender<Action>) {
        let providers = self.providers.clone();
        let clock = Arc::clone(&self.clock);
        let options = self.scan.clone();
        let progress_tx = tx.clone();
        let progress: Arc<dyn Fn(ScanProgress) + Send + Sync> = Arc::new(move |p: ScanProgress| {
            tracing::debug!(provider = %p.provider, scope = %p.scope, "scanned {}/{}", p.done, p.total);
            let _ = progress_tx.send(Action::ScanProgress {
                provider: p.provider.clone(),
                done: p.done,
                total: p.total,
            });
        });
        let tx2 = tx.clone();
        supervise(&tx, async move {
            if std::env::var_os("DRYDOCK_TUI_FAULT").is_some_and(|v| v == "scan-panic") {
                panic!("injected fault: scan task panicked (DRYDOCK_TUI_FAULT=scan-panic)");
            }
            tracing::info!("refreshing from {} provider(s)", providers.len());
            let inv: Inventory =
                crate::scan::scan_all_within(&providers, progress, move || clock(), &options).await;
            for p in &inv.problems {
                tracing::warn!(provider = %p.provider, "{}: {}", p.scope, p.message);
            }
            tracing::info!(
                "scan finished: {} VMs, {} images",
                inv.vms.len(),
                inv.images.len()
            );
            let _ = tx2.send(Action::ScanFinished(Box::new(inv)));
        });
    }
}

/// Spawns a task and turns its panic into a `Fatal` action, so the dashboard exits
/// cleanly (terminal restored) with the panic's message instead of running on broken.
fn supervise<F>(tx: &UnboundedSender<Action>, fut: F)
where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    let tx = tx.clone();
    let handle = tokio::spawn(fut);
    tokio::spawn(async move {
        if let Err(e) = handle.await {
            if e.is_panic() {
                let payload = e.into_panic();
                let msg = payload
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "unknown panic".into());
                let _ = tx.send(Action::Fatal(format!("a background task panicked: {msg}")));
            }
        }
    });
}

/// Runs conversion or transfer job `id` so that a panic in it marks its row failed with the
/// message instead of leaving it "running" (and never reaches the terminal's panic hook).
pub fn supervised_job(id: usize, send: &dyn Fn(Action), job: impl FnOnce()) {
    if let Err(panic) = crate::inspect::contain::contained(job) {
        tracing::error!("job {id} panicked: {panic}");
        send(Action::ConversionDone {
            id,
            result: Err(format!("the job stopped on an internal error: {panic}")),
        });
    }
}
