//! Who uses an image: the VMs launched from it, the scale groups whose model it is and the
//! launch templates that reference it. This is an image's blast radius.

use super::Inventory;
use std::collections::{BTreeSet, HashMap};

/// What uses one image (indexes into the inventory's lists).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageUsage {
    pub vms: Vec<usize>,
    pub scale_groups: Vec<usize>,
    pub launch_templates: Vec<usize>,
}

impl ImageUsage {
    pub fn is_unused(&self) -> bool {
        self.vms.is_empty() && self.scale_groups.is_empty() && self.launch_templates.is_empty()
    }
}

/// Usage of every image in an inventory.
#[derive(Debug, Clone, Default)]
pub struct Usage {
    by_image: HashMap<String, ImageUsage>,
}

static UNUSED: ImageUsage = ImageUsage {
    vms: Vec::new(),
    scale_groups: Vec::new(),
    launch_templates: Vec::new(),
};

impl Usage {
    pub fn build(inv: &Inventory) -> Usage {
        let mut by_image: HashMap<String, ImageUsage> = HashMap::new();
        for (i, vm) in inv.vms.iter().enumerate() {
            // A key is made only for an image not seen yet (a million VMs, fewer images).
            match by_image.get_mut(vm.image_id.as_str()) {
                Some(u) => u.vms.push(i),
                None => {
                    let mut u = ImageUsage::default();
                    u.vms.push(i);
                    by_image.insert(vm.image_id.to_string(), u);
                }
            }
        }
        for (i, sg) in inv.scale_groups.iter().enumerate() {
            by_image
                .entry(sg.model_image_id.clone())
                .or_default()
                .scale_groups
                .push(i);
        }
        for (i, lt) in inv.launch_templates.iter().enumerate() {
            by_image
                .entry(lt.image_id.clone())
                .or_default()
                .launch_templates
                .push(i);
        }
        Usage { by_image }
    }

    pub fn of(&self, image_id: &str) -> &ImageUsage {
        self.by_image.get(image_id).unwrap_or(&UNUSED)
    }
}

/// The blast radius of acting on a set of VMs and images.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlastRadius {
    /// VMs acted on or launched from the images acted on.
    pub vms: BTreeSet<usize>,
    pub images: BTreeSet<usize>,
    pub scale_groups: BTreeSet<usize>,
    pub launch_templates: BTreeSet<usize>,
    pub accounts: BTreeSet<String>,
    pub regions: BTreeSet<String>,
}

impl BlastRadius {
    /// The radius of acting on `vms` and `images` (indexes into `inv`).
    pub fn of(inv: &Inventory, usage: &Usage, vms: &[usize], images: &[usize]) -> BlastRadius {
        let mut r = BlastRadius::default();
        for &v in vms {
            r.vms.insert(v);
            if let Some(sg) = &inv.vms[v].scale_group {
                r.scale_groups.extend(
                    inv.scale_groups
                        .iter()
                        .enumerate()
                        .filter(|(_, s)| {
                            s.name == sg && s.members.iter().any(|m| *m == inv.vms[v].id)
                        })
                        .map(|(i, _)| i),
                );
            }
        }
        for &i in images {
            r.images.insert(i);
            let u = usage.of(&inv.images[i].id);
            r.vms.extend(&u.vms);
            r.scale_groups.extend(&u.scale_groups);
            r.launch_templates.extend(&u.launch_templates);
        }
        for &v in &r.vms {
            r.accounts.insert(inv.vms[v].account.to_string());
            r.regions.insert(inv.vms[v].region.to_string());
        }
        for &i in &r.images {
            r.accounts.insert(inv.images[i].account.clone());
            r.regions.insert(inv.images[i].region.clone());
        }
        r
    }

    /// One line for a confirm dialog: "14 VMs, 1 scale group, 1 launch template in 2
    /// accounts, 2 regions".
    pub fn summary(&self) -> String {
        let n = |count: usize, word: &str| {
            format!("{count} {word}{}", if count == 1 { "" } else { "s" })
        };
        format!(
            "{}, {}, {}, {} in {}, {}",
            n(self.images.len(), "image"),
            n(self.vms.len(), "VM"),
            n(self.scale_groups.len(), "scale group"),
            n(self.launch_templates.len(), "launch template"),
            n(self.accounts.len(), "account"),
            n(self.regions.len(), "region"),
        )
    }
}
