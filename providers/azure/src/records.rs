//! Resource Manager models → drydock's provider-neutral records: VMs with the image they
//! were launched from (gallery version, gallery image meaning latest, managed image, or a
//! marketplace URN), managed images and gallery image versions with their provenance tags.

use azure_mgmt_compute::package_2024_07_01::models;
use chrono::{DateTime, Utc};
use drydock_api::{Cloud, Image, ImageState, ScaleGroup, Tags, Vm, VmState};

/// `time` → `chrono`.
pub fn utc(t: time::OffsetDateTime) -> DateTime<Utc> {
    DateTime::from_timestamp(t.unix_timestamp(), t.nanosecond()).unwrap_or_default()
}

/// ARM tags (a JSON object) → tags.
pub fn tags(v: &Option<serde_json::Value>) -> Tags {
    v.as_ref()
        .and_then(|v| v.as_object())
        .map(|o| {
            o.iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.as_str().map_or_else(|| v.to_string(), String::from),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The image a VM was launched from, as the image id drydock tracks: a resource id
/// (gallery version or definition, managed image) or a marketplace URN
/// `publisher:offer:sku:version` (the exact version where Azure reports it).
pub fn image_id(r: &models::ImageReference) -> Option<String> {
    if let Some(id) = r.sub_resource.id.as_ref().filter(|s| !s.is_empty()) {
        return Some(id.clone());
    }
    match (&r.publisher, &r.offer, &r.sku) {
        (Some(p), Some(o), Some(s)) => {
            let v = r
                .exact_version
                .as_ref()
                .or(r.version.as_ref())
                .map_or("latest", String::as_str);
            Some(format!("{p}:{o}:{s}:{v}"))
        }
        _ => r
            .shared_gallery_image_id
            .clone()
            .or_else(|| r.community_gallery_image_id.clone()),
    }
}

/// The image id a VM's (or scale-set instance's) storage profile names ("" if none).
fn launched_from(storage: Option<&models::StorageProfile>) -> String {
    storage
        .and_then(|s| s.image_reference.as_ref())
        .and_then(image_id)
        .unwrap_or_default()
}

/// A VM's power state from its instance view statuses (`PowerState/running`...).
pub fn power_state(statuses: &[models::InstanceViewStatus]) -> VmState {
    let code = statuses
        .iter()
        .filter_map(|s| s.code.as_deref())
        .find_map(|c| c.strip_prefix("PowerState/"));
    match code {
        Some("running") => VmState::Running,
        Some("starting") => VmState::Pending,
        Some("stopping" | "deallocating") => VmState::Stopping,
        Some("stopped" | "deallocated") => VmState::Stopped,
        _ => VmState::Unknown,
    }
}

/// One VM; `state` from the status list (`None`: unknown), `fallback` when Azure gives no
/// creation time.
pub fn vm(
    v: &models::VirtualMachine,
    subscription: &str,
    state: Option<VmState>,
    fallback: DateTime<Utc>,
) -> Option<Vm> {
    let id = v.resource.id.clone()?;
    let p = v.properties.as_ref();
    let size = p
        .and_then(|p| p.hardware_profile.as_ref())
        .and_then(|h| h.vm_size.as_ref())
        .and_then(|s| serde_json::to_value(s).ok())
        .and_then(|s| s.as_str().map(String::from))
        .unwrap_or_default();
    let image = launched_from(p.and_then(|p| p.storage_profile.as_ref()));
    Some(Vm {
        name: v.resource.name.as_deref().unwrap_or(&id).into(),
        id: id.into(),
        cloud: Cloud::Azure,
        account: subscription.into(),
        region: v.resource.location.to_lowercase().into(),
        state: state.unwrap_or(VmState::Unknown),
        size: size.into(),
        launched_at: p.and_then(|p| p.time_created).map_or(fallback, utc),
        image_id: image.into(),
        tags: tags(&v.resource.tags),
        scale_group: p
            .and_then(|p| p.virtual_machine_scale_set.as_ref())
            .and_then(|s| s.id.as_deref())
            .map(Into::into),
        boot_config: boot_config(
            p.and_then(|p| p.os_profile.as_ref()),
            p.and_then(|p| p.user_data.as_deref()),
            &v.resources,
        ),
    })
}

/// What installs software at boot: custom data, user data (`$expand=userData`) and VM
/// extensions, each named.
fn boot_config(
    os: Option<&models::OsProfile>,
    user_data: Option<&str>,
    extensions: &[models::VirtualMachineExtension],
) -> Vec<String> {
    let mut out = Vec::new();
    if os
        .and_then(|o| o.custom_data.as_deref())
        .is_some_and(|d| !d.is_empty())
    {
        out.push("custom data".to_string());
    }
    if user_data.is_some_and(|d| !d.is_empty()) {
        out.push("user data".to_string());
    }
    for e in extensions {
        let kind = e
            .properties
            .as_ref()
            .and_then(|p| p.type_.clone())
            .or_else(|| e.resource_with_optional_location.name.clone())
            .unwrap_or_else(|| "unnamed".into());
        out.push(format!("extension {kind}"));
    }
    out
}

/// A managed image (Azure reports no creation time: `drydock:created` or the scan time).
pub fn managed_image(i: &models::Image, subscription: &str, now: DateTime<Utc>) -> Option<Image> {
    let id = i.resource.id.clone()?;
    let tags = tags(&i.resource.tags);
    let created = tags
        .get("drydock:created")
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map_or(now, |t| t.with_timezone(&Utc));
    Some(Image {
        name: i.resource.name.clone().unwrap_or_else(|| id.clone()),
        id,
        cloud: Cloud::Azure,
        account: subscription.to_string(),
        region: i.resource.location.to_lowercase(),
        created,
        state: ImageState::Available,
        deprecation_time: None,
        end_of_life: None,
        owner: subscription.to_string(),
        newer_base: None,
        vendor: false,
        tags,
    })
}

/// A gallery image version, named `definition-version`. Excluded from latest counts as
/// deprecated; the end-of-life date is kept for the policy to enforce (Azure only informs).
pub fn gallery_version(
    v: &models::GalleryImageVersion,
    definition: &str,
    subscription: &str,
    now: DateTime<Utc>,
) -> Option<Image> {
    let id = v.resource.id.clone()?;
    let version = v.resource.name.clone().unwrap_or_default();
    let publishing = v
        .properties
        .as_ref()
        .and_then(|p| p.publishing_profile.as_ref())
        .map(|p| &p.gallery_artifact_publishing_profile_base);
    let excluded = publishing
        .and_then(|p| p.exclude_from_latest)
        .unwrap_or(false);
    let mut tags = tags(&v.resource.tags);
    // The version's own name is its version unless provenance says otherwise.
    if !tags.contains_key("drydock:version") {
        tags.insert("drydock:version", version.as_str());
    }
    Some(Image {
        name: format!("{definition}-{version}"),
        id,
        cloud: Cloud::Azure,
        account: subscription.to_string(),
        region: v.resource.location.to_lowercase(),
        created: publishing.and_then(|p| p.published_date).map_or(now, utc),
        state: if excluded {
            ImageState::Deprecated
        } else {
            ImageState::Available
        },
        deprecation_time: None,
        end_of_life: publishing.and_then(|p| p.end_of_life_date).map(utc),
        owner: subscription.to_string(),
        newer_base: None,
        vendor: false,
        tags,
    })
}

/// A scale set: its model image and its instances' ids.
pub fn scale_group(
    s: &models::VirtualMachineScaleSet,
    subscription: &str,
    members: Vec<String>,
) -> Option<ScaleGroup> {
    let id = s.resource.id.clone()?;
    let model = s
        .properties
        .as_ref()
        .and_then(|p| p.virtual_machine_profile.as_ref())
        .and_then(|p| p.storage_profile.as_ref())
        .and_then(|p| p.image_reference.as_ref())
        .and_then(image_id)
        .unwrap_or_default();
    Some(ScaleGroup {
        name: s.resource.name.clone().unwrap_or_else(|| id.clone()),
        id,
        cloud: Cloud::Azure,
        account: subscription.to_string(),
        region: s.resource.location.to_lowercase(),
        members,
        model_image_id: model,
        launch_template: None,
        tags: tags(&s.resource.tags),
    })
}

/// A scale-set instance as a VM of its scale set: the image its own model was built from
/// (an instance not on the latest model keeps the old image), and whether the latest model
/// is applied (tag `azure:latestModelApplied`).
pub fn scale_set_vm(
    v: &models::VirtualMachineScaleSetVm,
    set: &models::VirtualMachineScaleSet,
    subscription: &str,
    fallback: DateTime<Utc>,
) -> Option<Vm> {
    let id = v.resource.id.clone()?;
    let p = v.properties.as_ref();
    let image = launched_from(p.and_then(|p| p.storage_profile.as_ref()));
    let state = p
        .and_then(|p| p.instance_view.as_ref())
        .map_or(VmState::Unknown, |iv| power_state(&iv.statuses));
    let mut tags = tags(&v.resource.tags);
    if let Some(latest) = p.and_then(|p| p.latest_model_applied) {
        tags.insert("azure:latestModelApplied", latest.to_string());
    }
    Some(Vm {
        name: v.resource.name.as_deref().unwrap_or(&id).into(),
        id: id.into(),
        cloud: Cloud::Azure,
        account: subscription.into(),
        region: v.resource.location.to_lowercase().into(),
        state,
        size: v
            .sku
            .as_ref()
            .or(set.sku.as_ref())
            .and_then(|s| s.name.as_deref())
            .unwrap_or_default()
            .into(),
        launched_at: p.and_then(|p| p.time_created).map_or(fallback, utc),
        image_id: image.into(),
        tags,
        scale_group: set.resource.id.as_deref().map(Into::into),
        boot_config: boot_config(
            p.and_then(|p| p.os_profile.as_ref()),
            p.and_then(|p| p.user_data.as_deref()),
            &v.resources,
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse<T: serde::de::DeserializeOwned>(json: &str) -> T {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn image_references_of_every_kind() {
        let r: models::ImageReference = parse(
            r#"{"publisher":"Canonical","offer":"0001-com-ubuntu-server-jammy","sku":"22_04-lts-gen2","version":"latest","exactVersion":"22.04.202610150"}"#,
        );
        assert_eq!(
            image_id(&r).unwrap(),
            "Canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2:22.04.202610150"
        );
        let g: models::ImageReference = parse(
            r#"{"id":"/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/web/versions/1.0.0"}"#,
        );
        assert!(image_id(&g).unwrap().ends_with("/versions/1.0.0"));
    }

    #[test]
    fn a_vm_from_the_spec_shape() {
        let v: models::VirtualMachine = parse(
            r#"{"id":"/subscriptions/s/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachines/web-001",
                "name":"web-001","type":"Microsoft.Compute/virtualMachines","location":"WestEurope",
                "tags":{"drydock:family":"web"},
                "properties":{"hardwareProfile":{"vmSize":"Standard_D2s_v3"},
                  "storageProfile":{"imageReference":{"id":"/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/images/img"}},
                  "timeCreated":"2026-10-01T00:00:00Z","provisioningState":"Succeeded"}}"#,
        );
        let vm = vm(&v, "s", Some(VmState::Running), Utc::now()).unwrap();
        assert_eq!(vm.region, "westeurope");
        assert_eq!(vm.size, "Standard_D2s_v3");
        assert!(vm.image_id.ends_with("/images/img"));
        assert_eq!(vm.launched_at.to_rfc3339(), "2026-10-01T00:00:00+00:00");
        assert_eq!(&vm.tags["drydock:family"], "web");
    }

    #[test]
    fn custom_data_user_data_and_extensions_are_boot_config() {
        // The first VM of the official "list all VMs" example (maximum set,
        // compute 2024-07-01), cut to the fields that matter here: custom data, user data
        // and an extension.
        let v: models::VirtualMachine = parse(
            r#"{"id":"/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Compute/virtualMachines/{virtualMachineName}",
                "name":"{virtualMachineName}","location":"eastus",
                "properties":{"osProfile":{"computerName":"Test","customData":"aaaa"},"userData":"aaa"},
                "resources":[{"name":"aaaaaaaaaaaaa","location":"aaaaaaaaaaaaaaaa",
                  "properties":{"publisher":"aaaaaaaaaaaaaaaa","type":"aaaaaaaa","typeHandlerVersion":"aaaaaaaaaaaa"}}]}"#,
        );
        let vm = vm(&v, "s", None, Utc::now()).unwrap();
        assert_eq!(vm.boot_config[..2], ["custom data", "user data"]);
        assert!(
            vm.boot_config[2..]
                .iter()
                .all(|b| b.starts_with("extension ")),
            "{:?}",
            vm.boot_config
        );
        let bare: models::VirtualMachine = parse(r#"{"id":"/x","location":"westeurope"}"#);
        assert!(vm_boot(&bare).is_empty());
    }

    fn vm_boot(v: &models::VirtualMachine) -> Vec<String> {
        vm(v, "s", None, Utc::now()).unwrap().boot_config
    }
}
