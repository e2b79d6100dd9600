//! The disks of a transfer: a temporary disk read through its SAS ([`AzureDisk`]), and an
//! upload disk written page by page, then published as a gallery version ([`AzureUpload`]).

use crate::arm::GALLERY_API;
use crate::blob::{PageBlob, MAX_PAGE_WRITE};
use crate::provider::AzureProvider;
use async_trait::async_trait;
use drydock_api::transfer::{CloudDisk, CloudUpload, DiskLayout, SourceImage, UploadRequest};
use drydock_api::ProviderError;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;

/// A temporary disk made from a gallery version, read through a SAS.
pub(super) struct AzureDisk {
    pub(super) provider: Arc<AzureProvider>,
    pub(super) disk: String,
    pub(super) blob: PageBlob,
    pub(super) layout: DiskLayout,
    pub(super) image: SourceImage,
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
pub(super) struct AzureUpload {
    pub(super) provider: Arc<AzureProvider>,
    pub(super) disk: String,
    pub(super) blob: PageBlob,
    pub(super) req: UploadRequest,
    pub(super) version_path: String,
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
