//! Report rows: one flat, serialisable record per VM or image, borrowing from the inventory
//! and its assessment. Every writer (json, csv, table, markdown) renders these.

use super::filter::{Field, Filterable, Values};
use crate::drift::{Assessment, Verdict};
use crate::model::{Inventory, Tags};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::borrow::Cow;

/// One VM with its image and verdict.
#[derive(Debug, Clone, Serialize)]
pub struct VmRow<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub cloud: &'a str,
    pub account: &'a str,
    pub region: &'a str,
    pub state: &'a str,
    pub size: &'a str,
    pub launched_at: DateTime<Utc>,
    pub image_id: &'a str,
    pub image_name: Option<&'a str>,
    pub family: Option<&'a str>,
    pub version: Option<&'a str>,
    pub image_age_days: Option<i64>,
    pub verdict: Verdict,
    pub reason: Cow<'a, str>,
    /// base, golden, capsule or dynamic.
    pub class: &'a str,
    pub class_reason: ClassReason<'a>,
    pub scale_group: Option<&'a str>,
    pub tags: &'a Tags,
}

/// Why a VM has its class, written out when rendered (rows of a million VMs allocate
/// nothing).
#[derive(Debug, Clone, Copy)]
pub struct ClassReason<'a> {
    classed: crate::drift::class::VmClassed,
    vm: &'a crate::model::Vm,
    image: Option<&'a crate::model::Image>,
}

impl ClassReason<'_> {
    /// The reason, written into `out` (cleared first).
    pub fn write_into(&self, out: &mut String) {
        out.clear();
        let _ = self.classed.write_reason(self.vm, self.image, out);
    }
}

impl std::fmt::Display for ClassReason<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.classed.write_reason(self.vm, self.image, f)
    }
}

impl Serialize for ClassReason<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// One image with its verdict.
#[derive(Debug, Clone, Serialize)]
pub struct ImageRow<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub cloud: &'a str,
    pub account: &'a str,
    pub region: &'a str,
    pub owner: &'a str,
    pub vendor: bool,
    pub state: &'a str,
    pub created: DateTime<Utc>,
    pub age_days: i64,
    pub family: Option<&'a str>,
    pub version: Option<&'a str>,
    pub latest_version: Option<&'a str>,
    pub versions_behind: usize,
    pub verdict: Verdict,
    pub reason: &'a str,
    pub class: &'a str,
    pub class_reason: &'a str,
    /// Ancestor image ids, parent first.
    pub lineage: Vec<&'a str>,
    pub issues: &'a [String],
    pub vm_count: usize,
    pub tags: &'a Tags,
}

/// The row of VM `i`.
pub fn vm_row<'a>(inv: &'a Inventory, a: &'a Assessment, i: usize) -> VmRow<'a> {
    let (vm, va) = (&inv.vms[i], &a.vms[i]);
    let img = va.image.map(|k| (&inv.images[k], &a.images[k]));
    VmRow {
        id: &vm.id,
        name: &vm.name,
        cloud: vm.cloud.as_str(),
        account: &vm.account,
        region: &vm.region,
        state: vm.state.as_str(),
        size: &vm.size,
        launched_at: vm.launched_at,
        image_id: &vm.image_id,
        image_name: img.map(|(im, _)| im.name.as_str()),
        family: img.and_then(|(_, ia)| ia.family.as_deref()),
        version: img.and_then(|(_, ia)| ia.version.as_deref()),
        image_age_days: img.map(|(_, ia)| ia.age_days),
        verdict: va.verdict,
        reason: a.vm_reason(inv, i),
        class: a.vm_classes[i].class.as_str(),
        class_reason: ClassReason {
            classed: a.vm_classes[i],
            vm,
            image: img.map(|(im, _)| im),
        },
        scale_group: vm.scale_group.as_deref(),
        tags: &vm.tags,
    }
}

/// How many rows ahead [`ahead`] asks for a row's records.
pub const AHEAD: usize = 12;

/// Asks the CPU for what the rows after `k` of `order` (below `end`) will read: rows are
/// made in report order, which visits a million records at random, and each would
/// otherwise wait on memory in turn. In three steps, each reading only what the one before
/// brought in: the VM's records `AHEAD` rows on; its image's records and its own
/// out-of-line strings and tags two thirds of the way; the image's strings a third.
#[inline]
pub fn ahead(inv: &Inventory, a: &Assessment, order: &[u32], k: usize, end: usize) {
    let at = |d: usize| {
        order
            .get(k + d)
            .filter(|_| k + d < end)
            .map(|&i| i as usize)
    };
    if let Some(i) = at(AHEAD) {
        if let (Some(vm), Some(va), Some(c)) = (inv.vms.get(i), a.vms.get(i), a.vm_classes.get(i)) {
            prefetch(vm);
            prefetch(va);
            prefetch(c);
        }
    }
    if let Some(i) = at(AHEAD * 2 / 3) {
        if let Some(vm) = inv.vms.get(i) {
            for s in [&vm.id, &vm.account, &vm.image_id] {
                prefetch_bytes(s.as_bytes());
            }
            let (p, n) = vm.tags.storage();
            prefetch_raw(p, n);
        }
        if let Some(k) = a.vms.get(i).and_then(|va| va.image) {
            prefetch(&inv.images[k]);
            prefetch(&a.images[k]);
        }
    }
    if let Some(k) = at(AHEAD / 3)
        .and_then(|i| a.vms.get(i))
        .and_then(|va| va.image)
    {
        let (img, ia) = (&inv.images[k], &a.images[k]);
        prefetch_bytes(img.name.as_bytes());
        prefetch_bytes(ia.reason.as_bytes());
        for s in [&ia.family, &ia.version].into_iter().flatten() {
            prefetch_bytes(s.as_bytes());
        }
    }
}

/// A hint to bring `r`'s cache lines in; reads nothing into the program.
#[inline]
fn prefetch<T>(r: &T) {
    prefetch_raw((r as *const T).cast(), std::mem::size_of::<T>());
}

/// A hint to bring the cache lines of `b` in.
#[inline]
fn prefetch_bytes(b: &[u8]) {
    prefetch_raw(b.as_ptr(), b.len());
}

/// A hint to bring the cache lines of `n` bytes at `p` in (any address: a prefetch never
/// faults).
#[inline]
fn prefetch_raw(p: *const u8, n: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        for line in (0..n).step_by(64) {
            // SAFETY: a prefetch cannot fault and changes no state the program sees; SSE,
            // which provides it, is part of every x86-64 CPU.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(p.wrapping_add(line).cast::<i8>()) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (p, n);
}

/// Builds the VM rows, in inventory order.
pub fn vm_rows<'a>(inv: &'a Inventory, a: &'a Assessment) -> Vec<VmRow<'a>> {
    (0..inv.vms.len()).map(|i| vm_row(inv, a, i)).collect()
}

/// The row of image `i`.
pub fn image_row<'a>(inv: &'a Inventory, a: &'a Assessment, i: usize) -> ImageRow<'a> {
    let (img, ia) = (&inv.images[i], &a.images[i]);
    ImageRow {
        id: &img.id,
        name: &img.name,
        cloud: img.cloud.as_str(),
        account: &img.account,
        region: &img.region,
        owner: &img.owner,
        vendor: img.vendor,
        state: img.state.as_str(),
        created: img.created,
        age_days: ia.age_days,
        family: ia.family.as_deref(),
        version: ia.version.as_deref(),
        latest_version: ia.latest.as_deref(),
        versions_behind: ia.versions_behind,
        verdict: ia.verdict,
        reason: &ia.reason,
        class: ia.class.class.as_str(),
        class_reason: &ia.class.reason,
        lineage: ia
            .lineage
            .iter()
            .map(|&k| inv.images[k].id.as_str())
            .collect(),
        issues: &ia.issues,
        vm_count: ia.vm_count,
        tags: &img.tags,
    }
}

/// Builds the image rows, in inventory order.
pub fn image_rows<'a>(inv: &'a Inventory, a: &'a Assessment) -> Vec<ImageRow<'a>> {
    (0..inv.images.len())
        .map(|i| image_row(inv, a, i))
        .collect()
}

impl Filterable for VmRow<'_> {
    fn values(&self, field: Field) -> Values<'_> {
        let one = |s| [Some(s), None];
        match field {
            Field::Name => one(self.name),
            Field::Id => one(self.id),
            Field::Cloud => one(self.cloud),
            Field::Account => one(self.account),
            Field::Region => one(self.region),
            Field::State => one(self.state),
            Field::Size => one(self.size),
            Field::Image => [Some(self.image_id), self.image_name],
            Field::Family => [self.family, None],
            Field::Version => [self.version, None],
            Field::Verdict => one(self.verdict.as_str()),
            Field::Owner => [None, None],
            Field::Group => [self.scale_group, None],
            Field::Class => one(self.class),
        }
    }

    fn tag(&self, key: &str) -> Option<&str> {
        self.tags.get(key)
    }
}

impl Filterable for ImageRow<'_> {
    fn values(&self, field: Field) -> Values<'_> {
        let one = |s| [Some(s), None];
        match field {
            Field::Name | Field::Image => [Some(self.name), Some(self.id)],
            Field::Id => one(self.id),
            Field::Cloud => one(self.cloud),
            Field::Account => one(self.account),
            Field::Region => one(self.region),
            Field::State => one(self.state),
            Field::Family => [self.family, None],
            Field::Version => [self.version, None],
            Field::Verdict => one(self.verdict.as_str()),
            Field::Owner => one(self.owner),
            Field::Class => one(self.class),
            Field::Size | Field::Group => [None, None],
        }
    }

    fn tag(&self, key: &str) -> Option<&str> {
        self.tags.get(key)
    }
}
