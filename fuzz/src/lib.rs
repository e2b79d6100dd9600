//! The fuzz entry points: each target hands its bytes to what the command line calls, as
//! a file whose format is probed (`convert --check`, `inspect`, `lint`), plus the package
//! parsers directly (the CLI reaches them only through a valid filesystem). The engine and
//! the parsers are the `drydock-convert` and `drydock-inspect` crates, as ordinary
//! dependencies: nothing of the cloud SDKs is compiled or instrumented here.

use drydock_inspect::lint::LintOptions;
use std::io::Write;
use std::path::PathBuf;

/// Writes `data` to a file of this process (in shared memory where there is one) and
/// removes it when dropped.
struct Input(PathBuf);

impl Input {
    fn new(data: &[u8]) -> Option<Input> {
        let shm = std::path::Path::new("/dev/shm");
        let dir = if shm.is_dir() {
            shm.to_path_buf()
        } else {
            std::env::temp_dir()
        };
        let path = dir.join(format!("drydock-fuzz-{}.img", std::process::id()));
        let mut f = std::fs::File::create(&path).ok()?;
        f.write_all(data).ok()?;
        Some(Input(path))
    }
}

impl Drop for Input {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// `drydock convert --check FILE`: probe the format, parse every header and table and read
/// the first 64 MiB of the virtual disk through the pipeline; then `drydock inspect FILE`.
/// Errors are fine; panics, hangs and unbounded allocations are what the fuzzer looks for.
pub fn fuzz_image(data: &[u8]) {
    let Some(input) = Input::new(data) else {
        return;
    };
    let _ = drydock_convert::check(&input.0, None, &mut |p| p.done < 64 << 20);
    let _ = drydock_inspect::inspect(&input.0);
}

/// `drydock inspect FILE` and `drydock lint FILE`: the partition table, each partition's
/// filesystem, what an ext filesystem holds and the lint checks over it.
pub fn fuzz_disk(data: &[u8]) {
    let Some(input) = Input::new(data) else {
        return;
    };
    let _ = drydock_inspect::inspect(&input.0);
    let _ = drydock_inspect::lint::lint(&input.0, &LintOptions::default());
}

/// An ext filesystem as a whole disk through `inspect` and `lint`, and the bytes as
/// package databases (dpkg status, apk installed, DEP-5 copyright, an rpm header blob).
pub fn fuzz_filesystem(data: &[u8]) {
    fuzz_disk(data);
    let text = String::from_utf8_lossy(data);
    let _ = drydock_inspect::packages::parse_dpkg_status(&text);
    let _ = drydock_inspect::packages::parse_apk_installed(&text);
    let _ = drydock_inspect::packages::dep5_licenses(&text);
    let _ = drydock_inspect::packages::parse_rpm_header(data);
}

/// `drydock --config FILE report`: the config file read (bounded), parsed and typed.
pub fn fuzz_config(data: &[u8]) {
    let Some(input) = Input::new(data) else {
        return;
    };
    let Ok((config, _)) = drydock::config::load(Some(&input.0), &[]) else {
        return;
    };
    // What the CLI derives from it next: who is acting, where the store is (its URL
    // parsed and shown without a password), how long a lease lasts.
    let _ = drydock::config::operator::resolve(config.operator.as_deref(), &|_| None);
    let data = drydock::config::paths::DataDir::at("/nonexistent");
    if let Ok(Some(location)) = config.store_location(Some(&data), &|_| None) {
        let shown = location.describe();
        if let Some(url) = &config.store.url {
            if let Some((_, pw)) = url
                .split_once("://")
                .and_then(|(_, r)| r.split_once('@'))
                .and_then(|(auth, _)| auth.split_once(':'))
            {
                assert!(pw.is_empty() || pw == "***" || !shown.contains(&format!(":{pw}@")));
            }
        }
    }
    let _ = config.lease_ttl();
}

/// `drydock plan show FILE`: a plan file read and validated.
pub fn fuzz_plan(data: &[u8]) {
    let Some(input) = Input::new(data) else {
        return;
    };
    let _ = drydock::plan::Plan::read(&input.0);
}

/// A subscribed image list's body, as the image-list cache parses it.
pub fn fuzz_image_list(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = drydock::drift::image_list::ImageList::parse("fuzz", "file:///fuzz", &text);
}

/// `drydock report --snapshot FILE`: the snapshot read, judged and reported as JSON.
pub fn fuzz_snapshot(data: &[u8]) {
    let Some(input) = Input::new(data) else {
        return;
    };
    let Ok((config, _)) = drydock::config::load(Some(std::path::Path::new("/dev/null")), &[])
    else {
        return;
    };
    if let Ok(inv) = drydock::model::snapshot::read(&input.0) {
        let a = drydock::drift::evaluate(&inv, &config.policy, inv.scanned_at);
        let opts = drydock::report::ReportOptions {
            format: drydock::report::Format::Json,
            group_by: None,
            filter: drydock::report::Filter::parse("").expect("the empty filter"),
            fail_on: None,
            color: false,
            images: false,
        };
        let report = drydock::report::Report::build(&inv, &a, &opts);
        let _ = report.write(&opts, &mut std::io::sink());
    }
}

/// The package databases as found inside an image.
pub fn fuzz_packages(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = drydock_inspect::packages::parse_dpkg_status(&text);
    let _ = drydock_inspect::packages::parse_apk_installed(&text);
    let _ = drydock_inspect::packages::dep5_licenses(&text);
    let _ = drydock_inspect::packages::parse_rpm_header(data);
}

/// `drydock ova unpack FILE DIR`: members listed, the manifest checked, files written.
pub fn fuzz_ova_unpack(data: &[u8]) {
    let Some(input) = Input::new(data) else {
        return;
    };
    let Ok(dir) = tempfile::tempdir() else { return };
    let _ = drydock_convert::ova::unpack(&input.0, dir.path(), &mut |_| true);
}

/// A filter expression as `report --filter` and the dashboard's `/` take it: two of them
/// (before and after a line break, as typed one after the other), parsed, matched, and the
/// narrowing the dashboard relies on checked.
pub fn fuzz_filter(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (before, after) = text.split_once('\n').unwrap_or((&text[..], ""));
    drydock::report::filter::check_narrowing(before, after);
}

/// What drydock reads of an OpenStack cloud, by the first byte: a `clouds.yaml` found
/// through `OS_CLIENT_CONFIG_FILE` (as `[[openstack.clouds]] cloud = "site"` loads it),
/// a Glance image page, a Nova server page, a Cinder volume or an error body, each taken
/// into drydock's records as a scan does.
pub fn fuzz_openstack(data: &[u8]) {
    use drydock_openstack::records::{ImagePage, ServerPage, VolumeBody};
    let Some((&kind, rest)) = data.split_first() else {
        return;
    };
    let now = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
    match kind % 5 {
        0 => {
            let Some(input) = Input::new(rest) else {
                return;
            };
            let path = input.0.display().to_string();
            let env = |k: &str| (k == "OS_CLIENT_CONFIG_FILE").then(|| path.clone());
            let _ = drydock_openstack::clouds::load("site", &env);
        }
        1 => {
            if let Ok(page) = serde_json::from_slice::<ImagePage>(rest) {
                let mut images: Vec<_> = page
                    .images
                    .iter()
                    .map(|i| i.to_image("project", "RegionOne", now))
                    .collect();
                drydock_openstack::records::newer_bases(&mut images);
                if let Some(next) = &page.next {
                    let _ = drydock_openstack::scan::follow("http://glance", next);
                }
            }
        }
        2 => {
            if let Ok(page) = serde_json::from_slice::<ServerPage>(rest) {
                for s in &page.servers {
                    let _ = s.to_vm("project", "RegionOne", s.image_id().unwrap_or(""), now);
                    let _ = drydock_openstack::servers::health_of(s);
                    let _ = s.flavor_ref();
                }
                let _ = page.next();
            }
        }
        3 => {
            if let Ok(v) = serde_json::from_slice::<VolumeBody>(rest) {
                let _ = v.volume.image_id();
            }
        }
        _ => {
            let _ = drydock_openstack::error::status(400, rest, "call", "resource");
        }
    }
}
