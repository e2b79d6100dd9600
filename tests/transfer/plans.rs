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
