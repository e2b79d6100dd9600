//! The drift engine: (inventory, policy, now) → a verdict with a readable reason for every
//! image and every VM. Pure: no I/O, no clock of its own.

pub mod builds;
pub mod catalog;
pub mod class;
pub mod image_list;
mod judge;
pub mod lineage;
pub mod policy;
pub mod provenance;
pub mod verdict;
pub mod version;

pub use policy::{Defaults, FamilyRule, Glob, Policy};
pub use provenance::Provenance;
pub use verdict::Verdict;

use crate::model::{ImageState, Inventory};
use catalog::Catalog;
use chrono::{DateTime, Utc};
use std::borrow::Cow;

/// How one image stands against the policy.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageAssessment {
    /// The policy family, `None` when unmanaged.
    pub family: Option<String>,
    pub version: Option<String>,
    pub provenance: Provenance,
    pub verdict: Verdict,
    /// Why, in words: "2 versions behind web-base 2026.11.3; image 97 days old > 90".
    pub reason: String,
    /// Whole days since the image was created.
    pub age_days: i64,
    pub versions_behind: usize,
    /// The newest usable version of the family.
    pub latest: Option<String>,
    /// Ancestors, parent first (indexes into `Inventory::images`).
    pub lineage: Vec<usize>,
    /// Problems with the image's metadata (malformed tags, lineage cycles, missing parents).
    pub issues: Vec<String>,
    /// VMs launched from this image.
    pub vm_count: usize,
    /// Base, golden, capsule or dynamic, and why.
    pub class: class::Classed,
}

/// How one VM stands: the verdict of its image, or `unknown` if that cannot be resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VmAssessment {
    /// Index into `Inventory::images`, `None` when the image cannot be resolved.
    pub image: Option<usize>,
    pub verdict: Verdict,
}

/// The verdicts for a whole inventory, index-aligned with its `images` and `vms`.
#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    pub now: DateTime<Utc>,
    pub images: Vec<ImageAssessment>,
    pub vms: Vec<VmAssessment>,
    /// Each VM's class and why, index-aligned with `vms`.
    pub vm_classes: Vec<class::VmClassed>,
    /// A VM's own reason where its class's limits judged it apart from its image.
    pub vm_reasons: Vec<Option<String>>,
}

impl Assessment {
    /// The reason for VM `i`'s verdict (`_inv`: the inventory assessed, for callers that
    /// pass it; every reason is held by the assessment).
    pub fn vm_reason<'a>(&'a self, _inv: &Inventory, i: usize) -> Cow<'a, str> {
        if let Some(r) = self.vm_reasons.get(i).and_then(Option::as_ref) {
            return Cow::Borrowed(r);
        }
        match self.vms[i].image {
            Some(img) => Cow::Borrowed(&self.images[img].reason),
            None => Cow::Borrowed(UNKNOWN_REASON),
        }
    }

    /// Why VM `i` has its class, in words.
    pub fn vm_class_reason(&self, inv: &Inventory, i: usize) -> String {
        let image = self.vms[i].image.map(|k| &inv.images[k]);
        self.vm_classes[i].reason(&inv.vms[i], image)
    }

    /// VM counts per verdict, least severe first.
    pub fn vm_counts(&self) -> [usize; Verdict::ALL.len()] {
        let mut counts = [0; Verdict::ALL.len()];
        for vm in &self.vms {
            counts[vm.verdict as usize] += 1;
        }
        counts
    }
}

/// Why a VM whose image cannot be resolved is `unknown`.
const UNKNOWN_REASON: &str = "image cannot be resolved: not found in any scanned account (deleted, or shared from an account drydock cannot read)";

/// True when the image may still be launched and counts as a version of its family.
fn usable(img: &crate::model::Image, prov: &Provenance, now: DateTime<Utc>) -> bool {
    img.state == ImageState::Available
        && img.deprecation_time.is_none_or(|t| t > now)
        && prov.revoked.is_none()
}

/// Assesses every image and VM of `inv` under `policy` at `now`.
pub fn evaluate(inv: &Inventory, policy: &Policy, now: DateTime<Utc>) -> Assessment {
    let index = inv.image_index();
    // Each image's provenance, class and policy family, on two threads.
    let (provs, (kinds, classes)): (Vec<Provenance>, (Vec<class::Classed>, Vec<_>)) =
        crate::par::on_two_threads(inv.images.len(), &|i| {
            let img = &inv.images[i];
            let mut p = Provenance::from_tags(&img.tags);
            let k = class::of_image(img, &policy.classes, &mut p.issues);
            let mut c = policy.classify(&img.name, p.family.as_deref(), p.version.as_deref());
            if let Some(l) = policy.class_limits.get(&k.class) {
                c.limits = l.tighten(c.limits);
            }
            (p, (k, c))
        })
        .into_iter()
        .unzip();
    let mut catalog = Catalog::default();
    for ((img, prov), class) in inv.images.iter().zip(&provs).zip(&classes) {
        if let (Some(fam), true) = (&class.family, usable(img, prov, now)) {
            let version = judge::version_key(class.version.as_deref(), img.created);
            catalog.add(fam, &version, img.created);
        }
    }
    catalog.finish();
    let lineages: Vec<_> = crate::par::on_two_threads(inv.images.len(), &|i| {
        lineage::ancestors(inv, &index, &provs, i)
    });
    let ctx = judge::Context {
        inv,
        provs: &provs,
        catalog: &catalog,
        lists: &policy.lists,
        now,
    };
    let mut images: Vec<ImageAssessment> = crate::par::on_two_threads(inv.images.len(), &|i| {
        judge::image(&ctx, i, &classes[i], &lineages[i], kinds[i].clone())
    });
    // Each VM: its image's verdict and its class; a million of them on two threads.
    let judge_vm = |vm: &crate::model::Vm| {
        let image = index.get(vm.image_id.as_str()).copied();
        let va = VmAssessment {
            image,
            verdict: image.map_or(Verdict::Unknown, |i| images[i].verdict),
        };
        let c = class::of_vm(vm, image.map(|i| (&inv.images[i], &kinds[i])));
        (va, c)
    };
    let (mut vms, vm_classes): (Vec<VmAssessment>, Vec<class::VmClassed>) =
        crate::par::on_two_threads(inv.vms.len(), &|i| judge_vm(&inv.vms[i]))
            .into_iter()
            .unzip();
    for va in &vms {
        if let Some(i) = va.image {
            images[i].vm_count += 1;
        }
    }
    let mut vm_reasons = vec![None; inv.vms.len()];
    // Dynamic VMs: their base image judged again under the dynamic class's limits.
    if let Some(l) = policy.class_limits.get(&class::ImageClass::Dynamic) {
        let mut judged: std::collections::HashMap<usize, (Verdict, String)> = Default::default();
        for (k, c) in vm_classes.iter().enumerate() {
            let Some(i) = vms[k]
                .image
                .filter(|_| c.class == class::ImageClass::Dynamic)
            else {
                continue;
            };
            let (verdict, reason) = judged
                .entry(i)
                .or_insert_with(|| {
                    let mut tight = classes[i].clone();
                    tight.limits = l.tighten(tight.limits);
                    let a = judge::image(&ctx, i, &tight, &lineages[i], kinds[i].clone());
                    let what = l.describe(classes[i].limits, tight.limits);
                    // The limit is named right after the clause it decided, which leads.
                    let reason = match a.reason.split_once("; ") {
                        _ if what.is_empty() => a.reason,
                        Some((first, rest)) => format!("{first} (dynamic VMs: {what}); {rest}"),
                        None => format!("{} (dynamic VMs: {what})", a.reason),
                    };
                    (a.verdict, reason)
                })
                .clone();
            vms[k].verdict = verdict;
            vm_reasons[k] = Some(reason);
        }
    }
    Assessment {
        now,
        images,
        vms,
        vm_classes,
        vm_reasons,
    }
}
