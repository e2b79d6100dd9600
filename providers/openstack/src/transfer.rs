//! Glance as a side of `drydock transfer`. Upload: a queued image is created with the disk
//! format the site takes (qcow2 where its schema allows, else raw) and the transfer's token
//! as a property, then its file is one streamed `PUT /v2/images/{id}/file` fed by the
//! engine; once Glance has it, the image must be active with the SHA-512 (`os_hash_value`,
//! or the MD5 `checksum` on a Glance without it) of exactly the bytes sent. Download: the
//! image's file streamed to a local file, verified the same way. Whatever an interrupted
//! upload leaves (a queued or saving image) is found by its token and deleted.

use crate::digest::{Algo, Digests, Hasher};
use crate::ops::{err, property_op};
use crate::provider::OpenStackProvider;
use crate::records::GlanceImage;
use crate::session::Request;
use async_trait::async_trait;
use drydock_api::transfer::{
    CloudDisk, ImageSettings, ImageTransfer, SourceImage, StreamFormat, StreamUpload, UploadRequest,
};
use drydock_api::{ProviderError, ProviderErrorKind};
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// The image property naming the transfer that created an image.
pub const TRANSFER_TOKEN: &str = "drydock:transfer-token";

type Piece = Result<bytes::Bytes, std::io::Error>;

/// An upload being streamed into a queued Glance image.
pub struct GlanceUpload {
    provider: OpenStackProvider,
    root: String,
    id: String,
    format: StreamFormat,
    tx: Mutex<Option<mpsc::Sender<Piece>>>,
    /// The body's end, until the PUT starts with it (at the first bytes).
    rx: Mutex<Option<mpsc::Receiver<Piece>>>,
    /// The runtime the upload was started on (the PUT runs there, whoever starts it).
    runtime: tokio::runtime::Handle,
    put: Mutex<Option<tokio::task::JoinHandle<Result<(), ProviderError>>>>,
    hasher: tokio::sync::Mutex<Hasher>,
}

impl GlanceUpload {
    /// Starts the PUT (once), its body what `send` hands over; with `len`, sent with a
    /// Content-Length rather than chunked.
    fn start_put(&self, len: Option<u64>) {
        let Some(rx) = self.rx.lock().unwrap_or_else(|e| e.into_inner()).take() else {
            return;
        };
        let stream = futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|piece| (piece, rx))
        });
        let session = Arc::clone(&self.provider.session);
        let file_url = format!("{}/v2/images/{}/file", self.root, self.id);
        let put_id = self.id.clone();
        let put = self.runtime.spawn(async move {
            session
                .send_stream(
                    &file_url,
                    reqwest::Body::wrap_stream(stream),
                    len,
                    "PUT /v2/images/{id}/file",
                    &put_id,
                )
                .await
        });
        *self.put.lock().unwrap_or_else(|e| e.into_inner()) = Some(put);
    }

    fn sender(&self) -> Option<mpsc::Sender<Piece>> {
        self.tx.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The PUT's own error, once it has ended.
    async fn put_result(&self) -> Result<(), ProviderError> {
        let handle = self.put.lock().unwrap_or_else(|e| e.into_inner()).take();
        match handle {
            Some(h) => h.await.map_err(|e| {
                err(
                    ProviderErrorKind::Other,
                    "PUT /v2/images/{id}/file",
                    &self.id,
                    format!("the upload task failed: {e}"),
                    "",
                )
            })?,
            None => Ok(()),
        }
    }
}

#[async_trait]
impl StreamUpload for GlanceUpload {
    fn format(&self) -> StreamFormat {
        self.format
    }

    fn resource(&self) -> String {
        format!("Glance image {}", self.id)
    }

    fn expect_len(&self, len: u64) {
        self.start_put(Some(len));
    }

    async fn send(&self, data: Vec<u8>) -> Result<(), ProviderError> {
        self.start_put(None);
        let data = bytes::Bytes::from(data);
        self.hasher.lock().await.update(data.clone()).await;
        let Some(tx) = self.sender() else {
            return Err(err(
                ProviderErrorKind::Other,
                "PUT /v2/images/{id}/file",
                &self.id,
                "the upload was already closed".into(),
                "",
            ));
        };
        if tx.send(Ok(data)).await.is_err() {
            // The PUT ended early: its error says why.
            self.put_result().await?;
            return Err(err(
                ProviderErrorKind::Other,
                "PUT /v2/images/{id}/file",
                &self.id,
                "the image service closed the upload early".into(),
                "retry the transfer",
            ));
        }
        Ok(())
    }

    async fn close(&self) {
        // An empty disk still PUTs its (empty) file.
        self.start_put(None);
        drop(self.tx.lock().unwrap_or_else(|e| e.into_inner()).take());
    }

    async fn complete(
        &self,
        sent: u64,
        tags: &BTreeMap<String, String>,
    ) -> Result<String, ProviderError> {
        let call = "PUT /v2/images/{id}/file";
        drop(self.tx.lock().unwrap_or_else(|e| e.into_inner()).take());
        self.put_result().await?;
        let url = format!("{}/v2/images/{}", self.root, self.id);
        let img: GlanceImage = self
            .provider
            .session
            .json(Request::get(&url, "GET /v2/images/{id}", &self.id))
            .await?;
        if img.status != "active" {
            return Err(err(
                ProviderErrorKind::Other,
                call,
                &self.id,
                format!("the image is {} after its data was sent", img.status),
                "look at the image service's logs; the transfer removes the image",
            ));
        }
        let Some(digests) = self.hasher.lock().await.finish().await else {
            return Err(err(
                ProviderErrorKind::Other,
                call,
                &self.id,
                "the digest of the bytes sent was lost".into(),
                "retry the transfer",
            ));
        };
        if digests.len != sent {
            return Err(err(
                ProviderErrorKind::Other,
                call,
                &self.id,
                format!("{} bytes passed, {sent} were to", digests.len),
                "",
            ));
        }
        digests.verify(&img, call)?;
        let ops = tags.iter().map(|(k, v)| property_op(k, v)).collect();
        self.provider.patch(&self.root, &self.id, ops).await?;
        Ok(self.id.clone())
    }

    async fn abort(&self) -> Result<(), ProviderError> {
        drop(self.tx.lock().unwrap_or_else(|e| e.into_inner()).take());
        if let Some(h) = self.put.lock().unwrap_or_else(|e| e.into_inner()).take() {
            h.abort();
        }
        self.provider.delete_image(&self.root, &self.id).await?;
        Ok(())
    }
}

/// The disk formats the site's image schema allows (empty: it does not say) and the digest
/// it records (SHA-512 where the schema has `os_hash_value`).
async fn schema(p: &OpenStackProvider, root: &str) -> (Vec<String>, Algo) {
    let url = format!("{root}/v2/schemas/image");
    match p
        .session
        .json::<Value>(Request::get(&url, "GET /v2/schemas/image", &p.name))
        .await
    {
        Ok(v) => (
            v["properties"]["disk_format"]["enum"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|f| f.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default(),
            if v["properties"].get("os_hash_value").is_some() {
                Algo::Sha512
            } else {
                Algo::Md5
            },
        ),
        Err(_) => (Vec::new(), Algo::Sha512),
    }
}

/// qcow2 where the site takes it, else raw.
fn pick_format(allowed: &[String]) -> Result<StreamFormat, String> {
    if allowed.is_empty() || allowed.iter().any(|f| f == "qcow2") {
        Ok(StreamFormat::Qcow2)
    } else if allowed.iter().any(|f| f == "raw") {
        Ok(StreamFormat::Raw)
    } else {
        Err(format!(
            "the image service takes neither qcow2 nor raw (it takes {})",
            allowed.join(", ")
        ))
    }
}

/// The settings of a Glance image, from its properties.
fn settings_of(img: &GlanceImage) -> ImageSettings {
    let arch = match img.property("architecture").as_deref() {
        Some("aarch64" | "arm64") => "arm64",
        _ => "x86_64",
    };
    let boot = match img.property("hw_firmware_type").as_deref() {
        Some("uefi") => "uefi",
        Some("bios") => "legacy-bios",
        _ => "",
    };
    ImageSettings {
        architecture: arch.into(),
        boot_mode: boot.into(),
        ena: false,
        root_device: String::new(),
        os_type: img
            .property("os_type")
            .unwrap_or_else(|| "linux".to_string()),
    }
}

impl OpenStackProvider {
    /// The virtual size in a qcow2 image's header (its first bytes, by a ranged GET).
    async fn header_size(&self, url: &str, image: &str) -> Result<u64, ProviderError> {
        let call = "GET /v2/images/{id}/file (first bytes)";
        let file = format!("{url}/file");
        let resp = self
            .session
            .send(Request::get(&file, call, image).range(0, 511))
            .await?;
        let head = crate::session::read_capped(resp, 1 << 20, call, image).await?;
        match head.get(..32) {
            Some(h) if h[..4] == *b"QFI\xfb" => {
                Ok(u64::from_be_bytes(h[24..32].try_into().unwrap_or([0; 8])))
            }
            _ => Err(err(
                ProviderErrorKind::Other,
                call,
                image,
                "Glance recorded no virtual size and the data is not a qcow2".into(),
                "set the image's virtual size, or convert it to qcow2 or raw",
            )),
        }
    }
}

#[async_trait]
impl ImageTransfer for OpenStackProvider {
    fn streams(&self) -> bool {
        true
    }

    async fn describe(&self, place: &str, image: &str) -> Result<SourceImage, ProviderError> {
        let root = self.glance(place).await?;
        let url = format!("{root}/v2/images/{image}");
        let img: GlanceImage = self
            .session
            .json(Request::get(&url, "GET /v2/images/{id}", image))
            .await?;
        if img.status != "active" {
            return Err(err(
                ProviderErrorKind::Rejected,
                "GET /v2/images/{id}/file",
                image,
                format!(
                    "the image is {}; only an active image's data can be read",
                    img.status
                ),
                if img.status == "deactivated" {
                    "reactivate it first if its data is really wanted"
                } else {
                    ""
                },
            ));
        }
        let record = img.to_image(&self.session.project().await?, place, chrono::Utc::now());
        let size = match (img.virtual_size, img.disk_format.as_deref()) {
            (Some(v), _) => v,
            (None, Some("raw") | None) => img.size.unwrap_or(0),
            // A Glance that did not record it: the qcow2 header says.
            (None, Some(_)) => self.header_size(&url, image).await?,
        };
        Ok(SourceImage {
            name: format!("openstack:{}/{place}/{image}", self.name),
            size,
            tags: record
                .tags
                .to_map()
                .into_iter()
                .filter(|(k, _)| k.starts_with("drydock:") || k == "cm-source")
                .filter(|(k, _)| k != TRANSFER_TOKEN && k != crate::ops::CLIENT_TOKEN)
                .collect(),
            settings: settings_of(&img),
        })
    }

    async fn download(
        &self,
        place: &str,
        image: &str,
        to: &std::path::Path,
    ) -> Result<String, ProviderError> {
        let call = "GET /v2/images/{id}/file";
        let root = self.glance(place).await?;
        let url = format!("{root}/v2/images/{image}");
        let img: GlanceImage = self
            .session
            .json(Request::get(&url, "GET /v2/images/{id}", image))
            .await?;
        let file_url = format!("{url}/file");
        let mut resp = self
            .session
            .send(Request::get(&file_url, call, image))
            .await?;
        if resp.status().as_u16() == 204 {
            return Err(err(
                ProviderErrorKind::Rejected,
                call,
                image,
                "the image has no data".into(),
                "",
            ));
        }
        let io = |e: std::io::Error| {
            err(
                ProviderErrorKind::Other,
                call,
                image,
                format!("{}: {e}", to.display()),
                "check the space and permissions where the download goes",
            )
        };
        let mut file =
            std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(to).map_err(io)?);
        let mut digests = Digests::new(if img.os_hash_algo.as_deref() == Some("sha512") {
            Algo::Sha512
        } else {
            Algo::Md5
        });
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| crate::error::transport(&e, call, image))?
        {
            digests.update(&chunk);
            file.write_all(&chunk).map_err(io)?;
        }
        file.flush().map_err(io)?;
        digests.verify(&img, call)?;
        Ok(img.disk_format.unwrap_or_else(|| "raw".into()))
    }

    async fn open(
        &self,
        place: &str,
        image: &str,
        _token: &str,
    ) -> Result<Box<dyn CloudDisk>, ProviderError> {
        Err(err(
            ProviderErrorKind::Unsupported,
            "open",
            &format!("{place}/{image}"),
            "Glance images are downloaded whole, not read by blocks".into(),
            "",
        ))
    }

    async fn plan_upload(&self, req: &UploadRequest) -> Result<Vec<String>, ProviderError> {
        let root = self.glance(&req.place).await?;
        let format = pick_format(&schema(self, &root).await.0).map_err(|m| {
            err(
                ProviderErrorKind::Unsupported,
                "GET /v2/schemas/image",
                &req.place,
                m,
                "",
            )
        })?;
        Ok(vec![format!(
            "create Glance image {} in {}/{} (disk_format {}, container_format bare, private) and stream the disk into it (PUT /v2/images/{{id}}/file), verified by its digest",
            req.name,
            self.name,
            req.place,
            format.as_str()
        )])
    }

    async fn start_upload(
        &self,
        req: &UploadRequest,
    ) -> Result<Box<dyn drydock_api::transfer::CloudUpload>, ProviderError> {
        Err(err(
            ProviderErrorKind::Unsupported,
            "start upload",
            &req.place,
            "Glance takes an image's data as one stream".into(),
            "",
        ))
    }

    async fn start_stream(
        &self,
        req: &UploadRequest,
    ) -> Result<Box<dyn StreamUpload>, ProviderError> {
        let root = self.glance(&req.place).await?;
        let (formats, algo) = schema(self, &root).await;
        let format = pick_format(&formats).map_err(|m| {
            err(
                ProviderErrorKind::Unsupported,
                "GET /v2/schemas/image",
                &req.place,
                m,
                "",
            )
        })?;
        let mut body = json!({
            "name": req.name,
            "disk_format": format.as_str(),
            "container_format": "bare",
            "visibility": "private",
            TRANSFER_TOKEN: req.token,
        });
        if req.settings.architecture == "arm64" {
            body["architecture"] = json!("aarch64");
        } else if !req.settings.architecture.is_empty() {
            body["architecture"] = json!(req.settings.architecture);
        }
        match req.settings.boot_mode.as_str() {
            "uefi" => body["hw_firmware_type"] = json!("uefi"),
            "legacy-bios" => body["hw_firmware_type"] = json!("bios"),
            _ => {}
        }
        if !req.settings.os_type.is_empty() {
            body["os_type"] = json!(req.settings.os_type);
        }
        let url = format!("{root}/v2/images");
        let created: GlanceImage = self
            .session
            .json(Request::new(Method::POST, &url, "POST /v2/images", &req.place).json(&body))
            .await?;
        let id = created.id;
        let (tx, rx) = mpsc::channel::<Piece>(8);
        tracing::info!("transfer {}: streaming into Glance image {id}", req.token);
        Ok(Box::new(GlanceUpload {
            provider: self.clone(),
            root,
            id,
            format,
            tx: Mutex::new(Some(tx)),
            rx: Mutex::new(Some(rx)),
            runtime: tokio::runtime::Handle::current(),
            put: Mutex::new(None),
            hasher: tokio::sync::Mutex::new(Hasher::start(algo)),
        }))
    }

    async fn remove_leftovers(
        &self,
        place: &str,
        token: &str,
    ) -> Result<Vec<String>, ProviderError> {
        let root = self.glance(place).await?;
        let mut removed = Vec::new();
        for img in self.images_with(place, TRANSFER_TOKEN, token).await? {
            if self.delete_image(&root, &img.id).await? {
                removed.push(format!("Glance image {} ({})", img.id, img.status));
            }
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_format_is_the_sites() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(pick_format(&[]), Ok(StreamFormat::Qcow2));
        assert_eq!(pick_format(&s(&["raw", "qcow2"])), Ok(StreamFormat::Qcow2));
        assert_eq!(pick_format(&s(&["raw", "vmdk"])), Ok(StreamFormat::Raw));
        assert!(pick_format(&s(&["vmdk"])).is_err());
    }
}
