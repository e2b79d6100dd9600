//! How the simulated cloud applies each mutation to its state: the same rules a real cloud
//! enforces (an image in use cannot be deregistered, a disabled image cannot launch),
//! idempotency by client token, and replacements that join their scale group.

use crate::cloud::{not_found, State};
use crate::ids;
use drydock_api::{
    Image, ImageState, Operation, OperationOutcome, ProviderError, ProviderErrorKind, ScanResult,
    Vm, VmState,
};

pub(crate) fn apply_to(
    st: &mut State,
    op: &Operation,
    dry_run: bool,
) -> Result<OperationOutcome, ProviderError> {
    let now = st.now;
    let call = op.verb();
    let find_image = |inv: &ScanResult, id: &str| inv.images.iter().position(|i| i.id == id);
    let find_vm = |inv: &ScanResult, id: &str| inv.vms.iter().position(|v| v.id == id);
    let done = |created: Option<String>| Ok(OperationOutcome::Done { created });
    match op {
        Operation::CreateImage {
            source_vm,
            name,
            tags,
            client_token,
        } => {
            let vm = find_vm(&st.inventory, source_vm).ok_or_else(|| not_found(call, source_vm))?;
            if dry_run {
                return Ok(OperationOutcome::WouldSucceed);
            }
            if let Some(id) = st.tokens.get(client_token) {
                return done(Some(id.clone()));
            }
            let vm = st.inventory.vms[vm].clone();
            let id = ids::aws("ami", &[&vm.account, &vm.region, name, client_token]);
            st.inventory.images.push(Image {
                id: id.clone(),
                name: name.clone(),
                cloud: vm.cloud,
                account: vm.account.to_string(),
                region: vm.region.to_string(),
                created: now,
                state: ImageState::Available,
                deprecation_time: None,
                end_of_life: None,
                newer_base: None,
                owner: vm.account.to_string(),
                vendor: false,
                tags: tags.clone(),
            });
            st.tokens.insert(client_token.clone(), id.clone());
            done(Some(id))
        }
        Operation::Tag { resource, tags } => {
            let inv = &mut st.inventory;
            let target = if let Some(i) = find_image(inv, resource) {
                &mut inv.images[i].tags
            } else if let Some(v) = find_vm(inv, resource) {
                &mut inv.vms[v].tags
            } else {
                return Err(not_found(call, resource));
            };
            if !dry_run {
                target.extend(tags.clone());
            }
            Ok(if dry_run {
                OperationOutcome::WouldSucceed
            } else {
                OperationOutcome::Done { created: None }
            })
        }
        Operation::Deprecate { image, at } => set_image(st, call, image, dry_run, |img| {
            img.deprecation_time = Some(*at);
            if *at <= now || *at <= chrono::Utc::now() {
                img.state = ImageState::Deprecated;
            }
        }),
        Operation::Disable { image } => set_image(st, call, image, dry_run, |img| {
            img.state = ImageState::Disabled;
        }),
        Operation::Deregister { image } => {
            let in_use = st
                .inventory
                .vms
                .iter()
                .any(|v| v.image_id == *image && v.state != VmState::Terminated);
            if in_use {
                return Err(ProviderError::new(
                    ProviderErrorKind::Rejected,
                    call,
                    image.as_str(),
                    "image is still in use by VMs",
                    "replace or terminate those VMs first",
                ));
            }
            set_image(st, call, image, dry_run, |img| {
                img.state = ImageState::Deregistered;
            })
        }
        Operation::LaunchReplacement {
            replaces,
            image,
            client_token,
            tags: extra,
        } => {
            let old = find_vm(&st.inventory, replaces).ok_or_else(|| not_found(call, replaces))?;
            let img = find_image(&st.inventory, image).ok_or_else(|| not_found(call, image))?;
            if st.inventory.images[img].state != ImageState::Available {
                return Err(ProviderError::new(
                    ProviderErrorKind::Rejected,
                    call,
                    image.as_str(),
                    format!("image is {}", st.inventory.images[img].state.as_str()),
                    "launch from an available image",
                ));
            }
            if dry_run {
                return Ok(OperationOutcome::WouldSucceed);
            }
            if let Some(id) = st.tokens.get(client_token) {
                return done(Some(id.clone()));
            }
            let old = st.inventory.vms[old].clone();
            let id = ids::aws("i", &[&old.id, image, client_token]);
            let mut tags = old.tags.clone();
            tags.retain(|k, _| k != "drydock:replaces" && k != "drydock:plan");
            tags.extend(extra.clone());
            tags.insert("drydock:replaces", old.id.clone());
            // A replacement joins its predecessor's scale group.
            for sg in &mut st.inventory.scale_groups {
                if sg.members.iter().any(|m| *m == old.id) {
                    sg.members.push(id.clone());
                }
            }
            st.inventory.vms.push(Vm {
                id: id.clone().into(),
                launched_at: now,
                image_id: image.clone().into(),
                state: VmState::Running,
                tags,
                ..old
            });
            st.tokens.insert(client_token.clone(), id.clone());
            done(Some(id))
        }
        Operation::Terminate { vm } => {
            let v = find_vm(&st.inventory, vm).ok_or_else(|| not_found(call, vm))?;
            if dry_run {
                return Ok(OperationOutcome::WouldSucceed);
            }
            st.inventory.vms[v].state = VmState::Terminated;
            for sg in &mut st.inventory.scale_groups {
                sg.members.retain(|m| m != vm);
            }
            done(None)
        }
        Operation::StartRollingUpgrade { scale_group, image } => {
            let sg = st
                .inventory
                .scale_groups
                .iter()
                .position(|s| s.id == *scale_group || s.name == *scale_group)
                .ok_or_else(|| not_found(call, scale_group))?;
            find_image(&st.inventory, image).ok_or_else(|| not_found(call, image))?;
            if dry_run {
                return Ok(OperationOutcome::WouldSucceed);
            }
            let members = st.inventory.scale_groups[sg].members.clone();
            st.inventory.scale_groups[sg].model_image_id = image.clone();
            for vm in &mut st.inventory.vms {
                if members.iter().any(|m| *m == vm.id) {
                    vm.image_id = image.clone().into();
                    vm.launched_at = now;
                }
            }
            done(None)
        }
        Operation::Repoint { resource, image } => {
            find_image(&st.inventory, image).ok_or_else(|| not_found(call, image))?;
            let inv = &mut st.inventory;
            let group = inv
                .scale_groups
                .iter()
                .position(|s| s.id == *resource || s.name == *resource);
            let template = match group {
                Some(g) => inv.scale_groups[g].launch_template.clone(),
                None => Some(resource.clone()),
            };
            let has_template = template
                .as_ref()
                .is_some_and(|t| inv.launch_templates.iter().any(|l| &l.id == t));
            if group.is_none() && !has_template {
                return Err(not_found(call, resource));
            }
            if dry_run {
                return Ok(OperationOutcome::WouldSucceed);
            }
            if let Some(g) = group {
                inv.scale_groups[g].model_image_id = image.clone();
            }
            // A new template version becomes the default.
            for lt in &mut inv.launch_templates {
                if Some(&lt.id) == template.as_ref() && lt.image_id != *image {
                    lt.image_id = image.clone();
                    lt.version += 1;
                }
            }
            done(None)
        }
    }
}

fn set_image(
    st: &mut State,
    call: &str,
    image: &str,
    dry_run: bool,
    f: impl FnOnce(&mut Image),
) -> Result<OperationOutcome, ProviderError> {
    let img = st
        .inventory
        .images
        .iter_mut()
        .find(|i| i.id == image)
        .ok_or_else(|| not_found(call, image))?;
    if dry_run {
        return Ok(OperationOutcome::WouldSucceed);
    }
    f(img);
    Ok(OperationOutcome::Done { created: None })
}
