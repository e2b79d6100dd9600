//! Expands a `FleetSpec` into concrete records at a given "now": deterministic ids,
//! regional AMI copies, provenance tags, scale groups and launch templates.

use crate::ids;
use crate::spec::{AccountSpec, FamilySpec, FleetSpec, VersionSpec, VmFleetSpec};
use chrono::{DateTime, Duration, Utc};
use drydock_api::{Cloud, Image, LaunchTemplate, ScaleGroup, ScanResult, Vm};
use std::collections::HashMap;
use thiserror::Error;

/// A spec that refers to something it does not define.
#[derive(Debug, Error, PartialEq)]
#[error("fleet spec: {0}")]
pub struct SpecError(pub String);

/// Builds the records a spec describes, with relative dates resolved against `now`.
pub fn build(spec: &FleetSpec, now: DateTime<Utc>) -> Result<ScanResult, SpecError> {
    let accounts: HashMap<&str, &AccountSpec> =
        spec.accounts.iter().map(|a| (a.name.as_str(), a)).collect();
    let account = |name: &str| {
        accounts
            .get(name)
            .copied()
            .ok_or_else(|| SpecError(format!("unknown account `{name}`")))
    };
    let mut out = ScanResult::default();
    // (family@version, region) → image id; region "" holds the first copy.
    let mut index: HashMap<(String, String), String> = HashMap::new();
    for fam in &spec.families {
        let acct = account(&fam.account)?;
        let regions = fam.regions.clone().unwrap_or_else(|| acct.regions.clone());
        let regions = match acct.cloud {
            // A gallery image version is one resource replicated to many locations.
            Cloud::Azure | Cloud::OpenStack => regions.into_iter().take(1).collect(),
            Cloud::Aws => regions,
        };
        for ver in &fam.versions {
            let key = format!("{}@{}", fam.name, ver.version);
            for region in &regions {
                let id = image_id(acct, fam, ver, region);
                index
                    .entry((key.clone(), String::new()))
                    .or_insert_with(|| id.clone());
                index.insert((key.clone(), region.clone()), id);
            }
        }
    }
    let resolve = |reference: &str, region: &str| -> Option<String> {
        index
            .get(&(reference.to_string(), region.to_string()))
            .or_else(|| index.get(&(reference.to_string(), String::new())))
            .cloned()
    };
    for fam in &spec.families {
        let acct = account(&fam.account)?;
        for ver in &fam.versions {
            let key = format!("{}@{}", fam.name, ver.version);
            for ((k, region), id) in index
                .iter()
                .filter(|((k, r), _)| *k == key && !r.is_empty())
            {
                debug_assert_eq!(k, &key);
                let parent = match &ver.parent {
                    Some(p) => Some(resolve(p, region).ok_or_else(|| {
                        SpecError(format!("{key}: parent `{p}` is not a family@version"))
                    })?),
                    None => None,
                };
                out.images
                    .push(image(acct, fam, ver, region, id, parent, now));
            }
        }
    }
    out.images.sort_by(|a, b| a.id.cmp(&b.id));
    for fleet in &spec.fleets {
        let acct = account(&fleet.account)?;
        build_fleet(acct, fleet, now, &resolve, &mut out)?;
    }
    Ok(out)
}

fn image_id(acct: &AccountSpec, fam: &FamilySpec, ver: &VersionSpec, region: &str) -> String {
    match (acct.cloud, fam.vendor) {
        (Cloud::Aws, _) => ids::aws("ami", &[&fam.name, &ver.version, region]),
        (Cloud::Azure | Cloud::OpenStack, true) => fam.name_pattern.replace("{version}", &ver.version),
        (Cloud::Azure | Cloud::OpenStack, false) => format!(
            "/subscriptions/{}/resourceGroups/rg-images/providers/Microsoft.Compute/galleries/golden/images/{}/versions/{}",
            acct.id, fam.name, ver.version
        ),
    }
}

fn days(now: DateTime<Utc>, d: f64) -> DateTime<Utc> {
    now + Duration::seconds((d * 86_400.0).round() as i64)
}

fn image(
    acct: &AccountSpec,
    fam: &FamilySpec,
    ver: &VersionSpec,
    region: &str,
    id: &str,
    parent: Option<String>,
    now: DateTime<Utc>,
) -> Image {
    let created = days(now, -ver.created_days_ago);
    let mut tags = fam.tags.clone();
    if fam.provenance && !fam.vendor {
        tags.insert("drydock:family", fam.name.clone());
        tags.insert("drydock:version", ver.version.clone());
        if let Some(p) = &parent {
            tags.insert("drydock:parent", p.clone());
        }
    }
    if fam.cm_source {
        let source = serde_json::json!([
            "packer",
            format!("git.example.com/platform/{}", fam.name),
            format!("bake-{}", fam.name),
            ver.version,
            created.format("%Y-%m-%d").to_string()
        ]);
        tags.insert("cm-source", source.to_string());
    }
    tags.extend(ver.tags.iter());
    Image {
        id: id.to_string(),
        name: fam.name_pattern.replace("{version}", &ver.version),
        cloud: acct.cloud,
        account: acct.id.clone(),
        region: region.to_string(),
        created,
        state: ver.state,
        deprecation_time: ver.deprecate_in_days.map(|d| days(now, d)),
        end_of_life: ver.eol_in_days.map(|d| days(now, d)),
        newer_base: None,
        owner: fam.owner.clone().unwrap_or_else(|| acct.id.clone()),
        vendor: fam.vendor,
        tags,
    }
}

fn build_fleet(
    acct: &AccountSpec,
    fleet: &VmFleetSpec,
    now: DateTime<Utc>,
    resolve: &dyn Fn(&str, &str) -> Option<String>,
    out: &mut ScanResult,
) -> Result<(), SpecError> {
    let regions = fleet
        .regions
        .clone()
        .unwrap_or_else(|| acct.regions.clone());
    if regions.is_empty() {
        return Err(SpecError(format!("fleet `{}` has no regions", fleet.name)));
    }
    let mut members: HashMap<&str, Vec<String>> = HashMap::new();
    for n in 0..fleet.count {
        let region = &regions[n % regions.len()];
        let name = format!("{}-{:03}", fleet.name, n + 1);
        // A reference that is not family@version is a raw id, which may well not resolve.
        let image_id = if fleet.image.contains('@') {
            resolve(&fleet.image, region).ok_or_else(|| {
                SpecError(format!(
                    "fleet `{}`: unknown image `{}`",
                    fleet.name, fleet.image
                ))
            })?
        } else {
            fleet.image.clone()
        };
        let id = match acct.cloud {
            Cloud::Aws => ids::aws("i", &[&acct.id, region, &name]),
            Cloud::Azure | Cloud::OpenStack => format!(
                "/subscriptions/{}/resourceGroups/rg-{}/providers/Microsoft.Compute/virtualMachines/{}",
                acct.id, fleet.name, name
            ),
        };
        let mut tags = fleet.tags.clone();
        if acct.cloud == Cloud::Aws {
            tags.insert("Name", name.clone());
        }
        members.entry(region.as_str()).or_default().push(id.clone());
        out.vms.push(Vm {
            id: id.into(),
            name: name.into(),
            cloud: acct.cloud,
            account: acct.id.clone().into(),
            region: region.clone().into(),
            state: fleet.state,
            size: fleet.size.clone().into(),
            launched_at: days(now, -fleet.launched_days_ago) + Duration::minutes(n as i64),
            image_id: image_id.into(),
            tags,
            scale_group: fleet.scale_group.clone().map(Into::into),
            boot_config: fleet.boot_config.clone(),
        });
    }
    let Some(group) = &fleet.scale_group else {
        return Ok(());
    };
    let model_ref = fleet.model_image.as_deref().unwrap_or(&fleet.image);
    let mut regions_sorted: Vec<_> = members.into_iter().collect();
    regions_sorted.sort();
    for (region, vm_ids) in regions_sorted {
        let model = resolve(model_ref, region).unwrap_or_else(|| model_ref.to_string());
        let (id, lt) = match acct.cloud {
            Cloud::Aws => {
                let lt_id = ids::aws("lt", &[&acct.id, region, group]);
                out.launch_templates.push(LaunchTemplate {
                    id: lt_id.clone(),
                    name: format!("{group}-lt"),
                    cloud: acct.cloud,
                    account: acct.id.clone(),
                    region: region.to_string(),
                    version: 3,
                    default_version: true,
                    image_id: model.clone(),
                });
                let arn = format!(
                    "arn:aws:autoscaling:{region}:{}:autoScalingGroup:{}:autoScalingGroupName/{group}",
                    acct.id,
                    ids::uuid_like(&[&acct.id, region, group])
                );
                (arn, Some(lt_id))
            }
            Cloud::Azure | Cloud::OpenStack => (
                format!(
                    "/subscriptions/{}/resourceGroups/rg-{}/providers/Microsoft.Compute/virtualMachineScaleSets/{group}",
                    acct.id, fleet.name
                ),
                None,
            ),
        };
        out.scale_groups.push(ScaleGroup {
            id,
            name: group.clone(),
            cloud: acct.cloud,
            account: acct.id.clone(),
            region: region.to_string(),
            members: vm_ids,
            model_image_id: model,
            launch_template: lt,
            tags: fleet.tags.clone(),
        });
    }
    Ok(())
}
