//! Table tests for the drift engine: every verdict and its boundaries, on hand-built
//! inventories with a fixed clock.

use chrono::{DateTime, Duration, TimeZone, Utc};
use drydock::drift::{self, Defaults, Policy, Verdict};
use drydock::model::{Cloud, Image, ImageState, Inventory, Tags, Vm, VmState};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap()
}

fn tags(pairs: &[(&str, &str)]) -> Tags {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn image(id: &str, family: Option<&str>, version: &str, age_days: i64) -> Image {
    let mut t = Tags::new();
    if let Some(f) = family {
        t.insert("drydock:family", f);
        t.insert("drydock:version", version);
    }
    Image {
        id: id.into(),
        name: format!("{}-{version}", family.unwrap_or("img")),
        cloud: Cloud::Aws,
        account: "111122223333".into(),
        region: "eu-west-1".into(),
        created: now() - Duration::days(age_days),
        state: ImageState::Available,
        deprecation_time: None,
        end_of_life: None,
        newer_base: None,
        owner: "111122223333".into(),
        vendor: false,
        tags: t,
    }
}

fn vm(id: &str, image: &str) -> Vm {
    Vm {
        id: id.into(),
        name: id.into(),
        cloud: Cloud::Aws,
        account: "111122223333".into(),
        region: "eu-west-1".into(),
        state: VmState::Running,
        size: "t3.micro".into(),
        launched_at: now() - Duration::days(1),
        image_id: image.into(),
        tags: Tags::new(),
        scale_group: None,
        boot_config: Vec::new(),
    }
}

fn inv(images: Vec<Image>, vms: Vec<Vm>) -> Inventory {
    Inventory {
        scanned_at: now(),
        sources: vec!["test".into()],
        vms,
        images,
        ..Inventory::default()
    }
}

/// Verdict and reason of image `id`.
fn judge(inv: &Inventory, policy: &Policy, id: &str) -> (Verdict, String) {
    let a = drift::evaluate(inv, policy, now());
    let i = inv.images.iter().position(|x| x.id == id).unwrap();
    (a.images[i].verdict, a.images[i].reason.clone())
}

fn policy() -> Policy {
    Policy::default()
}

#[test]
fn current_when_latest_and_young() {
    let inv = inv(vec![image("a", Some("web"), "1.0", 10)], vec![vm("v", "a")]);
    let (v, why) = judge(&inv, &policy(), "a");
    assert_eq!(v, Verdict::Current);
    assert_eq!(why, "latest web 1.0, 10 days old");
}

#[test]
fn age_exactly_at_limit_is_not_outdated_one_day_more_is() {
    let at = inv(vec![image("a", Some("web"), "1.0", 90)], vec![]);
    assert_eq!(judge(&at, &policy(), "a").0, Verdict::Current);
    let over = inv(vec![image("a", Some("web"), "1.0", 91)], vec![]);
    let (v, why) = judge(&over, &policy(), "a");
    assert_eq!(v, Verdict::Outdated);
    assert_eq!(why, "image 91 days old > 90");
}

#[test]
fn behind_within_version_lag() {
    let inv = inv(
        vec![
            image("a", Some("web"), "2026.9.1", 40),
            image("b", Some("web"), "2026.10.1", 20),
            image("c", Some("web"), "2026.11.3", 3),
        ],
        vec![],
    );
    let (v, why) = judge(&inv, &policy(), "a");
    assert_eq!(v, Verdict::Behind);
    assert_eq!(why, "2 versions behind web 2026.11.3");
    assert_eq!(
        judge(&inv, &policy(), "b").1,
        "1 version behind web 2026.11.3"
    );
}

#[test]
fn lag_over_limit_within_grace_is_behind_then_outdated() {
    // 3 newer versions, max 2: the limit was crossed when the third newer one appeared.
    let build = |crossed_days_ago: i64| {
        inv(
            vec![
                image("a", Some("web"), "1.0", 60),
                image("b", Some("web"), "1.1", 50),
                image("c", Some("web"), "1.2", 40),
                image("d", Some("web"), "1.3", crossed_days_ago),
            ],
            vec![],
        )
    };
    let (v, why) = judge(&build(14), &policy(), "a");
    assert_eq!(v, Verdict::Behind, "exactly at grace is still behind");
    assert_eq!(
        why,
        "3 versions behind web 1.3 (max 2); 0 days of grace left"
    );
    let (v, why) = judge(&build(15), &policy(), "a");
    assert_eq!(v, Verdict::Outdated);
    assert_eq!(
        why,
        "3 versions behind web 1.3 (max 2) for 15 days > grace 14"
    );
}

#[test]
fn outdated_reason_names_lag_and_age() {
    let inv = inv(
        vec![
            image("a", Some("web-base"), "2026.8.1", 97),
            image("b", Some("web-base"), "2026.10.1", 30),
            image("c", Some("web-base"), "2026.11.3", 2),
        ],
        vec![],
    );
    let (v, why) = judge(&inv, &policy(), "a");
    assert_eq!(v, Verdict::Outdated);
    assert_eq!(
        why,
        "image 97 days old > 90; 2 versions behind web-base 2026.11.3"
    );
}

#[test]
fn natural_version_order_not_text_order() {
    let inv = inv(
        vec![
            image("a", Some("web"), "2026.9.1", 10),
            image("b", Some("web"), "2026.10.1", 12),
        ],
        vec![],
    );
    // 2026.10.1 is newer although created earlier and sorting before as text.
    assert_eq!(judge(&inv, &policy(), "a").0, Verdict::Behind);
    assert_eq!(judge(&inv, &policy(), "b").0, Verdict::Current);
}

#[test]
fn deprecated_disabled_deregistered_and_revoked_tag() {
    let mut dep = image("dep", Some("w"), "1", 5);
    dep.state = ImageState::Deprecated;
    let mut dis = image("dis", Some("w"), "2", 5);
    dis.state = ImageState::Disabled;
    let mut gone = image("gone", Some("w"), "3", 5);
    gone.state = ImageState::Deregistered;
    let mut tagged = image("tag", Some("w"), "4", 5);
    tagged.tags.insert("drydock:revoked", "CVE-2026-1");
    let mut scheduled = image("past", Some("w"), "5", 5);
    scheduled.deprecation_time = Some(now() - Duration::hours(1));
    let mut future = image("future", Some("w"), "6", 5);
    future.deprecation_time = Some(now() + Duration::days(3));
    let inv = inv(vec![dep, dis, gone, tagged, scheduled, future], vec![]);
    let p = policy();
    assert_eq!(
        judge(&inv, &p, "dep"),
        (Verdict::Revoked, "image deprecated".into())
    );
    assert_eq!(
        judge(&inv, &p, "dis"),
        (Verdict::Revoked, "image disabled".into())
    );
    assert_eq!(
        judge(&inv, &p, "gone"),
        (Verdict::Revoked, "image deregistered".into())
    );
    assert_eq!(
        judge(&inv, &p, "tag"),
        (Verdict::Revoked, "image revoked: CVE-2026-1".into())
    );
    assert_eq!(
        judge(&inv, &p, "past"),
        (Verdict::Revoked, "image deprecated since 2026-11-23".into())
    );
    assert_eq!(judge(&inv, &p, "future").0, Verdict::Current);
}

#[test]
fn revoked_ancestor_propagates_through_lineage() {
    let mut base = image("base", Some("ubuntu"), "1", 30);
    base.state = ImageState::Deprecated;
    let mut golden = image("golden", Some("web"), "1", 20);
    golden.tags.insert("drydock:parent", "base");
    let mut app = image("app", Some("checkout"), "1", 10);
    app.tags.insert("drydock:parent", "golden");
    let inv = inv(vec![base, golden, app], vec![vm("v", "app")]);
    let (v, why) = judge(&inv, &policy(), "app");
    assert_eq!(v, Verdict::Revoked);
    assert_eq!(why, "ancestor ubuntu-1 (base) is deprecated");
    let a = drift::evaluate(&inv, &policy(), now());
    assert_eq!(a.images[2].lineage, vec![1, 0]);
    assert_eq!(a.vms[0].verdict, Verdict::Revoked);
}

#[test]
fn eol_of_image_or_ancestor_and_enforcement_switch() {
    let mut base = image("base", Some("al2023"), "1", 200);
    base.end_of_life = Some(now() - Duration::days(12));
    let mut child = image("child", Some("etl"), "1", 10);
    child.tags.insert("drydock:parent", "base");
    let mut tagged = image("tagged", Some("x"), "1", 10);
    tagged.tags.insert("drydock:eol", "2026-11-01");
    let mut later = image("later", Some("y"), "1", 10);
    later.end_of_life = Some(now() + Duration::days(1));
    let inv = inv(vec![base, child, tagged, later], vec![]);
    let p = policy();
    assert_eq!(
        judge(&inv, &p, "base"),
        (
            Verdict::Eol,
            "end of life since 2026-11-11 (12 days ago)".into()
        )
    );
    assert_eq!(
        judge(&inv, &p, "child"),
        (
            Verdict::Eol,
            "ancestor al2023-1 reached end of life on 2026-11-11 (12 days ago)".into()
        )
    );
    assert_eq!(judge(&inv, &p, "tagged").0, Verdict::Eol);
    assert_eq!(judge(&inv, &p, "later").0, Verdict::Current);
    let mut lax = policy();
    lax.defaults.enforce_eol = false;
    assert_eq!(judge(&inv, &lax, "child").0, Verdict::Current);
    assert_eq!(judge(&inv, &lax, "base").0, Verdict::Outdated);
}

#[test]
fn unresolvable_image_is_unknown_never_old() {
    let inv = inv(
        vec![image("a", Some("web"), "1", 400)],
        vec![vm("v1", "ami-gone"), vm("v2", "a")],
    );
    let a = drift::evaluate(&inv, &policy(), now());
    assert_eq!(a.vms[0].verdict, Verdict::Unknown);
    assert!(a.vm_reason(&inv, 0).contains("cannot be resolved"));
    assert!(!a.vm_reason(&inv, 0).contains("old"));
    assert_eq!(a.vms[1].verdict, Verdict::Outdated);
    assert_eq!(a.images[0].vm_count, 1);
}

#[test]
fn missing_tags_are_unmanaged_unless_a_name_rule_matches() {
    let untagged = image("u", None, "1", 300);
    let mut vendor = image("v", None, "1", 10);
    vendor.name = "al2023-ami-2023.9.20261112-kernel-6.1-x86_64".into();
    let inv = inv(vec![untagged, vendor], vec![]);
    let mut p = policy();
    let (v, why) = judge(&inv, &p, "u");
    assert_eq!(v, Verdict::Unmanaged);
    assert!(why.contains("no policy family covers image"), "{why}");
    assert_eq!(judge(&inv, &p, "v").0, Verdict::Unmanaged);
    p.families.push(drydock::drift::FamilyRule {
        name: "amazon-linux-2023".into(),
        match_tag: None,
        match_name: Some(drydock::drift::Glob::new("al2023-ami-*").unwrap()),
        max_age_days: None,
        max_versions_behind: None,
        grace_days: None,
        enforce_eol: None,
    });
    let (v, why) = judge(&inv, &p, "v");
    assert_eq!(v, Verdict::Current);
    assert!(why.starts_with("latest amazon-linux-2023"), "{why}");
}

#[test]
fn family_rule_overrides_defaults() {
    let inv = inv(vec![image("a", Some("web-base"), "1", 45)], vec![]);
    let mut p = policy();
    assert_eq!(judge(&inv, &p, "a").0, Verdict::Current);
    p.families.push(drydock::drift::FamilyRule {
        name: "web".into(),
        match_tag: Some(drydock::drift::Glob::new("web-*").unwrap()),
        match_name: None,
        max_age_days: Some(30),
        max_versions_behind: None,
        grace_days: None,
        enforce_eol: None,
    });
    assert_eq!(
        judge(&inv, &p, "a"),
        (Verdict::Outdated, "image 45 days old > 30".into())
    );
}

#[test]
fn lineage_cycle_is_reported_not_fatal() {
    let mut a = image("a", Some("bastion"), "3.1", 20);
    a.tags.insert("drydock:parent", "b");
    let mut b = image("b", Some("bastion"), "3.2", 10);
    b.tags.insert("drydock:parent", "a");
    let inv = inv(vec![a, b], vec![vm("v", "b")]);
    let assessment = drift::evaluate(&inv, &policy(), now());
    let b = &assessment.images[1];
    assert_eq!(b.verdict, Verdict::Current);
    assert_eq!(b.issues, vec!["lineage cycle: b → a → b".to_string()]);
    assert!(
        b.reason.ends_with("; lineage cycle: b → a → b"),
        "{}",
        b.reason
    );
}

#[test]
fn self_parent_and_missing_parent_are_issues() {
    let mut a = image("a", Some("w"), "1", 1);
    a.tags.insert("drydock:parent", "a");
    let mut b = image("b", Some("x"), "1", 1);
    b.tags.insert("drydock:parent", "ami-elsewhere");
    let inv = inv(vec![a, b], vec![]);
    let s = drift::evaluate(&inv, &policy(), now());
    assert_eq!(s.images[0].issues, vec!["lineage cycle: a → a".to_string()]);
    assert!(s.images[1].issues[0].contains("parent ami-elsewhere of b is not in the inventory"));
}

#[test]
fn malformed_cm_source_marks_image_and_keeps_verdict() {
    let mut a = image("a", Some("search"), "1", 12);
    a.tags.insert("cm-source", "[packer, not-json");
    let mut b = image("b", None, "1", 12);
    b.tags = tags(&[
        ("drydock:family", "svc"),
        (
            "cm-source",
            r#"["packer","repo","bake","2026.11.3","2026-11-20"]"#,
        ),
    ]);
    let inv = inv(vec![a, b], vec![]);
    let s = drift::evaluate(&inv, &policy(), now());
    assert_eq!(s.images[0].verdict, Verdict::Current);
    assert!(s.images[0].issues[0].starts_with("tag cm-source is malformed"));
    assert_eq!(s.images[1].version.as_deref(), Some("2026.11.3"));
    assert!(s.images[1].issues.is_empty());
}

#[test]
fn deprecated_versions_do_not_count_as_newer() {
    // Deprecated by state, and by a deprecation time already past (AWS's DeprecationTime).
    let mut by_state = image("b", Some("web"), "1.1", 5);
    by_state.state = ImageState::Deprecated;
    let mut by_time = image("b", Some("web"), "1.1", 5);
    by_time.deprecation_time = Some(now() - Duration::days(1));
    for b in [by_state, by_time] {
        let inv = inv(vec![image("a", Some("web"), "1.0", 10), b], vec![]);
        let (v, why) = judge(&inv, &policy(), "a");
        assert_eq!(v, Verdict::Current, "{why}");
    }
    // A deprecation time still to come leaves the version usable: it is newer.
    let mut later = image("b", Some("web"), "1.1", 5);
    later.deprecation_time = Some(now() + Duration::days(30));
    let inv = inv(vec![image("a", Some("web"), "1.0", 10), later], vec![]);
    assert_ne!(judge(&inv, &policy(), "a").0, Verdict::Current);
}

#[test]
fn disabled_versions_do_not_count_as_newer() {
    let a = image("a", Some("web"), "1.0", 10);
    let mut b = image("b", Some("web"), "1.1", 5);
    b.state = ImageState::Disabled;
    let inv = inv(vec![a, b], vec![]);
    assert_eq!(judge(&inv, &policy(), "a").0, Verdict::Current);
}

#[test]
fn every_vm_gets_its_images_verdict_and_counts_add_up() {
    let inv = inv(
        vec![
            image("a", Some("w"), "1", 100),
            image("b", Some("w"), "2", 1),
        ],
        vec![vm("1", "a"), vm("2", "b"), vm("3", "zzz")],
    );
    let s = drift::evaluate(
        &inv,
        &Policy {
            defaults: Defaults::default(),
            families: vec![],
            ..Policy::default()
        },
        now(),
    );
    let counts = s.vm_counts();
    assert_eq!(counts.iter().sum::<usize>(), 3);
    assert_eq!(counts[Verdict::Outdated as usize], 1);
    assert_eq!(counts[Verdict::Current as usize], 1);
    assert_eq!(counts[Verdict::Unknown as usize], 1);
}

#[test]
fn one_build_in_two_clouds_is_as_old_as_its_first_artifact() {
    // web 1.0 was built 95 days ago on AWS and transferred to Azure 5 days ago.
    let mut copy = image("z", Some("web"), "1.0", 5);
    copy.cloud = Cloud::Azure;
    copy.region = "westeurope".into();
    let inv = inv(vec![image("a", Some("web"), "1.0", 95), copy], vec![]);
    let (va, why_a) = judge(&inv, &policy(), "a");
    let (vz, why_z) = judge(&inv, &policy(), "z");
    assert_eq!((va, vz), (Verdict::Outdated, Verdict::Outdated));
    assert_eq!(why_a, why_z);
    let a = drift::evaluate(&inv, &policy(), now());
    let builds = drift::builds::builds(&inv, &a);
    assert_eq!(builds.len(), 1);
    assert_eq!(builds[0].clouds(&inv), vec!["aws", "azure"]);
    assert_eq!(
        builds[0].summary(&inv),
        "web 1.0 in aws, azure (2 artifacts, content not recorded)"
    );
}

#[test]
fn artifacts_of_one_build_with_different_content_are_flagged() {
    let mut a1 = image("a", Some("web"), "1.0", 5);
    a1.tags.insert("drydock:source", "file:web.raw sha256:aaaa");
    let mut a2 = image("b", Some("web"), "1.0", 4);
    a2.tags
        .insert("drydock:source", "aws:lab/eu-west-1/a sha256:bbbb");
    let inv = inv(vec![a1, a2], vec![]);
    let a = drift::evaluate(&inv, &policy(), now());
    let b = &drift::builds::builds(&inv, &a)[0];
    assert!(!b.consistent());
    assert!(b.summary(&inv).contains("2 DIFFERENT contents"));
}
