//! The dashboard at the smallest size it promises, 80×20: every view reachable and named,
//! snapshots of each, help that scrolls, columns that stay put while paging, a sort marker
//! that never disappears, cut values that say so, and a detail pane that keeps names whole.

use crate::common;

use common::dash::{demo_app, press, screen};

#[test]
fn every_view_at_80_by_20() {
    let mut a = demo_app();
    for (key, name) in [
        ("1", "fleet"),
        ("2", "images"),
        ("3", "drift"),
        ("4", "log"),
        ("5", "plans"),
        ("6", "conversions"),
        ("7", "contexts"),
    ] {
        press(&mut a, key);
        let s = screen(&mut a, 80, 20);
        assert!(s.lines().all(|l| l.chars().count() <= 80));
        insta::assert_snapshot!(format!("small_{name}"), s);
    }
}

#[test]
fn help_scrolls_to_its_last_line_at_80_by_20() {
    let mut a = demo_app();
    press(&mut a, "?");
    let first = screen(&mut a, 80, 20);
    assert!(first.contains("help 1–"), "{first}");
    press(&mut a, "G");
    let last = screen(&mut a, 80, 20);
    // The filter syntax closes the help: it is reachable by scrolling.
    assert!(last.contains("fields: name id cloud"), "{last}");
    // Every filter field, wrapped under its label rather than cut.
    for field in ["owner", "group", "class"] {
        assert!(last.contains(field), "{field}: {last}");
    }
    insta::assert_snapshot!("small_help_end", last);
}

#[test]
fn paging_keeps_the_columns_and_their_widths() {
    for (w, h) in [(80, 20), (120, 40)] {
        let mut a = demo_app();
        let header = |s: &str| s.lines().nth(4).unwrap().to_string();
        let first = header(&screen(&mut a, w, h));
        for _ in 0..12 {
            press(&mut a, "\u{3}");
            assert_eq!(header(&screen(&mut a, w, h)), first, "{w}×{h}");
        }
        press(&mut a, "G");
        assert_eq!(header(&screen(&mut a, w, h)), first, "{w}×{h}");
    }
}

#[test]
fn the_sort_marker_stays_visible_on_a_narrow_terminal() {
    for col in ["id", "cloud", "account", "region", "image", "reason"] {
        let mut a = demo_app();
        press(&mut a, &format!(":sort {col}\n"));
        let s = screen(&mut a, 80, 20);
        let header = s.lines().nth(4).unwrap();
        assert!(header.contains(&format!("{col} ▲")), "{col}: {header}");
    }
}

#[test]
fn cut_values_end_with_an_ellipsis() {
    let mut a = demo_app();
    let s = screen(&mut a, 80, 20);
    // Reasons are longer than what is left at 80 columns: each cut one says so.
    let rows: Vec<&str> = s.lines().skip(5).take(13).collect();
    assert!(rows.iter().any(|r| r.contains('…')), "{s}");
    for r in rows {
        let body = r.trim_end_matches('│').trim_end();
        assert!(
            body.ends_with('…') || body.len() < 78,
            "a full-width row is cut without …: {r}"
        );
    }
}

#[test]
fn the_detail_pane_keeps_vm_names_whole() {
    let mut a = demo_app();
    press(&mut a, "\n");
    let s = screen(&mut a, 80, 20);
    let name = a
        .data
        .as_ref()
        .map(|d| {
            d.inv.vms[a.fleet.rows.selected().unwrap() as usize]
                .name
                .clone()
        })
        .unwrap();
    // In the table and in the pane alike.
    assert!(s.matches(name.as_str()).count() >= 2, "{name}:\n{s}");
    insta::assert_snapshot!("small_fleet_detail", s);
}

#[test]
fn duplicates_in_the_deprecate_dialog_show_region_and_id() {
    let mut a = demo_app();
    press(&mut a, "2/web-base-ubuntu22-2026.6.1\n");
    let n = a.images.rows.shown.len();
    assert!(n >= 2, "the demo has copies of one image in two regions");
    press(&mut a, "  ");
    a.update(drydock::tui::Action::Key(crossterm::event::KeyEvent::new(
        crossterm::event::KeyCode::Char('D'),
        crossterm::event::KeyModifiers::NONE,
    )));
    let drydock::tui::app::Mode::Confirm(c) = &a.mode else {
        panic!("no dialog: {:?}", a.status)
    };
    let items: Vec<&String> = c.lines.iter().filter(|l| l.contains("•")).collect();
    assert_eq!(items.len(), 2, "{:?}", c.lines);
    assert_ne!(items[0], items[1], "two lines that tell the copies apart");
    assert!(
        items.iter().all(|l| l.contains("-1,")
            || l.contains("-2,")
            || l.contains("east")
            || l.contains("west")),
        "{items:?}"
    );
}

#[test]
fn every_view_and_dialog_fits_the_demo_fleet_at_every_size() {
    common::dash::check_every_view(&demo_app);
}

#[test]
fn the_detail_pane_leads_with_the_reason_and_scrolls_on_its_own_keys() {
    let mut a = demo_app();
    // An outdated VM: the pane at 80×20 shows its verdict and reason.
    press(&mut a, "/verdict:outdated\n");
    press(&mut a, "d");
    let s = screen(&mut a, 80, 20);
    assert!(s.contains("verdict: ") && s.contains("reason: "), "{s}");
    let row_of = |s: &str| s.lines().position(|l| l.contains("reason: ")).unwrap();
    let before = row_of(&s);
    // J scrolls the pane, not the table: the selection stays, the pane moves.
    let selected = a.fleet.rows.list.selected;
    press(&mut a, "J");
    let s2 = screen(&mut a, 80, 20);
    assert_eq!(a.fleet.rows.list.selected, selected);
    assert!(s2.contains(" 2–"), "the title says which lines show: {s2}");
    assert!(s2
        .lines()
        .position(|l| l.contains("reason: "))
        .is_none_or(|r| r < before));
    // Moving the selection shows the next VM's pane from its top.
    press(&mut a, "j");
    assert_eq!(a.pane_scroll, 0);
}

#[test]
fn the_drift_trend_counts_only_the_context_in_view() {
    let mut a = common::dash::app_with(false, Some("demo-azure"));
    // One scan recorded in demo-azure (at start); then every context.
    assert!(a
        .history
        .iter()
        .all(|p| p.context.as_deref() == Some("demo-azure")));
    press(&mut a, ":ctx all\n3");
    let s = screen(&mut a, 120, 40);
    assert!(s.contains("0 scans recorded for all contexts"), "{s}");
}

#[test]
fn an_incomplete_scan_is_said_on_every_view_and_the_contexts_view_names_why() {
    use drydock::model::ScopeOutcome;
    use drydock::tui::Action;
    let mut a = demo_app();
    let mut inv = common::demo_inventory(common::now());
    inv.outcomes.push(ScopeOutcome {
        context: "payments".into(),
        scope: "eu-west-1".into(),
        state: drydock::model::ScopeState::Denied,
        vms: 0,
        images: 0,
        duration_ms: 420,
        failed_calls: vec!["AssumeRole".into()],
        reason: Some(
            "AssumeRole on arn:aws:iam::111122223333:role/OrganizationAccountAccessRole failed: HTTP 403 AccessDenied".into(),
        ),
    });
    a.update(Action::ScanFinished(Box::new(inv)));
    let fleet = screen(&mut a, 250, 40);
    assert!(
        fleet.contains("incomplete: 1 of 3 contexts not read (:ctx)"),
        "{fleet}"
    );
    let narrow = screen(&mut a, 80, 20);
    assert!(narrow.contains("⚠ incomplete 1/3"), "{narrow}");
    press(&mut a, ":ctx\n");
    let s = screen(&mut a, 160, 30);
    assert!(s.contains("contexts 3 (1 incomplete)"), "{s}");
    assert!(s.contains("⊘ denied") && s.contains("payments"), "{s}");
    assert!(s.contains("✓ ok") && s.contains("demo-aws"), "{s}");
    // The selected context's scopes with the reason in full, wrapped.
    press(&mut a, "G");
    let s = screen(&mut a, 100, 30);
    assert!(s.contains("failed calls: AssumeRole"), "{s}");
    assert!(s.contains("OrganizationAccountAccessRole"), "{s}");
    // Enter shows that context's fleet.
    press(&mut a, "gg\n");
    assert_eq!(a.context.as_deref(), Some("demo-aws"));
    assert!(screen(&mut a, 120, 30).contains("context: demo-aws"));
    common::dash::check_fitted(&mut a, 80, 20, "contexts, incomplete");
}

#[test]
fn enter_on_a_context_that_was_not_scanned_says_why() {
    use drydock::model::ScopeOutcome;
    use drydock::tui::Action;
    let mut a = demo_app();
    let mut inv = common::demo_inventory(common::now());
    inv.outcomes.push(ScopeOutcome::skipped(
        "lab",
        "*",
        "acme (111122223333): excluded by tag:drydock=skip",
    ));
    a.update(Action::ScanFinished(Box::new(inv)));
    press(&mut a, "7G\n");
    assert_eq!(a.context, None, "still every context");
    let status = a.status.clone().unwrap_or_default();
    assert!(
        status.contains("lab was not scanned (skipped)") && status.contains("excluded by tag"),
        "{status}"
    );
}
