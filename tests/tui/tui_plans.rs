//! The dashboard's Plans view: the reducer (view switch, confirm dialogs typed for
//! production, read-only), its rendering, and a plan action run as the runtime runs it —
//! on the simulated demo clouds with a real journal.

use crate::common;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use drydock::config::Config;
use drydock::contexts::Registry;
use drydock::gate::{Confirmation, Gate};
use drydock::plan::{self, Journal, PlanRequest, PlanStatus};
use drydock::tui::app::Mode;
use drydock::tui::keymap::View;
use drydock::tui::logbuf::LogBuffer;
use drydock::tui::plan_job::PlanJob;
use drydock::tui::plans::{load, PlanAction};
use drydock::tui::{Action, App, AppOptions, Effect};
use drydock_api::Provider;
use std::sync::Arc;

/// The gate `drydock` builds for the default configuration (demo-aws is production).
fn demo_gate() -> Gate {
    let (config, _) = drydock::config::load(Some(std::path::Path::new("/dev/null")), &[]).unwrap();
    Gate::new(&Registry::new(&config).with_demo_state(None), false, false)
}

fn key(app: &mut App, k: &str) -> Vec<Effect> {
    let ev = match k {
        "enter" => KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE),
        c => KeyEvent::new(KeyCode::Char(c.chars().next().unwrap()), KeyModifiers::NONE),
    };
    app.update(Action::Key(ev))
}

/// A plan for app-checkout on the demo, registered in a journal under `dir`.
fn setup(dir: &std::path::Path) -> (Arc<Journal>, Vec<Arc<dyn Provider>>, String) {
    setup_plan(dir, "app-checkout", "0s")
}

/// The same, with a grace period between the retire rungs.
fn setup_with_grace(
    dir: &std::path::Path,
    grace: &str,
) -> (Arc<Journal>, Vec<Arc<dyn Provider>>, String) {
    setup_plan(dir, "app-checkout", grace)
}

/// A plan for `family`, with `grace` between the retire rungs.
fn setup_plan(
    dir: &std::path::Path,
    family: &str,
    grace: &str,
) -> (Arc<Journal>, Vec<Arc<dyn Provider>>, String) {
    let now = common::now();
    let providers: Vec<Arc<dyn Provider>> =
        drydock_sim::demo_clouds(now, drydock_sim::SimSettings::default())
            .into_iter()
            .map(|c| Arc::new(c) as Arc<dyn Provider>)
            .collect();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let inv = rt.block_on(drydock::scan::scan_all(
        &providers,
        Arc::new(|_| {}),
        move || now,
    ));
    let policy = Config::default().policy;
    let a = drydock::drift::evaluate(&inv, &policy, now);
    let mut req = PlanRequest::new(family);
    req.settings.grace = grace.parse().unwrap();
    req.settings.undo_window = "0s".parse().unwrap();
    let plan = plan::build(&inv, &a, &req, now).unwrap();
    let journal = Arc::new(Journal::open(&dir.join("journal.sqlite")).unwrap());
    journal.register(&plan, &dir.join("plan.toml")).unwrap();
    (journal, providers, plan.id)
}

fn app(readonly: bool) -> App {
    let (config, _) = drydock::config::load(Some(std::path::Path::new("/dev/null")), &[]).unwrap();
    App::new(
        AppOptions {
            context: None,
            ..AppOptions::from_config(
                &{
                    let mut c = config.clone();
                    c.general.readonly = readonly;
                    c
                },
                false,
                common::now(),
            )
        },
        LogBuffer::new(100),
    )
}

#[test]
fn plans_view_loads_confirms_with_typed_production_name_and_renders_gauges() {
    let dir = tempfile::tempdir().unwrap();
    let (journal, _, id) = setup(dir.path());
    let mut app = app(false);
    let effects = key(&mut app, "5");
    assert_eq!(app.view, View::Plans);
    assert!(matches!(effects.as_slice(), [Effect::LoadPlans]));
    app.update(Action::PlansLoaded(
        load(&journal, false).map_err(|e| e.to_string()),
    ));
    assert_eq!(app.plans.plans.len(), 1);

    // demo-aws is a production context: the name must be typed.
    key(&mut app, "a");
    let Mode::Confirm(c) = &app.mode else {
        panic!("no confirm dialog")
    };
    assert_eq!(c.expected.as_deref(), Some("demo-aws"));
    assert!(
        c.lines
            .iter()
            .any(|l| l.starts_with("Blast radius: 36 VMs")),
        "{:?}",
        c.lines
    );
    for ch in "demo-aws".chars() {
        key(&mut app, &ch.to_string());
    }
    let effects = key(&mut app, "enter");
    match effects.as_slice() {
        [Effect::PlanAction {
            plan,
            action: PlanAction::Approve,
            confirmation: Confirmation::Typed(t),
        }] => {
            assert_eq!(plan, &id);
            assert_eq!(t, "demo-aws");
        }
        other => panic!("{other:?}"),
    }

    let backend = ratatui::backend::TestBackend::new(120, 40);
    let mut term = ratatui::Terminal::new(backend).unwrap();
    term.draw(|f| drydock::tui::ui::draw(f, &app, drydock::tui::theme::Theme { color: false }))
        .unwrap();
    let text: String = term
        .backend()
        .buffer()
        .content()
        .iter()
        .map(|c| c.symbol())
        .collect();
    assert!(text.contains(&id), "plan listed");
    assert!(
        text.contains("wave 1 of 4 · 0/1 replaced"),
        "a bar per wave"
    );
    assert!(
        text.contains("checkout-legacy-001"),
        "per-VM status of the current wave"
    );
}

#[test]
fn read_only_removes_the_mutating_plan_keys() {
    let dir = tempfile::tempdir().unwrap();
    let (journal, _, _) = setup(dir.path());
    let mut app = app(true);
    key(&mut app, "5");
    app.update(Action::PlansLoaded(
        load(&journal, false).map_err(|e| e.to_string()),
    ));
    for k in ["a", "X", "R"] {
        key(&mut app, k);
        assert!(matches!(app.mode, Mode::Normal), "{k} is gone in read-only");
    }
    // Nothing that writes the journal is offered: not even the brake, nor a new plan.
    for k in ["p", "n", "T"] {
        let effects = key(&mut app, k);
        assert!(matches!(app.mode, Mode::Normal), "{k} is gone in read-only");
        assert!(effects.is_empty(), "{k}: {effects:?}");
    }
    // The journal's advice names no key or command that would act.
    app.update(Action::PlansLoaded(
        load(&journal, true).map_err(|e| e.to_string()),
    ));
    for p in &app.plans.plans {
        assert!(!p.row.message.contains('`'), "{}", p.row.message);
    }
}

#[test]
fn a_read_only_context_refuses_plan_actions_in_the_plans_view() {
    let dir = tempfile::tempdir().unwrap();
    let (journal, _, _) = setup(dir.path());
    let (mut config, _) =
        drydock::config::load(Some(std::path::Path::new("/dev/null")), &[]).unwrap();
    let aws = config
        .contexts
        .iter_mut()
        .find(|c| c.name == "demo-aws")
        .unwrap();
    aws.readonly = true;
    let mut app = App::new(
        AppOptions::from_config(&config, false, common::now()),
        LogBuffer::new(10),
    );
    key(&mut app, "5");
    app.update(Action::PlansLoaded(
        load(&journal, false).map_err(|e| e.to_string()),
    ));
    for k in ["a", "X", "R"] {
        let effects = key(&mut app, k);
        assert!(effects.is_empty(), "{k}: {effects:?}");
        assert!(matches!(app.mode, Mode::Normal), "{k}: no dialog");
        let status = app.status.clone().unwrap_or_default();
        assert!(
            status.contains("context `demo-aws` is read-only"),
            "{status}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approval_from_the_dashboard_runs_one_wave_and_rollback_undoes_it() {
    let dir = tempfile::tempdir().unwrap();
    // (setup runs its own runtime: off this one's threads)
    let path = dir.path().to_path_buf();
    let (journal, providers, id) = std::thread::spawn(move || setup(&path)).join().unwrap();
    let job = || PlanJob {
        data: Some(drydock::config::paths::DataDir::at(dir.path())),
        journal: Ok(Arc::clone(&journal)),
        providers: providers.clone(),
        gate: demo_gate(),
        clock: Arc::new(common::now),
    };
    let typed = || Confirmation::Typed("demo-aws".into());
    // Steps that launched a replacement so far.
    let launched_so_far = || {
        journal
            .steps(&id)
            .unwrap()
            .iter()
            .filter(|s| s.result.is_some())
            .count()
    };
    // A wrong name is refused by the gate; nothing launches.
    let err = job().run(&id, PlanAction::Approve, Confirmation::Yes).await;
    assert!(
        err.as_ref().is_ok_and(|s| s.contains("paused")) || err.is_err(),
        "{err:?}"
    );
    let steps = journal.steps(&id).unwrap();
    assert!(
        steps.iter().all(|s| s.result.is_none()),
        "nothing launched unconfirmed"
    );
    // Typed: the canary wave runs, then the plan waits for the next approval.
    let msg = job().run(&id, PlanAction::Approve, typed()).await.unwrap();
    assert!(msg.contains("awaiting_approval"), "{msg}");
    assert_eq!(
        journal.status(&id).unwrap().status,
        PlanStatus::AwaitingApproval
    );
    let launched = launched_so_far();
    assert_eq!(launched, 1);
    // Approve again: wave 2 (3 VMs) runs.
    let msg = job().run(&id, PlanAction::Approve, typed()).await.unwrap();
    assert!(msg.contains("awaiting_approval"), "{msg}");
    let launched = launched_so_far();
    assert_eq!(launched, 4);
    let msg = job().run(&id, PlanAction::Rollback, typed()).await.unwrap();
    assert!(msg.contains("3 replacements removed"), "{msg}");
    assert_eq!(journal.status(&id).unwrap().status, PlanStatus::Paused);
    let msg = job().run(&id, PlanAction::Abort, typed()).await.unwrap();
    assert!(msg.contains("aborted"), "{msg}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_retire_ladder_waits_by_the_executors_clock() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    let (journal, providers, id) = std::thread::spawn(move || setup_with_grace(&path, "7d"))
        .join()
        .unwrap();
    // The executor reads time from this clock only: the test moves it.
    let offset = Arc::new(std::sync::atomic::AtomicI64::new(0));
    let job = || {
        let offset = Arc::clone(&offset);
        PlanJob {
            data: Some(drydock::config::paths::DataDir::at(dir.path())),
            journal: Ok(Arc::clone(&journal)),
            providers: providers.clone(),
            gate: demo_gate(),
            clock: Arc::new(move || {
                common::now()
                    + chrono::Duration::seconds(offset.load(std::sync::atomic::Ordering::SeqCst))
            }),
        }
    };
    let typed = || Confirmation::Typed("demo-aws".into());
    // Approve wave after wave, then the finish: the first rung (deprecate) runs, the next
    // waits for its grace period.
    for _ in 0..8 {
        job().run(&id, PlanAction::Approve, typed()).await.unwrap();
        if journal.status(&id).unwrap().status == PlanStatus::Waiting {
            break;
        }
    }
    let row = journal.status(&id).unwrap();
    assert_eq!(row.status, PlanStatus::Waiting, "{}", row.message);
    // A day later by the clock: still waiting.
    offset.store(86_400, std::sync::atomic::Ordering::SeqCst);
    job().run(&id, PlanAction::Approve, typed()).await.unwrap();
    assert_eq!(journal.status(&id).unwrap().status, PlanStatus::Waiting);
    // Eight days later: the grace has passed and the ladder moves on, without any wall
    // clock having moved.
    offset.store(8 * 86_400, std::sync::atomic::Ordering::SeqCst);
    job().run(&id, PlanAction::Approve, typed()).await.unwrap();
    let after = journal.status(&id).unwrap();
    assert_ne!(
        (after.status, after.message.clone()),
        (row.status, row.message.clone()),
        "the ladder moved on"
    );
}

#[test]
fn azure_ids_show_their_tail_and_a_blocked_reason_is_read_whole() {
    let dir = tempfile::tempdir().unwrap();
    let (journal, _, id) = setup_plan(dir.path(), "payments-api", "0s");
    let reason = "refusing to deprecate /subscriptions/6b1f3c2e-0f4d-4a6b-9a53-2d8e7c1b4f90/resourceGroups/rg-images/providers/Microsoft.Compute/galleries/golden/images/payments-api/versions/2026.7.3: still used by VM payments-api-001; replace them, then `drydock plan resume`";
    journal
        .set_status(&id, PlanStatus::Blocked, reason)
        .unwrap();
    let mut app = app(false);
    key(&mut app, "5");
    app.update(Action::PlansLoaded(
        load(&journal, false).map_err(|e| e.to_string()),
    ));
    let s = common::dash::screen(&mut app, 120, 40);
    // Every VM row shows its resource group and name, never the shared prefix.
    let rows: Vec<&str> = s
        .lines()
        .filter(|l| l.trim_start_matches('│').starts_with("payments-api-blue"))
        .collect();
    assert!(!rows.is_empty(), "{s}");
    for r in &rows {
        assert!(!r.contains("/subscriptions/"), "{r}");
        assert!(r.contains(" rg-") && r.contains("/payments-api-"), "{r}");
        assert!(!r.contains('…'), "the whole rg/name fits: {r}");
    }
    // The blocked rung's reason wraps, whole, with the dashboard's key instead of the CLI.
    let flat: String = s
        .lines()
        .map(|l| l.trim_matches(|c| c == '│' || c == ' '))
        .collect::<Vec<_>>()
        .join(" ");
    assert!(flat.contains("versions/2026.7.3"), "{s}");
    assert!(flat.contains("then a (resume)"), "{s}");
}

#[test]
fn pause_is_one_key_and_pausing_twice_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (journal, _, id) = setup(dir.path());
    assert!(journal.halt(&id, false).unwrap().contains("paused"));
    let events = journal_events(&journal, &id);
    assert!(journal.halt(&id, false).unwrap().contains("already paused"));
    assert_eq!(
        journal_events(&journal, &id),
        events,
        "no second pause event"
    );
    let mut app = app(false);
    key(&mut app, "5");
    app.update(Action::PlansLoaded(
        load(&journal, false).map_err(|e| e.to_string()),
    ));
    let effects = key(&mut app, "p");
    assert!(effects.is_empty(), "{effects:?}");
    assert!(matches!(app.mode, Mode::Normal));
    assert!(app.status.as_deref().unwrap().contains("already paused"));
}

fn journal_events(j: &Journal, id: &str) -> usize {
    j.events(id).map(|e| e.len()).unwrap_or(0)
}

#[test]
fn every_wave_and_the_whole_target_show_at_80_by_20() {
    let dir = tempfile::tempdir().unwrap();
    let (journal, _, _) = setup(dir.path());
    let mut app = app(false);
    key(&mut app, "5");
    app.update(Action::PlansLoaded(
        load(&journal, false).map_err(|e| e.to_string()),
    ));
    let p = &app.plans.plans[0];
    assert_eq!(
        p.plan.waves.len(),
        4,
        "the default waves: 1, 10%, 50%, 100%"
    );
    let target = format!("{} → {}", p.plan.family, p.plan.version);
    let s = common::dash::check_fitted(&mut app, 80, 20, "plans");
    assert!(s.contains(&target), "the target is whole: {s}");
    // The selected plan's pane scrolls (J) to its last wave; nothing is hidden.
    let mut seen = s.contains("wave 4 of 4");
    for _ in 0..20 {
        if seen {
            break;
        }
        key(&mut app, "J");
        seen = common::dash::check_fitted(&mut app, 80, 20, "plans").contains("wave 4 of 4");
    }
    assert!(seen, "wave 4 of 4 is reachable");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_approval_resumes_a_plan_paused_at_its_gate_and_the_dialog_lists_what_it_ends() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    let (journal, providers, id) = std::thread::spawn(move || setup(&path)).join().unwrap();
    let job = || PlanJob {
        data: Some(drydock::config::paths::DataDir::at(dir.path())),
        journal: Ok(Arc::clone(&journal)),
        providers: providers.clone(),
        gate: demo_gate(),
        clock: Arc::new(common::now),
    };
    let typed = || Confirmation::Typed("demo-aws".into());
    // The canary wave runs; the plan waits for the approval of wave 2.
    let msg = job().run(&id, PlanAction::Approve, typed()).await.unwrap();
    assert!(msg.contains("awaiting_approval"), "{msg}");
    // Paused there (p), then one approval (a): wave 2 runs, no second approval needed.
    let msg = job().run(&id, PlanAction::Pause, typed()).await.unwrap();
    assert!(msg.contains("paused"), "{msg}");
    assert_eq!(journal.status(&id).unwrap().status, PlanStatus::Paused);
    // The dialog for `a` on the paused plan lists the next wave's launches and the old
    // VM of wave 1 it terminates.
    let mut app = app(false);
    key(&mut app, "5");
    app.update(Action::PlansLoaded(
        load(&journal, false).map_err(|e| e.to_string()),
    ));
    key(&mut app, "a");
    let Mode::Confirm(c) = &app.mode else {
        panic!("a opens the approval dialog: {:?}", app.mode)
    };
    let text = c.lines.join("\n");
    assert!(text.contains("wave 2 of"), "{text}");
    assert!(text.contains("launch 3 replacements"), "{text}");
    assert!(text.contains("terminate 1 old VM of wave 1"), "{text}");
    let launched = |j: &Journal| {
        j.steps(&id)
            .unwrap()
            .iter()
            .filter(|s| s.result.is_some())
            .count()
    };
    assert_eq!(launched(&journal), 1);
    let msg = job().run(&id, PlanAction::Approve, typed()).await.unwrap();
    assert_eq!(launched(&journal), 4, "{msg}");
    assert_ne!(
        journal.status(&id).unwrap().approved,
        0,
        "the one approval was recorded"
    );
}

#[test]
fn the_gate_counts_scale_set_instances_upgraded_in_place_apart() {
    use drydock::plan::{gates, StepRow, StepState};
    let dir = tempfile::tempdir().unwrap();
    let (journal, _, id) = setup(dir.path());
    let plan = journal.plan(&id).unwrap();
    assert!(plan.waves.len() >= 2);
    let mut steps = journal.steps(&id).unwrap();
    // Wave 1 replaced: one VM by a new VM, one... (the canary is alone: make it in place).
    let canary = plan.waves[0].vms[0].id.clone();
    for s in steps.iter_mut() {
        if s.key == format!("vm:{canary}") {
            s.state = StepState::Healthy;
            s.result = Some(canary.clone());
        }
    }
    let approved = 0;
    assert_eq!(gates::standing_at(&plan, approved, &steps), Some(1));
    let text = gates::describe(&plan, &steps, 1).join("\n");
    assert!(text.contains("terminate no old VM of wave 1"), "{text}");
    assert!(
        text.contains("1 scale-set instance of wave 1 upgraded in place"),
        "{text}"
    );
    // With a real replacement it is a termination.
    for s in steps.iter_mut() {
        if s.key == format!("vm:{canary}") {
            s.result = Some("i-new".into());
        }
    }
    let text = gates::describe(&plan, &steps, 1).join("\n");
    assert!(
        text.contains(&format!("terminate 1 old VM of wave 1: {canary}")),
        "{text}"
    );
    let _: Vec<StepRow> = steps;
}

#[test]
fn a_plan_for_contexts_this_config_lacks_is_shown_read_only_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let (journal, _, id) = setup(dir.path());
    let mut plan = journal.plan(&id).unwrap();
    let other_id = format!("{id}-elsewhere");
    plan.id = other_id.clone();
    for w in plan.waves.iter_mut() {
        for vm in w.vms.iter_mut() {
            vm.provider = "elsewhere-aws".into();
            vm.id = format!("{}-x", vm.id);
        }
    }
    plan.repoint.clear();
    plan.retire.clear();
    journal.register(&plan, &dir.path().join("x.toml")).unwrap();
    let mut app = app(false);
    key(&mut app, "5");
    app.update(Action::PlansLoaded(
        load(&journal, false).map_err(|e| e.to_string()),
    ));
    let at = app
        .plans
        .plans
        .iter()
        .position(|p| p.row.id == other_id)
        .unwrap();
    app.plans.list.selected = at;
    let effects = key(&mut app, "a");
    assert!(effects.is_empty());
    assert!(matches!(app.mode, Mode::Normal), "no dialog");
    let status = app.status.clone().unwrap_or_default();
    assert!(
        status.contains("needs context `elsewhere-aws`, which is not configured here"),
        "{status}"
    );
}

#[test]
fn the_log_view_shows_the_audit_log_from_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let store =
        drydock_store::open(&drydock_store::Location::Sqlite(dir.path().join("s"))).unwrap();
    for (op, outcome) in [("alice", "applied"), ("bob", "refused")] {
        store
            .append_audit(&drydock_store::AuditRecord {
                seq: 0,
                at: common::now(),
                operator: op.into(),
                context: "demo-aws".into(),
                operation: "terminate".into(),
                target: "i-0abc".into(),
                dry_run: false,
                confirmation: "typed `demo-aws`".into(),
                outcome: outcome.into(),
                error: (outcome == "refused").then(|| "read-only mode".to_string()),
                plan: Some("p-1".into()),
            })
            .unwrap();
    }
    let records = store.audit(&Default::default()).unwrap();
    let mut app = app(false);
    key(&mut app, "4");
    let effects = key(&mut app, "A");
    assert!(
        matches!(effects.as_slice(), [Effect::LoadAudit]),
        "{effects:?}"
    );
    app.update(Action::AuditLoaded(Ok(records
        .iter()
        .map(drydock::tui::logbuf::LogLine::from_audit)
        .collect())));
    let lines: Vec<String> = app.log_lines().iter().map(|l| l.render()).collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        lines[0].contains("alice in demo-aws: terminate i-0abc — applied"),
        "{lines:?}"
    );
    assert!(
        lines[1].contains("bob")
            && lines[1].contains("refused")
            && lines[1].contains("read-only mode")
    );
    let screen = common::dash::screen(&mut app, 120, 30);
    assert!(screen.contains("Audit log"), "{screen}");
    // A again: back to the log.
    key(&mut app, "A");
    assert!(app.log.audit.is_none());
}
