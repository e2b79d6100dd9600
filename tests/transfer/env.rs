//! The world a transfer test runs in: moto (EC2 + EBS direct APIs), Azurite (page blobs)
//! behind the fake Resource Manager (a gallery `golden` with definition `web-base`), and a
//! home whose config names AWS context `lab` (eu-west-1), read-only AWS context `audit` and
//! Azure context `lab-az` (westeurope). Plus test disks with a known pattern of data.

use crate::common::{drydock_process, run};
use crate::{azurite, moto, seed, server};
use serde_json::json;
use std::io::Write;
use std::path::{Path, PathBuf};

pub struct Env {
    /// The fake OpenStack (demo site) as context `lab-os`, when asked for.
    pub openstack: Option<drydock_testkit::fake_openstack::FakeOpenStack>,
    pub moto: moto::MotoServer,
    pub azurite: azurite::Azurite,
    pub arm: server::FakeArm,
    pub home: tempfile::TempDir,
}

fn rid(rest: &str) -> String {
    format!(
        "/subscriptions/{}/resourceGroups/rg-images/providers/Microsoft.Compute/{rest}",
        seed::SUB
    )
}

impl Env {
    /// A subscription holding only the gallery.
    pub fn new() -> Env {
        Env::with_seed(None)
    }

    /// The Azure e2e tests' fleet (VMs and a scale set on `web-base`), with disks.
    pub fn with_fleet() -> Env {
        Env::with_seed(Some(seed::seed()))
    }

    fn with_seed(fleet: Option<serde_json::Value>) -> Env {
        let moto = moto::MotoServer::start(&[]);
        let azurite = azurite::Azurite::start();
        let arm = server::FakeArm::start(&fleet.map_or_else(
            || json!({
            "azurite": azurite.seed(),
            "resources": [
                {"id": rid("galleries/golden"), "name": "golden",
                 "type": "Microsoft.Compute/galleries", "location": "westeurope", "properties": {}},
                {"id": rid("galleries/golden/images/web-base"), "name": "web-base",
                 "type": "Microsoft.Compute/galleries/images", "location": "westeurope",
                 "properties": {"osType": "Linux", "osState": "Generalized", "hyperVGeneration": "V2",
                                "identifier": {"publisher": "acme", "offer": "web", "sku": "base"}}}
            ]}),
            |mut f| {
                f["azurite"] = azurite.seed();
                f
            },
        ));
        let home = tempfile::tempdir().unwrap();
        let cfg = home.path().join("config/drydock");
        std::fs::create_dir_all(&cfg).unwrap();
        std::fs::write(
            cfg.join("config.toml"),
            format!(
                "[[aws.accounts]]\nname = \"lab\"\nregions = [\"eu-west-1\"]\nendpoint_url = \"{m}\"\n\n\
                 [[aws.accounts]]\nname = \"audit\"\nregions = [\"eu-west-1\"]\nendpoint_url = \"{m}\"\nreadonly = true\n\n\
                 [[azure.subscriptions]]\nid = \"{}\"\nname = \"lab-az\"\nlocations = [\"westeurope\"]\nendpoint = \"{}\"\ncredential = \"token\"\n",
                seed::SUB,
                arm.url,
                m = moto.url,
            ),
        )
        .unwrap();
        Env {
            openstack: None,
            moto,
            azurite,
            arm,
            home,
        }
    }

    /// The same plus the fake OpenStack's demo site as context `lab-os` (RegionOne), by an
    /// inline application credential whose secret is in `LAB_OS_SECRET`.
    pub fn with_openstack() -> Env {
        Env::with_openstack_site(None)
    }

    /// The same with the fake serving `seed` instead of its demo site.
    pub fn with_openstack_site(seed: Option<serde_json::Value>) -> Env {
        use drydock_testkit::fake_openstack::{FakeOpenStack, APP_CREDENTIAL};
        let mut env = Env::new();
        let os = seed.map_or_else(FakeOpenStack::demo, |s| FakeOpenStack::start(&s));
        let cfg = env.home.path().join("config/drydock/config.toml");
        let mut text = std::fs::read_to_string(&cfg).unwrap();
        text.push_str(&format!(
            "\n[[openstack.clouds]]\nname = \"lab-os\"\nauth_url = \"{}\"\napplication_credential_id = \"{}\"\napplication_credential_secret_env = \"LAB_OS_SECRET\"\nregions = [\"RegionOne\"]\n",
            os.auth_url(),
            APP_CREDENTIAL.0
        ));
        std::fs::write(&cfg, text).unwrap();
        env.openstack = Some(os);
        env
    }

    /// The fake OpenStack's request log.
    pub fn openstack_log(&self) -> String {
        self.openstack
            .as_ref()
            .map(|o| o.log_text())
            .unwrap_or_default()
    }

    pub fn process(&self, args: &[&str]) -> std::process::Command {
        let mut cmd = drydock_process(self.home.path());
        cmd.env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("DRYDOCK_AZURE_TOKEN", "test-token")
            .env(
                "LAB_OS_SECRET",
                drydock_testkit::fake_openstack::APP_CREDENTIAL.1,
            )
            .env_remove("DRYDOCK_NOW")
            .current_dir(self.home.path())
            .args(args);
        cmd
    }

    /// `drydock ARGS`: (exit code, stdout, stderr).
    pub fn cmd(&self, args: &[&str]) -> (i32, String, String) {
        run(&mut assert_cmd::Command::from_std(self.process(args)))
    }

    /// `drydock transfer ARGS --events jsonl` that must succeed: its `done` event.
    pub fn transfer(&self, args: &[&str]) -> serde_json::Value {
        let mut all = vec!["transfer"];
        all.extend_from_slice(args);
        all.extend(["--events", "jsonl"]);
        let (code, out, err) = self.cmd(&all);
        assert_eq!(code, 0, "transfer {args:?}: {err}\n{out}");
        let done = out.lines().last().expect("a done event");
        let v: serde_json::Value = serde_json::from_str(done).unwrap();
        assert_eq!(v["event"], "done", "{out}");
        v
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.home.path().join(name)
    }

    /// The images of the report (`report --images --format json`).
    pub fn images(&self) -> Vec<serde_json::Value> {
        let doc = self.image_report();
        doc["images"].as_array().cloned().unwrap_or_default()
    }

    /// `report --images --format json`, which must not fail on its own account (exit 0 or
    /// 1, a verdict at or above `--fail-on`).
    pub fn image_report(&self) -> serde_json::Value {
        let (code, out, err) = self.cmd(&["report", "--images", "--format", "json"]);
        assert!(code == 0 || code == 1, "{err}");
        serde_json::from_str(&out).unwrap()
    }

    /// The build `family` `version` of the image report (its artifacts, clouds, whether
    /// their content agrees).
    pub fn build(&self, family: &str, version: &str) -> serde_json::Value {
        let doc = self.image_report();
        doc["builds"]
            .as_array()
            .and_then(|b| {
                b.iter()
                    .find(|b| b["family"] == family && b["version"] == version)
            })
            .cloned()
            .unwrap_or_else(|| panic!("no build {family} {version}: {doc}"))
    }
}

/// A raw disk of `size` bytes whose every `stride`-th MiB holds `data_kib` KiB of a
/// deterministic, non-zero pattern (plus an odd 100 bytes in the last page).
pub fn raw_disk(path: &Path, size: u64, stride: u64, data_kib: usize) {
    let f = std::fs::File::create(path).unwrap();
    f.set_len(size).unwrap();
    let mut w = std::io::BufWriter::new(&f);
    let mut block = vec![0u8; data_kib * 1024];
    let mut mib = 0;
    use std::io::Seek;
    while (mib + 1) << 20 <= size {
        for (i, b) in block.iter_mut().enumerate() {
            *b = ((i as u64 * 2654435761 + mib * 97) >> 7) as u8 | 1;
        }
        w.seek(std::io::SeekFrom::Start(mib << 20)).unwrap();
        w.write_all(&block).unwrap();
        mib += stride;
    }
    w.seek(std::io::SeekFrom::Start(size - 100)).unwrap();
    w.write_all(&[0xA5; 100]).unwrap();
    w.flush().unwrap();
}

/// `qemu-img convert -O FORMAT`.
pub fn qemu_convert(from: &Path, to: &Path, format: &str) {
    let ok = std::process::Command::new("qemu-img")
        .args(["convert", "-O", format])
        .arg(from)
        .arg(to)
        .status()
        .unwrap()
        .success();
    assert!(ok, "qemu-img convert to {format}");
}

/// Whether `a` and `b` hold the same bytes over `a`'s length, `b`'s rest being zeros (a
/// cloud rounds a disk up: EBS to whole GiB).
pub fn same_disk(a: &Path, b: &Path) -> bool {
    use std::io::Read;
    let (mut fa, mut fb) = (
        std::fs::File::open(a).unwrap(),
        std::fs::File::open(b).unwrap(),
    );
    let (mut ba, mut bb) = (vec![0u8; 1 << 20], vec![0u8; 1 << 20]);
    loop {
        let n = fa.read(&mut ba).unwrap();
        if n == 0 {
            break;
        }
        fb.read_exact(&mut bb[..n]).unwrap();
        if ba[..n] != bb[..n] {
            return false;
        }
    }
    loop {
        let n = fb.read(&mut bb).unwrap();
        if n == 0 {
            return true;
        }
        if bb[..n].iter().any(|&x| x != 0) {
            return false;
        }
    }
}

/// The SHA-256 of a file, hex.
pub fn sha256(path: &Path) -> String {
    let out = std::process::Command::new("sha256sum")
        .arg(path)
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()[..64].to_string()
}
