//! The dashboard's Conversions view: the prompt's errors in place, no overwrite without a
//! confirmation, progress right for an empty disk, failed rows keeping their reason — a
//! real conversion run as the runtime runs it, on a disk made by qemu-img.

use crate::common;

use common::dash::screen;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use drydock::tui::app::Mode;
use drydock::tui::conversions::{run_job, JobState};
use drydock::tui::logbuf::LogBuffer;
use drydock::tui::{Action, App, AppOptions, Effect};
use std::sync::Mutex;

fn app() -> App {
    let (config, _) = drydock::config::load(Some(std::path::Path::new("/dev/null")), &[]).unwrap();
    let mut app = App::new(
        AppOptions::from_config(&config, false, common::now()),
        LogBuffer::new(10),
    );
    app.update(Action::Key(key_event("6")));
    app
}

fn key_event(k: &str) -> KeyEvent {
    match k {
        "enter" => KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE),
        "esc" => KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE),
        "backspace" => KeyEvent::new(KeyCode::Backspace, KeyModifiers::NONE),
        c => KeyEvent::new(KeyCode::Char(c.chars().next().unwrap()), KeyModifiers::NONE),
    }
}

fn key(app: &mut App, k: &str) -> Vec<Effect> {
    app.update(Action::Key(key_event(k)))
}

fn typed(app: &mut App, text: &str) {
    for c in text.chars() {
        key(app, &c.to_string());
    }
}

/// The prompt's error, if it is open with one.
fn prompt_error(app: &App) -> Option<String> {
    match &app.mode {
        Mode::NewConversion(p) => p.error.clone(),
        _ => None,
    }
}

/// Starts a conversion from the prompt, runs it as the runtime does and feeds the actions
/// it sends back to the reducer.
fn convert_from_prompt(a: &mut App, line: &str) {
    key(a, "n");
    typed(a, line);
    let Some(Effect::Convert {
        id,
        input,
        output,
        opts,
        cancel,
    }) = key(a, "enter").pop()
    else {
        panic!("no conversion started");
    };
    let actions = Mutex::new(Vec::new());
    run_job(id, &input, &output, &opts, &cancel, &|act| {
        actions.lock().unwrap().push(act)
    });
    for act in actions.into_inner().unwrap() {
        a.update(act);
    }
}

fn qemu_img(args: &[&str]) {
    let out = std::process::Command::new("qemu-img")
        .args(args)
        .output()
        .expect("qemu-img is installed (tests/run.sh installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn prompt_errors_show_in_place_and_the_prompt_stays_open() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.raw");
    std::fs::write(&input, vec![0u8; 1 << 20]).unwrap();
    let mut a = app();
    key(&mut a, "n");
    typed(
        &mut a,
        &format!("{} {}/out.xyz", input.display(), dir.path().display()),
    );
    assert!(key(&mut a, "enter").is_empty());
    let e = prompt_error(&a).expect("an unknown extension is an error in the prompt");
    assert!(e.contains("xyz"), "{e}");
    let s = screen(&mut a, 120, 40);
    assert!(s.contains("✗"), "shown under the prompt:\n{s}");
    // Editing clears it; an unsupported flag is an error too.
    key(&mut a, "backspace");
    assert!(prompt_error(&a).is_none());
    for _ in 0..3 {
        key(&mut a, "backspace");
    }
    typed(&mut a, ".qcow2 --bogus");
    key(&mut a, "enter");
    let e = prompt_error(&a).unwrap();
    assert!(e.contains("unknown option --bogus"), "{e}");
    // A missing input is named.
    let mut b = app();
    key(&mut b, "n");
    typed(&mut b, "/nonexistent.raw /tmp/x.qcow2");
    key(&mut b, "enter");
    assert!(prompt_error(&b).unwrap().contains("no such file"));
}

#[test]
fn an_existing_output_needs_y_or_force() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.raw");
    std::fs::write(&input, vec![1u8; 1 << 20]).unwrap();
    let out = dir.path().join("out.qcow2");
    std::fs::write(&out, b"precious").unwrap();
    let line = format!("{} {}", input.display(), out.display());
    let mut a = app();
    key(&mut a, "n");
    typed(&mut a, &line);
    assert!(key(&mut a, "enter").is_empty(), "not started");
    assert!(prompt_error(&a).unwrap().contains("exists"));
    // `n` (any other key) goes back to editing: nothing starts and the key is not typed.
    assert!(key(&mut a, "n").is_empty());
    assert!(prompt_error(&a).is_none());
    match &a.mode {
        Mode::NewConversion(p) => assert_eq!(p.input.value(), line, "the line is untouched"),
        m => panic!("the prompt closed: {m:?}"),
    }
    key(&mut a, "enter");
    assert!(prompt_error(&a).unwrap().contains("y replaces it"));
    let effects = key(&mut a, "y");
    assert!(
        matches!(effects.as_slice(), [Effect::Convert { output, .. }] if *output == out),
        "{effects:?}"
    );
    assert!(matches!(a.mode, Mode::Normal));
    // --force starts at once.
    let mut b = app();
    key(&mut b, "n");
    typed(&mut b, &format!("{line} --force"));
    assert!(matches!(
        key(&mut b, "enter").as_slice(),
        [Effect::Convert { .. }]
    ));
    assert_eq!(std::fs::read(&out).unwrap(), b"precious", "nothing ran yet");
}

#[test]
fn an_empty_disk_finishes_whole_and_a_failure_keeps_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("empty.qcow2");
    qemu_img(&[
        "create",
        "-q",
        "-f",
        "qcow2",
        input.to_str().unwrap(),
        "64M",
    ]);
    let out = dir.path().join("empty.vhd");
    let mut a = app();
    convert_from_prompt(&mut a, &format!("{} {}", input.display(), out.display()));
    let job = &a.conversions.jobs[0];
    assert!(
        matches!(job.state, JobState::Done { .. }),
        "{:?}",
        job.state
    );
    assert_eq!(job.progress.total, 64 << 20);
    assert_eq!(job.progress.done, 64 << 20);
    let s = screen(&mut a, 120, 40);
    assert!(s.contains("64.0 MiB (0 B of data)"), "{s}");
    assert!(s.contains("100.0%"), "{s}");
    assert!(!s.contains("0 B of 0 B"), "{s}");

    // A corrupt input fails, and the row keeps the reason.
    let bad = dir.path().join("bad.qcow2");
    let mut h = vec![0u8; 4096];
    h[..4].copy_from_slice(b"QFI\xfb");
    h[4..8].copy_from_slice(&3u32.to_be_bytes());
    h[20..24].copy_from_slice(&40u32.to_be_bytes());
    std::fs::write(&bad, &h).unwrap();
    convert_from_prompt(
        &mut a,
        &format!("{} {}/bad.raw", bad.display(), dir.path().display()),
    );
    let job = &a.conversions.jobs[1];
    let JobState::Failed(reason) = &job.state else {
        panic!("{:?}", job.state)
    };
    assert!(reason.contains("cluster_bits 40"), "{reason}");
    let s = screen(&mut a, 120, 40);
    let row = s.lines().find(|l| l.contains("failed")).unwrap();
    assert!(
        row.contains("corrupt header"),
        "the row keeps its reason: {row}"
    );
    assert!(row.contains('…'), "a cut reason says so: {row}");
    // The details of the selected (failed) job hold it in full.
    assert!(s.contains("cluster_bits 40"), "{s}");
}

#[test]
fn a_transfer_between_the_demo_clouds_runs_after_its_confirmation() {
    use drydock::gate::{Confirmation, Gate};
    use drydock_api::Provider;
    use std::collections::HashMap;
    use std::sync::Arc;
    let now = common::now();
    let clouds: HashMap<String, Arc<dyn Provider>> =
        drydock_sim::demo_clouds(now, drydock_sim::SimSettings::default())
            .into_iter()
            .map(|c| (c.name().to_string(), Arc::new(c) as Arc<dyn Provider>))
            .collect();
    let ami = clouds["demo-aws"].clone();
    // (the transfer's readers and writers run on the runtime's workers, as in the dashboard)
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let inv = rt.block_on(ami.scan(&|_| {})).unwrap();
    let source = inv
        .images
        .iter()
        .find(|i| {
            i.tags
                .get("drydock:family")
                .is_some_and(|f| f == "reporting")
                && i.region == "us-east-1"
        })
        .expect("the demo has a reporting image in us-east-1");
    let mut a = app();
    key(&mut a, "n");
    typed(
        &mut a,
        &format!("aws:demo-aws/us-east-1/{} azure:demo-azure/westeurope/golden/reporting --version 2026.12.9", source.id),
    );
    assert!(
        key(&mut a, "enter").is_empty(),
        "the change waits for its confirmation"
    );
    let e = prompt_error(&a).expect("the prompt asks");
    assert!(
        e.contains("creates an image in demo-azure") && e.contains("y confirms"),
        "{e}"
    );
    let Some(Effect::Transfer {
        id,
        request,
        confirmation,
        cancel,
    }) = key(&mut a, "y").pop()
    else {
        panic!("no transfer started");
    };
    assert_eq!(confirmation, Confirmation::Yes);
    let (config, _) = drydock::config::load(Some(std::path::Path::new("/dev/null")), &[]).unwrap();
    let gate = Gate::new(
        &drydock::contexts::Registry::new(&config).with_demo_state(None),
        false,
        false,
    );
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn drydock_store::Store> = Arc::from(
        drydock_store::open(&drydock_store::Location::Sqlite(
            dir.path().join("s.sqlite"),
        ))
        .unwrap(),
    );
    let actions = Mutex::new(Vec::new());
    drydock::tui::transfers::run_transfer_job(
        id,
        &request,
        &confirmation,
        &gate,
        &clouds,
        Some(&store),
        rt.handle(),
        &cancel,
        &|act| actions.lock().unwrap().push(act),
    );
    for act in actions.into_inner().unwrap() {
        a.update(act);
    }
    let job = a.conversions.jobs.last().unwrap();
    assert!(
        matches!(job.state, JobState::Done { .. }),
        "{:?}",
        job.state
    );
    // The demo cloud holds the new gallery version, with the source's provenance.
    let az = rt.block_on(clouds["demo-azure"].scan(&|_| {})).unwrap();
    let made = az
        .images
        .iter()
        .find(|i| {
            i.id.ends_with("/galleries/golden/images/reporting/versions/2026.12.9")
        })
        .expect("the transfer registered the version");
    assert_eq!(&made.tags["drydock:family"], "reporting");
    assert!(made.tags["drydock:source"]
        .starts_with(&format!("aws:demo-aws/us-east-1/{} sha256:", source.id)));
}

#[test]
fn a_job_that_panics_fails_its_row_with_the_message() {
    let mut a = app();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.raw");
    std::fs::write(&input, vec![1u8; 1 << 20]).unwrap();
    key(&mut a, "n");
    typed(
        &mut a,
        &format!("{} {}/o.qcow2", input.display(), dir.path().display()),
    );
    let Some(Effect::Convert { id, .. }) = key(&mut a, "enter").pop() else {
        panic!("no conversion started");
    };
    let actions = Mutex::new(Vec::new());
    drydock::tui::runtime::supervised_job(id, &|act| actions.lock().unwrap().push(act), || {
        panic!("a bug in a writer")
    });
    for act in actions.into_inner().unwrap() {
        a.update(act);
    }
    let JobState::Failed(reason) = &a.conversions.jobs.last().unwrap().state else {
        panic!("{:?}", a.conversions.jobs.last().unwrap().state)
    };
    assert!(reason.contains("a bug in a writer"), "{reason}");
}
