//! The binary end to end: exit codes, filters, config errors, snapshots and diffs.

use crate::common;

use common::{drydock, run};
use serde_json::Value;
use std::fs;

fn home() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

fn json(stdout: &str) -> Value {
    serde_json::from_str(stdout).expect("stdout is JSON")
}

#[test]
fn demo_json_lists_300_vms_and_every_verdict() {
    let h = home();
    let (code, out, err) = run(drydock(h.path()).args(["report", "--demo", "--format", "json"]));
    assert_eq!(code, 0, "{err}");
    let doc = json(&out);
    assert_eq!(doc["schema"], "drydock.report/v1");
    let vms = doc["vms"].as_array().unwrap();
    assert!(vms.len() >= 300, "{} VMs", vms.len());
    for verdict in [
        "current",
        "behind",
        "outdated",
        "eol",
        "revoked",
        "unknown",
        "unmanaged",
    ] {
        assert!(
            vms.iter().any(|v| v["verdict"] == verdict),
            "no VM is {verdict}"
        );
        assert!(doc["summary"]["verdicts"][verdict].as_u64().unwrap() > 0);
    }
    assert_eq!(doc["summary"]["vms"].as_u64().unwrap() as usize, vms.len());
    assert!(doc["images"].as_array().unwrap().len() > 40);
    assert!(
        err.is_empty(),
        "report mode writes nothing to stderr: {err}"
    );
}

#[test]
fn fail_on_drives_the_exit_code() {
    let h = home();
    let code = |args: &[&str]| {
        run(drydock(h.path())
            .args(["report", "--demo", "--format", "csv"])
            .args(args))
        .0
    };
    assert_eq!(code(&[]), 0);
    assert_eq!(code(&["--fail-on", "revoked"]), 1);
    assert_eq!(
        code(&["--fail-on", "revoked", "--filter", "!verdict:revoked"]),
        0
    );
    assert_eq!(
        code(&[
            "--fail-on",
            "behind",
            "--filter",
            "verdict:current,unmanaged"
        ]),
        0
    );
    assert_eq!(
        code(&["--fail-on", "unknown", "--filter", "verdict:unknown"]),
        1
    );
    assert_eq!(
        code(&[
            "--fail-on",
            "outdated",
            "--filter",
            "family:batch-* verdict:outdated"
        ]),
        1
    );
    assert_eq!(
        code(&[
            "--fail-on",
            "outdated",
            "--filter",
            "family:batch-* !verdict:outdated"
        ]),
        0
    );
    assert_eq!(code(&["--fail-on", "stale"]), 2);
}

#[test]
fn filter_terms_select_rows() {
    let h = home();
    let (code, out, _) = run(drydock(h.path()).args([
        "report",
        "--demo",
        "--format",
        "json",
        "--filter",
        "verdict:outdated region:eu-* !cloud:azure",
    ]));
    assert_eq!(code, 0);
    let doc = json(&out);
    let vms = doc["vms"].as_array().unwrap();
    assert!(!vms.is_empty());
    for vm in vms {
        assert_eq!(vm["verdict"], "outdated");
        assert!(vm["region"].as_str().unwrap().starts_with("eu-"));
        assert_eq!(vm["cloud"], "aws");
    }
    assert_eq!(doc["filter"], "verdict:outdated region:eu-* !cloud:azure");
    let (code, _, err) =
        run(drydock(h.path()).args(["report", "--demo", "--filter", "colour:red"]));
    assert_eq!(code, 2);
    assert!(err.contains("unknown field `colour`"), "{err}");
    // A typo in a value is an error naming the valid values, never 0 VMs and exit 0:
    // a CI job with a typo must not pass forever.
    for (expr, valid) in [
        (
            "verdict:outdatd",
            "valid values: current, unmanaged, behind, unknown, outdated, eol, revoked",
        ),
        ("cloud:gcp", "valid values: aws, azure"),
        ("!state:runing", "valid values: pending, running"),
    ] {
        let (code, out, err) = run(drydock(h.path()).args([
            "report",
            "--demo",
            "--filter",
            expr,
            "--fail-on",
            "outdated",
        ]));
        assert_eq!(code, 2, "{expr}: {err}");
        assert!(out.is_empty(), "{expr}: no report on stdout");
        assert!(err.contains(valid), "{expr}: {err}");
    }
}

#[test]
fn classes_filter_group_and_judge_the_demo() {
    let h = home();
    let (code, out, err) = run(drydock(h.path()).args([
        "report",
        "--demo",
        "--format",
        "json",
        "--filter",
        "class:dynamic",
    ]));
    assert_eq!(code, 0, "{err}");
    let doc = json(&out);
    let vms = doc["vms"].as_array().unwrap();
    // tools (user data on Ubuntu), sandbox (user data on AL2023), jumpbox (an extension).
    assert_eq!(vms.len(), 24, "{doc:#}");
    for vm in vms {
        assert_eq!(vm["class"], "dynamic");
        assert!(vm["class_reason"]
            .as_str()
            .unwrap()
            .contains("installs software at boot"));
    }
    // The dynamic class's stricter age: tools' 81-day Ubuntu base is outdated for them.
    let tools = vms.iter().find(|v| v["name"] == "tools-001").unwrap();
    assert_eq!(tools["verdict"], "outdated");
    assert!(tools["reason"]
        .as_str()
        .unwrap()
        .contains("(dynamic VMs: max age 45 days)"));
    // Images carry their class too; capsules by tag or by their app tag.
    let (_, out, _) = run(drydock(h.path()).args([
        "report",
        "--demo",
        "--images",
        "--format",
        "json",
        "--filter",
        "class:capsule",
    ]));
    let names: std::collections::BTreeSet<String> = json(&out)["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["family"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        names,
        ["app-checkout", "reporting"].map(String::from).into()
    );
    // Grouped by class.
    let (code, out, _) = run(drydock(h.path()).args(["report", "--demo", "--group-by", "class"]));
    assert_eq!(code, 0);
    for class in ["base", "golden", "capsule", "dynamic"] {
        assert!(
            out.lines().any(|l| l.trim_start().starts_with(class)),
            "{class}: {out}"
        );
    }
}

#[test]
fn malformed_config_names_file_line_and_key() {
    let h = home();
    let cases = [
        (
            "[general]\ncolor = \"auto\"\n\n[policy.defaults]\nmax_age_days = \"ninety\"\n",
            "line 5, key `policy.defaults.max_age_days`",
            "expected u32",
        ),
        (
            "[general]\ncolour = \"never\"\n",
            "line 2, key `general.colour`",
            "expected one of `color`, `readonly`, `log_level`",
        ),
        (
            "[general]\ncolor = \"blue\"\n",
            "line 2, key `general.color`",
            "expected one of `auto`, `always`, `never`",
        ),
        (
            "[[policy.families]]\nname = \"web\"\nmatch_name = \"web-[\"\n",
            "line 3, key `policy.families[0].match_name`",
            "invalid glob `web-[`",
        ),
        (
            "[[policy.classes]]\nclass = \"shiny\"\n",
            "line 2, key `policy.classes[0].class`",
            "unknown variant `shiny`",
        ),
        (
            "[policy.class_limits.dynamic]\nmax_age = 30\n",
            "line 2, key `policy.class_limits.dynamic.max_age`",
            "unknown field `max_age`",
        ),
        (
            "[demo]\nfault_rate = 1.5\n",
            "line 2, key `demo.fault_rate`",
            "allowed: 0.0 to 1.0",
        ),
        ("[general\ncolor = 1\n", "line 1", "invalid table header"),
    ];
    for (text, place, what) in cases {
        let path = h.path().join("bad.toml");
        fs::write(&path, text).unwrap();
        let (code, out, err) =
            run(drydock(h.path()).args(["--config", path.to_str().unwrap(), "report", "--demo"]));
        assert_eq!(code, 2, "{text}");
        assert!(out.is_empty());
        assert!(
            err.contains(path.to_str().unwrap()),
            "file missing in: {err}"
        );
        assert!(err.contains(place), "expected {place:?} in: {err}");
        assert!(err.contains(what), "expected {what:?} in: {err}");
    }
}

#[test]
fn config_layers_file_env_and_flags() {
    let h = home();
    let cfg = h.path().join("config/drydock/config.toml");
    fs::create_dir_all(cfg.parent().unwrap()).unwrap();
    fs::write(&cfg, "[policy.defaults]\nmax_age_days = 30\n").unwrap();
    let outdated = |cmd: &mut assert_cmd::Command| {
        let (code, out, err) = run(cmd.args(["report", "--demo", "--format", "json"]));
        assert_eq!(code, 0, "{err}");
        json(&out)["summary"]["verdicts"]["outdated"]
            .as_u64()
            .unwrap()
    };
    let base = {
        let (_, out, _) = run(drydock(h.path()).args([
            "--config",
            "/dev/null",
            "report",
            "--demo",
            "--format",
            "json",
        ]));
        json(&out)["summary"]["verdicts"]["outdated"]
            .as_u64()
            .unwrap()
    };
    let from_file = outdated(&mut drydock(h.path()));
    assert!(
        from_file > base,
        "XDG config file tightened the age limit ({from_file} vs {base})"
    );
    let from_env = outdated(drydock(h.path()).env("DRYDOCK_POLICY__DEFAULTS__MAX_AGE_DAYS", "400"));
    assert!(from_env < from_file, "env overrides the file");
    let (code, _, err) = run(drydock(h.path())
        .env("DRYDOCK_GENERAL__READONLY", "maybe")
        .args(["info"]));
    assert_eq!(code, 2);
    assert!(
        err.contains("environment variable DRYDOCK_GENERAL__READONLY"),
        "{err}"
    );
    assert!(err.contains("general.readonly"), "{err}");
    let (code, out, _) = run(drydock(h.path()).args(["--readonly", "info", "--show-config"]));
    assert_eq!(code, 0);
    assert!(out.contains(cfg.to_str().unwrap()), "{out}");
    assert!(out.contains("readonly:     true"));
    assert!(out.contains("log file:"));
    assert!(out.contains("max_age_days = 30"));
    let (code, _, err) = run(drydock(h.path()).args(["--config", "/nonexistent/x.toml", "info"]));
    assert_eq!(code, 2);
    assert!(
        err.contains("/nonexistent/x.toml") && err.contains("cannot read it"),
        "{err}"
    );
}

#[test]
fn scan_snapshot_report_and_diff() {
    let h = home();
    let old = h.path().join("old.json");
    let (code, _, err) =
        run(drydock(h.path()).args(["scan", "--demo", "-o", old.to_str().unwrap()]));
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("scanned demo-aws"),
        "progress on stderr: {err}"
    );
    let (code, out, _) = run(drydock(h.path()).args([
        "report",
        "--snapshot",
        old.to_str().unwrap(),
        "--format",
        "json",
    ]));
    assert_eq!(code, 0);
    let from_snapshot = json(&out);
    let (_, out, _) = run(drydock(h.path()).args(["report", "--demo", "--format", "json"]));
    assert_eq!(
        from_snapshot["vms"],
        json(&out)["vms"],
        "a snapshot reports like the live scan"
    );

    // The next scan: one VM gone, one new, an image deprecated.
    let mut snap: Value = serde_json::from_str(&fs::read_to_string(&old).unwrap()).unwrap();
    let vms = snap["vms"].as_array_mut().unwrap();
    let gone = vms.remove(0)["id"].as_str().unwrap().to_string();
    let mut added = vms[0].clone();
    added["id"] = "i-0new0000000000000".into();
    vms.push(added);
    let images = snap["images"].as_array_mut().unwrap();
    let img = images
        .iter_mut()
        .find(|i| i["name"] == "app-checkout-2026.11.5")
        .unwrap();
    img["state"] = "deprecated".into();
    let deprecated = img["id"].as_str().unwrap().to_string();
    let new = h.path().join("new.json");
    fs::write(&new, serde_json::to_string(&snap).unwrap()).unwrap();

    let diff = |extra: &[&str]| {
        run(drydock(h.path())
            .args([
                "report",
                "--diff",
                old.to_str().unwrap(),
                new.to_str().unwrap(),
                "--format",
                "json",
            ])
            .args(extra))
    };
    let (code, out, err) = diff(&[]);
    assert_eq!(code, 0, "{err}");
    let d = json(&out);
    assert_eq!(d["schema"], "drydock.diff/v1");
    let changes = d["changes"].as_array().unwrap();
    let has = |kind: &str, change: &str, id: &str| {
        changes
            .iter()
            .any(|c| c["kind"] == kind && c["change"] == change && c["id"] == id)
    };
    assert!(has("vm", "removed", &gone));
    assert!(has("vm", "added", "i-0new0000000000000"));
    assert!(has("image", "state", &deprecated));
    assert!(changes
        .iter()
        .any(|c| c["change"] == "verdict" && c["from"] == "current" && c["to"] == "revoked"));
    assert_eq!(
        diff(&["--fail-on", "revoked"]).0,
        1,
        "VMs newly revoked fail the diff"
    );
    assert_eq!(
        diff(&["--fail-on", "revoked", "--filter", "!family:app-checkout"]).0,
        0
    );
}

#[test]
fn bad_snapshots_and_missing_sources_exit_2() {
    let h = home();
    let bad = h.path().join("bad.json");
    fs::write(&bad, "{\"schema\": \"drydock.snapshot/v1\",\n \"vms\": [ }").unwrap();
    let (code, _, err) =
        run(drydock(h.path()).args(["report", "--snapshot", bad.to_str().unwrap()]));
    assert_eq!(code, 2);
    assert!(err.contains("bad.json") && err.contains("line 2"), "{err}");
    fs::write(&bad, "{\"schema\": \"other/v9\"}").unwrap();
    let (code, _, err) =
        run(drydock(h.path()).args(["report", "--snapshot", bad.to_str().unwrap()]));
    assert_eq!(code, 2);
    assert!(err.contains("other/v9"), "{err}");
    let (code, _, err) = run(drydock(h.path()).args(["report", "--snapshot", "/nonexistent.json"]));
    assert_eq!(code, 2);
    assert!(err.contains("/nonexistent.json"), "{err}");
    let (code, _, err) = run(drydock(h.path()).args(["report"]));
    assert_eq!(code, 2);
    assert!(err.contains("--demo"), "{err}");
}

#[test]
fn generated_snapshot_is_read_by_report() {
    let h = home();
    let f = h.path().join("big.json");
    let (code, _, err) = run(drydock(h.path()).args([
        "demo",
        "generate",
        "--vms",
        "3000",
        "--images",
        "300",
        "--seed",
        "7",
        "-o",
        f.to_str().unwrap(),
    ]));
    assert_eq!(code, 0, "{err}");
    let (code, out, _) = run(drydock(h.path()).args([
        "report",
        "--snapshot",
        f.to_str().unwrap(),
        "--format",
        "json",
    ]));
    assert_eq!(code, 0);
    let doc = json(&out);
    assert_eq!(doc["summary"]["vms"], 3000);
    assert_eq!(doc["summary"]["images"], 300);
    for verdict in [
        "current",
        "behind",
        "outdated",
        "revoked",
        "unknown",
        "unmanaged",
    ] {
        assert!(
            doc["summary"]["verdicts"][verdict].as_u64().unwrap() > 0,
            "{verdict}"
        );
    }
    // No temp file is left beside the output.
    let leftovers: Vec<_> = fs::read_dir(h.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn colour_only_when_asked_and_never_with_no_color() {
    let h = home();
    let (_, plain, _) = run(drydock(h.path()).args(["report", "--demo"]));
    assert!(!plain.contains('\u{1b}'), "a pipe gets no escape codes");
    assert!(
        plain.contains("⊘ revoked") && plain.contains("✓ current"),
        "symbols carry the verdict"
    );
    let (_, coloured, _) = run(drydock(h.path()).args(["--color", "always", "report", "--demo"]));
    assert!(coloured.contains('\u{1b}'));
}

#[test]
fn a_report_over_an_incomplete_scan_exits_3_unless_partial_is_allowed() {
    let h = home();
    let snap = h.path().join("snap.json");
    let (code, _, err) = run(drydock(h.path()).args(["scan", "--demo", "-o"]).arg(&snap));
    assert_eq!(code, 0, "{err}");
    // Every context of a complete scan has an outcome: ok, with counts.
    let mut doc: Value = serde_json::from_slice(&fs::read(&snap).unwrap()).unwrap();
    let outcomes = doc["outcomes"].as_array_mut().unwrap();
    assert_eq!(outcomes.len(), 2, "{outcomes:?}");
    assert!(outcomes
        .iter()
        .all(|o| o["state"] == "ok" && o["vms"].as_u64() > Some(0)));
    // A third account the scanner was refused in, and a region it could not reach.
    outcomes.push(serde_json::json!({
        "context": "payments", "scope": "eu-west-1", "state": "denied", "vms": 0, "images": 0,
        "duration_ms": 40, "failed_calls": ["DescribeInstances"],
        "reason": "DescribeInstances on payments (eu-west-1) failed: HTTP 403 AccessDenied (assuming arn:aws:iam::111122223333:role/Audit)"
    }));
    outcomes.push(serde_json::json!({
        "context": "payments", "scope": "us-east-1", "state": "ok", "vms": 0, "images": 0,
        "duration_ms": 30
    }));
    fs::write(&snap, serde_json::to_vec(&doc).unwrap()).unwrap();
    let report = |args: &[&str]| {
        run(drydock(h.path())
            .args(["report", "--snapshot"])
            .arg(&snap)
            .args(args))
    };
    let (code, out, _) = report(&["--format", "table"]);
    assert_eq!(code, 3, "an incomplete scan proves no absence of drift");
    assert!(
        out.contains("incomplete scan: 1 of 3 contexts not fully read"),
        "{out}"
    );
    assert!(
        out.contains("payments denied (eu-west-1): DescribeInstances"),
        "{out}"
    );
    assert!(out.contains("role/Audit"), "{out}");
    // JSON: every context with its state; the summary on stderr.
    let (code, out, err) = report(&["--format", "json"]);
    assert_eq!(code, 3);
    let j = json(&out);
    assert_eq!(j["complete"], false);
    let states: Vec<(&str, &str)> = j["contexts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["context"].as_str().unwrap(), c["state"].as_str().unwrap()))
        .collect();
    assert_eq!(
        states,
        [
            ("demo-aws", "ok"),
            ("demo-azure", "ok"),
            ("payments", "denied")
        ]
    );
    assert!(err.contains("payments denied"), "{err}");
    // CSV stays rows only.
    let (code, out, err) = report(&["--format", "csv"]);
    assert_eq!(code, 3);
    assert!(
        !out.contains("incomplete") && err.contains("incomplete scan"),
        "{err}"
    );
    // --allow-partial: the drift codes as if complete.
    let (code, _, _) = report(&["--allow-partial"]);
    assert_eq!(code, 0);
    let (code, _, _) = report(&["--allow-partial", "--fail-on", "outdated"]);
    assert_eq!(code, 1);
}

#[test]
fn a_scan_is_kept_in_the_store_and_read_by_reports_that_cannot_scan() {
    let h = home();
    let (code, _, err) = run(drydock(h.path()).args(["scan", "--demo"]));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("store.sqlite"), "{err}");
    let (_, demo, _) = run(drydock(h.path()).args(["report", "--demo", "--format", "json"]));
    let vms = json(&demo)["summary"]["vms"].clone();
    // No cloud configured here: the fresh shared inventory is the default source.
    let (code, out, err) = run(drydock(h.path()).args(["report", "--format", "json"]));
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("inventory from") && err.contains("--scan scans now"),
        "{err}"
    );
    assert_eq!(json(&out)["summary"]["vms"], vms);
    let (code, out, _) = run(drydock(h.path()).args(["report", "--from-store", "--format", "csv"]));
    assert_eq!(code, 0);
    assert_eq!(out.lines().count() as u64, vms.as_u64().unwrap() + 1);
    // --scan scans (and nothing is configured); a shared age of 0 turns the default off.
    let (code, _, err) = run(drydock(h.path()).args(["report", "--scan"]));
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = run(drydock(h.path())
        .env("DRYDOCK_SCAN__SHARED_MAX_AGE_SECS", "0")
        .args(["report"]));
    assert_eq!(code, 2, "{err}");
    // An empty store says what to run.
    let other = home();
    let (code, _, err) = run(drydock(other.path()).args(["report", "--from-store"]));
    assert_eq!(code, 2);
    assert!(
        err.contains("holds no inventory yet") && err.contains("drydock scan"),
        "{err}"
    );

    // On a team's PostgreSQL: one scanner, another operator with no cloud access reads it.
    let Some(url) = drydock_testkit::pg::database("shared_inventory") else {
        return;
    };
    let scanner = home();
    let (code, _, err) = run(drydock(scanner.path())
        .env("DRYDOCK_STORE_URL", &url)
        .env("DRYDOCK_OPERATOR", "scanner")
        .args(["scan", "--demo"]));
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = run(drydock(other.path()).env("DRYDOCK_STORE_URL", &url).args([
        "report",
        "--from-store",
        "--format",
        "json",
    ]));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("scanned by scanner"), "{err}");
    assert_eq!(json(&out)["summary"]["vms"], vms);
}
