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
    img.tags.insert(drydock::sbom::TAG, fifo.to_str().unwrap());
    let started = std::time::Instant::now();
    let found =
        drydock::sbom::lookup(None, &Default::default(), &img).expect("the tag is followed");
    let e = found.expect_err("a FIFO is no SBOM").to_string();
    assert!(e.contains("FIFO"), "{e}");
    assert!(started.elapsed().as_secs() < 2);
    img.tags.insert(drydock::sbom::TAG, "/dev/zero");
    let e = drydock::sbom::lookup(None, &Default::default(), &img)
        .unwrap()
        .unwrap_err()
        .to_string();
    assert!(e.contains("character device"), "{e}");
}

/// An HTTP server on loopback that answers every request with an endless chunked body.
fn endless_chunked_server() -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut c) = conn else { continue };
            std::thread::spawn(move || {
                let mut req = [0u8; 4096];
                let _ = c.read(&mut req);
                let _ = c.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
                );
                let chunk = [b' '; 65536];
                let head = format!("{:x}\r\n", chunk.len());
                loop {
                    if c.write_all(head.as_bytes()).is_err()
                        || c.write_all(&chunk).is_err()
                        || c.write_all(b"\r\n").is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    format!("http://{addr}/list.json")
}

#[test]
fn a_chunked_body_without_a_length_is_bounded_while_reading() {
    let home = tempfile::tempdir().unwrap();
    let url = endless_chunked_server();
    // `inspect --diff URL URL` fetches both sides: each stops at the limit.
    let ran = hostile(home.path(), &["inspect", "--diff", &url, &url]);
    assert_eq!(ran.code, 2, "{}", ran.err);
    assert!(ran.err.contains("larger than"), "{}", ran.err);
    // An image-list subscription at that server: the report goes on without it.
    let config = home.path().join("c.toml");
    std::fs::write(
        &config,
        format!("[[policy.image_lists]]\nname = \"endless\"\nsource = \"{url}\"\n"),
    )
    .unwrap();
    let ran = hostile(
        home.path(),
        &["--config", config.to_str().unwrap(), "report", "--demo"],
    );
    assert!(
        ran.err.contains("larger than") || ran.code <= 1,
        "{}",
        ran.err
    );
}

#[test]
fn config_errors_name_the_line_and_key_and_context_names_are_checked() {
    let home = tempfile::tempdir().unwrap();
    let cases: &[(&str, &[&str])] = &[
        ("[demo]\nlatency_ms = 99999999999999999999\n", &["line 2", "key `demo.latency_ms`"]),
        ("[demo]\nlatency_ms = -5\n", &["line 2", "key `demo.latency_ms`"]),
        ("[[contexts]]\nname = \"a/b\"\n", &["line 2", "contexts[0].name", "\"a/b\""]),
        ("[[contexts]]\nname = \"..\"\n", &["contexts[0].name"]),
        (
            "[[aws.accounts]]\nname = \"\"\nregions = [\"eu-west-1\"]\n",
            &["line 2", "aws.accounts[0].name"],
        ),
        (
            "[[aws.accounts]]\nname = \"x\"\nregions = [\"eu-west-1\"]\n\n[[azure.subscriptions]]\nname = \"x\"\nid = \"00000000-0000-0000-0000-000000000000\"\nlocations = [\"westeurope\"]\n",
            &["line 6", "azure.subscriptions[0].name", "defined twice"],
        ),
        (
            "[[aws.accounts]]\nname = \"demo-aws\"\nregions = [\"eu-west-1\"]\n",
            &["the demo's"],
        ),
    ];
    for (i, (text, expect)) in cases.iter().enumerate() {
        let path = home.path().join(format!("c{i}.toml"));
        std::fs::write(&path, text).unwrap();
        let ran = hostile(home.path(), &["--config", path.to_str().unwrap(), "info"]);
        assert_eq!(ran.code, 2, "{text}: {}", ran.out);
        for e in *expect {
            assert!(ran.err.contains(e), "{text}: expected {e:?} in {}", ran.err);
        }
        assert_eq!(ran.err.lines().count(), 1, "said once: {}", ran.err);
    }
}

#[test]
fn emergency_commands_never_wait_on_an_image_list_server() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    // A plan on the demo, made while no list is subscribed.
    let ran = hostile(h, &["plan", "new", "--demo", "--family", "app-checkout"]);
    assert_eq!(ran.code, 0, "{}", ran.err);
    let id = ran
        .out
        .split_whitespace()
        .nth(1)
        .expect("plan id")
        .to_string();
    // Then a subscription whose server accepts and never answers, and no cached copy.
    let hole = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/list.json", hole.local_addr().unwrap());
    let config = h.join("c.toml");
    std::fs::write(
        &config,
        format!("[[policy.image_lists]]\nname = \"silent\"\nsource = \"{url}\"\n"),
    )
    .unwrap();
    let c = config.to_str().unwrap();
    for args in [
        vec!["--config", c, "plan", "list"],
        vec!["--config", c, "plan", "show", &id],
        vec!["--config", c, "plan", "pause", &id],
        vec!["--config", c, "info"],
        vec!["--config", c, "plan", "abort", &id, "--yes-production"],
    ] {
        let ran = hostile(h, &args);
        assert_eq!(ran.code, 0, "{args:?}: {}", ran.err);
        assert!(ran.secs < 5.0, "{args:?} waited {:.1} s", ran.secs);
    }
    drop(hole);
}
