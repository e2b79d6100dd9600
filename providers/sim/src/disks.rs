//! `drydock transfer` on the simulated clouds, without a cloud account: which image a side
//! names, what an upload would create (and what it may not: a name or version taken, a
//! place the cloud does not have), and the disks of `synthetic` behind them. Nothing is
//! stored but the new image record.

use crate::cloud::{not_found, SimCloud};
use crate::ids;
use crate::synthetic::{rejected, seed_of, SimDisk, SimUpload, DISK_SIZE, EXTENTS, GIB, MIB};
use async_trait::async_trait;
use drydock_api::transfer::{
    CloudDisk, CloudUpload, DiskLayout, ImageSettings, ImageTransfer, SourceImage, UploadRequest,
};
use drydock_api::{Cloud, Image, ImageState, Provider, ProviderError};
use std::sync::atomic::AtomicU64;

impl SimCloud {
    /// The image `image` names in `place`: an AMI id; on Azure a full id,
    /// `gallery/definition[/version]` (without a version the newest available) or a name.
    fn find_image(&self, place: &str, image: &str) -> Result<Image, ProviderError> {
        let st = self.current()?;
        let here = st
            .inventory
            .images
            .iter()
            .filter(|i| i.region == place && i.state != ImageState::Deregistered);
        let found = if self.cloud() == Cloud::Azure && !image.starts_with('/') {
            let parts: Vec<&str> = image.split('/').collect();
            let by_gallery = |i: &&Image| match parts.as_slice() {
                [g, d] => {
                    i.id.contains(&format!("/galleries/{g}/images/{d}/versions/"))
                }
                [g, d, v] => {
                    i.id.ends_with(&format!("/galleries/{g}/images/{d}/versions/{v}"))
                }
                _ => i.name == image,
            };
            here.filter(by_gallery)
                .filter(|i| parts.len() != 2 || i.state == ImageState::Available)
                .max_by_key(|i| i.created)
        } else {
            here.filter(|i| i.id == image).max_by_key(|i| i.created)
        };
        found.cloned().ok_or_else(|| {
            let mut e = not_found(
                "describe image",
                &format!("{}/{place}/{image}", self.name()),
            );
            e.hint = format!(
                "`drydock report --demo` lists the images of {} (`--where 'cloud=…'`)",
                self.name()
            );
            e
        })
    }

    /// The account a new image in `place` belongs to: the one already holding images or VMs
    /// there.
    fn account_in(&self, place: &str) -> Option<String> {
        let st = self.lock();
        let inv = &st.inventory;
        inv.images
            .iter()
            .filter(|i| i.region == place && !i.vendor)
            .map(|i| i.account.clone())
            .chain(
                inv.vms
                    .iter()
                    .filter(|v| v.region == place)
                    .map(|v| v.account.to_string()),
            )
            .next()
    }

    fn places(&self) -> Vec<String> {
        let st = self.lock();
        let mut p: Vec<String> = st
            .inventory
            .vms
            .iter()
            .map(|v| v.region.to_string())
            .collect();
        p.sort();
        p.dedup();
        p
    }

    /// The id the uploaded image will have, and whether one with it exists.
    fn new_image_id(&self, req: &UploadRequest, account: &str) -> Result<String, ProviderError> {
        let what = format!("{}/{}/{}", self.name(), req.place, req.name);
        let st = self.current()?;
        let taken = |f: &dyn Fn(&Image) -> bool| {
            st.inventory
                .images
                .iter()
                .find(|i| i.region == req.place && i.state != ImageState::Deregistered && f(i))
                .map(|i| i.id.clone())
        };
        match self.cloud() {
            Cloud::Aws => {
                if let Some(id) = taken(&|i| i.name == req.name && !i.vendor) {
                    return Err(rejected(
                        "RegisterImage",
                        &what,
                        format!("an image named {} already exists ({id})", req.name),
                        "pass another --version or --name",
                    ));
                }
                Ok(ids::aws(
                    "ami",
                    &[account, &req.place, &req.name, &req.token],
                ))
            }
            Cloud::Azure | Cloud::OpenStack => {
                let parts: Vec<&str> = req.target.split('/').collect();
                let id = match parts.as_slice() {
                    [g, d, v] => format!(
                        "/subscriptions/{account}/resourceGroups/rg-images/providers/Microsoft.Compute/galleries/{g}/images/{d}/versions/{v}"
                    ),
                    _ => {
                        return Err(rejected(
                            "transfer",
                            &what,
                            "an Azure destination names a gallery and a definition".into(),
                            "write azure:CONTEXT/LOCATION/gallery/definition[/version]",
                        ))
                    }
                };
                if taken(&|i| i.id == id).is_some() {
                    return Err(rejected(
                        "GalleryImageVersions_CreateOrUpdate",
                        &what,
                        format!(
                            "version {} of {}/{} already exists",
                            parts[2], parts[0], parts[1]
                        ),
                        "pass another --version",
                    ));
                }
                Ok(id)
            }
        }
    }

    fn upload_account(&self, req: &UploadRequest) -> Result<String, ProviderError> {
        self.account_in(&req.place).ok_or_else(|| {
            rejected(
                "transfer",
                &format!("{}/{}", self.name(), req.place),
                format!(
                    "the simulated cloud has no {} {}",
                    if self.cloud() == Cloud::Aws {
                        "region"
                    } else {
                        "location"
                    },
                    req.place
                ),
                &format!("use one of: {}", self.places().join(", ")),
            )
        })
    }
}

fn settings_of(image: &Image) -> ImageSettings {
    let lower = image.name.to_ascii_lowercase();
    let arch = image
        .tags
        .get("arch")
        .or_else(|| image.tags.get("architecture"))
        .map(String::from)
        .unwrap_or_else(|| {
            if lower.contains("arm64") || lower.contains("aarch64") {
                "arm64".into()
            } else {
                "x86_64".into()
            }
        });
    ImageSettings {
        architecture: arch,
        boot_mode: String::new(),
        ena: image.cloud == Cloud::Aws,
        root_device: if image.cloud == Cloud::Aws {
            "/dev/xvda".into()
        } else {
            String::new()
        },
        os_type: if lower.contains("windows") {
            "windows"
        } else {
            "linux"
        }
        .into(),
    }
}

#[async_trait]
impl ImageTransfer for SimCloud {
    async fn describe(&self, place: &str, image: &str) -> Result<SourceImage, ProviderError> {
        self.pause().await;
        let img = self.find_image(place, image)?;
        let tail = if self.cloud() == Cloud::Azure {
            match img.id.split_once("/galleries/") {
                Some((_, rest)) => rest.replace("/images/", "/").replace("/versions/", "/"),
                None => img.name.clone(),
            }
        } else {
            img.id.clone()
        };
        Ok(SourceImage {
            name: format!("{}:{}/{place}/{tail}", self.cloud().as_str(), self.name()),
            size: DISK_SIZE,
            settings: settings_of(&img),
            tags: img.tags.to_map(),
        })
    }

    fn needs_vhd_footer(&self) -> bool {
        self.cloud() == Cloud::Azure
    }

    async fn open(
        &self,
        place: &str,
        image: &str,
        _token: &str,
    ) -> Result<Box<dyn CloudDisk>, ProviderError> {
        let img = self.find_image(place, image)?;
        let described = self.describe(place, image).await?;
        Ok(Box::new(SimDisk {
            layout: DiskLayout {
                size: DISK_SIZE,
                allocated: EXTENTS.to_vec(),
                block: 512 * 1024,
            },
            image: described,
            seed: seed_of(&img.id),
        }))
    }

    async fn plan_upload(&self, req: &UploadRequest) -> Result<Vec<String>, ProviderError> {
        self.pause().await;
        let account = self.upload_account(req)?;
        let id = self.new_image_id(req, &account)?;
        let where_ = format!("{}/{} (simulated)", self.name(), req.place);
        Ok(match self.cloud() {
            Cloud::Aws => vec![
                format!(
                    "create snapshot of {} GiB in {where_} (StartSnapshot, PutSnapshotBlock for blocks with data, CompleteSnapshot)",
                    req.size.div_ceil(GIB)
                ),
                format!(
                    "register image {} ({}) on it",
                    req.name,
                    if req.settings.architecture.is_empty() { "x86_64" } else { &req.settings.architecture }
                ),
            ],
            Cloud::Azure | Cloud::OpenStack => vec![
                format!("create an upload disk of {} MiB in {where_} and write the blocks with data", req.size.div_ceil(MIB)),
                format!("create gallery image version {id} from it, then delete the disk"),
            ],
        })
    }

    async fn start_upload(
        &self,
        req: &UploadRequest,
    ) -> Result<Box<dyn CloudUpload>, ProviderError> {
        self.pause().await;
        let account = self.upload_account(req)?;
        let image_id = self.new_image_id(req, &account)?;
        let resource = match self.cloud() {
            Cloud::Aws => ids::aws("snap", &[&account, &req.place, &req.token]),
            Cloud::Azure | Cloud::OpenStack => format!("drydock-upload-{}", req.token),
        };
        Ok(Box::new(SimUpload {
            state: self.state.clone(),
            backing: self.backing.clone(),
            cloud: self.cloud(),
            account,
            req: req.clone(),
            image_id,
            resource,
            puts: AtomicU64::new(0),
            aborted: AtomicU64::new(0),
        }))
    }

    async fn remove_leftovers(
        &self,
        _place: &str,
        _token: &str,
    ) -> Result<Vec<String>, ProviderError> {
        // An upload keeps nothing until it completes: nothing is ever left behind.
        Ok(Vec::new())
    }
}
