//! The dashboard drawn on ratatui's TestBackend at 120×40 with a fixed clock and the demo
//! fleet: insta snapshots of every view, verdict colours checked cell by cell, and a
//! NO_COLOR rendering that keeps every state readable without colour.

use crate::common;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use drydock::drift::Verdict;
use drydock::tui::logbuf::{LogBuffer, LogLine};
use drydock::tui::theme::{verdict_color, Theme};
use drydock::tui::{ui, Action, App, AppOptions};
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};
use ratatui::Terminal;

fn app() -> App {
    let (config, _) = drydock::config::load(Some(std::path::Path::new("/dev/null")), &[]).unwrap();
    let logs = LogBuffer::new(100);
    for (i, (level, msg)) in [
        (tracing::Level::INFO, "dashboard starting demo=true"),
        (tracing::Level::INFO, "refreshing from 2 provider(s)"),
        (
            tracing::Level::WARN,
            "demo-aws: 111122223333/us-east-1: throttled, retrying",
        ),
        (tracing::Level::INFO, "scan finished: 326 VMs, 57 images"),
    ]
    .into_iter()
    .enumerate()
    {
        logs.push(LogLine {
            time: common::now() + chrono::Duration::seconds(i as i64),
            level,
            target: "drydock::tui::runtime".into(),
            message: msg.into(),
        });
    }
    let mut app = App::new(
        AppOptions {
            context: None,
            ..AppOptions::from_config(
                &{
                    let mut c = config.clone();
                    c.general.readonly = false;
                    c
                },
                false,
                common::now(),
            )
        },
        logs,
    );
    app.start();
    app.update(Action::ScanFinished(Box::new(common::demo_inventory(
        common::now(),
    ))));
    app.update(Action::Tick(common::now() + chrono::Duration::seconds(12)));
    app
}

fn press(app: &mut App, keys: &str) {
    for c in keys.chars() {
        let code = match c {
            '\n' => KeyCode::Enter,
            '\u{1b}' => KeyCode::Esc,
            c => KeyCode::Char(c),
        };
        app.update(Action::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    }
}

fn draw(app: &mut App, color: bool, w: u16, h: u16) -> Buffer {
    app.update(Action::Resize(w, h));
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.draw(|f| ui::draw(f, app, Theme { color })).unwrap();
    term.backend().buffer().clone()
}

fn text(buf: &Buffer) -> String {
    let w = buf.area.width as usize;
    buf.content
        .chunks(w)
        .map(|row| {
            row.iter()
                .map(|c| c.symbol())
                .collect::<String>()
                .trim_end()
                .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn screen(app: &mut App) -> String {
    text(&draw(app, true, 120, 40))
}

#[test]
fn fleet_view() {
    let mut a = app();
    insta::assert_snapshot!(screen(&mut a));
}

#[test]
fn fleet_filtered_with_detail() {
    let mut a = app();
    press(&mut a, "/verdict:outdated\n\n");
    insta::assert_snapshot!(screen(&mut a));
}

#[test]
fn images_view_with_lineage_and_blast_radius() {
    let mut a = app();
    press(&mut a, "2/app-checkout\nd");
    insta::assert_snapshot!(screen(&mut a));
}

#[test]
fn drift_view() {
    let mut a = app();
    press(&mut a, "3");
    insta::assert_snapshot!(screen(&mut a));
}

#[test]
fn log_view() {
    let mut a = app();
    press(&mut a, "4");
    insta::assert_snapshot!(screen(&mut a));
}

#[test]
fn help_popup_lists_keys_of_the_view() {
    let mut a = app();
    press(&mut a, "2?");
    insta::assert_snapshot!(screen(&mut a));
}

#[test]
fn confirm_dialog_shows_blast_radius() {
    let mut a = app();
    press(&mut a, "2/payments-api-2026.7\n D");
    let s = screen(&mut a);
    assert!(s.contains("Deprecate 1 image?"), "{s}");
    assert!(s.contains("Blast radius: 1 image, 12 VMs"), "{s}");
    insta::assert_snapshot!(s);
}

#[test]
fn too_small_terminal_says_so() {
    let mut a = app();
    let s = text(&draw(&mut a, true, 79, 30));
    assert!(
        s.contains("terminal too small: need 80×20, have 79×30"),
        "{s}"
    );
    let s = text(&draw(&mut a, true, 100, 19));
    assert!(s.contains("terminal too small"));
    assert!(!s.contains("Fleet"));
}

#[test]
fn verdicts_are_coloured() {
    let mut a = app();
    let buf = draw(&mut a, true, 120, 40);
    for v in Verdict::ALL {
        let cell = buf
            .content
            .iter()
            .find(|c| c.symbol() == v.symbol())
            .unwrap_or_else(|| panic!("no {v} symbol on screen"));
        assert_eq!(cell.fg, verdict_color(v), "{v}");
        assert_eq!(
            cell.modifier.contains(Modifier::BOLD),
            v >= Verdict::Eol,
            "{v}"
        );
    }
    // The selected row stands out.
    let row5: Vec<_> = buf.content[120 * 5..120 * 6].iter().collect();
    assert!(row5.iter().any(|c| c.bg == Color::DarkGray));
}

#[test]
fn no_color_stays_readable() {
    let mut a = app();
    let buf = draw(&mut a, false, 120, 40);
    assert!(
        buf.content
            .iter()
            .all(|c| c.fg == Color::Reset && c.bg == Color::Reset),
        "no colour at all"
    );
    let s = text(&buf);
    for v in Verdict::ALL {
        assert!(
            s.contains(&format!("{} {}", v.symbol(), v.as_str())),
            "{v} readable without colour"
        );
    }
    let row5 = &buf.content[120 * 5..120 * 6];
    assert!(
        row5.iter().any(|c| c.modifier.contains(Modifier::REVERSED)),
        "selection shown by reverse video"
    );
    assert_eq!(
        s,
        text(&draw(&mut a, true, 120, 40)),
        "same text with and without colour"
    );
}

#[test]
fn readonly_badge_and_production_accent() {
    let (config, _) = drydock::config::load(Some(std::path::Path::new("/dev/null")), &[]).unwrap();
    let mut a = App::new(
        AppOptions {
            context: Some("demo-azure".into()),
            ..AppOptions::from_config(
                &{
                    let mut c = config.clone();
                    c.general.readonly = true;
                    c
                },
                false,
                common::now(),
            )
        },
        LogBuffer::new(10),
    );
    a.start();
    a.update(Action::ScanFinished(Box::new(common::demo_inventory(
        common::now(),
    ))));
    let buf = draw(&mut a, true, 120, 40);
    let s = text(&buf);
    assert!(
        s.lines()
            .next()
            .unwrap()
            .contains("context: demo-azure [DEMO: simulated clouds] [RO]"),
        "{s}"
    );
    assert!(!s.contains("PRODUCTION"));
    assert_eq!(buf.content[1].fg, Color::Blue, "configured accent");
    press(&mut a, ":context demo-aws\n");
    let buf = draw(&mut a, true, 120, 40);
    assert!(text(&buf).lines().next().unwrap().contains("[PRODUCTION]"));
    assert_eq!(buf.content[1].fg, Color::Red, "production is red");
}

#[test]
fn smallest_terminal_still_shows_everything_essential() {
    let mut a = app();
    for keys in ["", "2", "3", "4"] {
        press(&mut a, keys);
        let s = text(&draw(&mut a, true, 80, 20));
        let mut lines = s.lines();
        let top = lines.next().unwrap();
        assert!(top.contains("context: all") && top.contains("DEMO"), "{s}");
        let counts = lines.next().unwrap();
        assert!(
            counts.contains("326 VMs") && counts.contains("⊘ 34") && counts.contains("✓ 100"),
            "{s}"
        );
        // Every view is reachable and named at 80 columns.
        let tabs = lines.next().unwrap();
        for tab in [
            "1 fleet",
            "2 images",
            "3 drift",
            "4 log",
            "5 plans",
            "6 conversions",
        ] {
            assert!(tabs.contains(tab), "{tab}: {s}");
        }
        assert!(s.lines().all(|l| l.chars().count() <= 80));
        assert!(s.lines().last().unwrap().contains("q quit"), "{s}");
    }
}

#[test]
fn images_view_shows_components_and_the_diff_from_sboms() {
    let dir = tempfile::tempdir().unwrap();
    let sbom = |name: &str, kernel: &str, pkgs: serde_json::Value| {
        let path = dir.path().join(name);
        let doc = serde_json::json!({"format": "raw", "virtual_size": 1, "scheme": "gpt", "volumes": [
            {"number": 1, "start": 0, "size": 1, "kind": "Linux", "type_id": "", "name": "root",
             "filesystem": {"kind": "ext4", "readable": true},
             "contents": {"os": "Ubuntu 22.04.5 LTS", "kernels": [kernel], "package_manager": "dpkg", "packages": pkgs}}]});
        std::fs::write(&path, doc.to_string()).unwrap();
        path.to_string_lossy().into_owned()
    };
    let old = sbom(
        "old.json",
        "5.15.0-120",
        serde_json::json!([
            {"name": "nginx", "version": "1.18.0-6", "licenses": ["BSD-2-clause"]},
            {"name": "openssl", "version": "3.0.2-0ubuntu1.15", "licenses": ["Apache-2.0"]}
        ]),
    );
    let new = sbom(
        "new.json",
        "5.15.0-126",
        serde_json::json!([
            {"name": "checkout-app", "version": "2026.11.5", "licenses": []},
            {"name": "nginx", "version": "1.18.0-6", "licenses": ["BSD-2-clause"]},
            {"name": "openssl", "version": "3.0.2-0ubuntu1.18", "licenses": ["Apache-2.0"]}
        ]),
    );
    let mut inv = common::demo_inventory(common::now());
    for img in &mut inv.images {
        match img.tags.get("drydock:version") {
            Some("2026.10.4") if img.name.starts_with("app-checkout") => {
                img.tags.insert("drydock:sbom", old.clone());
            }
            Some("2026.11.5") if img.name.starts_with("app-checkout") => {
                img.tags.insert("drydock:sbom", format!("file://{new}"));
            }
            _ => {}
        }
    }
    let mut a = app();
    a.update(Action::ScanFinished(Box::new(inv)));
    press(&mut a, "2/app-checkout-2026.11\nd");
    let s = text(&draw(&mut a, false, 160, 60));
    assert!(
        s.contains(
            "components: Ubuntu 22.04.5 LTS; kernel 5.15.0-126; 3 packages (2 with licences)"
        ),
        "{s}"
    );
    assert!(
        s.contains("since 2026.10.4: +1 −0 ↑1 ↓0, 0 licence changes"),
        "{s}"
    );
    assert!(s.contains("added: checkout-app"), "{s}");
    assert!(
        s.contains("upgraded: openssl 3.0.2-0ubuntu1.15→3.0.2-0ubuntu1.18"),
        "{s}"
    );
}

#[test]
fn an_sbom_named_by_url_is_fetched_off_the_ui_thread_then_shown() {
    let url = "https://sboms.example.org/app-checkout-2026.11.5.spdx.json";
    let mut inv = common::demo_inventory(common::now());
    for img in &mut inv.images {
        if img.name == "app-checkout-2026.11.5" {
            img.tags.insert("drydock:sbom", url);
        }
    }
    let mut a = app();
    let effects = a.update(Action::ScanFinished(Box::new(inv.clone())));
    let fetch: Vec<&Vec<String>> = effects
        .iter()
        .filter_map(|e| match e {
            drydock::tui::Effect::FetchSboms(u) => Some(u),
            _ => None,
        })
        .collect();
    assert_eq!(
        fetch,
        [&vec![url.to_string()]],
        "one fetch, for the one URL"
    );
    press(&mut a, "2/app-checkout-2026.11\nd");
    let s = text(&draw(&mut a, false, 160, 60));
    assert!(
        s.contains(&format!("components: fetching the SBOM at {url}")),
        "{s}"
    );
    let doc = serde_json::json!({"spdxVersion": "SPDX-2.3", "packages": [
        {"name": "checkout-app", "versionInfo": "2026.11.5", "licenseDeclared": "MIT"}]});
    let components = drydock::inspect::diff::Components::from_json(&doc.to_string()).unwrap();
    a.update(Action::SbomFetched {
        url: url.into(),
        result: Ok(components),
    });
    let s = text(&draw(&mut a, false, 160, 60));
    assert!(s.contains("1 packages (1 with licences)"), "{s}");
    // The next scan does not fetch it again.
    let effects = a.update(Action::ScanFinished(Box::new(inv)));
    assert!(!effects
        .iter()
        .any(|e| matches!(e, drydock::tui::Effect::FetchSboms(_))));
}
