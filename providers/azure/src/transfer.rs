//! Moving a gallery image's disk through managed-disk upload and download. Upload: a disk
//! with `createOption: Upload` and the exact fixed-VHD size, a write grant, Put Page for
//! data only, the footer, the grant ended, then a gallery image version from the disk (the
//! upload disk is deleted once the gallery holds the version). Download: a temporary disk
//! made from the version, a read grant, Get Page Ranges and ranged reads, then the grant
//! ended and the disk deleted. Everything made is tagged `drydock:transfer = TOKEN`.

use crate::arm::{DISKS_API, GALLERY_API};
use crate::blob::{PageBlob, MAX_PAGE_WRITE};
use crate::provider::AzureProvider;
use async_trait::async_trait;
use drydock_api::transfer::{
    CloudDisk, CloudUpload, DiskLayout, ImageSettings, ImageTransfer, SourceImage, UploadRequest,
};
use drydock_api::{ProviderError, ProviderErrorKind};
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

impl AzureProvider {
    fn subpath(&self) -> String {
        format!("/subscriptions/{}", self.sub().id)
    }

    /// The resource group of gallery `name` (the first of that name in the subscription).
    async fn gallery_group(&self, name: &str) -> Result<String, ProviderError> {
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

    fn definition_path(&self, rg: &str, g: &str, d: &str) -> String {
        format!(
            "{}/resourceGroups/{rg}/providers/Microsoft.Compute/galleries/{g}/images/{d}",
            self.subpath()
        )
    }

    fn disk_path(&self, rg: &str, name: &str) -> String {
        format!(
            "{}/resourceGroups/{rg}/providers/Microsoft.Compute/disks/{name}",
            self.subpath()
        )
    }

    /// The gallery version an image names (the latest without a version): its ARM object
    /// and the definition's.
    async fn version_of(&self, image: &str) -> Result<(String, Value, Value), ProviderError> {
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

    async fn end_access(&self, disk: &str) -> Result<(), ProviderError> {
        self.arm_action(
            &format!("{disk}/endGetAccess"),
            DISKS_API,
            &json!({}),
            "Disks_RevokeAccess",
        )
        .await
        .map(|_| ())
    }

    async fn grant(&self, disk: &str, access: &str) -> Result<String, ProviderError> {
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
    async fn drop_disk(&self, disk: &str) -> Result<(), ProviderError> {
        let _ = self.end_access(disk).await;
        self.arm_delete(disk, DISKS_API, "Disks_Delete").await
    }
}

fn settings_of(def: &Value) -> ImageSettings {
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

/// A temporary disk made from a gallery version, read through a SAS.
struct AzureDisk {
    provider: Arc<AzureProvider>,
    disk: String,
    blob: PageBlob,
    layout: DiskLayout,
    image: SourceImage,
}

#[async_trait]
impl CloudDisk for AzureDisk {
    fn layout(&self) -> &DiskLayout {
        &self.layout
    }

    fn image(&self) -> &SourceImage {
        &self.image
    }

    async fn read(&self, offset: u64, len: u64) -> Result<Vec<u8>, ProviderError> {
        self.blob.read(offset, len).await
    }

    async fn close(&self) -> Result<(), ProviderError> {
        self.provider.drop_disk(&self.disk).await
    }
}

/// A disk being uploaded, then published as a gallery version.
struct AzureUpload {
    provider: Arc<AzureProvider>,
    disk: String,
    blob: PageBlob,
    req: UploadRequest,
    version_path: String,
}

#[async_trait]
impl CloudUpload for AzureUpload {
    fn block(&self) -> u64 {
        MAX_PAGE_WRITE
    }

    fn sparse_blocks(&self) -> bool {
        true
    }

    fn disk_size(&self) -> u64 {
        self.req.size
    }

    fn resource(&self) -> String {
        self.disk.clone()
    }

    async fn put(&self, offset: u64, data: Vec<u8>) -> Result<(), ProviderError> {
        self.blob.put_page(offset, &data).await
    }

    async fn complete(
        &self,
        _blocks: u64,
        tags: &BTreeMap<String, String>,
    ) -> Result<String, ProviderError> {
        if !self.req.footer.is_empty() {
            self.blob.put_page(self.req.size, &self.req.footer).await?;
        }
        self.provider.end_access(&self.disk).await?;
        let body = json!({
            "location": self.req.place,
            "tags": tags,
            "properties": {
                "storageProfile": {"osDiskImage": {"source": {"id": self.disk}, "hostCaching": "ReadOnly"}},
                "publishingProfile": {"targetRegions": [{"name": self.req.place}]},
            },
        });
        let made = self
            .provider
            .arm_put(
                &self.version_path,
                GALLERY_API,
                &body,
                "GalleryImageVersions_CreateOrUpdate",
            )
            .await?;
        // The gallery holds its own copy: the upload disk is no longer needed.
        self.provider.drop_disk(&self.disk).await?;
        Ok(made["id"]
            .as_str()
            .unwrap_or(&self.version_path)
            .to_string())
    }

    async fn abort(&self) -> Result<(), ProviderError> {
        self.provider.drop_disk(&self.disk).await
    }
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
