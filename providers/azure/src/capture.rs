//! A new gallery image version captured from a VM (a plan's rebuild from a builder VM): the
//! definition is the `drydock:family` tag's, in the first gallery of the subscription that
//! holds it; the version is `drydock:version` (else the image name); the tags carry the
//! provenance. The version name makes a repeated call change nothing new.

use crate::ops::{target, Target};
use crate::provider::AzureProvider;
use azure_mgmt_compute::package_2024_07_01::models;
use drydock_api::{OperationOutcome, ProviderError, ProviderErrorKind, Tags};
use futures_util::StreamExt;
use serde_json::json;

fn rejected(id: &str, msg: &str, hint: &str) -> ProviderError {
    ProviderError::new(ProviderErrorKind::Rejected, "create image", id, msg, hint)
}

impl AzureProvider {
    pub(crate) async fn capture(
        &self,
        source_vm: &str,
        name: &str,
        tags: &Tags,
        dry_run: bool,
    ) -> Result<OperationOutcome, ProviderError> {
        let Some(Target::Vm { rg, name: vm }) = target(source_vm) else {
            return Err(rejected(
                source_vm,
                "not a VM id",
                "pass the builder VM's ARM id",
            ));
        };
        let family = tags.get("drydock:family").ok_or_else(|| {
            rejected(
                source_vm,
                "no drydock:family tag",
                "the family names the gallery image definition",
            )
        })?;
        let version = tags.get("drydock:version").unwrap_or(name);
        let s = self.sub().id.clone();
        let source = self
            .client()
            .virtual_machines_client()
            .get(&rg, &vm, &s)
            .await
            .map_err(|e| self.map_err(&e, "VirtualMachines_Get", source_vm))?;
        // The first gallery that holds the family's definition.
        let mut galleries = self.client().galleries_client().list(&s).into_stream();
        let mut home = None;
        'find: while let Some(page) = galleries.next().await {
            let page = page.map_err(|e| self.map_err(&e, "Galleries_List", &s))?;
            for g in page.value {
                let Some(gid) = g.resource.id.clone() else {
                    continue;
                };
                let parts: Vec<&str> = gid.split('/').collect();
                let (Some(grg), Some(gname)) = (
                    parts
                        .iter()
                        .position(|p| p.eq_ignore_ascii_case("resourceGroups"))
                        .and_then(|i| parts.get(i + 1)),
                    parts.last(),
                ) else {
                    continue;
                };
                let def = self
                    .client()
                    .gallery_images_client()
                    .get(&s, *grg, *gname, family)
                    .await;
                if def.is_ok() {
                    home = Some((grg.to_string(), gname.to_string()));
                    break 'find;
                }
            }
        }
        let (grg, gallery) = home.ok_or_else(|| {
            rejected(
                source_vm,
                &format!(
                    "no gallery of {} has an image definition `{family}`",
                    self.sub().name
                ),
                "create the definition in a gallery first",
            )
        })?;
        if dry_run {
            return Ok(OperationOutcome::WouldSucceed);
        }
        let location = source.resource.location.clone();
        let body = json!({
            "location": location,
            "tags": tags,
            "properties": {
                "storageProfile": {"source": {"virtualMachineId": source_vm}},
                "publishingProfile": {"targetRegions": [{"name": location}]},
            },
        });
        let model: models::GalleryImageVersion = serde_json::from_value(body)
            .map_err(|e| rejected(source_vm, &format!("cannot build the version: {e}"), ""))?;
        let made = self
            .client()
            .gallery_image_versions_client()
            .create_or_update(&s, &grg, &gallery, family, version, model)
            .await
            .map_err(|e| self.map_err(&e, "GalleryImageVersions_CreateOrUpdate", version))?;
        Ok(OperationOutcome::Done {
            created: made.resource.id,
        })
    }
}
