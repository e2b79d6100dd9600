//! Classes from tags, rules and heuristics, and the dynamic class's limits on verdicts.

use super::*;
use crate::drift::{evaluate, Policy, Verdict};
use crate::model::{Cloud, ImageState, Inventory, VmState};
use chrono::{Duration, TimeZone, Utc};

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap()
}

fn image(id: &str, name: &str, vendor: bool, age: i64, tags: &[(&str, &str)]) -> Image {
    Image {
        id: id.into(),
        name: name.into(),
        cloud: Cloud::Aws,
        account: "111122223333".into(),
        region: "eu-west-1".into(),
        created: now() - Duration::days(age),
        state: ImageState::Available,
        deprecation_time: None,
        end_of_life: None,
        newer_base: None,
        owner: if vendor {
            "099720109477"
        } else {
            "111122223333"
        }
        .into(),
        vendor,
        tags: tags
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

fn vm(id: &str, image: &str, boot: &[&str]) -> Vm {
    Vm {
        id: id.into(),
        name: id.into(),
        cloud: Cloud::Aws,
        account: "111122223333".into(),
        region: "eu-west-1".into(),
        state: VmState::Running,
        size: "t3.micro".into(),
        launched_at: now(),
        image_id: image.into(),
        tags: Tags::new(),
        scale_group: None,
        boot_config: boot.iter().map(|s| s.to_string()).collect(),
    }
}

fn rules(toml_text: &str) -> Vec<ClassRule> {
    #[derive(serde::Deserialize)]
    struct R {
        classes: Vec<ClassRule>,
    }
    toml::from_str::<R>(toml_text).unwrap().classes
}

#[test]
fn tag_then_rules_then_heuristics_each_with_a_reason() {
    let r = rules(
        "[[classes]]\nclass = \"capsule\"\nmatch_name = \"svc-*\"\n\
         [[classes]]\nclass = \"golden\"\nmatch_tag = \"team=platform*\"\n",
    );
    let mut issues = Vec::new();
    let c = of_image(
        &image("a", "x", true, 1, &[("drydock:class", "Golden")]),
        &r,
        &mut issues,
    );
    assert_eq!(
        (c.class, c.reason.as_str()),
        (ImageClass::Golden, "tag drydock:class=Golden")
    );
    let c = of_image(&image("b", "svc-api-1", false, 1, &[]), &r, &mut issues);
    assert_eq!(c.class, ImageClass::Capsule);
    assert_eq!(c.reason, "policy class rule 1 (name matches svc-*)");
    let c = of_image(
        &image("c", "x", true, 1, &[("team", "platform-core")]),
        &r,
        &mut issues,
    );
    assert_eq!(c.reason, "policy class rule 2 (tag team)");
    let c = of_image(&image("d", "ubuntu", true, 1, &[]), &r, &mut issues);
    assert_eq!(
        (c.class, c.reason.as_str()),
        (ImageClass::Base, "vendor image from 099720109477")
    );
    let c = of_image(
        &image("e", "x", false, 1, &[("app", "checkout")]),
        &r,
        &mut issues,
    );
    assert_eq!(c.class, ImageClass::Capsule);
    assert!(c.reason.contains("app=checkout"));
    let c = of_image(&image("f", "x", false, 1, &[]), &r, &mut issues);
    assert_eq!(c.class, ImageClass::Golden);
    assert!(issues.is_empty());
    // A tag that is not a class is an issue, and the heuristics decide.
    let c = of_image(
        &image("g", "x", true, 1, &[("drydock:class", "gold")]),
        &r,
        &mut issues,
    );
    assert_eq!(c.class, ImageClass::Base);
    assert!(issues[0].contains("drydock:class=\"gold\""), "{issues:?}");
    // A bad glob in a rule is a config error.
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct R {
        classes: Vec<ClassRule>,
    }
    let e =
        toml::from_str::<R>("[[classes]]\nclass = \"base\"\nmatch_name = \"a[\"\n").unwrap_err();
    assert!(e.to_string().contains("invalid glob"), "{e}");
    let e = toml::from_str::<R>("[[classes]]\nclass = \"shiny\"\n").unwrap_err();
    assert!(e.to_string().contains("unknown variant"), "{e}");
}

#[test]
fn vms_on_base_images_with_boot_config_are_dynamic() {
    let base = image("ami-base", "ubuntu-jammy-1", true, 10, &[]);
    let golden = image("ami-gold", "web-1", false, 10, &[]);
    let b = of_image(&base, &[], &mut Vec::new());
    let g = of_image(&golden, &[], &mut Vec::new());
    let v1 = vm("i-1", "ami-base", &["user data"]);
    let c = of_vm(&v1, Some((&base, &b)));
    assert_eq!(c.class, ImageClass::Dynamic);
    assert_eq!(
        c.reason(&v1, Some(&base)),
        "base image ubuntu-jammy-1 + user data installs software at boot"
    );
    let c = of_vm(&vm("i-2", "ami-base", &[]), Some((&base, &b)));
    assert_eq!(c.class, ImageClass::Base);
    // User data on a golden image configures it; the VM is still golden.
    let c = of_vm(&vm("i-3", "ami-gold", &["user data"]), Some((&golden, &g)));
    assert_eq!(c.class, ImageClass::Golden);
    let c = of_vm(&vm("i-4", "ami-gone", &["extension CustomScript"]), None);
    assert_eq!(c.class, ImageClass::Dynamic);
}

#[test]
fn dynamic_limits_tighten_the_base_image_for_dynamic_vms_only() {
    let policy: Policy = toml::from_str(
        "[[families]]\nname = \"jammy\"\nmatch_name = \"ubuntu-jammy-*\"\nmax_age_days = 120\n\
         [class_limits.dynamic]\nmax_age_days = 30\n",
    )
    .unwrap();
    let inv = Inventory {
        scanned_at: now(),
        images: vec![image("ami-base", "ubuntu-jammy-1", true, 60, &[])],
        vms: vec![
            vm("plain", "ami-base", &[]),
            vm("dyn", "ami-base", &["user data"]),
        ],
        ..Inventory::default()
    };
    let a = evaluate(&inv, &policy, now());
    assert_eq!(a.images[0].verdict, Verdict::Current);
    assert_eq!(a.images[0].class.class, ImageClass::Base);
    assert_eq!(a.vms[0].verdict, Verdict::Current);
    assert_eq!(a.vms[1].verdict, Verdict::Outdated);
    assert_eq!(a.vm_classes[1].class, ImageClass::Dynamic);
    assert_eq!(
        a.vm_reason(&inv, 1),
        "image 60 days old > 30 (dynamic VMs: max age 30 days)"
    );
    // A class's limits never loosen: 200 days stays at the family's 120.
    let loose: Policy = toml::from_str(
        "[[families]]\nname = \"jammy\"\nmatch_name = \"ubuntu-jammy-*\"\nmax_age_days = 120\n\
         [class_limits.base]\nmax_age_days = 200\n",
    )
    .unwrap();
    let old = Inventory {
        images: vec![image("ami-base", "ubuntu-jammy-1", true, 150, &[])],
        ..inv
    };
    assert_eq!(
        evaluate(&old, &loose, now()).images[0].verdict,
        Verdict::Outdated
    );
}
