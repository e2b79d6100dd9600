//! The EBS side of a transfer: a snapshot's written blocks read through GetSnapshotBlock
//! ([`SnapshotDisk`]), and a new snapshot written block by block with SHA-256 checksums,
//! completed and registered as an AMI ([`SnapshotUpload`]).

use super::{b64_sha256, rejected, EBS_BLOCK, GIB, TAG_TRANSFER};
use async_trait::async_trait;
use aws_sdk_ebs::primitives::ByteStream;
use aws_sdk_ebs::types::ChecksumAlgorithm;
use aws_sdk_ec2::types::{
    ArchitectureValues, BlockDeviceMapping, BootModeValues, EbsBlockDevice, Tag, VolumeType,
};
use drydock_api::transfer::{CloudDisk, CloudUpload, DiskLayout, SourceImage, UploadRequest};
use drydock_api::ProviderError;
use std::collections::BTreeMap;

/// A snapshot's written blocks, read through GetSnapshotBlock.
pub struct SnapshotDisk {
    /// Where the credentials come from, for auth errors.
    pub(super) credentials: String,
    pub(super) ebs: aws_sdk_ebs::Client,
    pub(super) snapshot: String,
    /// Block index → token.
    pub(super) tokens: BTreeMap<u64, String>,
    pub(super) layout: DiskLayout,
    pub(super) image: SourceImage,
    pub(super) resource: String,
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
                    &self.credentials,
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
    /// Where the credentials come from, for auth errors.
    pub(super) credentials: String,
    pub(super) ebs: aws_sdk_ebs::Client,
    pub(super) ec2: aws_sdk_ec2::Client,
    pub(super) snapshot: String,
    pub(super) req: UploadRequest,
    pub(super) gib: u64,
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
                    &self.credentials,
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
            .map_err(|e| crate::error::map(e, "CompleteSnapshot", &resource, &self.credentials))?;
        wait_completed(&self.ec2, &self.snapshot, &resource, &self.credentials).await?;
        register(
            &self.ec2,
            &self.snapshot,
            self.gib,
            &self.req,
            tags,
            &self.credentials,
        )
        .await
    }

    async fn abort(&self) -> Result<(), ProviderError> {
        delete_snapshot(&self.ec2, &self.snapshot, &self.credentials).await
    }
}

pub(super) async fn delete_snapshot(
    ec2: &aws_sdk_ec2::Client,
    snapshot: &str,
    credentials: &str,
) -> Result<(), ProviderError> {
    ec2.delete_snapshot()
        .snapshot_id(snapshot)
        .send()
        .await
        .map_err(|e| crate::error::map(e, "DeleteSnapshot", snapshot, credentials))?;
    Ok(())
}

/// Wait for EC2 to report the snapshot completed (a few minutes at most on AWS).
async fn wait_completed(
    ec2: &aws_sdk_ec2::Client,
    snapshot: &str,
    resource: &str,
    credentials: &str,
) -> Result<(), ProviderError> {
    for _ in 0..600 {
        let out = ec2
            .describe_snapshots()
            .snapshot_ids(snapshot)
            .send()
            .await
            .map_err(|e| crate::error::map(e, "DescribeSnapshots", resource, credentials))?;
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
    credentials: &str,
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
            credentials,
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
        .map_err(|e| crate::error::map(e, "CreateTags", &image, credentials))?;
    // The snapshot now belongs to an image: it is no longer a leftover.
    ec2.delete_tags()
        .resources(snapshot)
        .tags(Tag::builder().key(TAG_TRANSFER).build())
        .send()
        .await
        .map_err(|e| crate::error::map(e, "DeleteTags", snapshot, credentials))?;
    Ok(image)
}
