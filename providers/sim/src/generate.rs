//! A seeded generator of large simulated estates (`drydock demo generate`): many accounts,
//! families with lineage, versions of every age and state, VMs skewed towards popular images,
//! a share of unresolvable image references, scale groups and launch templates.

use crate::ids;
use chrono::{DateTime, Duration, Utc};
use drydock_api::{
    Cloud, Image, ImageState, LaunchTemplate, ScaleGroup, ScanResult, Tags, Vm, VmState,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct GenerateSpec {
    pub vms: usize,
    pub images: usize,
    pub seed: u64,
}

const AWS_REGIONS: [&str; 5] = [
    "us-east-1",
    "us-west-2",
    "eu-west-1",
    "eu-central-1",
    "ap-southeast-2",
];
const AZURE_REGIONS: [&str; 3] = ["westeurope", "northeurope", "eastus"];
const VERSIONS_PER_FAMILY: usize = 10;
const SIZES: [&str; 4] = ["m6i.large", "c6i.xlarge", "t3.medium", "r6i.2xlarge"];

struct Scope {
    cloud: Cloud,
    account: String,
    region: &'static str,
}

/// Generates an estate. The same spec and `now` always give the same records.
pub fn generate(spec: GenerateSpec, now: DateTime<Utc>) -> ScanResult {
    let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
    let mut scopes = Vec::new();
    for a in 0..12 {
        for r in AWS_REGIONS {
            scopes.push(Scope {
                cloud: Cloud::Aws,
                account: format!("{:012}", 100_000_000_000u64 + a * 7_919),
                region: r,
            });
        }
    }
    for s in 0..6 {
        for r in AWS_REGIONS.len()..AWS_REGIONS.len() + AZURE_REGIONS.len() {
            let region = AZURE_REGIONS[r - AWS_REGIONS.len()];
            scopes.push(Scope {
                cloud: Cloud::Azure,
                account: ids::uuid_like(&["sub", &s.to_string()]),
                region,
            });
        }
    }
    let mut out = ScanResult::default();
    // Images, family by family; each family lives in one scope.
    let families = spec.images.div_ceil(VERSIONS_PER_FAMILY).max(1);
    let mut family_images: Vec<(usize, Vec<usize>)> = Vec::with_capacity(families);
    for f in 0..families {
        let scope_ix = rng.gen_range(0..scopes.len());
        let scope = &scopes[scope_ix];
        let vendor = f % 10 == 9;
        let name = if vendor {
            format!("vendor-os-{f}")
        } else {
            format!("{}-{f}", ["web-base", "app", "batch", "capsule"][f % 4])
        };
        let count = VERSIONS_PER_FAMILY.min(spec.images - f * VERSIONS_PER_FAMILY);
        // Newest version is 0-20 days old; older ones step back 5-30 days each.
        let mut age = rng.gen_range(0.0..20.0);
        let parent = (f > 0 && !vendor && rng.gen_bool(0.6)).then(|| rng.gen_range(0..f));
        let eol_family = vendor && rng.gen_bool(0.3);
        let mut ixs = Vec::with_capacity(count);
        for v in (0..count).rev() {
            let version = format!("2026.{}.{}", v / 3 + 1, v % 3);
            let state = match rng.gen_range(0..100) {
                _ if v + 1 == count => ImageState::Available,
                0..=7 => ImageState::Deprecated,
                8..=9 => ImageState::Disabled,
                10..=12 => ImageState::Deregistered,
                _ => ImageState::Available,
            };
            let created = now - Duration::seconds((age * 86_400.0) as i64);
            let id = match scope.cloud {
                Cloud::Aws => ids::aws("ami", &[&name, &version, &spec.seed.to_string()]),
                Cloud::Azure | Cloud::OpenStack => format!("/subscriptions/{}/resourceGroups/rg-images/providers/Microsoft.Compute/galleries/g/images/{name}/versions/{version}", scope.account),
            };
            let mut tags = Tags::new();
            if !vendor {
                tags.insert("drydock:family", name.clone());
                tags.insert("drydock:version", version.clone());
                if let Some(p) = parent
                    .and_then(|p| family_images.get(p))
                    .and_then(|(_, v)| v.first())
                {
                    let pid: &Image = &out.images[*p];
                    tags.insert("drydock:parent", pid.id.clone());
                }
                if f % 3 == 0 {
                    let cm = serde_json::json!([
                        "packer",
                        format!("git.example.com/{name}"),
                        "bake",
                        version,
                        created.format("%Y-%m-%d").to_string()
                    ]);
                    tags.insert("cm-source", cm.to_string());
                }
            }
            ixs.push(out.images.len());
            out.images.push(Image {
                id,
                name: format!("{name}-{version}"),
                cloud: scope.cloud,
                account: scope.account.clone(),
                region: scope.region.to_string(),
                created,
                state,
                deprecation_time: None,
                end_of_life: eol_family.then(|| now - Duration::days(rng.gen_range(-60..60))),
                newer_base: None,
                owner: if vendor {
                    "vendor".into()
                } else {
                    scope.account.clone()
                },
                vendor,
                tags,
            });
            age += rng.gen_range(5.0..30.0);
        }
        // ixs[0] is the newest version.
        family_images.push((scope_ix, ixs));
    }
    // VMs: families by a skewed draw, versions skewed to newer ones. Three in ten VMs
    // belong to their family's scale group.
    let mut groups: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for n in 0..spec.vms {
        let f = ((rng.gen::<f64>().powi(2)) * families as f64) as usize % families;
        let (scope_ix, ixs) = &family_images[f];
        let scope = &scopes[*scope_ix];
        let v = ((rng.gen::<f64>().powi(3)) * ixs.len() as f64) as usize % ixs.len();
        let image_id = if rng.gen_bool(0.01) {
            ids::aws("ami", &["gone", &n.to_string()])
        } else {
            out.images[ixs[v]].id.clone()
        };
        let name = format!("vm-{n:06}");
        let id = match scope.cloud {
            Cloud::Aws => ids::aws("i", &[&name, &spec.seed.to_string()]),
            Cloud::Azure | Cloud::OpenStack => format!(
                "/subscriptions/{}/resourceGroups/rg-fleet/providers/Microsoft.Compute/virtualMachines/{name}",
                scope.account
            ),
        };
        let group = (n % 10 < 3).then(|| format!("sg-{f}"));
        if group.is_some() {
            groups.entry(f).or_default().push(id.clone());
        }
        let mut tags = Tags::new();
        tags.insert("app", format!("app-{}", f % 50));
        tags.insert("env", ["prod", "staging", "dev"][n % 3]);
        out.vms.push(Vm {
            id: id.into(),
            name: name.into(),
            cloud: scope.cloud,
            account: scope.account.clone().into(),
            region: scope.region.to_string().into(),
            state: if n % 17 == 0 {
                VmState::Stopped
            } else {
                VmState::Running
            },
            size: SIZES[n % SIZES.len()].into(),
            launched_at: now - Duration::hours(rng.gen_range(1..24 * 200)),
            image_id: image_id.into(),
            tags,
            scale_group: group.map(Into::into),
            boot_config: if n % 11 == 0 {
                vec!["user data".into()]
            } else {
                Vec::new()
            },
        });
    }
    for (f, members) in groups {
        let (scope_ix, ixs) = &family_images[f];
        let image = out.images[ixs[0]].id.clone();
        push_group(
            &mut out,
            &scopes[*scope_ix],
            format!("sg-{f}"),
            members,
            image,
        );
    }
    out
}

fn push_group(
    out: &mut ScanResult,
    scope: &Scope,
    name: String,
    members: Vec<String>,
    image: String,
) {
    let lt = (scope.cloud == Cloud::Aws).then(|| {
        let id = ids::aws("lt", &[&scope.account, &name]);
        out.launch_templates.push(LaunchTemplate {
            id: id.clone(),
            name: format!("{name}-lt"),
            cloud: scope.cloud,
            account: scope.account.clone(),
            region: scope.region.to_string(),
            version: 1,
            default_version: true,
            image_id: image.clone(),
        });
        id
    });
    out.scale_groups.push(ScaleGroup {
        id: ids::aws("asg", &[&scope.account, &name]),
        name,
        cloud: scope.cloud,
        account: scope.account.clone(),
        region: scope.region.to_string(),
        members,
        model_image_id: image,
        launch_template: lt,
        tags: Tags::new(),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_exact_counts_deterministically() {
        let now = Utc::now();
        let spec = GenerateSpec {
            vms: 1000,
            images: 95,
            seed: 7,
        };
        let a = generate(spec, now);
        let b = generate(spec, now);
        assert_eq!(a.vms.len(), 1000);
        assert_eq!(a.images.len(), 95);
        assert_eq!(a, b);
        assert!(!a.scale_groups.is_empty());
        assert!(a.images.iter().any(|i| i.state == ImageState::Deregistered));
    }
}
