//! The harness of the plan tests: a 200-VM fleet spec for the simulated cloud, an isolated
//! drydock home configured to simulate it, and readers of the saved cloud state.

use crate::common::{drydock, run};
use serde_json::Value;
use std::collections::HashMap;
use std::path::PathBuf;

/// 200 VMs of family `svc` on version 1.0 (120 in a scale group, 80 standalone), 1.1
/// available; optionally a stopped VM still on 1.0 and a target image failing health.
pub fn fleet(stopped: bool, unhealthy_target: bool) -> String {
    let health = if unhealthy_target {
        r#", tags = { "sim:health" = "fail" }"#
    } else {
        ""
    };
    let mut s = format!(
        r#"
[[accounts]]
name = "prod"
cloud = "aws"
id = "111122223333"
regions = ["eu-west-1"]

[[families]]
name = "svc"
account = "prod"
name_pattern = "svc-{{version}}"
versions = [
  {{ version = "1.0", created_days_ago = 100 }},
  {{ version = "1.1", created_days_ago = 5{health} }},
]

[[fleets]]
name = "svc-a"
account = "prod"
image = "svc@1.0"
count = 120
size = "t3.small"
launched_days_ago = 90
scale_group = "svc-asg"
tags = {{ app = "svc" }}

[[fleets]]
name = "svc-b"
account = "prod"
image = "svc@1.0"
count = 80
size = "t3.small"
launched_days_ago = 90
tags = {{ app = "api" }}
"#
    );
    if stopped {
        s += r#"
[[fleets]]
name = "svc-spare"
account = "prod"
image = "svc@1.0"
count = 1
size = "t3.small"
launched_days_ago = 90
state = "stopped"
"#;
    }
    s
}

pub struct Env {
    pub home: tempfile::TempDir,
    /// The shared store's URL, when not the embedded one.
    pub store: Option<String>,
}

impl Env {
    /// An environment whose store is the PostgreSQL at `url`, leases lasting `ttl`.
    pub fn on_postgres(fleet: &str, demo: &str, url: &str, ttl: &str) -> Env {
        let mut env = Env::new(
            fleet,
            &format!(
                "{demo}

[store]
url = {url:?}
lease_ttl = {ttl:?}
"
            ),
        );
        env.store = Some(url.to_string());
        env
    }

    pub fn new(fleet: &str, demo: &str) -> Env {
        let home = tempfile::tempdir().unwrap();
        let cfg = home.path().join("config/drydock");
        std::fs::create_dir_all(&cfg).unwrap();
        let fleet_path = home.path().join("fleet.toml");
        std::fs::write(&fleet_path, fleet).unwrap();
        std::fs::write(
            cfg.join("config.toml"),
            format!(
                "[demo]\nfleet = {:?}\n{demo}\n",
                fleet_path.display().to_string()
            ),
        )
        .unwrap();
        Env { home, store: None }
    }

    pub fn cmd(&self, args: &[&str]) -> (i32, String, String) {
        run(drydock(self.home.path()).args(args))
    }

    /// `plan new` on the demo; returns the plan id.
    pub fn new_plan(&self, extra: &[&str]) -> String {
        let mut args = vec![
            "plan",
            "new",
            "--demo",
            "--family",
            "svc",
            "--grace",
            "0s",
            "--undo-window",
            "0s",
        ];
        args.extend_from_slice(extra);
        let (code, out, err) = self.cmd(&args);
        assert_eq!(code, 0, "{out}{err}");
        plan_id(&out)
    }

    pub fn run_plan(&self, id: &str) -> (i32, String, String) {
        self.cmd(&["plan", "run", id, "--execute", "--yes", "--yes-production"])
    }

    /// The simulated AWS cloud as saved in the store (terminated VMs included).
    pub fn cloud(&self) -> Value {
        let doc = self
            .saved_cloud()
            .expect("the demo cloud's state is in the store");
        serde_json::from_slice(&doc).unwrap()
    }

    /// The simulated AWS cloud's saved state, if any change was saved.
    pub fn saved_cloud(&self) -> Option<Vec<u8>> {
        let location = match &self.store {
            Some(url) => drydock_store::Location::Postgres {
                url: url.clone(),
                ca_file: None,
            },
            None => {
                let path: PathBuf = self.home.path().join("data/drydock/store.sqlite");
                if !path.exists() {
                    return None;
                }
                drydock_store::Location::Sqlite(path)
            }
        };
        let store = drydock_store::open(&location).unwrap();
        store
            .document(drydock::contexts::DEMO_STATE, "demo-aws")
            .unwrap()
            .map(|d| d.body)
    }

    /// `report --format json` on the svc family.
    pub fn svc_report(&self) -> Value {
        let (_, out, _) = self.cmd(&[
            "report",
            "--demo",
            "--format",
            "json",
            "--filter",
            "family:svc",
        ]);
        serde_json::from_str(&out).unwrap()
    }

    pub fn status(&self, id: &str) -> String {
        let (_, out, _) = self.cmd(&["plan", "show", id]);
        out.lines()
            .find_map(|l| l.strip_prefix("status: "))
            .unwrap_or("")
            .to_string()
    }
}

/// The plan id `plan new` printed first (`plan ID: …`).
pub fn plan_id(out: &str) -> String {
    out.lines()
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .expect("plan id")
        .to_string()
}

pub fn vms(cloud: &Value) -> &Vec<Value> {
    cloud["inventory"]["vms"].as_array().unwrap()
}

/// How many running VMs are on the image with id `image_id`.
pub fn running_on(cloud: &Value, image_id: &str) -> usize {
    vms(cloud)
        .iter()
        .filter(|v| v["state"] == "running" && v["image_id"] == image_id)
        .count()
}

pub fn image<'a>(cloud: &'a Value, name: &str) -> &'a Value {
    cloud["inventory"]["images"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == name)
        .unwrap_or_else(|| panic!("no image {name}"))
}

pub fn image_id(cloud: &Value, name: &str) -> String {
    image(cloud, name)["id"].as_str().unwrap().to_string()
}

/// Every old VM is still running or was replaced by exactly one running VM on the target;
/// no replacement was ever launched twice (terminated ones included).
pub fn assert_no_duplicates_none_lost(cloud: &Value, old_ids: &[String], target: &str) {
    let mut by_old: HashMap<&str, Vec<&Value>> = HashMap::new();
    for v in vms(cloud) {
        if let Some(old) = v["tags"]["drydock:replaces"].as_str() {
            by_old.entry(old).or_default().push(v);
        }
    }
    for old in old_ids {
        let old_vm = vms(cloud).iter().find(|v| v["id"] == old.as_str()).unwrap();
        let reps = by_old.get(old.as_str()).cloned().unwrap_or_default();
        assert!(reps.len() <= 1, "{old} has {} replacements", reps.len());
        match reps.first() {
            Some(r) => {
                assert_eq!(r["state"], "running", "replacement of {old}");
                assert_eq!(r["image_id"], target);
            }
            None => assert_eq!(old_vm["state"], "running", "{old} lost"),
        }
    }
}

/// The VMs on svc 1.0, from a report (the state file appears with the first change).
pub fn old_vm_ids(env: &Env) -> Vec<String> {
    let r = env.svc_report();
    r["vms"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["image_name"] == "svc-1.0")
        .map(|v| v["id"].as_str().unwrap().to_string())
        .collect()
}
