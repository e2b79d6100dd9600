//! Transfers on the demo clouds, with no cloud account: a newcomer sees what a transfer
//! would create, downloads a demo image's synthetic disk into a file qemu-img accepts, and
//! publishes it into the other demo cloud, where the next report finds it with its provenance.

use crate::common::{drydock, run};
use std::path::Path;

fn report_images(home: &Path) -> Vec<serde_json::Value> {
    let (_, out, err) =
        run(drydock(home).args(["report", "--demo", "--images", "--format", "json"]));
    let doc: serde_json::Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {err}"));
    doc["images"].as_array().unwrap().clone()
}

#[test]
fn a_demo_image_moves_between_the_demo_clouds_and_to_a_file() {
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    let source = report_images(home)
        .into_iter()
        .find(|i| i["family"] == "reporting" && i["cloud"] == "aws" && i["region"] == "us-east-1")
        .expect("the demo has a reporting image in us-east-1");
    let ami = source["id"].as_str().unwrap().to_string();
    let from = format!("aws:demo-aws/us-east-1/{ami}");
    let to = "azure:demo-azure/westeurope/golden/reporting";
    // The dry run says what would be created, and creates nothing.
    let (code, out, err) =
        run(drydock(home).args(["transfer", &from, to, "--version", "2026.12.9"]));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("dry run") && out.contains("8.0 GiB virtual"),
        "{out}"
    );
    assert!(
        out.contains("versions/2026.12.9") && out.contains("nothing was created"),
        "{out}"
    );
    assert!(!report_images(home)
        .iter()
        .any(|i| i["version"] == "2026.12.9"));
    // A download writes a disk qemu-img checks clean, with an MBR, and keeps the provenance.
    let file = home.join("reporting.qcow2");
    let (code, out, err) = run(drydock(home).arg("transfer").arg(&from).arg(&file));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("13.0 MiB of data"), "{out}");
    let check = std::process::Command::new("qemu-img")
        .arg("check")
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    let (code, out, err) = run(drydock(home).arg("inspect").arg(&file));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("MBR partition table"), "{out}");
    let side = std::fs::read_to_string(home.join("reporting.qcow2.provenance.json")).unwrap();
    assert!(
        side.contains("\"drydock:family\": \"reporting\"") && side.contains(&ami),
        "{side}"
    );
    // Executed, the demo Azure cloud holds the new version, found by the next process.
    let (code, out, err) = run(drydock(home).args([
        "transfer",
        &from,
        to,
        "--version",
        "2026.12.9",
        "--execute",
        "--yes",
    ]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("created /subscriptions/"), "{out}");
    let made = report_images(home)
        .into_iter()
        .find(|i| i["cloud"] == "azure" && i["version"] == "2026.12.9")
        .expect("the next report sees the new version");
    assert_eq!(made["family"], "reporting");
    let src = made["tags"]["drydock:source"].as_str().unwrap();
    assert!(src.starts_with(&format!("{from} sha256:")), "{src}");
    // The same version again is refused before anything is written.
    let (code, _, err) = run(drydock(home).args([
        "transfer",
        &from,
        to,
        "--version",
        "2026.12.9",
        "--execute",
        "--yes",
    ]));
    assert_eq!(code, 2);
    assert!(err.contains("already exists"), "{err}");
    // A place the demo cloud does not have is named with the ones it has.
    let (code, _, err) = run(drydock(home).args([
        "transfer",
        file.to_str().unwrap(),
        "azure:demo-azure/mars/golden/reporting",
        "--version",
        "1",
    ]));
    assert_eq!(code, 2);
    assert!(
        err.contains("no location mars") && err.contains("westeurope"),
        "{err}"
    );
}
