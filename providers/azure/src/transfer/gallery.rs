//! Finding what a transfer reads and writes in a subscription: a gallery's resource group,
//! an image definition, the version an image names (the latest without one), and the access
//! grants and deletion of the disks a transfer makes.

use super::{parts, rejected};
use crate::arm::{DISKS_API, GALLERY_API};
use crate::provider::AzureProvider;
use drydock_api::transfer::ImageSettings;
use drydock_api::{ProviderError, ProviderErrorKind};
use serde_json::{json, Value};

impl AzureProvider {
    pub(super) fn subpath(&self) -> String {
        format!("/subscriptions/{}", self.sub().id)
    }

    /// The resource group of gallery `name` (the first of that name in the subscription).
    pub(super) async fn gallery_group(&self, name: &str) -> Result<String, ProviderError> {
        let mut url = format!("{}/providers/Microsoft.Compute/galleries", self.subpath());
        loop {
            let page = self
                .arm(
                    azure_core::Method::Get,
                    &url,
                    GALLERY_API,
                    None,
                    "Galleries_List",
                )
                .await?
                .body;
            for g in page["value"].as_array().into_iter().flatten() {
                let id = g["id"].as_str().unwrap_or_default();
                if g["name"]
                    .as_str()
                    .is_some_and(|n| n.eq_ignore_ascii_case(name))
                {
                    let p: Vec<&str> = id.split('/').collect();
                    if let Some(i) = p
                        .iter()
                        .position(|s| s.eq_ignore_ascii_case("resourceGroups"))
                    {
                        return Ok(p.get(i + 1).unwrap_or(&"").to_string());
                    }
                }
            }
            match page["nextLink"].as_str() {
                Some(next) => url = next.to_string(),
                None => break,
            }
        }
        Err(ProviderError::new(
            ProviderErrorKind::NotFound,
            "Galleries_List",
            format!("gallery {name} ({})", self.sub().name),
            format!("no gallery named {name} in the subscription"),
            "check the gallery name, or create it first",
        ))
    }

    pub(super) fn definition_path(&self, rg: &str, g: &str, d: &str) -> String {
        format!(
            "{}/resourceGroups/{rg}/providers/Microsoft.Compute/galleries/{g}/images/{d}",
            self.subpath()
        )
    }

    pub(super) fn disk_path(&self, rg: &str, name: &str) -> String {
        format!(
            "{}/resourceGroups/{rg}/providers/Microsoft.Compute/disks/{name}",
            self.subpath()
        )
    }

    /// The gallery version an image names (the latest without a version): its ARM object
    /// and the definition's.
    pub(super) async fn version_of(
        &self,
        image: &str,
    ) -> Result<(String, Value, Value), ProviderError> {
        let (g, d, v) = parts(image);
        let rg = self.gallery_group(&g).await?;
        let def_path = self.definition_path(&rg, &g, &d);
        let def = self
            .arm_get(&def_path, GALLERY_API, "GalleryImages_Get")
            .await?
            .ok_or_else(|| {
                ProviderError::new(
                    ProviderErrorKind::NotFound,
                    "GalleryImages_Get",
                    format!("{g}/{d}"),
                    format!("gallery {g} has no image definition {d}"),
                    "check the definition name",
                )
            })?;
        let version = match v {
            Some(v) => self
                .arm_get(
                    &format!("{def_path}/versions/{v}"),
                    GALLERY_API,
                    "GalleryImageVersions_Get",
                )
                .await?
                .ok_or_else(|| {
                    ProviderError::new(
                        ProviderErrorKind::NotFound,
                        "GalleryImageVersions_Get",
                        image,
                        format!("{g}/{d} has no version {v}"),
                        "leave the version out to take the latest",
                    )
                })?,
            None => {
                let list = self
                    .arm(
                        azure_core::Method::Get,
                        &format!("{def_path}/versions"),
                        GALLERY_API,
                        None,
                        "GalleryImageVersions_ListByGalleryImage",
                    )
                    .await?
                    .body;
                list["value"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|v| {
                        v["properties"]["publishingProfile"]["excludeFromLatest"].as_bool()
                            != Some(true)
                    })
                    .max_by_key(|v| {
                        v["properties"]["publishingProfile"]["publishedDate"]
                            .as_str()
                            .unwrap_or_default()
                            .to_string()
                    })
                    .cloned()
                    .ok_or_else(|| {
                        rejected(
                            "GalleryImageVersions_ListByGalleryImage",
                            image,
                            format!("{g}/{d} has no version to read"),
                            "publish a version first",
                        )
                    })?
            }
        };
        Ok((rg, version, def))
    }

    pub(super) async fn end_access(&self, disk: &str) -> Result<(), ProviderError> {
        self.arm_action(
            &format!("{disk}/endGetAccess"),
            DISKS_API,
            &json!({}),
            "Disks_RevokeAccess",
        )
        .await
        .map(|_| ())
    }

    pub(super) async fn grant(&self, disk: &str, access: &str) -> Result<String, ProviderError> {
        let out = self
            .arm_action(
                &format!("{disk}/beginGetAccess"),
                DISKS_API,
                &json!({"access": access, "durationInSeconds": 86400}),
                "Disks_GrantAccess",
            )
            .await?;
        out["accessSAS"].as_str().map(String::from).ok_or_else(|| {
            rejected(
                "Disks_GrantAccess",
                disk,
                "the answer holds no accessSAS".into(),
                "",
            )
        })
    }

    /// Revoke any grant and delete a disk drydock made.
    pub(super) async fn drop_disk(&self, disk: &str) -> Result<(), ProviderError> {
        let _ = self.end_access(disk).await;
        self.arm_delete(disk, DISKS_API, "Disks_Delete").await
    }
}

pub(super) fn settings_of(def: &Value) -> ImageSettings {
    let p = &def["properties"];
    ImageSettings {
        architecture: match p["architecture"].as_str() {
            Some("Arm64") => "arm64".into(),
            _ => "x86_64".into(),
        },
        boot_mode: match p["hyperVGeneration"].as_str() {
            Some("V1") => "legacy-bios".into(),
            _ => "uefi".into(),
        },
        ena: true,
        root_device: String::new(),
        os_type: p["osType"].as_str().unwrap_or("Linux").to_ascii_lowercase(),
    }
}
