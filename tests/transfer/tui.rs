//! Transfers from the dashboard's Conversions view: the prompt asks what the gate needs
//! (read-only refuses in place, `y`, a production context's name typed), and the job runs
//! as the runtime runs it, its row showing the image it created.

use crate::common::dash::screen;
use crate::env::{raw_disk, Env};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use drydock::gate::Confirmation;
use drydock::tui::app::Mode;
use drydock::tui::conversions::JobState;
use drydock::tui::logbuf::LogBuffer;
use drydock::tui::{Action, App, AppOptions, Effect};
use std::sync::{Arc, Mutex};

fn key(app: &mut App, k: &str) -> Vec<Effect> {
    let ev = match k {
        "enter" => KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE),
        "esc" => KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE),
        c => KeyEvent::new(KeyCode::Char(c.chars().next().unwrap()), KeyModifiers::NONE),
    };
    app.update(Action::Key(ev))
}

fn typed(app: &mut App, text: &str) -> Vec<Effect> {
    text.chars()
        .flat_map(|c| key(app, &c.to_string()))
        .collect()
}

fn prompt_error(app: &App) -> String {
    match &app.mode {
        Mode::NewConversion(p) => p.error.clone().unwrap_or_default(),
        other => panic!("the prompt closed: {other:?}"),
    }
}

#[test]
fn the_conversions_view_runs_a_transfer_through_the_gate() {
    let env = Env::new();
    std::env::set_var("DRYDOCK_AZURE_TOKEN", "test-token");
    let disk = env.path("d.raw");
    raw_disk(&disk, 16 << 20, 2, 64);
    // The env's config, with `lab` made a production context.
    let cfg = env.home.path().join("config/drydock/config.toml");
    let text = std::fs::read_to_string(&cfg).unwrap().replacen(
        "name = \"lab\"\n",
        "name = \"lab\"\nproduction = true\n",
        1,
    );
    let tui_cfg = env.path("tui.toml");
    std::fs::write(&tui_cfg, text).unwrap();
    let (config, _) = drydock::config::load(Some(&tui_cfg), &[]).unwrap();
    let mut app = App::new(
        AppOptions::from_config(&config, false, chrono::Utc::now()),
        LogBuffer::new(10),
    );
    key(&mut app, "6");
    // A read-only context refuses in place.
    key(&mut app, "n");
    typed(
        &mut app,
        &format!("{} aws:audit/eu-west-1 --name x", disk.display()),
    );
    key(&mut app, "enter");
    assert!(
        prompt_error(&app).contains("read-only"),
        "{}",
        prompt_error(&app)
    );
    key(&mut app, "esc");
    // A production context: the prompt asks for its name; a wrong one is refused by the gate.
    key(&mut app, "n");
    typed(
        &mut app,
        &format!("{} aws:lab/eu-west-1 --name tui-1", disk.display()),
    );
    key(&mut app, "enter");
    assert!(
        prompt_error(&app).contains("type its name"),
        "{}",
        prompt_error(&app)
    );
    typed(&mut app, "lab");
    let effects = key(&mut app, "enter");
    let Some(Effect::Transfer {
        id,
        request,
        confirmation,
        cancel,
    }) = effects.into_iter().next()
    else {
        panic!("no transfer started");
    };
    assert_eq!(confirmation, Confirmation::Typed("lab".into()));
    // Run it as the runtime does, feeding its actions back.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let providers = config
        .aws
        .accounts
        .iter()
        .map(|a| {
            let p = rt.block_on(drydock_aws::AwsProvider::new(a.clone()));
            (
                a.name.clone(),
                Arc::new(p) as Arc<dyn drydock_api::Provider>,
            )
        })
        .collect();
    let sent = Mutex::new(Vec::new());
    drydock::tui::transfers::run_transfer_job(
        id,
        &request,
        &confirmation,
        &app.gate,
        &providers,
        Some(&std::sync::Arc::from(
            drydock_store::open(&drydock_store::Location::Sqlite(
                env.path("data/store.sqlite"),
            ))
            .unwrap(),
        )),
        rt.handle(),
        &cancel,
        &|a| sent.lock().unwrap().push(a),
    );
    for a in sent.into_inner().unwrap() {
        app.update(a);
    }
    let ami = match &app.conversions.jobs[0].state {
        JobState::Done {
            created: Some(ami), ..
        } => ami.clone(),
        other => panic!("{other:?}"),
    };
    assert!(ami.starts_with("ami-"));
    let shown = screen(&mut app, 140, 30);
    assert!(
        shown.contains("(transfer)") && shown.contains(&format!("created {ami}")),
        "{shown}"
    );
    assert!(env.images().iter().any(|i| i["name"] == "tui-1"));
}
