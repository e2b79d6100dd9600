//! Bulk actions in the dashboard through the mutation gate: marks, the confirm dialog (y/N,
//! typed for production), a read-only context's refusal, and a partly failed action whose
//! failed rows stay marked and whose causes are kept in full.

use crate::common;

use common::dash::{app_with, key, typed};
use drydock::gate::Confirmation;
use drydock::tui::app::{Mode, MutationResult};
use drydock::tui::logbuf::LogBuffer;
use drydock::tui::{Action, App, AppOptions, Effect};

#[test]
fn marks_and_the_confirm_gate() {
    // Azure context: not production, `y` confirms.
    let mut a = app_with(false, Some("demo-azure"));
    key(&mut a, "space");
    key(&mut a, "space");
    assert_eq!(a.fleet.rows.marked.len(), 2);
    key(&mut a, "t");
    match &a.mode {
        Mode::Confirm(c) => {
            assert_eq!(c.requests.len(), 2);
            assert!(c.expected.is_none());
            assert!(
                c.lines
                    .iter()
                    .any(|l| l.starts_with("Blast radius: 0 images, 2 VMs")),
                "{:?}",
                c.lines
            );
        }
        m => panic!("no confirm dialog: {m:?}"),
    }
    // Default No: anything but y cancels.
    key(&mut a, "enter");
    assert!(matches!(a.mode, Mode::Normal));
    assert!(a.status.as_deref().unwrap().contains("nothing changed"));
    key(&mut a, "t");
    let effects = key(&mut a, "y");
    match effects.as_slice() {
        [Effect::Apply {
            requests,
            confirmation,
        }] => {
            assert_eq!(requests.len(), 2);
            assert_eq!(*confirmation, Confirmation::Yes);
            assert!(requests
                .iter()
                .all(|r| r.provider == "demo-azure" && !a.gate.is_production(&r.provider)));
        }
        e => panic!("no apply: {e:?}"),
    }
    // Results come back: a refresh starts, the failed row stays marked through it for a
    // retry, and the cause of each failure is readable in full.
    let targets: Vec<String> = requests_of(&effects);
    let cause = "cannot tag /subscriptions/6b1f3c/resourceGroups/rg-pay/providers/Microsoft.Compute/virtualMachines/ledger-001: AuthorizationFailed: the client has no permission to perform action Microsoft.Compute/virtualMachines/write; grant it the Virtual Machine Contributor role";
    let effects = a.update(Action::MutationsFinished(vec![
        MutationResult {
            provider: "demo-azure".into(),
            target: targets[0].clone(),
            result: Ok("tag done".into()),
        },
        MutationResult {
            provider: "demo-azure".into(),
            target: targets[1].clone(),
            result: Err(cause.into()),
        },
    ]));
    assert!(matches!(effects.as_slice(), [Effect::Scan]));
    let status = a.status.clone().unwrap();
    assert!(
        status.contains("1 applied, 1 failed and still marked for a retry"),
        "{status}"
    );
    a.update(Action::ScanFinished(Box::new(common::demo_inventory(
        common::now(),
    ))));
    let marked: Vec<String> = a
        .fleet
        .rows
        .marked
        .iter()
        .map(|&i| a.data.as_ref().unwrap().inv.vms[i as usize].id.to_string())
        .collect();
    assert_eq!(
        marked,
        vec![targets[1].clone()],
        "the failed row stays marked"
    );
    // The whole cause is kept (the status line is cut to the terminal; M shows it all).
    assert!(a.messages.iter().any(|(_, m)| m.contains(cause)));
    key(&mut a, "M");
    assert!(matches!(a.mode, Mode::Messages { scroll: 0 }));
    let s = common::dash::screen(&mut a, 80, 20);
    assert!(s.contains("Virtual Machine"), "wrapped in full:\n{s}");
    key(&mut a, "esc");
    assert!(matches!(a.mode, Mode::Normal));
}

fn requests_of(effects: &[Effect]) -> Vec<String> {
    match effects {
        [Effect::Apply { requests, .. }] => {
            requests.iter().map(|r| r.op.target().to_string()).collect()
        }
        e => panic!("no apply: {e:?}"),
    }
}

#[test]
fn a_read_only_context_refuses_bulk_actions() {
    let (mut config, _) =
        drydock::config::load(Some(std::path::Path::new("/dev/null")), &[]).unwrap();
    let az = config
        .contexts
        .iter_mut()
        .find(|c| c.name == "demo-azure")
        .unwrap();
    az.readonly = true;
    let mut a = App::new(
        AppOptions {
            context: Some("demo-azure".into()),
            ..AppOptions::from_config(&config, false, common::now())
        },
        LogBuffer::new(10),
    );
    a.start();
    a.update(Action::ScanFinished(Box::new(common::demo_inventory(
        common::now(),
    ))));
    for (view, k) in [("1", "t"), ("2", "D"), ("2", "t")] {
        key(&mut a, view);
        let effects = key(&mut a, k);
        assert!(effects.is_empty(), "{k}: {effects:?}");
        assert!(matches!(a.mode, Mode::Normal), "{k}: no dialog");
        let status = a.status.clone().unwrap_or_default();
        assert!(
            status.contains("context `demo-azure` is read-only"),
            "{status}"
        );
    }
}

#[test]
fn production_needs_typed_confirmation() {
    let mut a = app_with(false, Some("demo-aws"));
    key(&mut a, "2");
    key(&mut a, "D");
    match &a.mode {
        Mode::Confirm(c) => {
            assert_eq!(c.expected.as_deref(), Some("demo-aws"));
            assert!(c.title.starts_with("Deprecate 1 image"));
        }
        m => panic!("no confirm dialog: {m:?}"),
    }
    assert!(
        key(&mut a, "y").is_empty(),
        "y alone does not confirm production"
    );
    typed(&mut a, "demo-az");
    assert!(key(&mut a, "enter").is_empty());
    assert!(a.status.as_deref().unwrap().contains("does not match"));
    key(&mut a, "D");
    typed(&mut a, "demo-aws");
    match key(&mut a, "enter").as_slice() {
        [Effect::Apply {
            confirmation,
            requests,
        }] => {
            assert_eq!(*confirmation, Confirmation::Typed("demo-aws".into()));
            assert!(a.gate.is_production(&requests[0].provider));
        }
        e => panic!("no apply: {e:?}"),
    }
}
