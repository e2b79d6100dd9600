//! The planner: drift verdicts → a plan for one family. Picks the target version (an
//! existing newer version, or a rebuild), the VMs still on older versions, their waves
//! (canary first, spread across scale groups and applications), the scale groups and
//! templates to repoint and the images to retire.

use super::error::PlanError;
use super::spec::{
    Amount, Plan, PlanVm, Rebuild, Repoint, RetireImage, Settings, Skipped, Span, Wave,
};
use crate::drift::{Assessment, Verdict};
use crate::model::{ImageState, Inventory, VmState};
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// What `drydock plan new` asks for.
#[derive(Debug, Clone)]
pub struct PlanRequest {
    pub family: String,
    /// The target version; default the newest usable one (or, with a builder, the next).
    pub to: Option<String>,
    /// Cumulative wave sizes, e.g. `1,10%,50%,100%`.
    pub waves: Vec<Amount>,
    pub settings: Settings,
    /// Rebuild from this VM...
    pub builder_vm: Option<String>,
    /// ...or with this command, in `builder_region` of `builder_provider`.
    pub builder_cmd: Option<String>,
    /// ...or by transferring this image from another cloud (a `drydock transfer` source).
    pub from: Option<String>,
    /// Azure: the gallery a transferred version goes to.
    pub gallery: Option<String>,
    /// Require a clean lint (nothing at or above this severity) of a `from` disk.
    pub lint: Option<crate::inspect::lint::Severity>,
    pub builder_provider: Option<String>,
    pub builder_region: Option<String>,
    pub parent: Option<String>,
    /// Resources other unfinished plans claim (resource → plan): left out, each VM in
    /// `skipped` with the plan that holds it (`--exclude-claimed`).
    pub claimed: HashMap<String, String>,
}

impl PlanRequest {
    /// The defaults of `drydock plan new`.
    pub fn new(family: impl Into<String>) -> PlanRequest {
        PlanRequest {
            family: family.into(),
            to: None,
            waves: parse_waves("1,10%,50%,100%").expect("valid"),
            settings: Settings {
                concurrency: 8,
                max_unavailable: Amount::Percent(25),
                app_tag: "app".into(),
                health_cmd: None,
                health_timeout: Span(chrono::Duration::minutes(10)),
                wave_failure_limit: 0,
                retries: 8,
                grace: Span(chrono::Duration::days(7)),
                undo_window: Span(chrono::Duration::days(14)),
            },
            builder_vm: None,
            builder_cmd: None,
            from: None,
            gallery: None,
            lint: None,
            builder_provider: None,
            builder_region: None,
            parent: None,
            claimed: HashMap::new(),
        }
    }
}

/// `1,10%,50%,100%` → amounts.
pub fn parse_waves(s: &str) -> Result<Vec<Amount>, PlanError> {
    let waves: Vec<Amount> = s
        .split(',')
        .map(|w| {
            w.parse()
                .map_err(|e| PlanError::Invalid(format!("--waves: {e}")))
        })
        .collect::<Result<_, _>>()?;
    if waves.is_empty() {
        return Err(PlanError::Invalid(
            "--waves: give at least one wave, e.g. 1,10%,100%".into(),
        ));
    }
    Ok(waves)
}

/// Builds the plan; errors say what is missing and what to pass.
pub fn build(
    inv: &Inventory,
    a: &Assessment,
    req: &PlanRequest,
    now: DateTime<Utc>,
) -> Result<Plan, PlanError> {
    let family = req.family.as_str();
    let members: Vec<usize> = (0..inv.images.len())
        .filter(|&i| a.images[i].family.as_deref() == Some(family))
        .collect();
    if members.is_empty() {
        let families: BTreeSet<&str> = a
            .images
            .iter()
            .filter_map(|i| i.family.as_deref())
            .collect();
        return Err(PlanError::Build(format!(
            "no image belongs to family `{family}`; families: {}",
            families.into_iter().collect::<Vec<_>>().join(", ")
        )));
    }
    let provider_of = |account: &str| inv.provider_of(account).map(str::to_string);
    let usable = |i: usize| {
        let img = &inv.images[i];
        img.state == ImageState::Available
            && img.deprecation_time.is_none_or(|t| t > now)
            && a.images[i].verdict != Verdict::Revoked
    };
    let rebuilding = req.builder_vm.is_some() || req.builder_cmd.is_some() || req.from.is_some();
    let latest = members
        .iter()
        .find_map(|&i| a.images[i].latest.clone())
        .or_else(|| members.iter().find_map(|&i| a.images[i].version.clone()));
    let version = match (&req.to, rebuilding) {
        (Some(v), _) => v.clone(),
        (None, true) => next_version(latest.as_deref(), now),
        (None, false) => latest.ok_or_else(|| {
            PlanError::Build(format!(
                "family `{family}` has no usable version; pass --to and a builder"
            ))
        })?,
    };
    // The target image per provider/region: the newest usable image of that version.
    let mut targets: BTreeMap<String, (DateTime<Utc>, String)> = BTreeMap::new();
    for &i in &members {
        let img = &inv.images[i];
        if a.images[i].version.as_deref() == Some(version.as_str()) && usable(i) {
            if let Some(p) = provider_of(&img.account) {
                let key = format!("{p}/{}", img.region);
                let better = targets.get(&key).is_none_or(|(t, _)| img.created > *t);
                if better {
                    targets.insert(key, (img.created, img.id.clone()));
                }
            }
        }
    }
    let rebuild = if rebuilding {
        Some(rebuild_step(inv, req, &version, family)?)
    } else if targets.is_empty() {
        return Err(PlanError::Build(format!(
            "family `{family}` has no usable image of version {version}; pass --builder-vm VM or --builder-cmd CMD to build it"
        )));
    } else {
        None
    };
    let rebuild_scope = rebuild
        .as_ref()
        .map(|r| format!("{}/{}", r.provider, r.region));
    let covered =
        |scope: &str| targets.contains_key(scope) || rebuild_scope.as_deref() == Some(scope);

    let group_of_vm: HashMap<&str, &str> = inv
        .scale_groups
        .iter()
        .flat_map(|g| g.members.iter().map(move |m| (m.as_str(), g.id.as_str())))
        .collect();
    let mut skipped = Vec::new();
    let mut affected: Vec<PlanVm> = Vec::new();
    for (vi, vm) in inv.vms.iter().enumerate() {
        let Some(img) = a.vms[vi].image else { continue };
        if a.images[img].family.as_deref() != Some(family)
            || a.images[img].version.as_deref() == Some(version.as_str())
        {
            continue;
        }
        let skip = |reason: String| Skipped {
            vm: vm.id.to_string(),
            name: vm.name.to_string(),
            reason,
        };
        let Some(provider) = provider_of(&vm.account) else {
            skipped.push(skip("no provider reports its account".into()));
            continue;
        };
        if vm.state != VmState::Running {
            skipped.push(skip(format!("VM is {}", vm.state.as_str())));
            continue;
        }
        if let Some(holder) = req.claimed.get(vm.id.as_str()) {
            skipped.push(skip(format!("claimed by plan {holder}")));
            continue;
        }
        let pv = PlanVm {
            id: vm.id.to_string(),
            name: vm.name.to_string(),
            provider,
            region: vm.region.to_string(),
            image: vm.image_id.to_string(),
            group: match group_of_vm.get(vm.id.as_str()) {
                Some(g) => format!("sg:{g}"),
                None => match vm.tags.get(&req.settings.app_tag) {
                    Some(app) => format!("app:{app}"),
                    None => format!("vm:{}", vm.id),
                },
            },
        };
        if !covered(&pv.scope()) {
            skipped.push(skip(format!(
                "no image of {family} {version} in {}; copy it there and plan again",
                pv.scope()
            )));
            continue;
        }
        affected.push(pv);
    }
    let claimed = skipped
        .iter()
        .filter(|s| s.reason.starts_with("claimed by plan"))
        .count();
    if affected.is_empty() && rebuild.is_none() && claimed > 0 {
        return Err(PlanError::Build(format!(
            "every VM of `{family}` left to move is claimed by another unfinished plan ({}): nothing to plan",
            crate::words::count(claimed as u64, "VM")
        )));
    }
    if affected.is_empty() && rebuild.is_none() {
        return Err(PlanError::Build(format!(
            "every running VM of `{family}` is already on {version}: nothing to plan"
        )));
    }
    let waves = split_waves(interleave(affected), &req.waves);
    let superseded: BTreeSet<&str> = waves
        .iter()
        .flat_map(|w| w.vms.iter().map(|v| v.image.as_str()))
        .collect();
    let mut repoint = Vec::new();
    for g in &inv.scale_groups {
        if superseded.contains(g.model_image_id.as_str()) {
            if let Some(p) = provider_of(&g.account) {
                repoint.push(Repoint {
                    resource: g.id.clone(),
                    name: g.name.clone(),
                    from: g.model_image_id.clone(),
                    provider: p,
                    region: g.region.clone(),
                });
            }
        }
    }
    let via_group: BTreeSet<&str> = inv
        .scale_groups
        .iter()
        .filter_map(|g| g.launch_template.as_deref())
        .collect();
    for t in &inv.launch_templates {
        let standalone = !via_group.contains(t.id.as_str());
        let seen = repoint.iter().any(|r: &Repoint| r.resource == t.id);
        if standalone && !seen && superseded.contains(t.image_id.as_str()) {
            if let Some(p) = provider_of(&t.account) {
                repoint.push(Repoint {
                    resource: t.id.clone(),
                    name: t.name.clone(),
                    from: t.image_id.clone(),
                    provider: p,
                    region: t.region.clone(),
                });
            }
        }
    }
    repoint.retain(|r| covered(&format!("{}/{}", r.provider, r.region)));
    let index = inv.image_index();
    let retire = superseded
        .iter()
        .filter_map(|id| index.get(id).copied())
        .filter(|&i| !inv.images[i].vendor && inv.images[i].state != ImageState::Deregistered)
        .filter_map(|i| {
            let img = &inv.images[i];
            Some(RetireImage {
                provider: provider_of(&img.account)?,
                region: img.region.clone(),
                image: img.id.clone(),
                name: img.name.clone(),
                version: a.images[i].version.clone(),
            })
        })
        .collect();
    let plan = Plan {
        // The id names the plan's file: a family from cloud data is made a safe name first.
        id: format!(
            "{}-{}",
            Some(crate::config::paths::safe_file_name(family))
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "plan".into()),
            now.format("%Y%m%d-%H%M%S")
        ),
        family: family.to_string(),
        version,
        created: now,
        settings: req.settings.clone(),
        rebuild,
        targets: targets.into_iter().map(|(k, (_, id))| (k, id)).collect(),
        waves,
        repoint,
        retire,
        skipped,
    };
    let mut plan = plan;
    plan.repoint
        .retain(|r| !req.claimed.contains_key(&r.resource));
    plan.retire.retain(|r| !req.claimed.contains_key(&r.image));
    plan.validate()?;
    Ok(plan)
}

fn rebuild_step(
    inv: &Inventory,
    req: &PlanRequest,
    version: &str,
    family: &str,
) -> Result<Rebuild, PlanError> {
    let name = format!("{family}-{version}");
    let timeout = Span(chrono::Duration::hours(2));
    if let Some(vm_id) = &req.builder_vm {
        let vm = inv
            .vms
            .iter()
            .find(|v| v.id == vm_id || v.name == vm_id)
            .ok_or_else(|| {
                PlanError::Build(format!("--builder-vm {vm_id}: no such VM in the scan"))
            })?;
        let provider = inv.provider_of(&vm.account).ok_or_else(|| {
            PlanError::Build(format!(
                "--builder-vm {vm_id}: no provider reports its account"
            ))
        })?;
        return Ok(Rebuild {
            provider: provider.to_string(),
            region: vm.region.to_string(),
            builder_vm: Some(vm.id.to_string()),
            command: None,
            from: None,
            gallery: None,
            name,
            parent: req.parent.clone().or_else(|| Some(vm.image_id.to_string())),
            lint: req.lint,
            timeout,
        });
    }
    let (Some(provider), Some(region)) = (&req.builder_provider, &req.builder_region) else {
        let flag = if req.from.is_some() {
            "--from"
        } else {
            "--builder-cmd"
        };
        return Err(PlanError::Invalid(format!(
            "{flag} needs --builder-context and --builder-region (where the new image is made)"
        )));
    };
    Ok(Rebuild {
        provider: provider.clone(),
        region: region.clone(),
        builder_vm: None,
        command: req.builder_cmd.clone(),
        from: req.from.clone(),
        gallery: req.gallery.clone(),
        name,
        parent: req.parent.clone(),
        lint: req.lint,
        timeout,
    })
}

/// The version after `latest`: its last number plus one (`2026.11.5` → `2026.11.6`), or
/// today's date when it has none.
pub fn next_version(latest: Option<&str>, now: DateTime<Utc>) -> String {
    if let Some(v) = latest {
        let cut = v.rfind(|c: char| !c.is_ascii_digit()).map_or(0, |i| i + 1);
        if let Ok(n) = v[cut..].parse::<u64>() {
            return format!("{}{}", &v[..cut], n + 1);
        }
    }
    now.format("%Y.%m.%d").to_string()
}

/// Orders VMs so that every wave spreads over the replacement units: one VM from each unit
/// (largest first) in turn. The first wave, the canary, comes from the largest unit.
fn interleave(vms: Vec<PlanVm>) -> Vec<PlanVm> {
    let mut groups: BTreeMap<String, Vec<PlanVm>> = BTreeMap::new();
    for vm in vms {
        groups.entry(vm.group.clone()).or_default().push(vm);
    }
    let mut groups: Vec<Vec<PlanVm>> = groups.into_values().collect();
    groups.sort_by_key(|g| std::cmp::Reverse(g.len()));
    let mut iters: Vec<_> = groups.into_iter().map(|g| g.into_iter()).collect();
    let mut out = Vec::new();
    loop {
        let before = out.len();
        out.extend(iters.iter_mut().filter_map(|it| it.next()));
        if out.len() == before {
            return out;
        }
    }
}

/// Cuts the ordered VMs into waves at the cumulative sizes; the last wave takes the rest.
fn split_waves(vms: Vec<PlanVm>, sizes: &[Amount]) -> Vec<Wave> {
    let total = vms.len();
    let mut waves = Vec::new();
    let mut rest = vms.into_iter();
    let mut taken = 0;
    for (k, size) in sizes.iter().enumerate() {
        let upto = if k + 1 == sizes.len() {
            total
        } else {
            size.of(total).min(total)
        };
        if upto > taken {
            waves.push(Wave {
                vms: rest.by_ref().take(upto - taken).collect(),
            });
            taken = upto;
        }
    }
    waves
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vm(id: &str, group: &str) -> PlanVm {
        PlanVm {
            id: id.into(),
            name: id.into(),
            provider: "p".into(),
            region: "r".into(),
            image: "ami-old".into(),
            group: group.into(),
        }
    }

    #[test]
    fn waves_are_cumulative_and_canary_first() {
        let vms: Vec<PlanVm> = (0..20)
            .map(|i| vm(&format!("v{i:02}"), if i < 12 { "sg:a" } else { "app:b" }))
            .collect();
        let waves = split_waves(interleave(vms), &parse_waves("1,10%,50%,100%").unwrap());
        let sizes: Vec<usize> = waves.iter().map(|w| w.vms.len()).collect();
        assert_eq!(sizes, [1, 1, 8, 10]);
        assert_eq!(
            waves[0].vms[0].group, "sg:a",
            "canary from the largest unit"
        );
        assert_eq!(waves[1].vms[0].group, "app:b", "then the next unit");
    }

    #[test]
    fn next_version_bumps_the_last_number() {
        let now = Utc::now();
        assert_eq!(next_version(Some("2026.11.5"), now), "2026.11.6");
        assert_eq!(next_version(Some("v9"), now), "v10");
        assert_eq!(next_version(Some("jammy"), now).len(), 10);
    }
}
