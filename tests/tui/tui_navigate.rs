//! k9s-grade navigation in the dashboard: what uses an image and on to its detail, a Drift
//! cell opening the Fleet there, `:` aliases with tab cycling, and a plan made from the
//! dashboard and written like `plan new`.

use crate::common;

use common::dash::{demo_app, press, screen};
use drydock::tui::app::Mode;
use drydock::tui::keymap::View;
use drydock::tui::messages::UserItem;
use drydock::tui::{Action, App, Effect};

fn users(a: &App) -> Vec<UserItem> {
    match &a.mode {
        Mode::Users(st) => st.items.clone(),
        m => panic!("no users list: {m:?}"),
    }
}

#[test]
fn enter_on_an_image_lists_its_users_and_leads_to_each() {
    let mut a = demo_app();
    // The image most used by scale groups and templates too.
    let d = a.data.as_ref().unwrap();
    let (img, _) = (0..d.inv.images.len())
        .map(|i| (i, d.usage.of(&d.inv.images[i].id)))
        .max_by_key(|(_, u)| (u.scale_groups.len() + u.launch_templates.len(), u.vms.len()))
        .unwrap();
    let name = d.inv.images[img].name.clone();
    press(&mut a, &format!("2/{name}\n"));
    let pos = a
        .images
        .rows
        .shown
        .iter()
        .position(|&i| i as usize == img)
        .unwrap();
    a.images.rows.list.selected = pos;
    press(&mut a, "\n");
    let items = users(&a);
    assert!(
        items.iter().any(|i| matches!(i, UserItem::Vm(_))),
        "{items:?}"
    );
    assert!(
        items
            .iter()
            .any(|i| matches!(i, UserItem::ScaleGroup(_) | UserItem::LaunchTemplate(_))),
        "{items:?}"
    );
    let s = screen(&mut a, 120, 40);
    assert!(s.contains("used by:") && s.contains("scale group"), "{s}");
    // A VM leads to the Fleet, selected, with its detail pane.
    let UserItem::Vm(vm) = items[0] else {
        unreachable!()
    };
    press(&mut a, "\n");
    assert_eq!(a.view, View::Fleet);
    assert!(a.detail);
    assert_eq!(a.fleet.rows.selected(), Some(vm));
    // A scale group or template opens its record.
    press(&mut a, "2\n");
    let k = users(&a)
        .iter()
        .position(|i| !matches!(i, UserItem::Vm(_)))
        .unwrap();
    for _ in 0..k {
        press(&mut a, "j");
    }
    press(&mut a, "\n");
    assert!(matches!(&a.mode, Mode::Json { text, .. } if text.contains("\"name\"")));
}

#[test]
fn a_drift_cell_opens_the_fleet_there() {
    let mut a = demo_app();
    press(&mut a, "3");
    // Rows without a family (unresolved images, unmanaged) open the right VMs too.
    for k in 0..a.drift_matrix.len() {
        let row = a.drift_matrix[k].clone();
        if !row.family.starts_with('(') {
            continue;
        }
        a.drift.selected = k;
        press(&mut a, "\n");
        assert_eq!(a.fleet.rows.shown.len(), row.total, "{}", row.family);
        press(&mut a, "\u{1b}3");
    }
    let k = a
        .drift_matrix
        .iter()
        .position(|r| !r.family.starts_with('('))
        .unwrap();
    for _ in 0..k {
        press(&mut a, "j");
    }
    let row = a.drift_matrix[a.drift.selected].clone();
    let s = screen(&mut a, 120, 40);
    assert!(s.contains(&row.key), "{s}");
    press(&mut a, "\n");
    assert_eq!(a.view, View::Fleet);
    let d = a.data.as_ref().unwrap();
    assert_eq!(a.fleet.rows.shown.len(), row.total, "{:?}", a.status);
    for &i in &a.fleet.rows.shown {
        let vm = d.vm(i);
        assert_eq!(vm.vm().account, row.key);
        assert_eq!(vm.family(), Some(row.family.as_str()));
    }
    // By region too.
    press(&mut a, "\u{1b}3a");
    let row = a.drift_matrix[a.drift.selected].clone();
    press(&mut a, "\n");
    assert_eq!(a.fleet.rows.shown.len(), row.total);
}

#[test]
fn palette_aliases_and_tab_cycling() {
    let mut a = demo_app();
    for (alias, view) in [
        ("img", View::Images),
        ("drift", View::Drift),
        ("plans", View::Plans),
        ("conv", View::Conversions),
        ("vm", View::Fleet),
    ] {
        press(&mut a, &format!(":{alias}\n"));
        assert_eq!(a.view, view, ":{alias}");
    }
    press(&mut a, ":ctx demo-azure\n");
    assert_eq!(a.context.as_deref(), Some("demo-azure"));
    press(&mut a, ":ctx all\n");
    assert_eq!(a.context, None);
    // tab completes, tab again moves to the next completion, and so on round.
    press(&mut a, ":ctx\t");
    let first = palette(&a);
    press(&mut a, "\t");
    let second = palette(&a);
    press(&mut a, "\t");
    let third = palette(&a);
    assert_eq!(first, "ctx all");
    assert_ne!(first, second);
    assert_ne!(second, third);
    assert!(second.starts_with("ctx ") && third.starts_with("ctx "));
    press(&mut a, "\t");
    assert_eq!(palette(&a), first, "cycles back round");
}

fn palette(a: &App) -> String {
    match &a.mode {
        Mode::Palette(i) => i.value().to_string(),
        m => panic!("no palette: {m:?}"),
    }
}

#[test]
fn a_plan_made_in_the_dashboard_is_written_like_plan_new() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = demo_app();
    press(&mut a, "5n");
    let Mode::NewPlan(_) = &a.mode else {
        panic!("no new-plan dialog: {:?}", a.status)
    };
    // Pick app-checkout.
    let families = match &a.mode {
        Mode::NewPlan(st) => match st.as_ref() {
            drydock::tui::new_plan::NewPlan::Family { families, .. } => families.clone(),
            _ => unreachable!(),
        },
        _ => unreachable!(),
    };
    let k = families
        .iter()
        .position(|f| f.family == "app-checkout")
        .unwrap();
    for _ in 0..k {
        press(&mut a, "j");
    }
    press(&mut a, "\n");
    // A bad setting is an error in place.
    press(&mut a, "\t");
    for _ in 0..20 {
        a.update(Action::Key(crossterm::event::KeyEvent::new(
            crossterm::event::KeyCode::Backspace,
            crossterm::event::KeyModifiers::NONE,
        )));
    }
    press(&mut a, "1,lots\n");
    let s = screen(&mut a, 120, 40);
    assert!(s.contains("✗ waves: --waves:"), "{s}");
    for _ in 0..4 {
        a.update(Action::Key(crossterm::event::KeyEvent::new(
            crossterm::event::KeyCode::Backspace,
            crossterm::event::KeyModifiers::NONE,
        )));
    }
    press(&mut a, "100%\n");
    // Review: the blast radius, then y writes it.
    let s = screen(&mut a, 120, 40);
    assert!(s.contains("review") && s.contains("app-checkout"), "{s}");
    let effects = a.update(Action::Key(crossterm::event::KeyEvent::new(
        crossterm::event::KeyCode::Char('y'),
        crossterm::event::KeyModifiers::NONE,
    )));
    let [Effect::SavePlan(plan)] = effects.as_slice() else {
        panic!("{effects:?}")
    };
    assert_eq!(plan.family, "app-checkout");
    assert_eq!(plan.waves.len(), 2, "the edited waves: 1,100%");
    // The runtime's save: a plan file and a journal row, like `plan new`.
    let journal = dir.path().join("journal.sqlite");
    let j = std::sync::Arc::new(drydock::plan::Journal::open(&journal).unwrap());
    let said = drydock::tui::new_plan::save(plan, Some(&dir.path().join("plans")), Ok(j)).unwrap();
    assert!(said.contains("a approves"), "{said}");
    let file = dir.path().join("plans").join(format!("{}.toml", plan.id));
    assert_eq!(drydock::plan::Plan::read(&file).unwrap().id, plan.id);
    let j = drydock::plan::Journal::open(&journal).unwrap();
    assert_eq!(j.status(&plan.id).unwrap().status.as_str(), "new");
    a.update(Action::PlanSaved(Ok(said)));
    assert!(a.status.as_deref().unwrap().contains("wrote plan"));
}
