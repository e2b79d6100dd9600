//! A plan whose rebuild transfers the target image from another cloud: the AMI built on AWS
//! becomes the Azure gallery version the rollout uses.

use crate::env::{raw_disk, Env};

#[test]
fn a_plan_rebuilds_by_transferring_an_ami_to_azure_and_rolls_out_onto_it() {
    let env = Env::with_fleet();
    raw_disk(&env.path("golden.raw"), 40 << 20, 2, 128);
    let up = env.transfer(&[
        "golden.raw",
        "aws:lab/eu-west-1",
        "--family",
        "web-base",
        "--version",
        "2026.12.1",
        "--execute",
        "--yes",
    ]);
    let ami = up["created"].as_str().unwrap().to_string();
    let from = format!("aws:lab/eu-west-1/{ami}");
    let (code, out, err) = env.cmd(&[
        "plan",
        "new",
        "--family",
        "web-base",
        "--to",
        "2026.12.1",
        "--from",
        &from,
        "--builder-context",
        "lab-az",
        "--builder-region",
        "westeurope",
        "--gallery",
        "golden",
        "--waves",
        "1,100%",
        "--grace",
        "0s",
        "--undo-window",
        "0s",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(&format!("by transfer from {from}")), "{out}");
    let id = err
        .lines()
        .find_map(|l| l.strip_prefix("wrote "))
        .and_then(|p| std::path::Path::new(p.trim()).file_stem())
        .map(|s| s.to_string_lossy().to_string())
        .expect("plan id");
    // The dry run says what the transfer would create, and creates nothing.
    let (code, _, err) = env.cmd(&["plan", "run", &id]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("transfer") && err.contains("would succeed"),
        "{err}"
    );
    assert_eq!(env.azurite.put_pages(), 0);
    // The run transfers, then rolls out onto the transferred version (web-003 is stopped,
    // so the retire ladder stops at the version it still uses, as in the builder-VM plan).
    let (code, _, err) = env.cmd(&["plan", "run", &id, "--execute", "--yes"]);
    assert!(code == 0 || code == 1, "{err}");
    assert!(err.contains("rebuilt"), "{err}");
    let (_, out, _) = env.cmd(&["report", "--format", "json", "--images"]);
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    let version = doc["images"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| {
            i["id"]
                .as_str()
                .unwrap()
                .ends_with("/web-base/versions/2026.12.1")
        })
        .expect("the transferred gallery version");
    assert!(
        version["tags"]["drydock:source"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{from} sha256:")),
        "{version}"
    );
    assert!(version["tags"]["cm-source"]
        .as_str()
        .unwrap()
        .contains(&format!("plan/{id}")));
    let on_new = crate::seed::vms_on(&doc, "/versions/2026.12.1");
    assert!(
        on_new >= 6,
        "the rollout used the transferred version: {on_new}"
    );
    // The AMI and the gallery version are one build.
    let build = doc["builds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["family"] == "web-base" && b["version"] == "2026.12.1")
        .unwrap();
    assert_eq!(build["clouds"], serde_json::json!(["aws", "azure"]));
    assert_eq!(build["consistent"], true, "{build}");
}

/// A disk with only a private key in /root/.ssh (an error) or nothing at all.
fn disk(env: &Env, name: &str, key: bool) -> String {
    let tree = env.path(&format!("{name}-tree"));
    std::fs::create_dir_all(tree.join("root")).unwrap();
    if key {
        std::fs::create_dir_all(tree.join("root/.ssh")).unwrap();
        std::fs::write(
            tree.join("root/.ssh/id_ed25519"),
            "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
        )
        .unwrap();
    }
    let fs = env.path(&format!("{name}.ext4"));
    crate::disks::ext4(&fs, 8 << 20, &tree, name);
    let raw = env.path(&format!("{name}.raw"));
    crate::disks::mbr_disk(&raw, 10 << 20, &fs);
    raw.to_string_lossy().into_owned()
}

fn plan_from(env: &Env, disk: &str, version: &str) -> String {
    let (code, _, err) = env.cmd(&[
        "plan",
        "new",
        "--family",
        "web-base",
        "--to",
        version,
        "--from",
        disk,
        "--lint",
        "error",
        "--builder-context",
        "lab",
        "--builder-region",
        "eu-west-1",
        "--waves",
        "100%",
        "--grace",
        "0s",
        "--undo-window",
        "0s",
    ]);
    assert_eq!(code, 0, "{err}");
    err.lines()
        .find_map(|l| l.strip_prefix("wrote "))
        .and_then(|p| std::path::Path::new(p.trim()).file_stem())
        .map(|s| s.to_string_lossy().to_string())
        .expect("plan id")
}

#[test]
fn a_rebuild_with_lint_publishes_only_a_clean_disk() {
    let env = Env::with_fleet();
    let dirty = disk(&env, "dirty", true);
    let id = plan_from(&env, &dirty, "2026.12.7");
    // The dry run already says why it would stop.
    let (_, _, err) = env.cmd(&["plan", "run", &id]);
    assert!(
        err.contains("credentials.private-key /root/.ssh/id_ed25519"),
        "{err}"
    );
    let (code, _, err) = env.cmd(&["plan", "run", &id, "--execute", "--yes"]);
    assert_ne!(code, 0);
    assert!(
        err.contains("found 1 finding(s) at or above error, so nothing is published"),
        "{err}"
    );
    let images = |env: &Env| {
        let (_, out, _) = env.cmd(&[
            "report",
            "--format",
            "json",
            "--images",
            "--filter",
            "family:web-base",
        ]);
        let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
        doc["images"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|i| i["version"].as_str().map(String::from))
            .collect::<Vec<_>>()
    };
    assert!(
        !images(&env).contains(&"2026.12.7".to_string()),
        "nothing was registered"
    );
    // A clean disk passes the gate and is published (a plan's id is its family and the
    // second it was made: the next one waits for a new second).
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let clean = disk(&env, "clean", false);
    let id = plan_from(&env, &clean, "2026.12.8");
    let (code, _, err) = env.cmd(&["plan", "run", &id, "--execute", "--yes"]);
    assert!(code == 0 || code == 1, "{err}");
    assert!(err.contains("rebuilt"), "{err}");
    assert!(images(&env).contains(&"2026.12.8".to_string()));
    // The published disk's SBOM was recorded in the store, under the new AMI's id.
    let recorded: Vec<String> = drydock_store::open(&drydock_store::Location::Sqlite(
        env.path("data/drydock/store.sqlite"),
    ))
    .unwrap()
    .documents(drydock::sbom::KIND)
    .unwrap()
    .into_iter()
    .map(|d| d.key)
    .collect();
    assert!(
        recorded.iter().any(|n| n.starts_with("ami-")),
        "{recorded:?}"
    );
    // A lint gate on a cloud-built image is refused when the plan is made.
    let (code, _, err) = env.cmd(&[
        "plan",
        "new",
        "--family",
        "web-base",
        "--to",
        "2026.12.9",
        "--from",
        "aws:lab/eu-west-1/ami-0123456789abcdef0",
        "--lint",
        "error",
        "--builder-context",
        "lab",
        "--builder-region",
        "eu-west-1",
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("rebuild lint needs the image as a local disk"),
        "{err}"
    );
}
