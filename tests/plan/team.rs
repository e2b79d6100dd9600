//! What a team sees through the binary: claims refusing overlapping plans, the audit log
//! and operators, read-only refusals, the advice and counts at an approval gate, `--now`
//! driving grace periods, plans for contexts this config lacks, and two processes sharing
//! the demo clouds without overwriting each other.

use crate::common::{drydock, run};
use crate::env as plan_env;
use plan_env::*;
use serde_json::Value;

#[test]
fn an_overlapping_plan_is_refused_naming_the_plan_that_holds_each_vm() {
    let env = Env::new(&fleet(false, false), "");
    let first = env.new_plan(&["--waves", "1,100%"]);
    let (code, _, err) = env.cmd(&[
        "plan", "new", "--demo", "--family", "svc", "--waves", "1,100%",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("claimed by other unfinished plans"), "{err}");
    assert!(err.contains(&format!("held by plan {first}")), "{err}");
    assert!(err.contains("--exclude-claimed"), "{err}");
    // Nothing was left behind by the refused plan: one plan in the list, one file.
    let (_, list, _) = env.cmd(&["plan", "list"]);
    assert_eq!(
        list.lines()
            .filter(|l| l.trim_start().starts_with("svc-"))
            .count(),
        1,
        "{list}"
    );
    let files = std::fs::read_dir(env.home.path().join("data/drydock/plans"))
        .unwrap()
        .count();
    assert_eq!(files, 1);
    // --exclude-claimed plans the rest: here there is no rest, and it says why.
    let (code, _, err) = env.cmd(&[
        "plan",
        "new",
        "--demo",
        "--family",
        "svc",
        "--exclude-claimed",
    ]);
    assert_ne!(code, 0);
    assert!(err.contains("claimed by another unfinished plan"), "{err}");
    // Run the canary, then abort: the claims end, and a new plan may take the VMs.
    let (code, _, err) = env.cmd(&["plan", "run", &first, "--execute", "--yes-production"]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = env.cmd(&["plan", "abort", &first, "--yes-production"]);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = env.cmd(&[
        "plan", "new", "--demo", "--family", "svc", "--waves", "100%",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("199 VMs replaced") || out.contains("VMs replaced"),
        "{out}"
    );
}

#[test]
fn at_an_approval_gate_scripts_get_numbers_from_one_fitting_advice_and_a_real_dry_run() {
    let env = Env::new(&fleet(false, false), "");
    let id = env.new_plan(&["--waves", "1,100%"]);
    // No terminal (stdin is /dev/null), production confirmed, waves not approved.
    let (code, out, err) = env.cmd(&[
        "plan",
        "run",
        &id,
        "--execute",
        "--yes-production",
        "--events",
        "jsonl",
    ]);
    assert_eq!(code, 0, "{err}");
    let events: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let gate = events
        .iter()
        .find(|e| e["event"] == "awaiting_approval")
        .expect("stops at the gate");
    assert_eq!(gate["wave"], 2, "waves count from 1: {gate}");
    let msg = gate["message"].as_str().unwrap();
    assert!(msg.contains("wave 2 of 2"), "{msg}");
    for e in events.iter().filter(|e| e.get("wave").is_some()) {
        assert!(e["wave"].as_u64().unwrap() >= 1, "{e}");
    }
    // The advice fits a script: the command just run cannot approve without --yes.
    assert!(err.contains("--execute --yes"), "{err}");
    assert!(err.contains("no terminal"), "{err}");
    // The CLI counts like the dashboard (replaced / total).
    assert!(err.contains("wave 1: 1/1 replaced"), "{err}");
    let (_, show, _) = env.cmd(&["plan", "show", &id]);
    assert!(show.contains("1/1 replaced"), "{show}");
    // The gate lists what approving does: the next wave's launches, the old VM it ends.
    assert!(msg.contains("launch 199 replacements"), "{msg}");
    assert!(msg.contains("terminate 1 old VM of wave 1"), "{msg}");
    // A dry run at the gate describes and validates the next wave, not "0 calls".
    let (code, _, err) = env.cmd(&["plan", "run", &id]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("stands at an approval"), "{err}");
    assert!(
        err.contains("wave 2 of 2: launch 199 replacements"),
        "{err}"
    );
    assert!(
        err.contains("dry run: 50 of 50 validated calls would succeed"),
        "{err}"
    );
}

#[test]
fn now_drives_the_grace_period_of_a_resumed_plan() {
    let env = Env::new(&fleet(false, false), "");
    let (code, out, err) = env.cmd(&[
        "plan",
        "new",
        "--demo",
        "--family",
        "svc",
        "--waves",
        "100%",
        "--grace",
        "7d",
        "--undo-window",
        "0s",
    ]);
    assert_eq!(code, 0, "{err}");
    let id = plan_id(&out);
    let run = |extra: &[&str]| {
        let mut a = vec![
            "plan",
            "resume",
            id.as_str(),
            "--execute",
            "--yes",
            "--yes-production",
        ];
        a.extend_from_slice(extra);
        env.cmd(&a)
    };
    let (code, _, err) = run(&[]);
    assert_eq!(code, 0, "{err}");
    assert!(env.status(&id).starts_with("waiting"), "{err}");
    // Resumed now: the grace period has not passed.
    let (_, _, err) = run(&[]);
    assert!(env.status(&id).starts_with("waiting"), "{err}");
    // Resumed as of eight days later: it has.
    let later = (chrono::Utc::now() + chrono::Duration::days(8)).to_rfc3339();
    let (code, _, err) = run(&["--now", &later]);
    assert_eq!(code, 0, "{err}");
    assert!(
        env.status(&id).starts_with("complete"),
        "{}: {err}",
        env.status(&id)
    );
}

#[test]
fn a_plan_for_a_context_this_config_lacks_is_refused_before_anything_is_asked() {
    let env = Env::new(&fleet(false, false), "");
    let file = env.home.path().join("elsewhere.toml");
    let id = env.new_plan(&["--waves", "100%", "-o", file.to_str().unwrap()]);
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, text.replace("demo-aws", "elsewhere-aws")).unwrap();
    let (code, _, err) = env.cmd(&["plan", "run", &id, "--execute"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("needs context `elsewhere-aws`, which is not configured here"),
        "{err}"
    );
    assert!(
        !err.contains("--yes"),
        "no confirmation was asked for: {err}"
    );
    assert!(env.status(&id).starts_with("new"));
}

#[test]
fn read_only_refuses_every_journal_changing_command() {
    let env = Env::new(&fleet(false, false), "");
    let id = env.new_plan(&["--waves", "100%"]);
    for args in [
        vec!["--readonly", "plan", "pause", id.as_str()],
        vec![
            "--readonly",
            "plan",
            "abort",
            id.as_str(),
            "--yes-production",
        ],
        vec!["--readonly", "plan", "new", "--demo", "--family", "svc"],
        vec![
            "--readonly",
            "plan",
            "run",
            id.as_str(),
            "--execute",
            "--yes",
            "--yes-production",
        ],
        vec![
            "--readonly",
            "plan",
            "rollback",
            id.as_str(),
            "--execute",
            "--yes-production",
        ],
    ] {
        let (code, _, err) = env.cmd(&args);
        assert_ne!(code, 0, "{args:?}");
        assert!(err.contains("read-only"), "{args:?}: {err}");
    }
    assert!(env.status(&id).starts_with("new"));
    let (_, events, _) = env.cmd(&["audit", "--format", "json"]);
    assert_eq!(events.trim(), "[]", "nothing reached the gate");
}

#[test]
fn every_change_is_audited_with_its_operator_and_journal_events_are_signed() {
    let env = Env::new(&fleet(false, false), "");
    let as_op = |op: &str, args: &[&str]| {
        run(drydock(env.home.path())
            .env("DRYDOCK_OPERATOR", op)
            .args(args))
    };
    let (code, out, err) = as_op(
        "alice",
        &[
            "plan",
            "new",
            "--demo",
            "--family",
            "svc",
            "--waves",
            "1,100%",
            "--grace",
            "0s",
            "--undo-window",
            "0s",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let id = plan_id(&out);
    let (code, _, err) = as_op(
        "alice",
        &["plan", "run", &id, "--execute", "--yes-production"],
    );
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = as_op(
        "bob",
        &[
            "plan",
            "resume",
            &id,
            "--execute",
            "--yes",
            "--yes-production",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(env.status(&id).starts_with("complete"));
    let (code, out, _) = env.cmd(&["audit", "--format", "json", "--plan", &id]);
    assert_eq!(code, 0);
    let audit: Vec<Value> = serde_json::from_str(&out).unwrap();
    let launches = |op: &str| {
        audit
            .iter()
            .filter(|a| {
                a["operator"] == op
                    && a["operation"] == "launch replacement"
                    && a["outcome"] == "applied"
            })
            .count()
    };
    assert_eq!(launches("alice"), 1, "the canary");
    assert_eq!(launches("bob"), 199);
    assert!(audit
        .iter()
        .all(|a| a["confirmation"] == "typed `demo-aws`" && a["dry_run"] == false));
    // Every mutation in the cloud has its row: one launch per replacement.
    let cloud = env.cloud();
    let replacements = vms(&cloud)
        .iter()
        .filter(|v| v["tags"]["drydock:replaces"].is_string())
        .count();
    assert_eq!(launches("alice") + launches("bob"), replacements);
    // Filters narrow; the table says how many.
    let (_, out, err) = env.cmd(&["audit", "--operator", "alice", "--plan", &id]);
    assert!(out.contains("alice") && !out.contains("bob"), "{out}");
    assert!(err.contains("audit record"), "{err}");
    // The plan list names who made the plan.
    let (_, list, _) = env.cmd(&["plan", "list"]);
    assert!(list.contains("alice"), "{list}");
}

#[test]
fn two_processes_on_the_demo_clouds_never_overwrite_each_other() {
    use drydock_api::{Operation, Provider};
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn drydock_store::Store> = Arc::from(
        drydock_store::open(&drydock_store::Location::Sqlite(
            dir.path().join("s.sqlite"),
        ))
        .unwrap(),
    );
    let (config, _) = drydock::config::load(Some(std::path::Path::new("/dev/null")), &[]).unwrap();
    let now = crate::common::now();
    // Two "processes": each built its demo clouds (and read their state) before either acted.
    let aws = |store: &Arc<dyn drydock_store::Store>| -> Arc<dyn Provider> {
        drydock::contexts::Registry::new(&config)
            .with_demo_state(Some(Arc::clone(store)))
            .demo_providers(now)
            .unwrap()
            .into_iter()
            .find(|p| p.name() == "demo-aws")
            .unwrap()
    };
    let (a, b) = (aws(&store), aws(&store));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let inv = rt.block_on(a.scan(&|_| {})).unwrap();
    let (x, y) = (inv.vms[0].id.clone(), inv.vms[1].id.clone());
    let tag = |p: &Arc<dyn Provider>, vm: &str, v: &str| {
        let op = Operation::Tag {
            resource: vm.to_string(),
            tags: [("owner".to_string(), v.to_string())].into_iter().collect(),
        };
        rt.block_on(p.apply(&op, false)).unwrap();
    };
    tag(&a, &x, "alice");
    // The second process still holds the state from before the first one's change.
    tag(&b, &y, "bob");
    // Both changes survive, whoever reads: a, b, or a fresh process.
    for p in [&a, &b, &aws(&store)] {
        let inv = rt.block_on(p.scan(&|_| {})).unwrap();
        let owner = |id: &str| {
            inv.vms
                .iter()
                .find(|v| v.id == id)
                .unwrap()
                .tags
                .get("owner")
                .map(String::from)
        };
        assert_eq!(owner(&x).as_deref(), Some("alice"));
        assert_eq!(owner(&y).as_deref(), Some("bob"));
    }
}

#[test]
fn store_copy_moves_a_team_to_postgresql_without_losing_a_plan() {
    let Some(url) = drydock_testkit::pg::database("copy_cli") else {
        return;
    };
    let env = Env::new(&fleet(false, false), "");
    let id = env.new_plan(&["--waves", "1,100%"]);
    let (code, _, err) = env.cmd(&["plan", "run", &id, "--execute", "--yes-production"]);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = env.cmd(&["store", "migrate"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("store.sqlite: schema version 1"), "{out}");
    let (code, out, err) = env.cmd(&["store", "copy", "--to", &url]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("1 plan (0 already there)"), "{out}");
    // On PostgreSQL now: the plan, its journal and the demo clouds' state are all there,
    // and the run continues where it stood.
    let on_pg = |args: &[&str]| {
        run(drydock(env.home.path())
            .env("DRYDOCK_STORE_URL", &url)
            .args(args))
    };
    let (_, list, _) = on_pg(&["plan", "list"]);
    assert!(
        list.contains(&id) && list.contains("awaiting_approval"),
        "{list}"
    );
    let (code, _, err) = on_pg(&[
        "plan",
        "resume",
        &id,
        "--execute",
        "--yes",
        "--yes-production",
    ]);
    assert_eq!(code, 0, "{err}");
    let (_, show, _) = on_pg(&["plan", "show", &id]);
    assert!(show.contains("status: complete"), "{show}");
    // Copying again doubles nothing.
    let (code, out, _) = env.cmd(&["store", "copy", "--to", &url]);
    assert_eq!(code, 0);
    assert!(out.contains("0 plans (1 already there)"), "{out}");
}

#[test]
fn a_journal_from_before_the_store_is_adopted_once() {
    let env = Env::new(&fleet(false, false), "");
    let id = env.new_plan(&["--waves", "100%"]);
    let data = env.home.path().join("data/drydock");
    // What an older drydock kept: journal.sqlite with its own tables.
    let store =
        drydock_store::open(&drydock_store::Location::Sqlite(data.join("store.sqlite"))).unwrap();
    let body = store.plan_body(&id).unwrap().unwrap();
    drop(store);
    std::fs::remove_file(data.join("store.sqlite")).unwrap();
    old_journal(&data.join("journal.sqlite"), &id, &body);
    let (code, _, err) = env.cmd(&["plan", "list"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("moved 1 plan from"), "{err}");
    let (_, list, err) = env.cmd(&["plan", "list"]);
    assert!(list.contains(&id), "{list}");
    assert!(!err.contains("moved"), "only once: {err}");
}

/// Writes a journal in the layout drydock used before the store, holding plan `id`.
fn old_journal(path: &std::path::Path, id: &str, body: &str) {
    let c = rusqlite::Connection::open(path).unwrap();
    c.execute_batch(
        "CREATE TABLE plans (
           id TEXT PRIMARY KEY, family TEXT NOT NULL, path TEXT NOT NULL,
           body TEXT NOT NULL, status TEXT NOT NULL, message TEXT NOT NULL DEFAULT '',
           approved INTEGER NOT NULL DEFAULT -1, control TEXT, runner INTEGER,
           created TEXT NOT NULL, updated TEXT NOT NULL);
         CREATE TABLE steps (
           plan TEXT NOT NULL, key TEXT NOT NULL, wave INTEGER, state TEXT NOT NULL,
           token TEXT, result TEXT, error TEXT, attempts INTEGER NOT NULL DEFAULT 0,
           updated TEXT NOT NULL, PRIMARY KEY (plan, key));
         CREATE TABLE events (
           seq INTEGER PRIMARY KEY AUTOINCREMENT, plan TEXT NOT NULL, at TEXT NOT NULL,
           event TEXT NOT NULL);",
    )
    .unwrap();
    c.execute(
        "INSERT INTO plans (id, family, path, body, status, created, updated) VALUES (?1, 'svc', '/x.toml', ?2, 'paused', '2026-11-01T00:00:00Z', '2026-11-01T00:00:00Z')",
        rusqlite::params![id, body],
    )
    .unwrap();
    c.execute(
        "INSERT INTO steps (plan, key, wave, state, updated) VALUES (?1, 'vm:i-1', 0, 'pending', '2026-11-01T00:00:00Z')",
        [id],
    )
    .unwrap();
}
