//! The data the dashboard shows: the full inventory, the context's view of it, its
//! assessment and image usage. Rebuilt when a scan lands or the context changes.

use crate::drift::{self, Assessment, Policy};
use crate::model::usage::Usage;
use crate::model::Inventory;
use crate::report::filter::{Field, Filterable, Values};
use chrono::{DateTime, Utc};

/// What a VM's row shows of its image.
#[derive(Debug, Clone)]
struct ImageShown {
    name: drydock_api::Text,
    family: Option<drydock_api::Text>,
    version: Option<drydock_api::Text>,
    age_days: i64,
}

/// The inventory as shown (one context, or all), with its verdicts.
pub struct Data {
    /// The inventory shown: the whole one (shared with the app, never copied) or one
    /// context's part of it.
    pub inv: std::sync::Arc<Inventory>,
    pub a: Assessment,
    pub usage: Usage,
    /// Per VM: name, id, image and family, lower-cased, for fast bare-word filtering.
    search: Vec<String>,
    /// Per image: what a VM's row shows of it, inline and side by side (a filter or sort
    /// over a million VMs reads these at random; the full records are far apart).
    shown: Vec<ImageShown>,
    /// Per image: its SBOM's components, when one is recorded or tagged.
    pub sboms: Vec<Option<Result<crate::inspect::diff::Components, String>>>,
}

impl Data {
    /// Assesses `full` restricted to `context` (`None` = all) at `now`.
    pub fn build(
        full: &std::sync::Arc<Inventory>,
        context: Option<&str>,
        policy: &Policy,
        now: DateTime<Utc>,
        sboms: Option<&dyn drydock_store::Store>,
    ) -> Data {
        let inv = match context {
            Some(c) => std::sync::Arc::new(full.restrict_to(c)),
            None => std::sync::Arc::clone(full),
        };
        let a = drift::evaluate(&inv, policy, now);
        let usage = Usage::build(&inv);
        let text = |i: usize| {
            let vm = &inv.vms[i];
            let img = a.vms[i].image;
            let fields = [
                vm.name.as_str(),
                vm.id.as_str(),
                vm.image_id.as_str(),
                img.map_or("", |k| inv.images[k].name.as_str()),
                img.and_then(|k| a.images[k].family.as_deref())
                    .unwrap_or(""),
            ];
            let mut s = String::with_capacity(fields.iter().map(|f| f.len() + 1).sum());
            for (k, f) in fields.iter().enumerate() {
                if k > 0 {
                    // The unit separator keeps a match from spanning two fields.
                    s.push('\u{1f}');
                }
                s.push_str(f);
            }
            if s.is_ascii() {
                s.make_ascii_lowercase();
                s
            } else {
                s.to_lowercase()
            }
        };
        // A million VMs: on two threads.
        let search = crate::par::on_two_threads(inv.vms.len(), &text);
        let recorded = crate::sbom::recorded(sboms);
        let sboms = inv
            .images
            .iter()
            .map(|img| {
                crate::sbom::lookup(sboms, &recorded, img).map(|r| r.map_err(|e| e.to_string()))
            })
            .collect();
        let shown = inv
            .images
            .iter()
            .zip(&a.images)
            .map(|(img, ia)| ImageShown {
                name: img.name.as_str().into(),
                family: ia.family.as_deref().map(Into::into),
                version: ia.version.as_deref().map(Into::into),
                age_days: ia.age_days,
            })
            .collect();
        Data {
            inv,
            a,
            usage,
            search,
            shown,
            sboms,
        }
    }

    pub fn vm(&self, i: u32) -> VmRef<'_> {
        VmRef {
            data: self,
            i: i as usize,
        }
    }

    pub fn image(&self, i: u32) -> ImageRef<'_> {
        ImageRef {
            data: self,
            i: i as usize,
        }
    }
}

/// One VM as a filterable row, borrowing from `Data` (no per-row allocation).
#[derive(Clone, Copy)]
pub struct VmRef<'a> {
    pub data: &'a Data,
    pub i: usize,
}

impl<'a> VmRef<'a> {
    pub fn vm(&self) -> &'a crate::model::Vm {
        &self.data.inv.vms[self.i]
    }

    pub fn image_index(&self) -> Option<usize> {
        self.data.a.vms[self.i].image
    }

    fn shown(&self) -> Option<&'a ImageShown> {
        self.image_index().and_then(|k| self.data.shown.get(k))
    }

    pub fn image_name(&self) -> Option<&'a str> {
        self.shown().map(|s| s.name.as_str())
    }

    pub fn family(&self) -> Option<&'a str> {
        self.shown().and_then(|s| s.family.as_deref())
    }

    pub fn version(&self) -> Option<&'a str> {
        self.shown().and_then(|s| s.version.as_deref())
    }

    pub fn age_days(&self) -> Option<i64> {
        self.shown().map(|s| s.age_days)
    }

    pub fn verdict(&self) -> crate::drift::Verdict {
        self.data.a.vms[self.i].verdict
    }
}

impl Filterable for VmRef<'_> {
    fn values(&self, field: Field) -> Values<'_> {
        let vm = self.vm();
        let one = |s| [Some(s), None];
        match field {
            Field::Name => one(vm.name.as_str()),
            Field::Id => one(vm.id.as_str()),
            Field::Cloud => one(vm.cloud.as_str()),
            Field::Account => one(vm.account.as_str()),
            Field::Region => one(vm.region.as_str()),
            Field::State => one(vm.state.as_str()),
            Field::Size => one(vm.size.as_str()),
            Field::Image => [Some(vm.image_id.as_str()), self.image_name()],
            Field::Family => [self.family(), None],
            Field::Version => [self.version(), None],
            Field::Verdict => one(self.verdict().as_str()),
            Field::Owner => [None, None],
            Field::Group => [vm.scale_group.as_deref(), None],
            Field::Class => one(self.data.a.vm_classes[self.i].class.as_str()),
        }
    }

    fn tag(&self, key: &str) -> Option<&str> {
        self.vm().tags.get(key)
    }

    fn search_text(&self) -> Option<&str> {
        Some(&self.data.search[self.i])
    }
}

/// One image as a filterable row.
#[derive(Clone, Copy)]
pub struct ImageRef<'a> {
    pub data: &'a Data,
    pub i: usize,
}

impl<'a> ImageRef<'a> {
    pub fn image(&self) -> &'a crate::model::Image {
        &self.data.inv.images[self.i]
    }

    pub fn assessment(&self) -> &'a crate::drift::ImageAssessment {
        &self.data.a.images[self.i]
    }
}

impl Filterable for ImageRef<'_> {
    fn values(&self, field: Field) -> Values<'_> {
        let (img, ia) = (self.image(), self.assessment());
        let one = |s| [Some(s), None];
        match field {
            Field::Name | Field::Image => [Some(img.name.as_str()), Some(img.id.as_str())],
            Field::Id => one(img.id.as_str()),
            Field::Cloud => one(img.cloud.as_str()),
            Field::Account => one(img.account.as_str()),
            Field::Region => one(img.region.as_str()),
            Field::State => one(img.state.as_str()),
            Field::Family => [ia.family.as_deref(), None],
            Field::Version => [ia.version.as_deref(), None],
            Field::Verdict => one(ia.verdict.as_str()),
            Field::Owner => one(img.owner.as_str()),
            Field::Class => one(ia.class.class.as_str()),
            Field::Size | Field::Group => [None, None],
        }
    }

    fn tag(&self, key: &str) -> Option<&str> {
        self.image().tags.get(key)
    }
}
