//! Two operators (two processes, different `DRYDOCK_OPERATOR`) running one plan on AWS —
//! moto behind 150 ms of latency and 5 % faulty mutations (half of them after the change
//! was made) — with the journal, leases, claims and audit log on one PostgreSQL: a second
//! run is refused naming the holder, an overlapping plan is refused, 20 SIGKILLs of the
//! holder are taken over with no duplicate launch and no lost VM, and every mutation moto
//! carried out has its audit row and every applied row its mutation.

use crate::common;
use drydock_testkit::{moto, pg};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const VMS: usize = 40;

struct World {
    _moto: moto::MotoServer,
    moto_url: String,
    /// Where moto's middleware logs each mutation it carried out.
    mutations: std::path::PathBuf,
    home: tempfile::TempDir,
    url: String,
}

impl World {
    fn process(&self, operator: &str, args: &[&str]) -> Command {
        let mut c = common::drydock_process(self.home.path());
        c.env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("DRYDOCK_STORE_URL", &self.url)
            .env("DRYDOCK_OPERATOR", operator)
            .env_remove("DRYDOCK_NOW")
            .args(args)
            .stdin(Stdio::null());
        c
    }

    fn cmd(&self, operator: &str, args: &[&str]) -> (i32, String, String) {
        let out = self.process(operator, args).output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    fn spawn_run(&self, operator: &str, id: &str, take_over: bool) -> Child {
        let mut args = vec![
            "plan",
            "resume",
            id,
            "--execute",
            "--yes",
            "--yes-production",
        ];
        if take_over {
            args.push("--take-over");
        }
        let mut c = self.process(operator, &args);
        c.stdout(Stdio::null()).stderr(Stdio::piped());
        c.spawn().unwrap()
    }

    /// Every instance moto holds, as JSON (id, state, image, tags).
    fn instances(&self) -> Vec<Value> {
        let script = r#"
import boto3, json, sys
ec2 = boto3.client("ec2", endpoint_url=sys.argv[1], region_name="eu-west-1",
                   aws_access_key_id="testing", aws_secret_access_key="testing")
out = []
for r in ec2.describe_instances()["Reservations"]:
    for i in r["Instances"]:
        out.append({"id": i["InstanceId"], "state": i["State"]["Name"], "image": i["ImageId"],
                    "tags": {t["Key"]: t["Value"] for t in i.get("Tags", [])}})
print(json.dumps(out))
"#;
        let out = Command::new(moto::python())
            .args(["-c", script, &self.moto_url])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

fn world() -> Option<World> {
    let url = pg::database("team_moto")?;
    let home = tempfile::tempdir().unwrap();
    let mutations = home.path().join("moto-mutations.log");
    let moto = moto::MotoServer::start(&[
        ("DRYDOCK_MOTO_LATENCY_MS", "150".as_ref()),
        ("DRYDOCK_MOTO_FAULT_RATE", "0.05".as_ref()),
        ("DRYDOCK_MOTO_MUTATIONS", mutations.as_os_str()),
    ]);
    let seeded = Command::new(moto::python())
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/testkit/servers/web_fleet.py"))
        .arg(&moto.url)
        .arg(VMS.to_string())
        .output()
        .unwrap();
    assert!(
        seeded.status.success(),
        "{}",
        String::from_utf8_lossy(&seeded.stderr)
    );
    let cfg = home.path().join("config/drydock");
    std::fs::create_dir_all(&cfg).unwrap();
    std::fs::write(
        cfg.join("config.toml"),
        format!(
            "[[aws.accounts]]\nname = \"lab\"\nregions = [\"eu-west-1\"]\nendpoint_url = \"{}\"\n\n[store]\nlease_ttl = \"3s\"\n",
            moto.url
        ),
    )
    .unwrap();
    Some(World {
        moto_url: moto.url.clone(),
        _moto: moto,
        mutations,
        home,
        url,
    })
}

#[test]
fn two_operators_share_one_plan_on_aws_through_kills_without_duplicates_or_unaudited_changes() {
    let Some(w) = world() else { return };
    let (code, out, err) = w.cmd(
        "alice",
        &[
            "plan",
            "new",
            "--family",
            "web-base",
            "--waves",
            "1,100%",
            "--grace",
            "0s",
            "--undo-window",
            "0s",
            "--concurrency",
            "8",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let id = out
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap()
        .to_string();
    let old: HashSet<String> = w
        .instances()
        .into_iter()
        .filter(|i| i["state"] == "running")
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect();
    // (A seeding call that lost its answer may have made one more: moto ignores client
    // tokens. The plan covers every running VM on the old version.)
    assert!(old.len() >= VMS, "{}", old.len());
    // What moto did from here on is drydock's (the seeding's own calls come before).
    let seeded = std::fs::read_to_string(&w.mutations)
        .unwrap_or_default()
        .len();
    // Bob's overlapping plan is refused, naming alice's.
    let (code, _, err) = w.cmd("bob", &["plan", "new", "--family", "web-base"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(&format!("held by plan {id}")), "{err}");
    // Alice runs; bob's concurrent run is refused, naming her.
    let alice = w.spawn_run("alice", &id, false);
    std::thread::sleep(Duration::from_millis(2500));
    let (code, _, err) = w.cmd(
        "bob",
        &[
            "plan",
            "resume",
            &id,
            "--execute",
            "--yes",
            "--yes-production",
        ],
    );
    assert_ne!(code, 0, "{err}");
    assert!(
        err.contains("is being run by alice") && err.contains("last heartbeat"),
        "{err}"
    );
    // Twenty kills of whoever holds the plan; the next operator takes over each time.
    let mut holder = Some(alice);
    let mut rng = 0x2545_f491_4f6c_dd1d_u64;
    let mut kills = 0;
    let start = Instant::now();
    while kills < 20 {
        let mut c = holder.take().unwrap_or_else(|| {
            w.spawn_run(if kills % 2 == 0 { "bob" } else { "alice" }, &id, true)
        });
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        std::thread::sleep(Duration::from_millis(300 + rng % 700));
        if c.try_wait().unwrap().is_some() {
            break;
        }
        unsafe {
            libc::kill(c.id() as i32, libc::SIGKILL);
        }
        c.wait().unwrap();
        kills += 1;
        assert!(start.elapsed() < Duration::from_secs(300), "too slow");
    }
    assert!(kills >= 12, "only {kills} kills landed mid-run");
    let (code, _, err) = w.cmd(
        "carol",
        &[
            "plan",
            "resume",
            &id,
            "--execute",
            "--yes",
            "--yes-production",
            "--take-over",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let (_, show, _) = w.cmd("carol", &["plan", "show", &id]);
    assert!(show.contains("status: complete"), "{show}\n{err}");
    // No duplicate launch, no lost VM: each old VM is gone and has one running replacement.
    let all = w.instances();
    let mut by_old: HashMap<String, Vec<&Value>> = HashMap::new();
    for i in &all {
        if let Some(o) = i["tags"]["drydock:replaces"].as_str() {
            if i["state"] != "terminated" {
                by_old.entry(o.to_string()).or_default().push(i);
            }
        }
    }
    for o in &old {
        let reps = by_old.get(o).cloned().unwrap_or_default();
        assert_eq!(reps.len(), 1, "{o}: {} live replacements", reps.len());
        let me = all.iter().find(|i| i["id"] == o.as_str()).unwrap();
        assert_eq!(me["state"], "terminated", "{o} was retired");
    }
    // The audit log against what moto did.
    let (_, out, _) = w.cmd("carol", &["audit", "--format", "json", "--plan", &id]);
    let audit: Vec<Value> = serde_json::from_str(&out).unwrap();
    let log = std::fs::read_to_string(&w.mutations).unwrap();
    let done: HashSet<(String, String)> = log[seeded..]
        .lines()
        .filter_map(|l| l.strip_prefix("MUTATION "))
        .filter_map(|l| l.split_once(' '))
        .map(|(a, t)| (a.to_string(), t.to_string()))
        .collect();
    let verb = |action: &str| match action {
        "RunInstances" => Some("launch replacement"),
        "TerminateInstances" => Some("terminate"),
        _ => None,
    };
    for (action, target) in &done {
        let Some(op) = verb(action) else { continue };
        assert!(
            audit
                .iter()
                .any(|a| a["operation"] == op && a["target"] == target.as_str()),
            "moto did {action} {target} with no audit row"
        );
    }
    for a in &audit {
        let applied = a["outcome"] == "applied" || a["outcome"] == "adopted";
        let action = match a["operation"].as_str().unwrap() {
            "launch replacement" => "RunInstances",
            "terminate" => "TerminateInstances",
            _ => continue,
        };
        if applied {
            let t = a["target"].as_str().unwrap().to_string();
            assert!(
                done.contains(&(action.to_string(), t.clone())),
                "audit row {a} has no mutation in moto's log"
            );
        }
        assert!(
            ["alice", "bob", "carol"].contains(&a["operator"].as_str().unwrap()),
            "{a}"
        );
    }
    eprintln!(
        "{kills} kills, {} audit rows, {} mutations carried out by moto",
        audit.len(),
        done.len()
    );
}
