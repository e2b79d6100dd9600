//! Moving an AMI's root disk through the EBS direct APIs (no S3, no VM Import): reading a
//! snapshot's written blocks ([`SnapshotDisk`]), writing a new snapshot block by block with
//! SHA-256 checksums and registering an AMI on it ([`SnapshotUpload`]), and removing what an
//! interrupted transfer left.

use crate::provider::AwsProvider;
use async_trait::async_trait;
use aws_sdk_ebs::primitives::ByteStream;
use aws_sdk_ebs::types::{ChecksumAlgorithm, Tag as EbsTag};
use aws_sdk_ec2::types::{
    ArchitectureValues, BlockDeviceMapping, BootModeValues, EbsBlockDevice, Filter, Tag, VolumeType,
};
use base64::Engine;
use drydock_api::transfer::{
    CloudDisk, CloudUpload, DiskLayout, ImageSettings, ImageTransfer, SourceImage, UploadRequest,
};
use drydock_api::{ProviderError, ProviderErrorKind};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The EBS direct APIs' block size.
pub const EBS_BLOCK: u64 = 512 * 1024;
const GIB: u64 = 1 << 30;
/// StartSnapshot's largest volume (64 TiB).
const MAX_GIB: u64 = 65536;
/// The tag that names the transfer a snapshot belongs to, until its image is registered.
pub const TAG_TRANSFER: &str = "drydock:transfer";

fn b64_sha256(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(data))
}

fn rejected(call: &str, resource: &str, message: String, hint: &str) -> ProviderError {
    ProviderError::new(ProviderErrorKind::Rejected, call, resource, message, hint)
}

/// A snapshot's written blocks, read through GetSnapshotBlock.
pub struct SnapshotDisk {
    ebs: aws_sdk_ebs::Client,
    snapshot: String,
    /// Block index → token.
    tokens: BTreeMap<u64, String>,
    layout: DiskLayout,
    image: SourceImage,
    resource: String,
}

#[async_trait]
impl CloudDisk for SnapshotDisk {
    fn layout(&self) -> &DiskLayout {
        &self.layout
    }

    fn image(&self) -> &SourceImage {
        &self.image
    }

    async fn read(&self, offset: u64, len: u64) -> Result<Vec<u8>, ProviderError> {
        let index = offset / EBS_BLOCK;
        let within = (offset % EBS_BLOCK) as usize;
        let token = self.tokens.get(&index).ok_or_else(|| {
            rejected(
                "GetSnapshotBlock",
                &self.resource,
                format!("block {index} was not listed by ListSnapshotBlocks"),
                "",
            )
        })?;
        let out = self
            .ebs
            .get_snapshot_block()
            .snapshot_id(&self.snapshot)
            .block_index(index as i32)
            .block_token(token)
            .send()
            .await
            .map_err(|e| {
                crate::error::map(
                    e,
                    "GetSnapshotBlock",
                    &format!("{} block {index}", self.resource),
                    "the AWS credential chain",
                )
            })?;
        let checksum = out.checksum.clone();
        let data = out
            .block_data
            .collect()
            .await
            .map_err(|e| {
                rejected(
                    "GetSnapshotBlock",
                    &self.resource,
                    format!("block {index} body: {e}"),
                    "try again",
                )
            })?
            .to_vec();
        if let Some(sum) = checksum {
            if b64_sha256(&data) != sum {
                return Err(rejected(
                    "GetSnapshotBlock",
                    &format!("{} block {index}", self.resource),
                    format!("checksum mismatch: the block's SHA-256 is not {sum}"),
                    "try again; if it persists the snapshot is damaged",
                ));
            }
        }
        let end = within + len as usize;
        if end > data.len() {
            return Err(rejected(
                "GetSnapshotBlock",
                &format!("{} block {index}", self.resource),
                format!("{} bytes returned, {end} needed", data.len()),
                "",
            ));
        }
        Ok(data[within..end].to_vec())
    }
}

/// A new snapshot being written; completed, then registered as an AMI.
pub struct SnapshotUpload {
    ebs: aws_sdk_ebs::Client,
    ec2: aws_sdk_ec2::Client,
    snapshot: String,
    req: UploadRequest,
    gib: u64,
}

#[async_trait]
impl CloudUpload for SnapshotUpload {
    fn block(&self) -> u64 {
        EBS_BLOCK
    }

    fn disk_size(&self) -> u64 {
        self.gib * GIB
    }

    fn resource(&self) -> String {
        format!("{} ({})", self.snapshot, self.req.place)
    }

    async fn put(&self, offset: u64, mut data: Vec<u8>) -> Result<(), ProviderError> {
        // The last block of a disk that is not a whole number of blocks is padded.
        data.resize(EBS_BLOCK as usize, 0);
        let index = offset / EBS_BLOCK;
        let sum = b64_sha256(&data);
        self.ebs
            .put_snapshot_block()
            .snapshot_id(&self.snapshot)
            .block_index(index as i32)
            .data_length(EBS_BLOCK as i32)
            .checksum(sum)
            .checksum_algorithm(ChecksumAlgorithm::ChecksumAlgorithmSha256)
            .block_data(ByteStream::from(data))
            .send()
            .await
            .map_err(|e| {
                crate::error::map(
                    e,
                    "PutSnapshotBlock",
                    &format!("{} block {index}", self.resource()),
                    "the AWS credential chain",
                )
            })?;
        Ok(())
    }

    async fn complete(
        &self,
        blocks: u64,
        tags: &BTreeMap<String, String>,
    ) -> Result<String, ProviderError> {
        let resource = self.resource();
        self.ebs
            .complete_snapshot()
            .snapshot_id(&self.snapshot)
            .changed_blocks_count(blocks as i32)
            .send()
            .await
            .map_err(|e| crate::error::map(e, "CompleteSnapshot", &resource, "the AWS chain"))?;
        wait_completed(&self.ec2, &self.snapshot, &resource).await?;
        register(&self.ec2, &self.snapshot, self.gib, &self.req, tags).await
    }

    async fn abort(&self) -> Result<(), ProviderError> {
        delete_snapshot(&self.ec2, &self.snapshot).await
    }
}

async fn delete_snapshot(ec2: &aws_sdk_ec2::Client, snapshot: &str) -> Result<(), ProviderError> {
    ec2.delete_snapshot()
        .snapshot_id(snapshot)
        .send()
        .await
        .map_err(|e| {
            crate::error::map(e, "DeleteSnapshot", snapshot, "the AWS credential chain")
        })?;
    Ok(())
}

/// Wait for EC2 to report the snapshot completed (a few minutes at most on AWS).
async fn wait_completed(
    ec2: &aws_sdk_ec2::Client,
    snapshot: &str,
    resource: &str,
) -> Result<(), ProviderError> {
    for _ in 0..600 {
        let out = ec2
            .describe_snapshots()
            .snapshot_ids(snapshot)
            .send()
            .await
            .map_err(|e| crate::error::map(e, "DescribeSnapshots", resource, "the AWS chain"))?;
        let state = out
            .snapshots()
            .first()
            .and_then(|s| s.state())
            .map(|s| s.as_str().to_string())
            .unwrap_or_default();
        match state.as_str() {
            "completed" => return Ok(()),
            "error" | "recoverable" => {
                return Err(rejected(
                    "DescribeSnapshots",
                    resource,
                    format!("the snapshot is in state {state}"),
                    "rerun the transfer",
                ))
            }
            _ => tokio::time::sleep(std::time::Duration::from_secs(1)).await,
        }
    }
    Err(rejected(
        "DescribeSnapshots",
        resource,
        "the snapshot did not complete within 10 minutes".into(),
        "rerun the transfer later",
    ))
}

/// RegisterImage on the completed snapshot, then tag the image.
async fn register(
    ec2: &aws_sdk_ec2::Client,
    snapshot: &str,
    gib: u64,
    req: &UploadRequest,
    tags: &BTreeMap<String, String>,
) -> Result<String, ProviderError> {
    let s = &req.settings;
    let root = if s.root_device.is_empty() {
        "/dev/xvda"
    } else {
        &s.root_device
    };
    let mut call = ec2
        .register_image()
        .name(&req.name)
        .description(format!("drydock transfer {}", req.token))
        .root_device_name(root)
        .virtualization_type("hvm")
        .ena_support(s.ena)
        .architecture(ArchitectureValues::from(if s.architecture.is_empty() {
            "x86_64"
        } else {
            s.architecture.as_str()
        }))
        .block_device_mappings(
            BlockDeviceMapping::builder()
                .device_name(root)
                .ebs(
                    EbsBlockDevice::builder()
                        .snapshot_id(snapshot)
                        .volume_size(gib as i32)
                        .volume_type(VolumeType::Gp3)
                        .delete_on_termination(true)
                        .build(),
                )
                .build(),
        );
    if !s.boot_mode.is_empty() {
        call = call.boot_mode(BootModeValues::from(s.boot_mode.as_str()));
    }
    let out = call.send().await.map_err(|e| {
        crate::error::map(
            e,
            "RegisterImage",
            &format!("{} on {snapshot}", req.name),
            "the AWS credential chain",
        )
    })?;
    let image = out.image_id().unwrap_or_default().to_string();
    let tags: Vec<Tag> = tags
        .iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect();
    ec2.create_tags()
        .resources(&image)
        .resources(snapshot)
        .set_tags(Some(tags))
        .send()
        .await
        .map_err(|e| crate::error::map(e, "CreateTags", &image, "the AWS credential chain"))?;
    // The snapshot now belongs to an image: it is no longer a leftover.
    ec2.delete_tags()
        .resources(snapshot)
        .tags(Tag::builder().key(TAG_TRANSFER).build())
        .send()
        .await
        .map_err(|e| crate::error::map(e, "DeleteTags", snapshot, "the AWS credential chain"))?;
    Ok(image)
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
                .map_err(|e| crate::error::map(e, "ListSnapshotBlocks", &sres, "the AWS chain"))?;
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
        let out = call
            .send()
            .await
            .map_err(|e| crate::error::map(e, "StartSnapshot", &resource, "the AWS chain"))?;
        Ok(Box::new(SnapshotUpload {
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
                delete_snapshot(&ec2, id).await?;
                removed.push(format!("snapshot {id} ({}/{place})", self.account.name));
            }
        }
        Ok(removed)
    }
}
