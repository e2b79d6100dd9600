//! Two operators (two processes, different `DRYDOCK_OPERATOR`) sharing one PostgreSQL
//! store and one simulated cloud behind 150 ms latency and 5 % faults: one run at a time,
//! take-overs after SIGKILL and after a frozen holder's TTL (the frozen one stops before its
//! next cloud call when it wakes), a server restart mid-plan, and the audit log matching
//! the cloud.

use crate::common::drydock_process;
use crate::env as plan_env;
use drydock_testkit::pg;
use plan_env::*;
use serde_json::Value;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

const SLOW: &str = "latency_ms = 150\nfault_rate = 0.05";

fn env(tag: &str, ttl: &str) -> Option<Env> {
    let url = pg::database(tag)?;
    Some(Env::on_postgres(&fleet(false, false), SLOW, &url, ttl))
}

/// `plan resume ID --execute --yes --yes-production [--take-over]` as `operator`.
fn spawn(env: &Env, operator: &str, id: &str, take_over: bool) -> Child {
    let mut c = drydock_process(env.home.path());
    c.env("DRYDOCK_OPERATOR", operator)
        .args([
            "plan",
            "resume",
            id,
            "--execute",
            "--yes",
            "--yes-production",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if take_over {
        c.arg("--take-over");
    }
    c.spawn().unwrap()
}

fn finish(c: Child) -> (i32, String) {
    let out = c.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn check_cloud(env: &Env, old: &[String]) -> Value {
    let cloud = env.cloud();
    let target = image_id(&cloud, "svc-1.1");
    assert_no_duplicates_none_lost(&cloud, old, &target);
    cloud
}

#[test]
fn a_concurrent_second_run_is_refused_naming_the_holder() {
    let Some(env) = env("concurrent", "60s") else {
        return;
    };
    let old = old_vm_ids(&env);
    let id = env.new_plan(&["--waves", "100%"]);
    let a = spawn(&env, "alice", &id, false);
    std::thread::sleep(Duration::from_millis(1500));
    let (code, err) = finish(spawn(&env, "bob", &id, false));
    assert_ne!(code, 0, "{err}");
    assert!(err.contains("is being run by alice"), "{err}");
    assert!(err.contains("last heartbeat"), "{err}");
    let (code, err) = finish(a);
    assert_eq!(code, 0, "{err}");
    assert!(env.status(&id).starts_with("complete"), "{err}");
    check_cloud(&env, &old);
}

#[test]
fn twenty_kills_then_another_operator_takes_over_without_duplicates_or_losses() {
    let Some(env) = env("kills", "60s") else {
        return;
    };
    let old = old_vm_ids(&env);
    let id = env.new_plan(&["--concurrency", "8"]);
    let mut rng = 0x9e37_79b9_7f4a_7c15_u64;
    let mut kills = 0;
    let start = Instant::now();
    while kills < 20 {
        let mut c = spawn(
            &env,
            if kills % 2 == 0 { "alice" } else { "bob" },
            &id,
            true,
        );
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        std::thread::sleep(Duration::from_millis(400 + rng % 900));
        if c.try_wait().unwrap().is_some() {
            break;
        }
        unsafe {
            libc::kill(c.id() as i32, libc::SIGKILL);
        }
        c.wait().unwrap();
        kills += 1;
        assert!(start.elapsed() < Duration::from_secs(300), "too slow");
    }
    assert!(kills >= 15, "only {kills} kills landed mid-run");
    let (code, err) = finish(spawn(&env, "carol", &id, true));
    assert_eq!(code, 0, "{err}");
    assert!(env.status(&id).starts_with("complete"), "{err}");
    let cloud = check_cloud(&env, &old);
    // Every mutation in the cloud has its audit row, and every applied row its mutation.
    let (_, out, _) = env.cmd(&["audit", "--format", "json", "--plan", &id]);
    let audit: Vec<Value> = serde_json::from_str(&out).unwrap();
    let launched: std::collections::HashSet<&str> = audit
        .iter()
        .filter(|a| {
            a["operation"] == "launch replacement"
                && (a["outcome"] == "applied" || a["outcome"] == "adopted")
        })
        .map(|a| a["target"].as_str().unwrap())
        .collect();
    let replaced: std::collections::HashSet<&str> = vms(&cloud)
        .iter()
        .filter_map(|v| v["tags"]["drydock:replaces"].as_str())
        .collect();
    // A launch whose answer was lost (a fault after the change) is audited `failed`, then
    // `applied` when the idempotent retry finds it; one whose process was killed mid-call
    // stays `started` until the next run finds it in the cloud (`adopted`).
    for r in &replaced {
        assert!(launched.contains(r), "replacement of {r} has no audit row");
    }
    for l in &launched {
        assert!(replaced.contains(l), "audit row for {l} but no replacement");
    }
    for a in &audit {
        assert!(
            ["alice", "bob", "carol"].contains(&a["operator"].as_str().unwrap()),
            "{a}"
        );
    }
}

#[test]
fn a_frozen_holder_is_taken_over_after_the_ttl_and_stops_when_it_wakes() {
    let Some(env) = env("frozen", "3s") else {
        return;
    };
    let old = old_vm_ids(&env);
    let id = env.new_plan(&["--waves", "100%", "--concurrency", "4"]);
    let a = spawn(&env, "alice", &id, false);
    std::thread::sleep(Duration::from_millis(1500));
    unsafe {
        libc::kill(a.id() as i32, libc::SIGSTOP);
    }
    // Still within the TTL: refused, naming the holder.
    let (code, err) = finish(spawn(&env, "bob", &id, true));
    assert_ne!(code, 0, "{err}");
    assert!(err.contains("is being run by alice"), "{err}");
    std::thread::sleep(Duration::from_secs(4));
    let b = spawn(&env, "bob", &id, true);
    std::thread::sleep(Duration::from_millis(1500));
    unsafe {
        libc::kill(a.id() as i32, libc::SIGCONT);
    }
    let (code_a, err_a) = finish(a);
    assert_ne!(code_a, 0, "the frozen holder must stop: {err_a}");
    assert!(err_a.contains("no longer holds the lease"), "{err_a}");
    let (code_b, err_b) = finish(b);
    assert_eq!(code_b, 0, "{err_b}");
    assert!(
        err_b.contains("took over") || env.status(&id).starts_with("complete"),
        "{err_b}"
    );
    assert!(env.status(&id).starts_with("complete"));
    check_cloud(&env, &old);
}

#[test]
fn a_server_restart_mid_plan_pauses_with_a_clear_error_and_resume_duplicates_nothing() {
    // A server of its own: restarting the shared one would break the other tests.
    if pg::server().is_none() {
        return;
    }
    let cluster =
        pg::Cluster::start().expect("PostgreSQL server binaries (tests/run.sh installs them)");
    let env = Env::on_postgres(&fleet(false, false), SLOW, &cluster.url, "5s");
    let old = old_vm_ids(&env);
    let id = env.new_plan(&["--waves", "100%", "--concurrency", "4"]);
    let a = spawn(&env, "alice", &id, false);
    std::thread::sleep(Duration::from_millis(1500));
    // Down for 15 s: longer than the lease TTL and than the retries of a cloud call whose
    // simulated state is unreachable ride out (about 11 s), so the run must stop.
    assert!(cluster.restart_after(Duration::from_secs(15)));
    let (code, err) = finish(a);
    assert_ne!(code, 0, "{err}");
    // Whichever noticed first: a journal write, or the lease it could not renew.
    assert!(
        (err.contains("store call") && err.contains("connection was lost"))
            || err.contains("could not renew the lease for 5s (is the store reachable?)"),
        "a clear error: {err}"
    );
    assert!(err.lines().count() <= 6, "a line or two: {err}");
    let (code, err) = finish(spawn(&env, "alice", &id, true));
    assert_eq!(code, 0, "{err}");
    assert!(env.status(&id).starts_with("complete"), "{err}");
    check_cloud(&env, &old);
}
