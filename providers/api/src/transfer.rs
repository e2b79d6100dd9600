//! Moving an image's disk in and out of a cloud, block by block: what a provider offers to
//! `drydock transfer` ([`ImageTransfer`]), a cloud disk being read ([`CloudDisk`]) and one being
//! written ([`CloudUpload`]). The streaming, the format conversion and the gate live in the
//! drydock crate; a provider only moves verified blocks.

use crate::ProviderError;
use async_trait::async_trait;
use std::collections::BTreeMap;

/// What the destination image should be: its settings come from the source image where the
/// source is a cloud image, from flags otherwise.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImageSettings {
    /// `x86_64` or `arm64`.
    pub architecture: String,
    /// `uefi`, `legacy-bios` or `uefi-preferred` (empty: the cloud's default).
    pub boot_mode: String,
    /// AWS: the instance's Elastic Network Adapter support.
    pub ena: bool,
    /// AWS: the root device name (`/dev/xvda`).
    pub root_device: String,
    /// `linux` or `windows`.
    pub os_type: String,
}

/// Where a destination image goes and what it carries.
#[derive(Clone, Debug, Default)]
pub struct UploadRequest {
    /// AWS region or Azure location.
    pub place: String,
    /// The image's name (AMI name, gallery version or managed image name).
    pub name: String,
    /// Azure: `gallery/definition[/version]`, or empty for a managed image. AWS: empty.
    pub target: String,
    /// The virtual size in bytes, before the cloud's own rounding.
    pub size: u64,
    pub settings: ImageSettings,
    /// Provenance tags to put on the image (and on the snapshot or disk behind it).
    pub tags: BTreeMap<String, String>,
    /// Bytes the cloud's disk format needs after the data (Azure: the fixed VHD footer),
    /// filled by drydock where [`ImageTransfer::needs_vhd_footer`] says so.
    pub footer: Vec<u8>,
    /// A name unique to this transfer, tagged on what it creates so an interrupted transfer's
    /// leftovers can be found and removed.
    pub token: String,
}

/// A cloud image's disk, opened for reading.
#[derive(Clone, Debug)]
pub struct DiskLayout {
    /// Virtual size in bytes.
    pub size: u64,
    /// The ranges that hold data, sorted and disjoint: `(offset, length)`. Everything else
    /// reads as zeros.
    pub allocated: Vec<(u64, u64)>,
    /// The unit reads are best asked for in (EBS: 512 KiB).
    pub block: u64,
}

/// The source image's identity and settings, for the destination's provenance.
#[derive(Clone, Debug, Default)]
pub struct SourceImage {
    /// `aws:CONTEXT/REGION/ami-…`, `azure:CONTEXT/LOCATION/…`.
    pub name: String,
    /// The disk's virtual size in bytes.
    pub size: u64,
    pub tags: BTreeMap<String, String>,
    pub settings: ImageSettings,
}

/// A cloud disk being read: ranges are fetched (concurrently by the caller) and verified
/// against the cloud's checksums before they are returned.
#[async_trait]
pub trait CloudDisk: Send + Sync {
    fn layout(&self) -> &DiskLayout;
    fn image(&self) -> &SourceImage;
    /// Read `len` bytes at `offset` (inside one allocated range, at most one `block` unless the
    /// block is smaller than the range). Checksums are verified.
    async fn read(&self, offset: u64, len: u64) -> Result<Vec<u8>, ProviderError>;
    /// Give back what opening took (a read SAS, a temporary disk).
    async fn close(&self) -> Result<(), ProviderError> {
        Ok(())
    }
}

/// A destination disk being written. Puts may run concurrently, in any order.
#[async_trait]
pub trait CloudUpload: Send + Sync {
    /// Writes are aligned to and at most this many bytes (EBS: 512 KiB; page blobs: 4 MiB).
    fn block(&self) -> u64;
    /// Whether the all-zero pages inside a block are left out (page blobs take any
    /// 512-byte-aligned range); otherwise a block holding any data is written whole (EBS).
    fn sparse_blocks(&self) -> bool {
        false
    }
    /// The size the cloud's disk will have (rounded to its unit).
    fn disk_size(&self) -> u64;
    /// What was created so far, to name in messages and to remove on failure
    /// (`snap-…`, a disk's resource id).
    fn resource(&self) -> String;
    /// Write one block of data with its checksum; the cloud verifies it.
    async fn put(&self, offset: u64, data: Vec<u8>) -> Result<(), ProviderError>;
    /// Seal the disk (`blocks` puts were made) and register the image with `tags` (the
    /// request's, completed with what only the end of the stream knows). Returns its id.
    async fn complete(
        &self,
        blocks: u64,
        tags: &BTreeMap<String, String>,
    ) -> Result<String, ProviderError>;
    /// Remove the never-completed snapshot or disk.
    async fn abort(&self) -> Result<(), ProviderError>;
}

/// The format of a disk sent as one ordered stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamFormat {
    Raw,
    Qcow2,
}

impl StreamFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            StreamFormat::Raw => "raw",
            StreamFormat::Qcow2 => "qcow2",
        }
    }
}

/// A destination that takes the disk as one ordered byte stream in a disk format (Glance's
/// image data upload), rather than as blocks at offsets.
#[async_trait]
pub trait StreamUpload: Send + Sync {
    /// What the bytes sent must be.
    fn format(&self) -> StreamFormat;
    /// What was created so far (the queued image), to name in messages.
    fn resource(&self) -> String;
    /// The file will be `len` bytes (said before the first `send`, when known).
    fn expect_len(&self, _len: u64) {}
    /// The next bytes of the file, in order.
    async fn send(&self, data: Vec<u8>) -> Result<(), ProviderError>;
    /// The stream is whole: end it (the cloud starts taking it in) without waiting.
    async fn close(&self);
    /// The stream is whole (`sent` bytes): wait for the cloud to take it, verify its digest,
    /// tag the image with `tags`; returns its id.
    async fn complete(
        &self,
        sent: u64,
        tags: &BTreeMap<String, String>,
    ) -> Result<String, ProviderError>;
    /// Stop and remove the never-completed image.
    async fn abort(&self) -> Result<(), ProviderError>;
}

/// What a provider can do for `drydock transfer`.
#[async_trait]
pub trait ImageTransfer: Send + Sync {
    /// Whether uploads are one ordered stream ([`ImageTransfer::start_stream`]) rather than
    /// blocks ([`ImageTransfer::start_upload`]), and reads a download of the image's file
    /// ([`ImageTransfer::download`]) rather than blocks ([`ImageTransfer::open`]).
    fn streams(&self) -> bool {
        false
    }
    /// Create the image to be streamed into.
    async fn start_stream(
        &self,
        req: &UploadRequest,
    ) -> Result<Box<dyn StreamUpload>, ProviderError> {
        Err(ProviderError::new(
            crate::ProviderErrorKind::Unsupported,
            "start stream",
            &req.place,
            "this cloud takes disks as blocks",
            "",
        ))
    }
    /// Write image `image`'s file (in its disk format) to `to`, verified against the
    /// cloud's digests; returns its disk format.
    async fn download(
        &self,
        place: &str,
        image: &str,
        _to: &std::path::Path,
    ) -> Result<String, ProviderError> {
        Err(ProviderError::new(
            crate::ProviderErrorKind::Unsupported,
            "download",
            format!("{place}/{image}"),
            "this cloud's disks are read as blocks",
            "",
        ))
    }
    /// Describe an image and check its disk can be read (not encrypted, a disk at all);
    /// changes nothing. `image` is an AMI id or `gallery/definition[/version]` (without a
    /// version, the latest).
    async fn describe(&self, place: &str, image: &str) -> Result<SourceImage, ProviderError>;
    /// Whether an uploaded disk ends with a fixed VHD footer (Azure page blobs).
    fn needs_vhd_footer(&self) -> bool {
        false
    }
    /// What reading an image creates in the cloud, if anything (Azure: a temporary disk
    /// made from the image version); such a read needs the gate's admission.
    fn reading_creates(&self) -> Option<&'static str> {
        None
    }
    /// Open an image's disk for reading; what opening creates is tagged with `token` and
    /// removed by [`CloudDisk::close`] (or by `remove_leftovers` after a kill).
    async fn open(
        &self,
        place: &str,
        image: &str,
        token: &str,
    ) -> Result<Box<dyn CloudDisk>, ProviderError>;
    /// Check what an upload needs before anything is created (limits, the gallery
    /// definition, permissions); returns what would be created, one line each.
    async fn plan_upload(&self, req: &UploadRequest) -> Result<Vec<String>, ProviderError>;
    /// Create the snapshot or disk to be written.
    async fn start_upload(
        &self,
        req: &UploadRequest,
    ) -> Result<Box<dyn CloudUpload>, ProviderError>;
    /// Remove what an interrupted transfer tagged with `token` left behind (an incomplete
    /// snapshot or disk); returns what was removed.
    async fn remove_leftovers(
        &self,
        place: &str,
        token: &str,
    ) -> Result<Vec<String>, ProviderError>;
}
