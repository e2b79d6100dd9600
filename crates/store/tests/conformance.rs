//! The store conformance suite: every test runs on SQLite and on PostgreSQL (a database of
//! its own on the server tests/run.sh starts).

use chrono::{DateTime, Duration as CDuration, TimeZone, Utc};
use drydock_store::*;
use std::sync::Arc;
use std::time::Duration;

/// A fresh store of each backend (the directory keeps the SQLite file alive).
fn stores(tag: &str) -> Vec<(Location, Option<tempfile::TempDir>)> {
    let dir = tempfile::tempdir().unwrap();
    let mut out = vec![(Location::Sqlite(dir.path().join("store.sqlite")), Some(dir))];
    if let Some(url) = drydock_testkit::pg::database(tag) {
        out.push((Location::Postgres { url, ca_file: None }, None));
    }
    out
}

fn each(tag: &str, f: impl Fn(&Location, Box<dyn Store>)) {
    for (loc, _keep) in stores(tag) {
        let store = open(&loc).unwrap_or_else(|e| panic!("{}: {e}", loc.describe()));
        eprintln!("-- {}", store.describe());
        f(&loc, store);
    }
}

fn t(s: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_790_000_000 + s, 0).unwrap()
}

fn plan(id: &str, steps: usize) -> NewPlan {
    NewPlan {
        id: id.into(),
        family: "web".into(),
        path: format!("/plans/{id}.toml"),
        body: format!("{{\"id\":\"{id}\"}}"),
        contexts: vec!["prod-aws".into(), "dev-azure".into()],
        operator: "alice".into(),
        steps: (0..steps)
            .map(|i| (format!("vm:i-{i:05}"), Some((i % 3) as i64)))
            .chain([("rebuild".to_string(), None)])
            .collect(),
        claims: Vec::new(),
        replace: true,
        at: t(0),
    }
}

fn holder(id: &str, take_over: bool) -> Holder {
    Holder {
        id: id.into(),
        operator: format!("op-{id}"),
        take_over,
        replaces: None,
    }
}

#[test]
fn plans_steps_and_events_round_trip() {
    each("plans", |_, s| {
        assert_eq!(s.schema_version().unwrap(), SCHEMA_VERSION);
        s.put_plan(&plan("p1", 450)).unwrap();
        let r = s.plan("p1").unwrap().unwrap();
        assert_eq!(
            (r.status.as_str(), r.approved, r.operator.as_str()),
            ("new", -1, "alice")
        );
        assert_eq!(r.contexts, vec!["prod-aws", "dev-azure"]);
        assert_eq!(s.plan_body("p1").unwrap().unwrap(), "{\"id\":\"p1\"}");
        let steps = s.steps("p1").unwrap();
        assert_eq!(steps.len(), 451);
        assert!(steps
            .iter()
            .all(|x| x.state == "pending" && x.attempts == 0));
        // Only a replacement may reuse an id.
        let again = NewPlan {
            replace: false,
            ..plan("p1", 3)
        };
        assert!(matches!(s.put_plan(&again), Err(StoreError::Exists(_))));
        // A new plan may be replaced; its steps follow.
        s.put_plan(&plan("p1", 3)).unwrap();
        assert_eq!(s.steps("p1").unwrap().len(), 4);

        s.set_status("p1", "running", "", t(5)).unwrap();
        assert!(matches!(
            s.put_plan(&plan("p1", 3)),
            Err(StoreError::Refused(_))
        ));
        s.approve("p1", 2).unwrap();
        s.approve("p1", 1).unwrap();
        assert_eq!(s.plan("p1").unwrap().unwrap().approved, 2);
        s.set_control("p1", Some("pause")).unwrap();
        assert_eq!(
            s.plan("p1").unwrap().unwrap().control.as_deref(),
            Some("pause")
        );
        s.set_control("p1", None).unwrap();
        assert_eq!(s.plan("p1").unwrap().unwrap().control, None);

        let up = |state: &str, token: Option<&str>, attempt| StepUpdate {
            plan: "p1".into(),
            key: "vm:i-00001".into(),
            state: state.into(),
            token: token.map(String::from),
            result: None,
            error: None,
            attempt,
            at: t(9),
        };
        s.update_step(&up("started", Some("tok"), true)).unwrap();
        s.update_step(&up("launched", None, false)).unwrap();
        let st = s.steps("p1").unwrap();
        let one = st.iter().find(|x| x.key == "vm:i-00001").unwrap();
        assert_eq!(
            (one.state.as_str(), one.token.as_deref(), one.attempts),
            ("launched", Some("tok"), 1)
        );
        assert_eq!(one.updated, t(9));
        assert_eq!(one.wave, Some(1));

        for i in 0..5 {
            s.append_event(&NewEvent {
                plan: "p1".into(),
                at: t(i),
                operator: if i % 2 == 0 { "alice" } else { "bob" }.into(),
                event: format!("{{\"n\":{i}}}"),
            })
            .unwrap();
        }
        let ev = s.events("p1").unwrap();
        assert_eq!(ev.len(), 5);
        assert!(ev.windows(2).all(|w| w[0].seq < w[1].seq));
        assert_eq!(ev[1].operator, "bob");
        assert_eq!(ev[4].event, "{\"n\":4}");

        s.put_plan(&NewPlan {
            at: t(100),
            ..plan("p2", 1)
        })
        .unwrap();
        let ids: Vec<String> = s.plans().unwrap().into_iter().map(|p| p.id).collect();
        assert_eq!(ids, vec!["p2", "p1"], "newest first");
        assert!(s.plan("nope").unwrap().is_none());
    });
}

#[test]
fn a_lease_has_one_holder_and_a_dead_one_can_be_taken_over() {
    each("leases", |_, s| {
        let ttl = Duration::from_secs(60);
        s.put_plan(&plan("p", 1)).unwrap();
        assert_eq!(
            s.acquire_lease("p", &holder("a", false), t(0), ttl)
                .unwrap(),
            LeaseOutcome::Acquired { taken_from: None }
        );
        // Again by the same holder: still theirs, since unchanged.
        assert!(matches!(
            s.acquire_lease("p", &holder("a", false), t(10), ttl)
                .unwrap(),
            LeaseOutcome::Acquired { taken_from: None }
        ));
        match s
            .acquire_lease("p", &holder("b", false), t(20), ttl)
            .unwrap()
        {
            LeaseOutcome::Held(l) => {
                assert_eq!((l.holder.as_str(), l.operator.as_str()), ("a", "op-a"));
                assert_eq!((l.since, l.beat), (t(0), t(10)));
            }
            other => panic!("{other:?}"),
        }
        // A live holder cannot be taken over.
        assert!(matches!(
            s.acquire_lease("p", &holder("b", true), t(30), ttl)
                .unwrap(),
            LeaseOutcome::Held(_)
        ));
        // Replacing a named holder works only while that one holds it.
        let mut c = holder("c", false);
        c.replaces = Some("zzz".into());
        assert!(matches!(
            s.acquire_lease("p", &c, t(35), ttl).unwrap(),
            LeaseOutcome::Held(_)
        ));
        c.replaces = Some("a".into());
        assert!(matches!(
            s.acquire_lease("p", &c, t(36), ttl).unwrap(),
            LeaseOutcome::Acquired {
                taken_from: Some(_)
            }
        ));
        c.replaces = None;
        assert!(matches!(
            s.acquire_lease("p", &holder("a", false), t(37), ttl)
                .unwrap(),
            LeaseOutcome::Held(_)
        ));
        s.release_lease("p", "c").unwrap();
        assert!(matches!(
            s.acquire_lease("p", &holder("a", false), t(38), ttl)
                .unwrap(),
            LeaseOutcome::Acquired { taken_from: None }
        ));
        assert!(s.heartbeat("p", "a", t(40), ttl).unwrap());
        assert!(!s.heartbeat("p", "b", t(40), ttl).unwrap());
        // Dead (no beat for the TTL): refused without --take-over, taken with it.
        assert!(matches!(
            s.acquire_lease("p", &holder("b", false), t(200), ttl)
                .unwrap(),
            LeaseOutcome::Held(_)
        ));
        match s
            .acquire_lease("p", &holder("b", true), t(200), ttl)
            .unwrap()
        {
            LeaseOutcome::Acquired {
                taken_from: Some(l),
            } => assert_eq!(l.holder, "a"),
            other => panic!("{other:?}"),
        }
        assert!(
            !s.heartbeat("p", "a", t(201), ttl).unwrap(),
            "the old holder lost it"
        );
        assert_eq!(s.lease("p").unwrap().unwrap().since, t(200));
        s.release_lease("p", "a").unwrap();
        assert!(s.lease("p").unwrap().is_some(), "only the holder releases");
        s.release_lease("p", "b").unwrap();
        assert!(s.lease("p").unwrap().is_none());
        assert!(s.leases().unwrap().is_empty());
    });
}

#[test]
fn racing_holders_on_separate_connections_one_wins() {
    for (loc, _keep) in stores("race") {
        open(&loc).unwrap().put_plan(&plan("p", 1)).unwrap();
        for round in 0..5 {
            let now = Utc::now() + CDuration::seconds(round * 1000);
            let handles: Vec<_> = (0..6)
                .map(|i| {
                    let loc = loc.clone();
                    std::thread::spawn(move || {
                        let s = open(&loc).unwrap();
                        matches!(
                            s.acquire_lease(
                                "p",
                                &holder(&format!("h{round}-{i}"), true),
                                now,
                                Duration::from_secs(60)
                            )
                            .unwrap(),
                            LeaseOutcome::Acquired { .. }
                        )
                    })
                })
                .collect();
            let won = handles
                .into_iter()
                .map(|h| h.join().unwrap())
                .filter(|w| *w)
                .count();
            assert_eq!(won, 1, "{} round {round}", loc.describe());
        }
    }
}

#[test]
fn claims_are_all_or_nothing() {
    each("claims", |_, s| {
        let c = |r: &str| Claim {
            resource: r.into(),
            context: "prod-aws".into(),
            kind: "vm".into(),
        };
        assert!(s
            .claim("p1", &[c("i-1"), c("i-2"), c("ami-1")])
            .unwrap()
            .is_empty());
        // Claiming again for the same plan is fine.
        assert!(s.claim("p1", &[c("i-1")]).unwrap().is_empty());
        let conflicts = s.claim("p2", &[c("i-3"), c("i-2"), c("ami-1")]).unwrap();
        assert_eq!(
            conflicts
                .iter()
                .map(|x| (x.claim.resource.as_str(), x.plan.as_str()))
                .collect::<Vec<_>>(),
            vec![("ami-1", "p1"), ("i-2", "p1")]
        );
        assert_eq!(s.claims().unwrap().len(), 3, "nothing of p2 was claimed");
        // A plan registers with its claims, all or nothing.
        let mut p4 = plan("p4", 1);
        p4.claims = vec![c("i-9"), c("i-1")];
        let refused = s.put_plan(&p4).unwrap();
        assert_eq!(refused.len(), 1);
        assert!(s.plan("p4").unwrap().is_none(), "nothing written");
        p4.claims = vec![c("i-9")];
        assert!(s.put_plan(&p4).unwrap().is_empty());
        assert!(s
            .claims()
            .unwrap()
            .iter()
            .any(|x| x.claim.resource == "i-9" && x.plan == "p4"));
        s.release_claims("p4").unwrap();
        s.release_claims("p1").unwrap();
        assert!(s.claim("p2", &[c("i-3"), c("i-2")]).unwrap().is_empty());
        let many: Vec<Claim> = (0..2500).map(|i| c(&format!("vm-{i}"))).collect();
        assert!(s.claim("p3", &many).unwrap().is_empty());
        assert_eq!(s.claims().unwrap().len(), 2502);
    });
}

#[test]
fn audit_records_filter() {
    each("audit", |_, s| {
        for (i, (op, ctx, plan)) in [
            ("alice", "prod-aws", Some("p1")),
            ("bob", "prod-aws", None),
            ("alice", "dev-azure", Some("p2")),
        ]
        .into_iter()
        .enumerate()
        {
            s.append_audit(&AuditRecord {
                seq: 0,
                at: t(i as i64 * 10),
                operator: op.into(),
                context: ctx.into(),
                operation: "launch replacement".into(),
                target: format!("i-{i}"),
                dry_run: i == 1,
                confirmation: "typed prod-aws".into(),
                outcome: "applied".into(),
                error: (i == 2).then(|| "throttled".to_string()),
                plan: plan.map(String::from),
            })
            .unwrap();
        }
        let all = s.audit(&AuditFilter::default()).unwrap();
        assert_eq!(all.len(), 3);
        // An intent recorded before its call gets its outcome after.
        s.finish_audit(all[0].seq, "failed", Some("boom")).unwrap();
        let all = s.audit(&AuditFilter::default()).unwrap();
        assert_eq!(
            (all[0].outcome.as_str(), all[0].error.as_deref()),
            ("failed", Some("boom"))
        );
        assert!(all[1].dry_run && !all[0].dry_run);
        assert_eq!(all[2].error.as_deref(), Some("throttled"));
        let f = |f: AuditFilter| s.audit(&f).unwrap().len();
        assert_eq!(
            f(AuditFilter {
                operator: Some("alice".into()),
                ..Default::default()
            }),
            2
        );
        assert_eq!(
            f(AuditFilter {
                context: Some("prod-aws".into()),
                ..Default::default()
            }),
            2
        );
        assert_eq!(
            f(AuditFilter {
                plan: Some("p2".into()),
                ..Default::default()
            }),
            1
        );
        assert_eq!(
            f(AuditFilter {
                since: Some(t(10)),
                ..Default::default()
            }),
            2
        );
    });
}

#[test]
fn documents_compare_and_swap() {
    each("docs", |_, s| {
        assert_eq!(
            s.put_document("demo", "aws", b"one", Some(0)).unwrap(),
            Some(1)
        );
        assert_eq!(
            s.put_document("demo", "aws", b"again", Some(0)).unwrap(),
            None
        );
        assert_eq!(
            s.put_document("demo", "aws", b"two", Some(1)).unwrap(),
            Some(2)
        );
        assert_eq!(
            s.put_document("demo", "aws", b"stale", Some(1)).unwrap(),
            None
        );
        assert_eq!(
            s.put_document("demo", "aws", &[0, 255, 7], None).unwrap(),
            Some(3)
        );
        let d = s.document("demo", "aws").unwrap().unwrap();
        assert_eq!((d.rev, d.body.as_slice()), (3, &[0u8, 255, 7][..]));
        s.put_document("demo", "azure", b"x", None).unwrap();
        s.put_document("sbom", "ami-1", b"{}", None).unwrap();
        let keys: Vec<String> = s
            .documents("demo")
            .unwrap()
            .into_iter()
            .map(|d| d.key)
            .collect();
        assert_eq!(keys, vec!["aws", "azure"]);
        assert!(s.delete_document("demo", "aws").unwrap());
        assert!(!s.delete_document("demo", "aws").unwrap());
        assert!(s.document("demo", "aws").unwrap().is_none());
    });
}

#[test]
fn another_handle_sees_a_change_within_a_second() {
    for (loc, _keep) in stores("watch") {
        let watcher: Arc<dyn Store> = Arc::from(open(&loc).unwrap());
        let mark = watcher.change_mark().unwrap();
        assert!(!watcher
            .wait_change(mark, Duration::from_millis(200))
            .unwrap());
        let w = Arc::clone(&watcher);
        let waiting = std::thread::spawn(move || {
            let start = std::time::Instant::now();
            let changed = w.wait_change(mark, Duration::from_secs(5)).unwrap();
            (changed, start.elapsed())
        });
        std::thread::sleep(Duration::from_millis(300));
        let writer = open(&loc).unwrap();
        writer.put_plan(&plan("p", 1)).unwrap();
        let (changed, waited) = waiting.join().unwrap();
        assert!(changed, "{}", loc.describe());
        // Started waiting 300 ms before the write: seen within a second of it.
        assert!(
            waited < Duration::from_millis(1300),
            "{}: {waited:?}",
            loc.describe()
        );
        assert_ne!(watcher.change_mark().unwrap(), mark);
    }
}

#[test]
fn a_newer_schema_is_refused_naming_both_versions() {
    for (loc, _keep) in stores("newer") {
        drop(open(&loc).unwrap());
        match &loc {
            Location::Sqlite(p) => {
                let c = rusqlite::Connection::open(p).unwrap();
                c.execute("UPDATE meta SET value = '99' WHERE key = 'schema'", [])
                    .unwrap();
            }
            Location::Postgres { url, .. } => {
                let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
                c.execute("UPDATE meta SET value = '99' WHERE key = 'schema'", &[])
                    .unwrap();
            }
        }
        let err = open(&loc).err().expect("refused").to_string();
        assert!(
            err.contains("schema version 99")
                && err.contains(&format!("this drydock's {SCHEMA_VERSION}")),
            "{err}"
        );
        assert!(!err.contains("password"), "{err}");
    }
}

#[test]
fn a_copy_moves_everything_and_refuses_a_different_plan_of_the_same_id() {
    let from_dir = tempfile::tempdir().unwrap();
    let from = open(&Location::Sqlite(from_dir.path().join("a.sqlite"))).unwrap();
    from.put_plan(&plan("p1", 20)).unwrap();
    from.set_status("p1", "paused", "paused by alice", t(3))
        .unwrap();
    from.append_event(&NewEvent {
        plan: "p1".into(),
        at: t(4),
        operator: "alice".into(),
        event: "{}".into(),
    })
    .unwrap();
    from.claim(
        "p1",
        &[Claim {
            resource: "i-1".into(),
            context: "c".into(),
            kind: "vm".into(),
        }],
    )
    .unwrap();
    from.put_document("snapshot", "latest", b"{...}", None)
        .unwrap();
    from.append_audit(&AuditRecord {
        seq: 0,
        at: t(5),
        operator: "alice".into(),
        context: "c".into(),
        operation: "tag".into(),
        target: "i-1".into(),
        dry_run: false,
        confirmation: "yes".into(),
        outcome: "applied".into(),
        error: None,
        plan: None,
    })
    .unwrap();
    let dump = from.export().unwrap();
    for (loc, _keep) in stores("copy") {
        let to = open(&loc).unwrap();
        let n = to.import(&dump).unwrap();
        assert_eq!((n.plans, n.claims, n.audit, n.documents), (1, 1, 1, 1));
        // Again: nothing doubled.
        let again = to.import(&dump).unwrap();
        assert_eq!(
            (
                again.plans,
                again.plans_present,
                again.audit,
                again.documents
            ),
            (0, 1, 0, 0)
        );
        let there = to.export().unwrap();
        assert_eq!(there.plans.len(), 1);
        assert_eq!(there.plans[0].record, dump.plans[0].record);
        assert_eq!(there.plans[0].steps, dump.plans[0].steps);
        assert_eq!(there.plans[0].events.len(), 1);
        assert_eq!(there.claims, dump.claims);
        assert_eq!(there.documents, dump.documents);
        // A different plan under the same id stops the copy before it writes anything.
        let mut other = dump.clone();
        other.plans[0].body = "{\"other\":1}".into();
        other
            .documents
            .push(("sbom".into(), "x".into(), dump.documents[0].2.clone()));
        assert!(matches!(to.import(&other), Err(StoreError::Refused(_))));
        assert!(to.document("sbom", "x").unwrap().is_none());
    }
}

#[test]
fn a_password_in_the_url_never_shows_in_an_error() {
    // Nothing listens on port 1: the connection fails, and says where without the secret.
    let loc = Location::Postgres {
        url: "postgres://ops:s3cr3t-pw@127.0.0.1:1/drydock?connect_timeout=2".into(),
        ca_file: None,
    };
    let err = open(&loc).err().expect("unreachable").to_string();
    assert!(!err.contains("s3cr3t"), "{err}");
    assert!(
        err.contains("postgres://ops:***@127.0.0.1:1/drydock"),
        "{err}"
    );
    assert!(err.contains("check the server is up"), "{err}");
    assert!(!loc.describe().contains("s3cr3t"));
    // A malformed URL neither.
    let bad = Location::Postgres {
        url: "postgres://ops:s3cr3t-pw@[::1/x".into(),
        ca_file: None,
    };
    let err = open(&bad).err().expect("malformed").to_string();
    assert!(!err.contains("s3cr3t"), "{err}");
}

#[test]
fn tls_when_the_url_asks_for_it() {
    // A server of its own with TLS on (a self-signed certificate made by openssl).
    if drydock_testkit::pg::server().is_none() {
        return;
    }
    let Some(cluster) = drydock_testkit::pg::Cluster::start_tls() else {
        panic!("no PostgreSQL server binaries or openssl (tests/run.sh installs them)");
    };
    let url = cluster.url.replace("127.0.0.1", "localhost");
    let tls = Location::Postgres {
        url: format!("{url}?sslmode=require"),
        ca_file: Some(cluster.cert().to_path_buf()),
    };
    let s = open(&tls).unwrap_or_else(|e| panic!("{e}"));
    s.put_document("k", "v", b"over tls", None).unwrap();
    let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let ssl: Vec<bool> = c
        .query("SELECT ssl FROM pg_stat_ssl JOIN pg_stat_activity USING (pid) WHERE application_name = 'drydock'", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(
        !ssl.is_empty() && ssl.iter().all(|s| *s),
        "drydock's sessions use TLS: {ssl:?}"
    );
    // Without the CA that signed it, the server's certificate is refused.
    let untrusted = Location::Postgres {
        url: format!("{url}?sslmode=require"),
        ca_file: None,
    };
    let err = open(&untrusted)
        .err()
        .expect("unverified certificate refused")
        .to_string();
    assert!(
        err.to_lowercase().contains("certificate") || err.contains("tls"),
        "{err}"
    );
}
