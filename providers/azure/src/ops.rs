//! Changes to Azure, as the gate hands them over: tags (VMs, managed images, gallery
//! versions), deprecate (a gallery version's end-of-life date), disable (excluded from latest
//! and end of life now), deregister (DELETE the version or managed image) and terminate
//! (DELETE the VM). PATCHes go through the crate's `update` (which re-sends until 200);
//! DELETEs answer 202, and the `Azure-AsyncOperation` URL is polled here, with a timeout.
//! A dry run GETs the target and changes nothing.

use crate::error;
use crate::provider::AzureProvider;
use azure_mgmt_compute::package_2024_07_01::models;
use chrono::{DateTime, Utc};
use drydock_api::{Operation, OperationOutcome, ProviderError, ProviderErrorKind, Tags};

/// What a resource id names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Vm {
        rg: String,
        name: String,
    },
    Image {
        rg: String,
        name: String,
    },
    Version {
        rg: String,
        gallery: String,
        definition: String,
        version: String,
    },
    /// An instance of a scale set.
    ScaleSetVm {
        rg: String,
        set: String,
        instance: String,
    },
}

/// Parses an ARM resource id of a VM, a managed image or a gallery image version.
pub fn target(id: &str) -> Option<Target> {
    let p: Vec<&str> = id.trim_matches('/').split('/').collect();
    let at = |i: usize| p.get(i).map(|s| s.to_string());
    let rg = p
        .iter()
        .position(|s| s.eq_ignore_ascii_case("resourceGroups"))
        .and_then(|i| at(i + 1))?;
    let prov = p.iter().position(|s| s.eq_ignore_ascii_case("providers"))?;
    // (an id that ends at `providers` or its namespace has no type: no target)
    let rest: Vec<String> = p
        .get(prov + 2..)
        .unwrap_or_default()
        .iter()
        .map(|s| s.to_lowercase())
        .collect();
    let name = |i: usize| at(prov + 2 + i);
    match rest
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["virtualmachines", _] => Some(Target::Vm { rg, name: name(1)? }),
        ["images", _] => Some(Target::Image { rg, name: name(1)? }),
        ["virtualmachinescalesets", _, "virtualmachines", _] => Some(Target::ScaleSetVm {
            rg,
            set: name(1)?,
            instance: name(3)?,
        }),
        ["galleries", _, "images", _, "versions", _] => Some(Target::Version {
            rg,
            gallery: name(1)?,
            definition: name(3)?,
            version: name(5)?,
        }),
        _ => None,
    }
}

/// A gallery version's resource group, gallery, definition and version.
fn version_parts<'a>(
    t: &'a Target,
    id: &str,
) -> Result<(&'a str, &'a str, &'a str, &'a str), ProviderError> {
    match t {
        Target::Version {
            rg,
            gallery,
            definition,
            version,
        } => Ok((rg, gallery, definition, version)),
        _ => Err(ProviderError::new(
            ProviderErrorKind::Rejected,
            "gallery image version",
            id,
            "not a gallery image version",
            "deprecate and disable apply to gallery image versions",
        )),
    }
}

/// The ARM action a change needs on its target.
fn action(op: &Operation, t: &Target) -> String {
    let kind = match t {
        Target::Vm { .. } => "virtualMachines",
        Target::Image { .. } => "images",
        Target::Version { .. } => "galleries/images/versions",
        Target::ScaleSetVm { .. } => "virtualMachineScaleSets/virtualMachines",
    };
    let verb = match op {
        Operation::Deregister { .. } | Operation::Terminate { .. } => "delete",
        _ => "write",
    };
    format!("Microsoft.Compute/{kind}/{verb}")
}

fn tags_json(t: &Tags) -> serde_json::Value {
    serde_json::to_value(t).unwrap_or_default()
}

impl AzureProvider {
    fn fail(&self, e: &azure_core::Error, call: &str, resource: &str) -> ProviderError {
        error::map(e, call, resource, self.sub().credential)
    }

    /// Applies `op` (or, with `dry_run`, checks its target exists and changes nothing).
    pub(crate) async fn apply_op(
        &self,
        op: &Operation,
        dry_run: bool,
    ) -> Result<OperationOutcome, ProviderError> {
        let id = op.target();
        let unsupported = || {
            ProviderError::new(
                ProviderErrorKind::Unsupported,
                op.verb(),
                id,
                format!("{} cannot {} on Azure yet", self.sub().name, op.verb()),
                "make this change in the Azure portal or CLI",
            )
        };
        if let Operation::LaunchReplacement {
            replaces,
            image,
            client_token,
            tags,
        } = op
        {
            return self
                .launch_replacement(replaces, image, client_token, tags, dry_run)
                .await;
        }
        match op {
            Operation::Repoint { resource, image } => {
                return self.repoint(resource, image, dry_run).await
            }
            Operation::StartRollingUpgrade { scale_group, image } => {
                return self.rolling_upgrade(scale_group, image, dry_run).await
            }
            Operation::CreateImage {
                source_vm,
                name,
                tags,
                ..
            } => return self.capture(source_vm, name, tags, dry_run).await,
            _ => {}
        }
        let t = target(id).ok_or_else(|| {
            ProviderError::new(
                ProviderErrorKind::Rejected,
                op.verb(),
                id,
                "not a VM, managed image or gallery image version id",
                "pass the resource's full ARM id",
            )
        })?;
        let supported = matches!(
            (op, &t),
            (Operation::Tag { .. }, _)
                | (
                    Operation::Deprecate { .. } | Operation::Disable { .. },
                    Target::Version { .. }
                )
                | (
                    Operation::Deregister { .. },
                    Target::Version { .. } | Target::Image { .. }
                )
                | (
                    Operation::Terminate { .. },
                    Target::Vm { .. } | Target::ScaleSetVm { .. }
                )
        );
        if !supported {
            return Err(unsupported());
        }
        if dry_run {
            self.get_target(&t, op.verb(), id).await?;
            self.check_permission(id, &action(op, &t)).await?;
            return Ok(OperationOutcome::WouldSucceed);
        }
        match op {
            Operation::Tag { tags, .. } => self.tag(&t, tags, id).await?,
            Operation::Deprecate { at, .. } => self.end_of_life(&t, *at, false, id).await?,
            Operation::Disable { .. } => self.end_of_life(&t, Utc::now(), true, id).await?,
            Operation::Deregister { .. } => {
                // What the image was made from, read before it is gone.
                let sources = self.backing(&t, id).await?;
                self.delete(&t, op.verb(), id).await?;
                self.remove_unused(&sources, id).await?;
            }
            Operation::Terminate { .. } => self.delete(&t, op.verb(), id).await?,
            _ => return Err(unsupported()),
        }
        Ok(OperationOutcome::Done { created: None })
    }

    /// The disks and snapshots an image or gallery version was made from.
    async fn backing(&self, t: &Target, id: &str) -> Result<Vec<String>, ProviderError> {
        let model = match t {
            Target::Image { rg, name } => self
                .client()
                .images_client()
                .get(rg, name, &self.sub().id)
                .await
                .map(|i| serde_json::to_value(&i).unwrap_or_default())
                .map_err(|e| self.fail(&e, "Images_Get", id))?,
            Target::Version { .. } => {
                serde_json::to_value(self.version(t, id).await?).unwrap_or_default()
            }
            _ => return Ok(Vec::new()),
        };
        Ok(crate::cleanup::backing_ids(
            &model["properties"]["storageProfile"],
        ))
    }

    /// GET the target: it exists and the credential may read it.
    async fn get_target(&self, t: &Target, verb: &str, id: &str) -> Result<(), ProviderError> {
        let s = &self.sub().id;
        let c = self.client();
        let r = match t {
            Target::Vm { rg, name } => c.virtual_machines_client().get(rg, name, s).await.map(drop),
            Target::Image { rg, name } => c.images_client().get(rg, name, s).await.map(drop),
            Target::Version {
                rg,
                gallery,
                definition,
                version,
            } => c
                .gallery_image_versions_client()
                .get(s, rg, gallery, definition, version)
                .await
                .map(drop),
            Target::ScaleSetVm { rg, set, instance } => c
                .virtual_machine_scale_set_v_ms_client()
                .get(rg, set, instance, s)
                .await
                .map(drop),
        };
        r.map_err(|e| self.fail(&e, &format!("{verb} (dry run: GET)"), id))
    }

    async fn version(
        &self,
        t: &Target,
        id: &str,
    ) -> Result<models::GalleryImageVersion, ProviderError> {
        let (rg, gallery, definition, version) = version_parts(t, id)?;
        self.client()
            .gallery_image_versions_client()
            .get(&self.sub().id, rg, gallery, definition, version)
            .await
            .map_err(|e| self.fail(&e, "GalleryImageVersions_Get", id))
    }

    async fn update_version(
        &self,
        t: &Target,
        update: models::GalleryImageVersionUpdate,
        id: &str,
    ) -> Result<(), ProviderError> {
        let (rg, gallery, definition, version) = version_parts(t, id)?;
        self.client()
            .gallery_image_versions_client()
            .update(&self.sub().id, rg, gallery, definition, version, update)
            .await
            .map(drop)
            .map_err(|e| self.fail(&e, "GalleryImageVersions_Update", id))
    }

    /// Adds `tags` to the resource's own (ARM replaces the whole tag set on PATCH).
    async fn tag(&self, t: &Target, tags: &Tags, id: &str) -> Result<(), ProviderError> {
        let s = &self.sub().id;
        let c = self.client();
        let merged = |old: &Option<serde_json::Value>| {
            let mut all = crate::records::tags(old);
            all.extend(tags.clone());
            Some(tags_json(&all))
        };
        match t {
            Target::Vm { rg, name } => {
                let vms = c.virtual_machines_client();
                let vm = vms
                    .get(rg, name, s)
                    .await
                    .map_err(|e| self.fail(&e, "VirtualMachines_Get", id))?;
                let mut u = models::VirtualMachineUpdate::new();
                u.update_resource.tags = merged(&vm.resource.tags);
                vms.update(rg, name, u, s)
                    .await
                    .map(drop)
                    .map_err(|e| self.fail(&e, "VirtualMachines_Update", id))
            }
            Target::Image { rg, name } => {
                let images = c.images_client();
                let img = images
                    .get(rg, name, s)
                    .await
                    .map_err(|e| self.fail(&e, "Images_Get", id))?;
                let mut u = models::ImageUpdate::new();
                u.update_resource.tags = merged(&img.resource.tags);
                images
                    .update(rg, name, u, s)
                    .await
                    .map(drop)
                    .map_err(|e| self.fail(&e, "Images_Update", id))
            }
            Target::ScaleSetVm { .. } => Err(ProviderError::new(
                ProviderErrorKind::Unsupported,
                "tag",
                id,
                "scale-set instances take their tags from the scale set",
                "tag the scale set instead",
            )),
            Target::Version { .. } => {
                let v = self.version(t, id).await?;
                let mut u = models::GalleryImageVersionUpdate::new();
                u.update_resource_definition.tags = merged(&v.resource.tags);
                self.update_version(t, u, id).await
            }
        }
    }

    /// Sets a gallery version's end of life to `at` (and, to disable, excludes it from latest).
    async fn end_of_life(
        &self,
        t: &Target,
        at: DateTime<Utc>,
        exclude: bool,
        id: &str,
    ) -> Result<(), ProviderError> {
        let v = self.version(t, id).await?;
        let mut props = v
            .properties
            .unwrap_or_else(|| models::GalleryImageVersionProperties::new(Default::default()));
        let publishing = props
            .publishing_profile
            .get_or_insert_with(Default::default);
        let base = &mut publishing.gallery_artifact_publishing_profile_base;
        base.end_of_life_date = time::OffsetDateTime::from_unix_timestamp(at.timestamp()).ok();
        if exclude {
            base.exclude_from_latest = Some(true);
        }
        let mut u = models::GalleryImageVersionUpdate::new();
        u.properties = Some(props);
        self.update_version(t, u, id).await
    }

    /// DELETE, then poll the operation until it succeeds (or fails, or 10 minutes pass).
    async fn delete(&self, t: &Target, verb: &str, id: &str) -> Result<(), ProviderError> {
        let s = &self.sub().id;
        let c = self.client();
        let (call, sent) = match t {
            Target::Vm { rg, name } => (
                "VirtualMachines_Delete",
                c.virtual_machines_client()
                    .delete(rg, name, s)
                    .send()
                    .await
                    .map(|r| r.into_raw_response()),
            ),
            Target::Image { rg, name } => (
                "Images_Delete",
                c.images_client()
                    .delete(rg, name, s)
                    .send()
                    .await
                    .map(|r| r.into_raw_response()),
            ),
            Target::Version {
                rg,
                gallery,
                definition,
                version,
            } => (
                "GalleryImageVersions_Delete",
                c.gallery_image_versions_client()
                    .delete(s, rg, gallery, definition, version)
                    .send()
                    .await
                    .map(|r| r.into_raw_response()),
            ),
            Target::ScaleSetVm { rg, set, instance } => (
                "VirtualMachineScaleSetVMs_Delete",
                c.virtual_machine_scale_set_v_ms_client()
                    .delete(rg, set, instance, s)
                    .send()
                    .await
                    .map(|r| r.into_raw_response()),
            ),
        };
        let rsp = sent.map_err(|e| self.fail(&e, call, id))?;
        self.finish(rsp, verb, call, id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_that_ends_at_providers_is_no_target() {
        // (a hand-edited plan's builder_vm reached a slice past the end)
        for id in [
            "/subscriptions/s/resourceGroups/rg/providers",
            "/subscriptions/s/resourceGroups/rg/providers/",
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute",
            "/providers",
            "",
        ] {
            assert_eq!(target(id), None, "{id}");
        }
    }

    #[test]
    fn resource_ids_name_their_kind() {
        let base = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute";
        assert_eq!(
            target(&format!("{base}/virtualMachines/web-001")),
            Some(Target::Vm {
                rg: "rg".into(),
                name: "web-001".into()
            })
        );
        assert_eq!(
            target(&format!("{base}/galleries/g/images/web/versions/1.0.0")),
            Some(Target::Version {
                rg: "rg".into(),
                gallery: "g".into(),
                definition: "web".into(),
                version: "1.0.0".into()
            })
        );
        assert!(matches!(
            target(&format!("{base}/images/img")),
            Some(Target::Image { .. })
        ));
        assert_eq!(target("ami-0abc"), None);
        assert_eq!(
            target(&format!(
                "{base}/virtualMachineScaleSets/s/virtualMachines/0"
            )),
            Some(Target::ScaleSetVm {
                rg: "rg".into(),
                set: "s".into(),
                instance: "0".into()
            })
        );
    }
}
