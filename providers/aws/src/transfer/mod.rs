//! Moving an AMI's root disk through the EBS direct APIs (no S3, no VM Import): what a
//! transfer can read and make in an account (`ImageTransfer`), the snapshots themselves in
//! `snapshot`, and removing what an interrupted transfer left.

mod snapshot;

use crate::provider::AwsProvider;
use async_trait::async_trait;
use aws_sdk_ebs::types::Tag as EbsTag;
use aws_sdk_ec2::types::Filter;
use base64::Engine;
use drydock_api::transfer::{
    CloudDisk, CloudUpload, DiskLayout, ImageSettings, ImageTransfer, SourceImage, UploadRequest,
};
use drydock_api::{ProviderError, ProviderErrorKind};
use sha2::{Digest, Sha256};
use snapshot::{delete_snapshot, SnapshotDisk, SnapshotUpload};
use std::collections::BTreeMap;

/// The EBS direct APIs' block size.
pub const EBS_BLOCK: u64 = 512 * 1024;
pub(crate) const GIB: u64 = 1 << 30;
/// StartSnapshot's largest volume (64 TiB).
const MAX_GIB: u64 = 65536;
/// The tag that names the transfer a snapshot belongs to, until its image is registered.
pub const TAG_TRANSFER: &str = "drydock:transfer";

pub(crate) fn b64_sha256(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(data))
}

pub(crate) fn rejected(call: &str, resource: &str, message: String, hint: &str) -> ProviderError {
    ProviderError::new(ProviderErrorKind::Rejected, call, resource, message, hint)
}

fn gib_for(size: u64) -> u64 {
    size.div_ceil(GIB).max(1)
}

impl AwsProvider {
    /// An AMI's root snapshot and what the destination needs to know of the image; an
    /// encrypted or instance-store root is refused here, before anything is read.
    async fn root_snapshot(
        &self,
        place: &str,
        image: &str,
    ) -> Result<(String, SourceImage), ProviderError> {
        let ec2 = self.ec2(place);
        let resource = format!("{image} ({}/{place})", self.account.name);
        let out = ec2
            .describe_images()
            .image_ids(image)
            .send()
            .await
            .map_err(|e| self.err(e, "DescribeImages", &resource))?;
        let Some(img) = out.images().first() else {
            return Err(ProviderError::new(
                ProviderErrorKind::NotFound,
                "DescribeImages",
                &resource,
                "no such image",
                "check the AMI id and the region",
            ));
        };
        let root = img.root_device_name().unwrap_or("/dev/xvda").to_string();
        let ebs = img
            .block_device_mappings()
            .iter()
            .find(|m| m.device_name() == Some(root.as_str()))
            .or_else(|| img.block_device_mappings().first())
            .and_then(|m| m.ebs())
            .ok_or_else(|| {
                rejected(
                    "DescribeImages",
                    &resource,
                    "the image has no EBS root snapshot (instance-store AMIs cannot be read)"
                        .into(),
                    "transfer an EBS-backed image",
                )
            })?;
        if ebs.encrypted() == Some(true) {
            return Err(encrypted(&resource));
        }
        let snapshot = ebs.snapshot_id().unwrap_or_default().to_string();
        let tags = img
            .tags()
            .iter()
            .filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string())))
            .collect();
        let settings = ImageSettings {
            architecture: img
                .architecture()
                .map(|a| a.as_str().into())
                .unwrap_or_default(),
            boot_mode: img
                .boot_mode()
                .map(|b| b.as_str().into())
                .unwrap_or_default(),
            ena: img.ena_support().unwrap_or(false),
            root_device: root,
            os_type: if img.platform_details().unwrap_or("").contains("Windows") {
                "windows".into()
            } else {
                "linux".into()
            },
        };
        let snap = self
            .ec2(place)
            .describe_snapshots()
            .snapshot_ids(&snapshot)
            .send()
            .await
            .map_err(|e| self.err(e, "DescribeSnapshots", &format!("{snapshot} of {resource}")))?;
        let snap = snap.snapshots().first();
        if snap.and_then(|s| s.encrypted()) == Some(true) {
            return Err(encrypted(&resource));
        }
        let gib = snap
            .and_then(|s| s.volume_size())
            .or(ebs.volume_size())
            .unwrap_or(0) as u64;
        Ok((
            snapshot,
            SourceImage {
                name: format!("aws:{}/{place}/{image}", self.account.name),
                size: gib * GIB,
                tags,
                settings,
            },
        ))
    }
}

fn encrypted(resource: &str) -> ProviderError {
    rejected(
        "DescribeImages",
        resource,
        "its root snapshot is encrypted".into(),
        "copy the image unencrypted (or share the KMS key) first; drydock does not move encrypted disks between clouds",
    )
}

#[async_trait]
impl ImageTransfer for AwsProvider {
    async fn describe(&self, place: &str, image: &str) -> Result<SourceImage, ProviderError> {
        Ok(self.root_snapshot(place, image).await?.1)
    }

    async fn open(
        &self,
        place: &str,
        image: &str,
        _token: &str,
    ) -> Result<Box<dyn CloudDisk>, ProviderError> {
        let (snapshot, img) = self.root_snapshot(place, image).await?;
        let resource = format!("{image} ({}/{place})", self.account.name);
        let ebs_client = self.ebs(place);
        let sres = format!("{snapshot} of {resource}");
        let mut tokens = BTreeMap::new();
        let mut size = img.size;
        let mut next = None;
        loop {
            let out = ebs_client
                .list_snapshot_blocks()
                .snapshot_id(&snapshot)
                .set_next_token(next.take())
                .send()
                .await
                .map_err(|e| {
                    crate::error::map(
                        e,
                        "ListSnapshotBlocks",
                        &sres,
                        &self.account.credential_source(),
                    )
                })?;
            if let Some(v) = out.volume_size() {
                size = v as u64 * GIB;
            }
            for b in out.blocks() {
                if let (Some(i), Some(t)) = (b.block_index(), b.block_token()) {
                    tokens.insert(i as u64, t.to_string());
                }
            }
            match out.next_token() {
                Some(t) if !t.is_empty() => next = Some(t.to_string()),
                _ => break,
            }
        }
        let mut allocated: Vec<(u64, u64)> = Vec::new();
        for &i in tokens.keys() {
            let off = i * EBS_BLOCK;
            match allocated.last_mut() {
                Some(last) if last.0 + last.1 == off => last.1 += EBS_BLOCK,
                _ => allocated.push((off, EBS_BLOCK)),
            }
        }
        Ok(Box::new(SnapshotDisk {
            credentials: self.account.credential_source(),
            ebs: ebs_client,
            snapshot,
            tokens,
            layout: DiskLayout {
                size,
                allocated,
                block: EBS_BLOCK,
            },
            image: SourceImage { size, ..img },
            resource: sres,
        }))
    }

    async fn plan_upload(&self, req: &UploadRequest) -> Result<Vec<String>, ProviderError> {
        let gib = gib_for(req.size);
        let resource = format!("{} ({}/{})", req.name, self.account.name, req.place);
        if gib > MAX_GIB {
            return Err(rejected(
                "StartSnapshot",
                &resource,
                format!("the disk is {gib} GiB; EBS snapshots hold at most {MAX_GIB} GiB"),
                "shrink the disk before the transfer",
            ));
        }
        let ec2 = self.ec2(&req.place);
        let taken = ec2
            .describe_images()
            .owners("self")
            .filters(Filter::builder().name("name").values(&req.name).build())
            .send()
            .await
            .map_err(|e| self.err(e, "DescribeImages", &resource))?;
        if let Some(img) = taken.images().first() {
            return Err(rejected(
                "RegisterImage",
                &resource,
                format!(
                    "an image named {} already exists ({})",
                    req.name,
                    img.image_id().unwrap_or("?")
                ),
                "pass another --version or --name",
            ));
        }
        let s = &req.settings;
        Ok(vec![
            format!(
                "create snapshot of {gib} GiB in {}/{} (StartSnapshot, PutSnapshotBlock for blocks with data, CompleteSnapshot)",
                self.account.name, req.place
            ),
            format!(
                "register image {} ({}, boot {}, ENA {}, root {}) on it",
                req.name,
                if s.architecture.is_empty() { "x86_64" } else { &s.architecture },
                if s.boot_mode.is_empty() { "default" } else { &s.boot_mode },
                if s.ena { "on" } else { "off" },
                if s.root_device.is_empty() { "/dev/xvda" } else { &s.root_device },
            ),
        ])
    }

    async fn start_upload(
        &self,
        req: &UploadRequest,
    ) -> Result<Box<dyn CloudUpload>, ProviderError> {
        let gib = gib_for(req.size);
        let resource = format!("{} ({}/{})", req.name, self.account.name, req.place);
        let ebs = self.ebs(&req.place);
        let mut call = ebs
            .start_snapshot()
            .volume_size(gib as i64)
            .description(format!("drydock transfer of {}", req.name))
            .client_token(&req.token)
            .timeout(60)
            .tags(
                EbsTag::builder()
                    .key(TAG_TRANSFER)
                    .value(&req.token)
                    .build(),
            );
        for (k, v) in &req.tags {
            call = call.tags(EbsTag::builder().key(k).value(v).build());
        }
        let out = call.send().await.map_err(|e| {
            crate::error::map(
                e,
                "StartSnapshot",
                &resource,
                &self.account.credential_source(),
            )
        })?;
        Ok(Box::new(SnapshotUpload {
            credentials: self.account.credential_source(),
            ebs,
            ec2: self.ec2(&req.place),
            snapshot: out.snapshot_id().unwrap_or_default().to_string(),
            req: req.clone(),
            gib,
        }))
    }

    async fn remove_leftovers(
        &self,
        place: &str,
        token: &str,
    ) -> Result<Vec<String>, ProviderError> {
        let ec2 = self.ec2(place);
        let resource = format!("{}/{place} transfer {token}", self.account.name);
        let out = ec2
            .describe_snapshots()
            .owner_ids("self")
            .filters(
                Filter::builder()
                    .name(format!("tag:{TAG_TRANSFER}"))
                    .values(token)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| self.err(e, "DescribeSnapshots", &resource))?;
        let mut removed = Vec::new();
        for snap in out.snapshots() {
            let Some(id) = snap.snapshot_id() else {
                continue;
            };
            // A snapshot an image was registered on is kept, whatever its tags say.
            let used = ec2
                .describe_images()
                .owners("self")
                .filters(
                    Filter::builder()
                        .name("block-device-mapping.snapshot-id")
                        .values(id)
                        .build(),
                )
                .send()
                .await
                .map_err(|e| self.err(e, "DescribeImages", id))?;
            if used.images().is_empty() {
                delete_snapshot(&ec2, id, &self.account.credential_source()).await?;
                removed.push(format!("snapshot {id} ({}/{place})", self.account.name));
            }
        }
        Ok(removed)
    }
}
