//! The dashboard's reducer, driven by actions as the runtime would: keys, scans, results.

use crate::common;

use crossterm::event::KeyModifiers;
use drydock::tui::app::{ExportFormat, Mode};
use drydock::tui::keymap::View;
use drydock::tui::{Action, App, Effect};

use common::dash::{key, typed};

fn app_with(readonly: bool, context: Option<&str>) -> App {
    common::dash::app_with(readonly, context)
}

fn app() -> App {
    app_with(false, None)
}

#[test]
fn class_filters_the_fleet_and_the_images() {
    let mut a = app();
    key(&mut a, "/");
    typed(&mut a, "class:dynamic");
    key(&mut a, "enter");
    assert_eq!(a.fleet.rows.shown.len(), 24);
    for &i in &a.fleet.rows.shown {
        assert_eq!(
            a.data.as_ref().unwrap().a.vm_classes[i as usize]
                .class
                .as_str(),
            "dynamic"
        );
    }
    key(&mut a, "esc");
    key(&mut a, "2");
    key(&mut a, "/");
    typed(&mut a, "class:capsule");
    key(&mut a, "enter");
    let d = a.data.as_ref().unwrap();
    assert!(!a.images.rows.shown.is_empty());
    for &i in &a.images.rows.shown {
        let fam = d.a.images[i as usize].family.as_deref();
        assert!(matches!(fam, Some("app-checkout" | "reporting")), "{fam:?}");
    }
}

#[test]
fn scan_fills_every_view_and_records_history() {
    let mut a = app_with(false, None);
    assert!(!a.refresh.running);
    assert_eq!(a.fleet.rows.shown.len(), 326);
    assert_eq!(a.images.rows.shown.len(), 57);
    assert_eq!(a.history.len(), 1);
    let effects = a.update(Action::ScanFinished(Box::new(common::demo_inventory(
        common::now(),
    ))));
    assert!(matches!(effects.as_slice(), [Effect::RecordHistory(_)]));
    assert_eq!(a.history.len(), 2);
}

/// The rows a filter typed key by key shows (narrowed from the last rows where it can) are
/// the rows the same text shows when applied afresh to the whole fleet, in the same order.
#[test]
fn a_filter_typed_key_by_key_shows_what_it_shows_applied_afresh() {
    let mut a = app();
    key(&mut a, "s");
    key(&mut a, "/");
    let text = "vm web-0 !eu- verdict:outdated";
    let fresh = |a: &App, upto: &str| -> Vec<u32> {
        let f = drydock::report::Filter::parse(upto).unwrap();
        let d = a.data.as_ref().unwrap();
        let rows = &a.fleet.rows.ordered;
        rows.iter()
            .copied()
            .filter(|&i| f.matches(&d.vm(i)))
            .collect()
    };
    let mut checked = 0;
    for n in 1..=text.len() {
        key(&mut a, &text[n - 1..n].replace(' ', "space"));
        if a.filter_error.is_none() {
            assert_eq!(
                a.fleet.rows.shown,
                fresh(&a, &text[..n]),
                "after `{}`",
                &text[..n]
            );
            checked += 1;
        }
    }
    assert!(checked > 20, "{checked} steps had a valid filter");
    for n in (1..text.len()).rev().take(12) {
        key(&mut a, "backspace");
        if a.filter_error.is_none() {
            assert_eq!(
                a.fleet.rows.shown,
                fresh(&a, &text[..n]),
                "back to `{}`",
                &text[..n]
            );
        }
    }
}

#[test]
fn filter_is_live_and_esc_clears_it() {
    let mut a = app();
    key(&mut a, "/");
    assert!(matches!(a.mode, Mode::Filter(_)));
    typed(&mut a, "verdict:outdated");
    assert_eq!(a.fleet.rows.shown.len(), 42, "filtered while typing");
    key(&mut a, "enter");
    assert!(matches!(a.mode, Mode::Normal));
    assert_eq!(a.fleet.rows.filter.to_string(), "verdict:outdated");
    key(&mut a, "/");
    typed(&mut a, " !region:eu-*");
    key(&mut a, "enter");
    assert!(a.fleet.rows.shown.len() < 42);
    key(&mut a, "esc");
    assert_eq!(a.fleet.rows.shown.len(), 326);
    // A bad term keeps the previous filter and says why, live while typing; enter
    // keeps the prompt open with the error instead of silently filtering.
    key(&mut a, "/");
    typed(&mut a, "colour:red");
    assert!(
        a.filter_error
            .as_deref()
            .unwrap_or("")
            .contains("unknown field"),
        "{:?}",
        a.filter_error
    );
    key(&mut a, "enter");
    assert!(matches!(a.mode, Mode::Filter(_)), "prompt stays open");
    assert!(a.filter_error.is_some());
    key(&mut a, "esc");
    assert!(a.filter_error.is_none());
    // A value no field takes is an error naming the valid ones, not 0 rows.
    key(&mut a, "/");
    typed(&mut a, "verdict:outdatd");
    let e = a.filter_error.clone().unwrap_or_default();
    assert!(
        e.contains("valid values: current, unmanaged, behind"),
        "{e}"
    );
    assert_ne!(a.fleet.rows.filter.to_string(), "verdict:outdatd");
    for _ in 0..2 {
        key(&mut a, "backspace");
    }
    typed(&mut a, "ted");
    assert!(a.filter_error.is_none(), "{:?}", a.filter_error);
}

#[test]
fn sorting_cycles_columns_and_reverses() {
    let mut a = app();
    let d = a.data.as_ref().unwrap();
    let first = |a: &App| {
        a.data.as_ref().unwrap().inv.vms[a.fleet.rows.shown[0] as usize]
            .name
            .clone()
    };
    assert_eq!(
        d.a.vms[a.fleet.rows.shown[0] as usize].verdict,
        drydock::drift::Verdict::Revoked
    );
    key(&mut a, "s");
    assert_eq!(a.fleet.sort, drydock::tui::fleet::Column::Name);
    assert!(a.fleet.ascending);
    assert_eq!(first(&a), "bastion-001");
    key(&mut a, "S");
    assert!(!a.fleet.ascending);
    assert_eq!(first(&a), "web-old-020");
}

#[test]
fn navigation_views_and_palette() {
    let mut a = app();
    key(&mut a, "j");
    key(&mut a, "j");
    assert_eq!(a.fleet.rows.list.selected, 2);
    key(&mut a, "G");
    assert_eq!(a.fleet.rows.list.selected, 325);
    key(&mut a, "g");
    assert_eq!(a.fleet.rows.list.selected, 325, "one g is only a prefix");
    key(&mut a, "g");
    assert_eq!(a.fleet.rows.list.selected, 0);
    key(&mut a, "2");
    assert_eq!(a.view, View::Images);
    key(&mut a, "4");
    assert_eq!(a.view, View::Log);
    key(&mut a, ":");
    typed(&mut a, "dri");
    key(&mut a, "tab");
    match &a.mode {
        Mode::Palette(input) => assert_eq!(input.value(), "drift"),
        m => panic!("palette closed: {m:?}"),
    }
    key(&mut a, "enter");
    assert_eq!(a.view, View::Drift);
    key(&mut a, "a");
    assert!(a.drift_by_region);
    key(&mut a, ":");
    typed(&mut a, "sort age");
    key(&mut a, "enter");
    assert_eq!(a.view, View::Fleet);
    assert_eq!(a.fleet.sort, drydock::tui::fleet::Column::Age);
    key(&mut a, ":");
    typed(&mut a, "context demo-azure");
    key(&mut a, "enter");
    assert_eq!(a.context.as_deref(), Some("demo-azure"));
    assert_eq!(a.fleet.rows.shown.len(), 84);
    key(&mut a, ":");
    typed(&mut a, "context nowhere");
    key(&mut a, "enter");
    assert!(a.status.as_deref().unwrap().contains("unknown context"));
    key(&mut a, ":");
    typed(&mut a, "frobnicate");
    key(&mut a, "enter");
    assert!(a.status.as_deref().unwrap().contains("unknown command"));
}

#[test]
fn help_detail_json_and_quit() {
    let mut a = app();
    key(&mut a, "?");
    assert!(matches!(a.mode, Mode::Help { .. }));
    key(&mut a, "esc");
    assert!(matches!(a.mode, Mode::Normal));
    key(&mut a, "enter");
    assert!(a.detail);
    key(&mut a, "esc");
    assert!(!a.detail);
    key(&mut a, "y");
    match &a.mode {
        Mode::Json { text, .. } => {
            let v: serde_json::Value = serde_json::from_str(text).unwrap();
            assert_eq!(v["verdict"], "revoked");
        }
        m => panic!("no JSON: {m:?}"),
    }
    key(&mut a, "esc");
    assert!(matches!(key(&mut a, "q").as_slice(), [Effect::Quit]));
    assert!(a.quit);
    let mut b = app();
    assert!(matches!(key(&mut b, "ctrl-c").as_slice(), [Effect::Quit]));
    // ctrl-c quits from the help and JSON overlays too.
    let mut c = app();
    key(&mut c, "?");
    assert!(matches!(key(&mut c, "ctrl-c").as_slice(), [Effect::Quit]));
    // q quits from the help too, as the key table says (esc closes it).
    let mut h = app();
    key(&mut h, "?");
    assert!(matches!(key(&mut h, "q").as_slice(), [Effect::Quit]));
    // The help scrolls, and not past its last line.
    let mut s = app();
    key(&mut s, "?");
    key(&mut s, "j");
    key(&mut s, "j");
    assert!(matches!(s.mode, Mode::Help { scroll: 2 }));
    key(&mut s, "G");
    let last = s.help_lines() - 1;
    assert!(matches!(s.mode, Mode::Help { scroll } if scroll == last));
    key(&mut s, "pgdn");
    assert!(matches!(s.mode, Mode::Help { scroll } if scroll == last));
    let mut d = app();
    key(&mut d, "y");
    assert!(matches!(key(&mut d, "ctrl-c").as_slice(), [Effect::Quit]));
}

#[test]
fn readonly_has_no_mutating_keys() {
    let mut a = app_with(true, None);
    key(&mut a, "t");
    assert!(matches!(a.mode, Mode::Normal));
    key(&mut a, "2");
    key(&mut a, "D");
    assert!(matches!(a.mode, Mode::Normal));
    assert!(!a.keymap.help(View::Images).iter().any(|(k, _)| k == "D"));
}

#[test]
fn failed_refresh_keeps_the_data() {
    let mut a = app();
    key(&mut a, "r");
    assert!(a.refresh.running);
    assert!(key(&mut a, "r").is_empty(), "one refresh at a time");
    a.update(Action::ScanFailed("throttled".into()));
    assert!(!a.refresh.running);
    assert_eq!(a.fleet.rows.shown.len(), 326);
    assert!(a
        .status
        .as_deref()
        .unwrap()
        .contains("showing the previous data"));
}

#[test]
fn export_current_view() {
    let mut a = app();
    assert!(matches!(
        key(&mut a, "ctrl-s").as_slice(),
        [Effect::Export(ExportFormat::Csv)]
    ));
    key(&mut a, "/");
    typed(&mut a, "verdict:eol");
    key(&mut a, "enter");
    let (stem, csv) = a.export(ExportFormat::Csv).unwrap();
    assert_eq!(stem, "fleet");
    let text = String::from_utf8(csv).unwrap();
    assert_eq!(text.lines().count(), 1 + 12);
    assert!(text.starts_with("verdict,id,name"));
    let (_, json) = a.export(ExportFormat::Json).unwrap();
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&json).unwrap();
    assert!(rows.iter().all(|r| r["verdict"] == "eol"));
    key(&mut a, "3");
    let (stem, csv) = a.export(ExportFormat::Csv).unwrap();
    assert_eq!(stem, "drift");
    assert!(String::from_utf8(csv)
        .unwrap()
        .starts_with("family,account,vms,current"));
    let effects = a.update(Action::Fatal("task died".into()));
    assert!(matches!(effects.as_slice(), [Effect::Quit]));
    assert_eq!(a.fatal.as_deref(), Some("task died"));
}

#[test]
fn log_view_filters_and_follows() {
    use drydock::tui::logbuf::LogLine;
    let mut a = app();
    for (i, msg) in ["scan started", "throttled by demo-aws", "scan finished"]
        .iter()
        .enumerate()
    {
        a.logs.push(LogLine {
            time: common::now() + chrono::Duration::seconds(i as i64),
            level: tracing::Level::INFO,
            target: "drydock".into(),
            message: msg.to_string(),
        });
    }
    key(&mut a, "4");
    assert!(a.log.follow);
    key(&mut a, "k");
    assert!(!a.log.follow, "moving up stops following");
    key(&mut a, "f");
    assert!(a.log.follow);
    key(&mut a, "/");
    typed(&mut a, "THROTTLED");
    key(&mut a, "enter");
    let lines = a.log_lines();
    assert_eq!(lines.len(), 1);
    assert!(lines[0].message.contains("demo-aws"));
    key(&mut a, "esc");
    assert_eq!(a.log_lines().len(), 3);
    key(&mut a, "esc");
    assert_eq!(
        a.view,
        View::Fleet,
        "esc with nothing to close goes back to the fleet"
    );
}

#[test]
fn mouse_scrolls_and_clicks_select_rows() {
    use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
    let mut a = app();
    // The reducer knows where the first row is drawn (header, border, column titles).
    a.update(Action::Resize(120, 40));
    let top = a.rows_top;
    assert_eq!(top, 5);
    let ev = |kind, row| {
        Action::Mouse(MouseEvent {
            kind,
            column: 10,
            row,
            modifiers: KeyModifiers::NONE,
        })
    };
    a.update(ev(MouseEventKind::ScrollDown, 10));
    a.update(ev(MouseEventKind::ScrollDown, 10));
    assert_eq!(a.fleet.rows.list.selected, 2);
    a.update(ev(MouseEventKind::Down(MouseButton::Left), top + 7));
    assert_eq!(a.fleet.rows.list.selected, 7);
    a.update(ev(MouseEventKind::Down(MouseButton::Left), 1));
    assert_eq!(
        a.fleet.rows.list.selected, 7,
        "clicks above the rows select nothing"
    );
}

/// The lengths measured when the data arrives (without making the cells) are the lengths
/// of the cells the Fleet view draws, for every VM of the demo (Azure ids shortened and cut,
/// VMs whose image is unknown, every verdict).
#[test]
fn measured_lengths_are_the_drawn_cells_lengths() {
    let a = app();
    let d = a.data.as_ref().unwrap();
    for i in 0..d.inv.vms.len() as u32 {
        let cells = drydock::tui::fleet::cells(d, i, false);
        let counted: [u8; 12] = std::array::from_fn(|k| cells[k].chars().count().min(255) as u8);
        assert_eq!(
            drydock::tui::fleet::lens(d, i),
            counted,
            "VM {i}: {cells:?}"
        );
    }
}

/// The keyed sort gives the view's order for every column, both ways: each row comes
/// strictly before the next by `fleet::order` (which breaks every tie).
#[test]
fn every_column_sorts_both_ways_in_the_views_order() {
    use drydock::tui::fleet::{order, Column};
    let mut a = app();
    for _ in 0..Column::ALL.len() {
        for _ in 0..2 {
            let d = a.data.as_ref().unwrap();
            let (col, asc) = (a.fleet.sort, a.fleet.ascending);
            let rows = &a.fleet.rows.ordered;
            assert_eq!(rows.len(), d.inv.vms.len());
            for w in rows.windows(2) {
                assert_eq!(
                    order(d, col, asc, w[0], w[1]),
                    std::cmp::Ordering::Less,
                    "{col:?} ascending {asc}: VM {} before VM {}",
                    w[0],
                    w[1]
                );
            }
            key(&mut a, "S");
        }
        key(&mut a, "s");
    }
}
