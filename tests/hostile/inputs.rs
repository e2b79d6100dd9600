//! Input is a regular file unless it says otherwise: a FIFO, a device, a directory or an
//! empty file given where drydock reads a disk, a config, a snapshot, a plan, an SBOM or an
//! image list is refused at once by what it is (no open that blocks with signals unanswered,
//! no device read as an endless or empty disk).

use crate::{hostile, mkfifo};

/// Every command that reads a file named on its command line, with `{}` for the file.
const READERS: &[&[&str]] = &[
    &["convert", "--check", "{}"],
    &["convert", "{}", "out.raw"],
    &["inspect", "{}"],
    &["inspect", "{}", "--format", "spdx"],
    &["lint", "{}"],
    &["inspect", "--diff", "{}", "{}"],
    &["report", "--snapshot", "{}"],
    &["report", "--diff", "{}", "{}"],
    &["--config", "{}", "report", "--demo"],
    &["plan", "show", "{}"],
    &["transfer", "{}", "out.raw"],
    &["ova", "unpack", "{}", "unpacked"],
];

fn with(args: &[&str], file: &str) -> Vec<String> {
    args.iter().map(|a| a.replace("{}", file)).collect()
}

#[test]
fn a_fifo_a_device_a_directory_or_an_empty_file_is_refused_by_what_it_is() {
    let home = tempfile::tempdir().unwrap();
    let fifo = home.path().join("pipe");
    mkfifo(&fifo);
    std::fs::write(home.path().join("empty"), b"").unwrap();
    std::fs::create_dir(home.path().join("dir")).unwrap();
    let cases: &[(&str, &[&str])] = &[
        (fifo.to_str().unwrap(), &["FIFO"]),
        ("/dev/zero", &["character device"]),
        ("/dev/full", &["character device"]),
        ("dir", &["directory"]),
        // An empty file is no disk, no config that was meant, no snapshot, no plan.
        (
            "empty",
            &[
                "empty",
                "not valid",
                "missing",
                "EOF",
                "expected",
                "parse",
                "not a",
            ],
        ),
    ];
    for (file, expect) in cases {
        for args in READERS {
            let args = with(args, file);
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let ran = hostile(home.path(), &args);
            // An empty config is a valid config: the demo report succeeds.
            if *file == "empty" && args[0] == "--config" {
                assert!(ran.code == 0 || ran.code == 1, "{args:?}: {}", ran.err);
                continue;
            }
            assert_eq!(
                ran.code, 2,
                "{args:?} should fail:\n{}\n{}",
                ran.out, ran.err
            );
            assert!(
                expect.iter().any(|e| ran.err.contains(e)),
                "{args:?}: the error should say what {file} is:\n{}",
                ran.err
            );
            assert!(ran.secs < 10.0, "{args:?} took {:.1} s", ran.secs);
        }
    }
}

#[test]
fn an_sbom_tag_naming_a_fifo_or_a_device_is_refused_without_blocking() {
    // A snapshot whose image names a FIFO and /dev/zero as its SBOM: the report reads on.
    let home = tempfile::tempdir().unwrap();
    let fifo = home.path().join("sbom-pipe");
    mkfifo(&fifo);
    let snap = home.path().join("snap.json");
    let ran = hostile(
        home.path(),
        &[
            "demo",
            "generate",
            "--vms",
            "20",
            "--images",
            "4",
            "-o",
            snap.to_str().unwrap(),
        ],
    );
    assert_eq!(ran.code, 0, "{}", ran.err);
    let mut doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&snap).unwrap()).unwrap();
    let images = doc["images"].as_array_mut().unwrap();
    images[0]["tags"]["drydock:sbom"] = fifo.to_str().unwrap().into();
    images[1]["tags"]["drydock:sbom"] = "/dev/zero".into();
    std::fs::write(&snap, serde_json::to_vec(&doc).unwrap()).unwrap();
    let ran = hostile(
        home.path(),
        &["report", "--images", "--snapshot", snap.to_str().unwrap()],
    );
    assert!(ran.code <= 1, "{}", ran.err);
}

#[test]
fn the_dashboards_sbom_lookup_refuses_a_fifo_at_once() {
    let home = tempfile::tempdir().unwrap();
    let fifo = home.path().join("sbom-pipe");
    mkfifo(&fifo);
    let inv = crate::common::demo_inventory(crate::common::now());
    let mut img = inv.images[0].clone();
    img.tags
        .insert(drydock::sbom::TAG.into(), fifo.to_str().unwrap().into());
    let started = std::time::Instant::now();
    let found = drydock::sbom::lookup(None, &img).expect("the tag is followed");
    let e = found.expect_err("a FIFO is no SBOM").to_string();
    assert!(e.contains("FIFO"), "{e}");
    assert!(started.elapsed().as_secs() < 2);
    img.tags
        .insert(drydock::sbom::TAG.into(), "/dev/zero".into());
    let e = drydock::sbom::lookup(None, &img)
        .unwrap()
        .unwrap_err()
        .to_string();
    assert!(e.contains("character device"), "{e}");
}
