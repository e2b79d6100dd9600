//! A whole AWS Organization from one `[[aws.organizations]]` entry, on moto: 30 member
//! accounts in two OUs with instances made in each through assume-role; one excluded by
//! tag, one whose role is refused. The report lists every other account's VMs with their
//! verdicts, names the denied account and its role, exits 3 (0 with --allow-partial), and a
//! rerun within the cache's TTL makes no Organizations call.

use crate::common;
use drydock_testkit::moto;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

const ACCOUNTS: usize = 30;
/// moto_fleet.py's AMIs: the newest and the oldest Amazon Linux 2023 build.
const CURRENT_AMI: &str = "ami-0a100000000000003";
const OLD_AMI: &str = "ami-0a100000000000001";

fn python(args: &[&str]) -> String {
    let out = Command::new(moto::python()).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn one_organization_entry_audits_every_account_and_names_the_one_it_could_not_read() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path();
    let amis = dir.join("amis.json");
    let root = moto::workspace_root();
    python(&[
        root.join("demo/moto_fleet.py").to_str().unwrap(),
        "amis",
        amis.to_str().unwrap(),
    ]);
    let (calls, deny) = (dir.join("calls.log"), dir.join("deny.txt"));
    std::fs::write(&deny, "").unwrap();
    let server = moto::MotoServer::start(&[
        ("MOTO_AMIS_PATH", amis.as_os_str()),
        ("DRYDOCK_MOTO_CALLS", calls.as_os_str()),
        ("DRYDOCK_MOTO_DENY_ROLES", deny.as_os_str()),
    ]);
    let seed = python(&[
        root.join("crates/testkit/servers/moto_org.py")
            .to_str()
            .unwrap(),
        &server.url,
        &ACCOUNTS.to_string(),
        "eu-west-1,us-east-1",
        "1",
        CURRENT_AMI,
        OLD_AMI,
    ]);
    let seed: Value = serde_json::from_str(&seed).unwrap();
    let accounts = seed["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), ACCOUNTS);
    let id_of = |name: &str| {
        accounts.iter().find(|a| a["name"] == name).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    // acct-05's role is refused from now on (acct-02 is tagged drydock=skip by the seed).
    let denied = id_of("acct-05");
    std::fs::write(&deny, format!("arn:aws:iam::{denied}:role/\n")).unwrap();
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[[aws.organizations]]
name = "acme"
regions = ["eu-west-1", "us-east-1"]
endpoint_url = "{}"
exclude = ["tag:drydock=skip"]
production = ["ou:/Root/Prod/*"]
readonly = ["tag:team=web"]
"#,
            server.url
        ),
    )
    .unwrap();
    let drydock = |args: &[&str]| {
        let mut c = common::drydock(dir);
        c.env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .arg("--config")
            .arg(&config)
            .args(args);
        common::run(&mut c)
    };
    let org_calls = || {
        let log = std::fs::read_to_string(&calls).unwrap_or_default();
        log.lines()
            .filter(|l| {
                [
                    "ListRoots",
                    "ListOrganizationalUnitsForParent",
                    "ListAccountsForParent",
                    "ListTagsForResource",
                ]
                .iter()
                .any(|c| l.ends_with(c))
            })
            .count()
    };

    let (code, out, err) = drydock(&["report", "--format", "json"]);
    assert_eq!(code, 3, "a denied account makes the scan incomplete: {err}");
    assert!(org_calls() > 0, "the first run walks the OU tree");
    let doc: Value = serde_json::from_str(&out).unwrap();
    let states: BTreeMap<String, String> = doc["contexts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["context"].as_str().unwrap().into(),
                c["state"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(states["acct-05"], "denied", "{states:?}");
    assert_eq!(states["acct-02"], "skipped", "{states:?}");
    let ok = states.values().filter(|s| *s == "ok").count();
    assert_eq!(
        ok,
        ACCOUNTS - 2 + 1,
        "28 members and the management account: {states:?}"
    );
    let acct5 = doc["contexts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["context"] == "acct-05")
        .unwrap();
    let reason = acct5["scopes"][0]["reason"].as_str().unwrap();
    assert!(
        reason.contains(&format!(
            "arn:aws:iam::{denied}:role/OrganizationAccountAccessRole"
        )) && reason.contains("AccessDenied"),
        "{reason}"
    );
    assert!(err.contains("acct-05 denied"), "{err}");
    // Every other member's VMs, with the verdict its AMI earns.
    let by_account: BTreeMap<String, Vec<String>> =
        doc["vms"]
            .as_array()
            .unwrap()
            .iter()
            .fold(BTreeMap::new(), |mut m, v| {
                m.entry(v["account"].as_str().unwrap().to_string())
                    .or_default()
                    .push(v["verdict"].as_str().unwrap().to_string());
                m
            });
    for (n, a) in accounts.iter().enumerate() {
        let id = a["id"].as_str().unwrap();
        let verdicts = by_account.get(id);
        if n == 2 || n == 5 {
            assert!(verdicts.is_none(), "acct-{n:02} was not to be read");
            continue;
        }
        let verdicts = verdicts.unwrap_or_else(|| panic!("acct-{n:02} missing"));
        assert_eq!(verdicts.len(), 2, "one VM in each region of acct-{n:02}");
        let want = if n % 2 == 0 { "current" } else { "outdated" };
        assert!(
            verdicts.iter().all(|v| v == want),
            "acct-{n:02}: {verdicts:?}"
        );
    }

    // Within the TTL: the cached account list, no Organizations call; 0 with --allow-partial.
    std::fs::write(&calls, "").unwrap();
    let (code, _, err) = drydock(&["report", "--allow-partial"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(org_calls(), 0, "the rerun read the cached list");
    let assumed = std::fs::read_to_string(&calls)
        .unwrap()
        .lines()
        .filter(|l| l.ends_with("AssumeRole"))
        .count();
    assert_eq!(
        assumed, ACCOUNTS,
        "one session per scanned account (and the denied one)"
    );

    // `org list` shows what each account became; `org refresh` walks the tree again.
    let (code, out, _) = drydock(&["org", "list"]);
    assert_eq!(code, 0);
    assert_eq!(org_calls(), 0);
    let row = |name: &str| {
        out.lines()
            .find(|l| l.contains(&format!(" {name} ")))
            .unwrap_or("")
            .to_string()
    };
    assert!(row("acct-00").contains("production, readonly"), "{out}");
    assert!(
        row("acct-01").contains("readonly") && !row("acct-01").contains("production"),
        "{out}"
    );
    assert!(
        row("acct-02").contains("skipped: excluded by tag:drydock=skip"),
        "{out}"
    );
    let (code, _, _) = drydock(&["org", "refresh"]);
    assert_eq!(code, 0);
    assert!(org_calls() > 0);
    let names: BTreeSet<&str> = accounts
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), ACCOUNTS);
}
