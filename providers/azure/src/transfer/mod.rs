//! Moving a gallery image's disk through managed-disk upload and download. Upload: a disk
//! with `createOption: Upload` and the exact fixed-VHD size, a write grant, Put Page for
//! data only, the footer, the grant ended, then a gallery image version from the disk (the
//! upload disk is deleted once the gallery holds the version). Download: a temporary disk
//! made from the version, a read grant, Get Page Ranges and ranged reads, then the grant
//! ended and the disk deleted. Everything made is tagged `drydock:transfer = TOKEN`.

mod disk;
mod gallery;

use crate::arm::{DISKS_API, GALLERY_API};
use crate::blob::{PageBlob, MAX_PAGE_WRITE};
use crate::provider::AzureProvider;
use async_trait::async_trait;
use disk::{AzureDisk, AzureUpload};
use drydock_api::transfer::{
    CloudDisk, CloudUpload, DiskLayout, ImageTransfer, SourceImage, UploadRequest,
};
use drydock_api::{ProviderError, ProviderErrorKind};
use gallery::settings_of;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;
/// The largest managed disk an upload makes (32 TiB).
const MAX_BYTES: u64 = 32 * 1024 * GIB;
pub const TAG_TRANSFER: &str = "drydock:transfer";

fn rejected(call: &str, what: &str, msg: String, hint: &str) -> ProviderError {
    ProviderError::new(ProviderErrorKind::Rejected, call, what, msg, hint)
}

/// `gallery/definition[/version]` split.
fn parts(image: &str) -> (String, String, Option<String>) {
    let mut it = image.split('/');
    let g = it.next().unwrap_or_default().to_string();
    let d = it.next().unwrap_or_default().to_string();
    (g, d, it.next().map(String::from))
}

fn tags_of(v: &Value) -> BTreeMap<String, String> {
    v["tags"]
        .as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

#[async_trait]
impl ImageTransfer for AzureProvider {
    fn needs_vhd_footer(&self) -> bool {
        true
    }

    fn reading_creates(&self) -> Option<&'static str> {
        Some("a temporary managed disk made from the image version (deleted after the read)")
    }

    async fn describe(&self, place: &str, image: &str) -> Result<SourceImage, ProviderError> {
        let p = self;
        let (_, version, def) = p.version_of(image).await?;
        let gb = version["properties"]["storageProfile"]["osDiskImage"]["sizeInGB"]
            .as_u64()
            .unwrap_or(0);
        let vname = version["name"].as_str().unwrap_or_default();
        let (g, d, _) = parts(image);
        Ok(SourceImage {
            name: format!("azure:{}/{place}/{g}/{d}/{vname}", p.sub().name),
            size: gb * GIB,
            tags: tags_of(&version),
            settings: settings_of(&def),
        })
    }

    async fn open(
        &self,
        place: &str,
        image: &str,
        token: &str,
    ) -> Result<Box<dyn CloudDisk>, ProviderError> {
        let p = self;
        let mut described = self.describe(place, image).await?;
        let (rg, version, _) = p.version_of(image).await?;
        let disk = p.disk_path(&rg, &format!("drydock-read-{token}"));
        let body = json!({
            "location": place,
            "tags": {TAG_TRANSFER: token},
            "sku": {"name": "Standard_LRS"},
            "properties": {"creationData": {
                "createOption": "FromImage",
                "galleryImageReference": {"id": version["id"]},
            }},
        });
        p.arm_put(&disk, DISKS_API, &body, "Disks_CreateOrUpdate")
            .await?;
        let opened = async {
            let blob = PageBlob::new(&p.grant(&disk, "Read").await?, &disk)?;
            let total = blob.size().await?;
            if total < 512 || total % 512 != 0 {
                return Err(rejected(
                    "Get Blob Properties",
                    &disk,
                    format!("a {total}-byte blob is not a fixed VHD"),
                    "",
                ));
            }
            let size = total - 512;
            let footer = blob.read(size, 512).await?;
            if !footer.starts_with(b"conectix") {
                return Err(rejected(
                    "Get Blob",
                    &disk,
                    format!("no VHD footer at offset {size}"),
                    "the disk is not a fixed VHD",
                ));
            }
            let allocated: Vec<(u64, u64)> = blob
                .page_ranges()
                .await?
                .into_iter()
                .filter(|&(s, _)| s < size)
                .map(|(s, l)| (s, l.min(size - s)))
                .collect();
            Ok((blob, size, allocated))
        }
        .await;
        let (blob, size, allocated) = match opened {
            Ok(v) => v,
            Err(e) => {
                let _ = p.drop_disk(&disk).await;
                return Err(e);
            }
        };
        described.size = size;
        Ok(Box::new(AzureDisk {
            provider: Arc::new(p.clone()),
            disk,
            blob,
            layout: DiskLayout {
                size,
                allocated,
                block: MAX_PAGE_WRITE,
            },
            image: described,
        }))
    }

    async fn plan_upload(&self, req: &UploadRequest) -> Result<Vec<String>, ProviderError> {
        let p = self;
        let what = format!("azure:{}/{}/{}", p.sub().name, req.place, req.target);
        let (g, d, v) = parts(&req.target);
        let Some(v) = v.filter(|_| !g.is_empty() && !d.is_empty()) else {
            return Err(rejected(
                "transfer",
                &what,
                "an Azure destination names a gallery and a definition".into(),
                "write azure:CONTEXT/LOCATION/gallery/definition[/version]",
            ));
        };
        if !req.size.is_multiple_of(MIB) {
            return Err(rejected(
                "Disks_CreateOrUpdate",
                &what,
                format!("the disk's virtual size, {} bytes, is not a whole number of MiB; Azure cannot boot it", req.size),
                &format!("resize the disk to {} MiB first (qemu-img resize)", req.size.div_ceil(MIB)),
            ));
        }
        if req.size > MAX_BYTES {
            return Err(rejected(
                "Disks_CreateOrUpdate",
                &what,
                format!(
                    "the disk is {} GiB; an uploaded managed disk holds at most 32 TiB",
                    req.size / GIB
                ),
                "shrink the disk first",
            ));
        }
        let rg = p.gallery_group(&g).await?;
        let def_path = p.definition_path(&rg, &g, &d);
        if p.arm_get(&def_path, GALLERY_API, "GalleryImages_Get")
            .await?
            .is_none()
        {
            return Err(rejected(
                "GalleryImages_Get",
                &what,
                format!("gallery {g} has no image definition {d}"),
                "create the definition first (its OS type, generation and identifier are the image's)",
            ));
        }
        if p.arm_get(
            &format!("{def_path}/versions/{v}"),
            GALLERY_API,
            "GalleryImageVersions_Get",
        )
        .await?
        .is_some()
        {
            return Err(rejected(
                "GalleryImageVersions_CreateOrUpdate",
                &what,
                format!("{g}/{d} already has version {v}"),
                "pass another --version",
            ));
        }
        Ok(vec![
            format!(
                "create managed disk drydock-upload-… in {rg}/{} for upload: {} MiB + the 512-byte VHD footer",
                req.place,
                req.size / MIB
            ),
            "write the pages that hold data (Put Page, at most 4 MiB each, MD5-checked), then the footer".into(),
            format!("publish gallery image version {g}/{d}/{v} from it, then delete the upload disk"),
        ])
    }

    async fn start_upload(
        &self,
        req: &UploadRequest,
    ) -> Result<Box<dyn CloudUpload>, ProviderError> {
        let p = self;
        let (g, d, v) = parts(&req.target);
        let rg = p.gallery_group(&g).await?;
        let disk = p.disk_path(&rg, &format!("drydock-upload-{}", req.token));
        let mut tags = req.tags.clone();
        tags.insert(TAG_TRANSFER.into(), req.token.clone());
        let body = json!({
            "location": req.place,
            "tags": tags,
            "sku": {"name": "Standard_LRS"},
            "properties": {
                "osType": if req.settings.os_type == "windows" { "Windows" } else { "Linux" },
                "hyperVGeneration": if req.settings.boot_mode == "legacy-bios" { "V1" } else { "V2" },
                "creationData": {"createOption": "Upload", "uploadSizeBytes": req.size + req.footer.len() as u64},
            },
        });
        p.arm_put(&disk, DISKS_API, &body, "Disks_CreateOrUpdate")
            .await?;
        let blob = match p
            .grant(&disk, "Write")
            .await
            .and_then(|sas| PageBlob::new(&sas, &disk))
        {
            Ok(b) => b,
            Err(e) => {
                let _ = p.drop_disk(&disk).await;
                return Err(e);
            }
        };
        let version_path = format!(
            "{}/versions/{}",
            p.definition_path(&rg, &g, &d),
            v.unwrap_or_default()
        );
        Ok(Box::new(AzureUpload {
            provider: Arc::new(p.clone()),
            disk,
            blob,
            req: req.clone(),
            version_path,
        }))
    }

    async fn remove_leftovers(
        &self,
        _place: &str,
        token: &str,
    ) -> Result<Vec<String>, ProviderError> {
        let p = self;
        let mut url = format!("{}/providers/Microsoft.Compute/disks", p.subpath());
        let mut removed = Vec::new();
        loop {
            let page = p
                .arm(azure_core::Method::Get, &url, DISKS_API, None, "Disks_List")
                .await?
                .body;
            for disk in page["value"].as_array().into_iter().flatten() {
                if disk["tags"][TAG_TRANSFER].as_str() == Some(token) {
                    let id = disk["id"].as_str().unwrap_or_default().to_string();
                    p.drop_disk(&id).await?;
                    removed.push(format!("disk {id}"));
                }
            }
            match page["nextLink"].as_str() {
                Some(next) => url = next.to_string(),
                None => break,
            }
        }
        Ok(removed)
    }
}
