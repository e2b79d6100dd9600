//! The simulated cloud's disks, so `drydock transfer` works on the demo clouds without a
//! cloud account: every image has a synthetic 8 GiB disk (an MBR partition table and a few
//! extents of data derived from the image id, the rest unallocated), reads of it are checked
//! against its layout, and an upload is counted block by block and registers a new image
//! (tagged like a real one) in the cloud's state when it completes. Nothing is stored but
//! the new image record.

use crate::cloud::{lock, not_found, save, SimCloud, State};
use crate::ids;
use async_trait::async_trait;
use drydock_api::transfer::{
    CloudDisk, CloudUpload, DiskLayout, ImageSettings, ImageTransfer, SourceImage, UploadRequest,
};
use drydock_api::{Cloud, Image, ImageState, Provider, ProviderError, ProviderErrorKind, Tags};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;
/// Every simulated image's disk.
pub const DISK_SIZE: u64 = 8 * GIB;
/// The extents that hold data: the partition table and boot area, three stretches of a
/// filesystem, and the end of the disk (a backup superblock): 13 MiB in all.
const EXTENTS: [(u64, u64); 5] = [
    (0, 2 * MIB),
    (GIB, 4 * MIB),
    (3 * GIB, 4 * MIB),
    (5 * GIB + 512 * 1024, 2 * MIB),
    (DISK_SIZE - MIB, MIB),
];

fn rejected(call: &str, resource: &str, why: String, what_to_do: &str) -> ProviderError {
    ProviderError::new(ProviderErrorKind::Rejected, call, resource, why, what_to_do)
}

/// The synthetic bytes of `image`'s disk at `offset`: sector 0 is an MBR with one Linux
/// partition from 1 MiB to the end; everything else in an extent is pseudo-random data
/// seeded by the image id (incompressible, as real data mostly is).
fn fill(seed: u64, offset: u64, buf: &mut [u8]) {
    let mut word = u64::MAX;
    let mut bytes = [0u8; 8];
    for (i, b) in buf.iter_mut().enumerate() {
        let at = offset + i as u64;
        *b = if at < 512 {
            mbr_byte(at as usize)
        } else {
            if at / 8 != word {
                word = at / 8;
                let mut z = seed ^ word.wrapping_mul(0x9e37_79b9_7f4a_7c15);
                z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
                bytes = (z ^ (z >> 31)).to_le_bytes();
            }
            bytes[(at % 8) as usize]
        };
    }
}

fn mbr_byte(at: usize) -> u8 {
    let start: u32 = 2048;
    let sectors = (DISK_SIZE / 512) as u32 - start;
    match at {
        450 => 0x83,
        454..=457 => start.to_le_bytes()[at - 454],
        458..=461 => sectors.to_le_bytes()[at - 458],
        510 => 0x55,
        511 => 0xaa,
        _ => 0,
    }
}

fn seed_of(id: &str) -> u64 {
    id.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// An image's disk, opened.
struct SimDisk {
    layout: DiskLayout,
    image: SourceImage,
    seed: u64,
}

#[async_trait]
impl CloudDisk for SimDisk {
    fn layout(&self) -> &DiskLayout {
        &self.layout
    }

    fn image(&self) -> &SourceImage {
        &self.image
    }

    async fn read(&self, offset: u64, len: u64) -> Result<Vec<u8>, ProviderError> {
        let inside =
            self.layout.allocated.iter().any(|&(o, l)| {
                offset >= o && offset.checked_add(len).is_some_and(|end| end <= o + l)
            });
        if !inside || len > 64 * MIB {
            return Err(rejected(
                "read simulated disk",
                &self.image.name,
                format!("{len} bytes at {offset} are not inside one extent of data"),
                "read only the ranges the layout lists",
            ));
        }
        let mut buf = vec![0; len as usize];
        fill(self.seed, offset, &mut buf);
        Ok(buf)
    }
}

/// A disk being uploaded: blocks are counted, not kept; completing registers the image.
struct SimUpload {
    state: Arc<Mutex<State>>,
    state_file: Option<PathBuf>,
    cloud: Cloud,
    account: String,
    req: UploadRequest,
    /// The image's id once registered (AMI id or ARM id).
    image_id: String,
    /// What holds the blocks meanwhile (`snap-…` or a disk name).
    resource: String,
    puts: AtomicU64,
    aborted: AtomicU64,
}

#[async_trait]
impl CloudUpload for SimUpload {
    fn block(&self) -> u64 {
        match self.cloud {
            Cloud::Aws => 512 * 1024,
            Cloud::Azure => 4 * MIB,
        }
    }

    fn sparse_blocks(&self) -> bool {
        self.cloud == Cloud::Azure
    }

    fn disk_size(&self) -> u64 {
        match self.cloud {
            Cloud::Aws => self.req.size.div_ceil(GIB).saturating_mul(GIB),
            Cloud::Azure => self.req.size.saturating_add(512),
        }
    }

    fn resource(&self) -> String {
        self.resource.clone()
    }

    async fn put(&self, offset: u64, data: Vec<u8>) -> Result<(), ProviderError> {
        let end = offset.checked_add(data.len() as u64);
        if !offset.is_multiple_of(512) || end.is_none_or(|e| e > self.disk_size()) {
            return Err(rejected(
                "put block",
                &self.resource,
                format!("{} bytes at {offset} do not fit the disk", data.len()),
                "write aligned blocks inside the disk",
            ));
        }
        self.puts.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    async fn complete(
        &self,
        blocks: u64,
        tags: &BTreeMap<String, String>,
    ) -> Result<String, ProviderError> {
        let puts = self.puts.load(Ordering::Relaxed);
        if puts != blocks {
            return Err(rejected(
                "complete upload",
                &self.resource,
                format!("{blocks} blocks were announced, {puts} arrived"),
                "run the transfer again",
            ));
        }
        if self.aborted.load(Ordering::Relaxed) > 0 {
            return Err(not_found("complete upload", &self.resource));
        }
        let mut st = lock(&self.state);
        let mut all: Tags = self.req.tags.clone();
        all.extend(tags.iter().map(|(k, v)| (k.clone(), v.clone())));
        let image = Image {
            id: self.image_id.clone(),
            name: self.req.name.clone(),
            cloud: self.cloud,
            account: self.account.clone(),
            region: self.req.place.clone(),
            created: st.now,
            state: ImageState::Available,
            deprecation_time: None,
            end_of_life: None,
            newer_base: None,
            owner: self.account.clone(),
            vendor: false,
            tags: all,
        };
        st.inventory.images.retain(|i| i.id != image.id);
        st.inventory.images.push(image);
        st.tokens
            .insert(self.req.token.clone(), self.image_id.clone());
        save(self.state_file.as_deref(), &st)?;
        Ok(self.image_id.clone())
    }

    async fn abort(&self) -> Result<(), ProviderError> {
        self.aborted.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

impl SimCloud {
    /// The image `image` names in `place`: an AMI id; on Azure a full id,
    /// `gallery/definition[/version]` (without a version the newest available) or a name.
    fn find_image(&self, place: &str, image: &str) -> Result<Image, ProviderError> {
        let st = self.lock();
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
                    .map(|v| v.account.clone()),
            )
            .next()
    }

    fn places(&self) -> Vec<String> {
        let st = self.lock();
        let mut p: Vec<String> = st.inventory.vms.iter().map(|v| v.region.clone()).collect();
        p.sort();
        p.dedup();
        p
    }

    /// The id the uploaded image will have, and whether one with it exists.
    fn new_image_id(&self, req: &UploadRequest, account: &str) -> Result<String, ProviderError> {
        let what = format!("{}/{}/{}", self.name(), req.place, req.name);
        let st = self.lock();
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
            Cloud::Azure => {
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
        .cloned()
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
            tags: img.tags,
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
            Cloud::Azure => vec![
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
            Cloud::Azure => format!("drydock-upload-{}", req.token),
        };
        Ok(Box::new(SimUpload {
            state: self.state.clone(),
            state_file: self.state_file.clone(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_disk_starts_with_a_partition_table() {
        let mut head = [0u8; 512];
        fill(1, 0, &mut head);
        assert_eq!(&head[510..], &[0x55, 0xaa]);
        assert_eq!(head[450], 0x83);
        assert_eq!(u32::from_le_bytes(head[454..458].try_into().unwrap()), 2048);
        let (mut a, mut b) = ([0u8; 64], [0u8; 64]);
        fill(1, GIB, &mut a);
        fill(2, GIB, &mut b);
        assert_ne!(a, b, "disks differ by image");
        let mut c = [0u8; 32];
        fill(1, GIB + 32, &mut c);
        assert_eq!(&a[32..], &c, "reads are position-stable");
        let total: u64 = EXTENTS.iter().map(|e| e.1).sum();
        assert_eq!(total, 13 * MIB);
        assert!(EXTENTS.windows(2).all(|w| w[0].0 + w[0].1 <= w[1].0));
    }
}
