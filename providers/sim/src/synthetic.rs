//! The simulated cloud's disks themselves: every image's synthetic 8 GiB disk (an MBR
//! partition table and a few extents of data derived from the image id, the rest
//! unallocated), read within its layout, and an upload that counts its blocks and
//! registers the image in the cloud's state when it completes.

use crate::cloud::{change_state, not_found, State};
use async_trait::async_trait;
use drydock_api::transfer::{CloudDisk, CloudUpload, DiskLayout, SourceImage, UploadRequest};
use drydock_api::{Cloud, Image, ImageState, ProviderError, ProviderErrorKind, Tags};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

pub(crate) const MIB: u64 = 1 << 20;
pub(crate) const GIB: u64 = 1 << 30;
/// Every simulated image's disk.
pub const DISK_SIZE: u64 = 8 * GIB;
/// The extents that hold data: the partition table and boot area, three stretches of a
/// filesystem, and the end of the disk (a backup superblock): 13 MiB in all.
pub(crate) const EXTENTS: [(u64, u64); 5] = [
    (0, 2 * MIB),
    (GIB, 4 * MIB),
    (3 * GIB, 4 * MIB),
    (5 * GIB + 512 * 1024, 2 * MIB),
    (DISK_SIZE - MIB, MIB),
];

pub(crate) fn rejected(call: &str, resource: &str, why: String, what_to_do: &str) -> ProviderError {
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

pub(crate) fn seed_of(id: &str) -> u64 {
    id.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// An image's disk, opened.
pub(crate) struct SimDisk {
    pub(crate) layout: DiskLayout,
    pub(crate) image: SourceImage,
    pub(crate) seed: u64,
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
pub(crate) struct SimUpload {
    pub(crate) state: Arc<Mutex<State>>,
    pub(crate) backing: Option<std::sync::Arc<dyn crate::state::StateStore>>,
    pub(crate) cloud: Cloud,
    pub(crate) account: String,
    pub(crate) req: UploadRequest,
    /// The image's id once registered (AMI id or ARM id).
    pub(crate) image_id: String,
    /// What holds the blocks meanwhile (`snap-…` or a disk name).
    pub(crate) resource: String,
    pub(crate) puts: AtomicU64,
    pub(crate) aborted: AtomicU64,
}

#[async_trait]
impl CloudUpload for SimUpload {
    fn block(&self) -> u64 {
        match self.cloud {
            Cloud::Aws => 512 * 1024,
            Cloud::Azure | Cloud::OpenStack => 4 * MIB,
        }
    }

    fn sparse_blocks(&self) -> bool {
        self.cloud == Cloud::Azure
    }

    fn disk_size(&self) -> u64 {
        match self.cloud {
            Cloud::Aws => self.req.size.div_ceil(GIB).saturating_mul(GIB),
            Cloud::Azure | Cloud::OpenStack => self.req.size.saturating_add(512),
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
        let mut all: Tags = self.req.tags.clone().into();
        all.extend(tags.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let backing = self.backing.clone();
        change_state(&self.state, backing.as_deref(), &mut |st| {
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
                tags: all.clone(),
            };
            st.inventory.images.retain(|i| i.id != image.id);
            st.inventory.images.push(image);
            st.tokens
                .insert(self.req.token.clone(), self.image_id.clone());
            Ok(())
        })?;
        Ok(self.image_id.clone())
    }

    async fn abort(&self) -> Result<(), ProviderError> {
        self.aborted.fetch_add(1, Ordering::Relaxed);
        Ok(())
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
