//! Migration plans through the real binary on the simulated cloud, whose state persists in a
//! file between processes: a 200-VM plan end to end, a crash test (SIGKILL at random points,
//! resume each time), fault injection, the wave gate and rollback, the in-use refusal and
//! the read-only refusal.

use crate::common;
use crate::env as plan_env;

use plan_env::*;
use serde_json::Value;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

#[test]
fn a_200_vm_plan_runs_to_completion_and_retires_the_old_image() {
    let env = Env::new(&fleet(false, false), "");
    let old = old_vm_ids(&env);
    assert_eq!(old.len(), 200, "{old:?}");
    let id = env.new_plan(&[]);
    let (code, out, err) = env.cmd(&["plan", "show", &id]);
    assert_eq!(code, 0);
    assert!(
        out.contains("200 VMs replaced (1 scale group, 1 other unit)"),
        "{out}"
    );
    assert!(
        out.contains("wave 1 — 1 VM in 1 unit"),
        "canary first: {out}"
    );
    // Dry run by default: nothing changes.
    let (code, _, err2) = env.cmd(&["plan", "run", &id]);
    assert_eq!(code, 0, "{err2}");
    assert!(err2.contains("would succeed"), "{err2}");
    assert!(env.saved_cloud().is_none());
    let (code, _, err3) = env.run_plan(&id);
    assert_eq!(code, 0, "{err}{err3}");
    assert!(env.status(&id).starts_with("complete"), "{err3}");
    let cloud = env.cloud();
    let target = image_id(&cloud, "svc-1.1");
    assert_no_duplicates_none_lost(&cloud, &old, &target);
    let live_on_target = running_on(&cloud, &target);
    assert_eq!(live_on_target, 200);
    let old_image = image(&cloud, "svc-1.0");
    assert_eq!(old_image["state"], "deregistered");
    let group = &cloud["inventory"]["scale_groups"][0];
    assert_eq!(group["model_image_id"], target.as_str(), "repointed");
    assert_eq!(group["members"].as_array().unwrap().len(), 120);
    // The report agrees: every svc VM is current.
    let r = env.svc_report();
    assert!(r["vms"]
        .as_array()
        .unwrap()
        .iter()
        .all(|v| v["verdict"] == "current"));
}

#[test]
fn sigkill_at_random_points_then_resume_never_duplicates_or_loses_a_vm() {
    // 15 ms per call and a state file written per change: a run lasts a few seconds.
    let env = Env::new(&fleet(false, false), "latency_ms = 15");
    let old = old_vm_ids(&env);
    let id = env.new_plan(&["--concurrency", "2"]);
    let mut rng = 0x2545_f491_4f6c_dd1d_u64;
    let mut kills = 0;
    let start = Instant::now();
    while kills < 25 {
        let mut child = common::drydock_process(env.home.path());
        child
            .args([
                "plan",
                "resume",
                &id,
                "--execute",
                "--yes",
                "--yes-production",
                // The killed run's lease: its process is gone, so it is taken at once.
                "--take-over",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut c = child.spawn().unwrap();
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let wait = Duration::from_millis(40 + rng % 200);
        std::thread::sleep(wait);
        if c.try_wait().unwrap().is_some() {
            break; // finished before the kill
        }
        unsafe {
            libc::kill(c.id() as i32, libc::SIGKILL);
        }
        c.wait().unwrap();
        kills += 1;
        assert!(
            start.elapsed() < Duration::from_secs(240),
            "crash loop too slow"
        );
    }
    assert!(kills >= 20, "only {kills} kills landed mid-run");
    let (code, _, err) = env.cmd(&[
        "plan",
        "resume",
        &id,
        "--take-over",
        "--execute",
        "--yes",
        "--yes-production",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(env.status(&id).starts_with("complete"), "{err}");
    let cloud = env.cloud();
    let target = image_id(&cloud, "svc-1.1");
    assert_no_duplicates_none_lost(&cloud, &old, &target);
    let replaced = running_on(&cloud, &target);
    assert_eq!(replaced, 200, "after {kills} kills");
}

#[test]
fn twenty_percent_transient_faults_and_latency_complete_with_bounded_retries() {
    let env = Env::new(
        &fleet(false, false),
        "latency_ms = 2\nfault_rate = 0.2\nseed = 11",
    );
    let old = old_vm_ids(&env);
    let id = env.new_plan(&[]);
    let (code, _, err) = env.run_plan(&id);
    assert_eq!(code, 0, "{err}");
    assert!(env.status(&id).starts_with("complete"), "{err}");
    let cloud = env.cloud();
    assert_no_duplicates_none_lost(&cloud, &old, &image_id(&cloud, "svc-1.1"));
}

#[test]
fn an_image_still_in_use_is_never_retired() {
    // A stopped VM on 1.0 is left out of the rollout and still uses the image.
    let env = Env::new(&fleet(true, false), "");
    let id = env.new_plan(&[]);
    let (code, _, err) = env.run_plan(&id);
    assert_eq!(code, 1, "blocked: {err}");
    let status = env.status(&id);
    assert!(status.starts_with("blocked"), "{status}");
    assert!(
        status.contains("refusing to deprecate") && status.contains("svc-spare-001"),
        "{status}"
    );
    let cloud = env.cloud();
    let img = image(&cloud, "svc-1.0");
    assert_eq!(img["state"], "available");
    assert!(img.get("deprecation_time").is_none());
}

#[test]
fn read_only_refuses_to_run_a_plan() {
    let env = Env::new(&fleet(false, false), "");
    let id = env.new_plan(&[]);
    let (code, _, err) = env.cmd(&[
        "--readonly",
        "plan",
        "run",
        &id,
        "--execute",
        "--yes",
        "--yes-production",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("read-only"), "{err}");
    assert!(env.saved_cloud().is_none());
    assert!(env.status(&id).starts_with("new"));
}

#[test]
fn the_gate_decides_plan_run_confirmations_per_context() {
    // demo-aws is production (built-in [[contexts]]): --yes alone is not a typed name.
    let env = Env::new(&fleet(false, false), "");
    let id = env.new_plan(&[]);
    let (code, _, err) = env.cmd(&["plan", "run", &id, "--execute", "--yes"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("production context `demo-aws`") && err.contains("--yes-production"),
        "{err}"
    );
    assert!(env.saved_cloud().is_none());
    assert!(env.status(&id).starts_with("new"));
    // A context marked read-only in [[contexts]] refuses, whatever is confirmed, even a
    // dry run names it.
    let ro = Env::new(
        &fleet(false, false),
        "[[contexts]]\nname = \"demo-aws\"\nreadonly = true\n",
    );
    let id = ro.new_plan(&[]);
    for args in [
        vec![
            "plan",
            "run",
            id.as_str(),
            "--execute",
            "--yes",
            "--yes-production",
        ],
        vec!["plan", "run", id.as_str()],
    ] {
        let (code, _, err) = ro.cmd(&args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains("context `demo-aws` is read-only"), "{err}");
    }
    assert!(ro.status(&id).starts_with("new"));
}

#[test]
fn a_failing_wave_pauses_the_plan_and_rollback_keeps_the_old_vms() {
    let env = Env::new(&fleet(false, true), "");
    let old = old_vm_ids(&env);
    let id = env.new_plan(&["--waves", "5,100%"]);
    let (code, _, err) = env.run_plan(&id);
    assert_eq!(code, 1, "{err}");
    let status = env.status(&id);
    assert!(
        status.starts_with("paused") && status.contains("wave gate"),
        "{status}"
    );
    // Failed replacements were removed; every old VM still runs.
    let cloud = env.cloud();
    let running: Vec<&str> = vms(&cloud)
        .iter()
        .filter(|v| v["state"] == "running")
        .map(|v| v["id"].as_str().unwrap())
        .collect();
    assert!(old.iter().all(|o| running.contains(&o.as_str())));
    assert_eq!(running.len(), 200, "no replacement left running");
    let (code, _, err) = env.cmd(&[
        "plan",
        "rollback",
        &id,
        "--execute",
        "--yes",
        "--yes-production",
    ]);
    assert_eq!(code, 0, "{err}");
    // Aborting a plan in a production context is confirmed like any change there:
    // without a terminal to type the name in, only --yes-production does it.
    let (code, _, err) = env.cmd(&["plan", "abort", &id]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--yes-production"), "{err}");
    assert!(!env.status(&id).starts_with("aborted"));
    let (code, _, err) = env.cmd(&["plan", "abort", &id, "--yes-production"]);
    assert_eq!(code, 0, "{err}");
    assert!(env.status(&id).starts_with("aborted"));
}

#[test]
fn without_yes_a_script_stops_at_the_approval_gate_and_can_roll_back() {
    let env = Env::new(&fleet(false, false), "");
    let old = old_vm_ids(&env);
    let id = env.new_plan(&["--waves", "1,100%"]);
    // Non-interactive, no --yes: the run itself needs confirmation.
    let (code, _, err) = env.cmd(&["plan", "run", &id, "--execute"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("--yes-production") || err.contains("--yes"),
        "{err}"
    );
    // Confirmed for production, waves not approved: wave 1 (the canary) runs, then it waits.
    let (code, _, err) = env.cmd(&[
        "plan",
        "run",
        &id,
        "--execute",
        "--yes-production",
        "--events",
        "jsonl",
    ]);
    assert_eq!(code, 0, "{err}");
    let status = env.status(&id);
    assert!(status.starts_with("awaiting_approval"), "{status}");
    let cloud = env.cloud();
    let reps = vms(&cloud)
        .iter()
        .filter(|v| v["tags"]["drydock:replaces"].is_string())
        .count();
    assert_eq!(reps, 1, "only the canary");
    let (code, _, err) = env.cmd(&["plan", "rollback", &id, "--execute", "--yes-production"]);
    assert_eq!(code, 0, "{err}");
    let cloud = env.cloud();
    for o in &old {
        let vm = vms(&cloud).iter().find(|v| v["id"] == o.as_str()).unwrap();
        assert_eq!(vm["state"], "running", "old VM {o} kept");
    }
    let live_reps = vms(&cloud)
        .iter()
        .filter(|v| v["tags"]["drydock:replaces"].is_string() && v["state"] == "running")
        .count();
    assert_eq!(live_reps, 0, "rollback removed the canary's replacement");
    assert!(env.status(&id).starts_with("paused"));
}

#[test]
fn events_jsonl_streams_every_step() {
    let env = Env::new(&fleet(false, false), "");
    let id = env.new_plan(&["--waves", "100%"]);
    let (code, out, err) = env.cmd(&[
        "plan",
        "run",
        &id,
        "--execute",
        "--yes",
        "--yes-production",
        "--events",
        "jsonl",
    ]);
    assert_eq!(code, 0, "{err}");
    let events: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let kind = |k: &str| events.iter().filter(|e| e["event"] == k).count();
    assert_eq!(kind("started"), 1);
    assert_eq!(kind("complete"), 1);
    assert_eq!(kind("rung"), 3);
    let healthy = events
        .iter()
        .filter(|e| e["event"] == "step" && e["state"] == "healthy")
        .count();
    assert_eq!(healthy, 200);
    assert!(Path::new(&env.home.path().join("data/drydock/store.sqlite")).exists());
}

#[test]
fn rebuild_from_a_builder_vm_tags_provenance_and_rolls_onto_it() {
    let env = Env::new(&fleet(false, false), "");
    let old = old_vm_ids(&env);
    let id = env.new_plan(&[
        "--builder-vm",
        "svc-b-001",
        "--to",
        "1.2",
        "--waves",
        "100%",
    ]);
    let (code, out, _) = env.cmd(&["plan", "show", &id]);
    assert_eq!(code, 0);
    assert!(out.contains("rebuild [pending]: svc-1.2"), "{out}");
    let (code, _, err) = env.run_plan(&id);
    assert_eq!(code, 0, "{err}");
    assert!(env.status(&id).starts_with("complete"), "{err}");
    let cloud = env.cloud();
    let new = cloud["inventory"]["images"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "svc-1.2")
        .expect("rebuilt image");
    let tags = &new["tags"];
    assert_eq!(tags["drydock:family"], "svc");
    assert_eq!(tags["drydock:version"], "1.2");
    assert_eq!(tags["drydock:parent"], image_id(&cloud, "svc-1.0").as_str());
    let cm: Vec<String> = serde_json::from_str(tags["cm-source"].as_str().unwrap()).unwrap();
    assert_eq!(cm.len(), 5);
    assert_eq!(cm[2], format!("plan/{id}"));
    let target = new["id"].as_str().unwrap().to_string();
    assert_no_duplicates_none_lost(&cloud, &old, &target);
    // The builder VM was on 1.0 too: it was replaced like the rest.
    let on_new = running_on(&cloud, &target);
    assert_eq!(on_new, 200);
}

#[test]
fn a_builder_command_prints_the_image_id_and_it_gets_provenance() {
    let env = Env::new(&fleet(false, false), "");
    // Before any change there is no state file; the image ids come from the report.
    let (_, out, _) = env.cmd(&["report", "--demo", "--format", "json"]);
    let r: Value = serde_json::from_str(&out).unwrap();
    let built = r["images"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "svc-1.1")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let cmd = format!(
        "echo packer: building $DRYDOCK_FAMILY $DRYDOCK_VERSION >&2; echo 'artifact: {built}'"
    );
    let id = env.new_plan(&[
        "--builder-cmd",
        &cmd,
        "--builder-context",
        "demo-aws",
        "--builder-region",
        "eu-west-1",
        "--to",
        "1.1",
        "--waves",
        "100%",
    ]);
    let (code, _, err) = env.run_plan(&id);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains(&format!("rebuilt: new image {built}")),
        "{err}"
    );
    let cloud = env.cloud();
    let img = cloud["inventory"]["images"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == built.as_str())
        .unwrap();
    assert!(img["tags"]["cm-source"].as_str().unwrap().contains(&id));
}

#[test]
fn health_cmd_failures_within_the_limit_leave_old_vms_and_block_retirement() {
    let env = Env::new(&fleet(false, false), "");
    let id = env.new_plan(&[
        "--health-cmd",
        r#"test "$DRYDOCK_VM_NAME" != svc-b-003 || { echo 'http 503' >&2; exit 1; }"#,
        "--wave-failure-limit",
        "1",
    ]);
    let (code, _, err) = env.run_plan(&id);
    assert_eq!(code, 1, "{err}");
    let status = env.status(&id);
    assert!(
        status.starts_with("blocked") && status.contains("svc-b-003"),
        "{status}"
    );
    let (_, out, _) = env.cmd(&["plan", "show", &id]);
    assert!(out.contains("health_cmd exited 1: http 503"), "{out}");
    let cloud = env.cloud();
    let b3 = vms(&cloud)
        .iter()
        .find(|v| v["name"] == "svc-b-003" && v["tags"]["drydock:replaces"].is_null())
        .unwrap();
    assert_eq!(b3["state"], "running", "the old VM runs on");
}
