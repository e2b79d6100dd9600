//! Running a prepared transfer: leftovers of killed transfers to the same context are
//! removed first, the attempt is recorded, the pump streams source → destination while a
//! hashing stage computes the SHA-256 of the virtual disk, and only when every block is
//! acknowledged (checksums verified by the cloud) is the image registered and tagged. A
//! failure or a cancel deletes the partial snapshot or disk.

use super::cloud_read::CloudReader;
use super::cloud_write::{CloudWriter, Sent};
use super::hashing::{pump_hashed, pump_hashing};
use super::pending::{Ledger, Pending};
use super::{provenance, Destination, Opened, Transfer, TransferError};
use crate::convert::{self, DiskReader, Progress};
use crate::gate::Admitted;
use drydock_api::transfer::{CloudDisk, ImageTransfer, StreamFormat, StreamUpload};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What a transfer did.
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    /// The new image's id, or the local file written.
    pub created: String,
    pub virtual_size: u64,
    /// Bytes in non-zero 4 KiB pages.
    pub data_bytes: u64,
    /// Puts made and bytes sent (cloud destinations).
    pub sent: Sent,
    /// SHA-256 of the virtual disk up to its last non-zero byte.
    pub sha256: String,
    pub tags: std::collections::BTreeMap<String, String>,
    /// What killed transfers had left and this one removed first.
    pub removed: Vec<String>,
    pub elapsed: Duration,
    /// The SBOM recorded for a local disk published to a cloud.
    /// Where the SBOM of the published disk was recorded.
    pub sbom: Option<String>,
}

/// Run `t`. A cloud destination, and a cloud source whose reading creates a temporary
/// disk, need the gate's admission for their context. The store's transfer ledger records
/// the attempt so a killed run's leftovers are removed by the next; a local disk published
/// to a cloud gets its SBOM recorded there too.
pub fn run(
    t: Transfer,
    admitted: &[Admitted],
    store: &Arc<dyn drydock_store::Store>,
    rt: &tokio::runtime::Handle,
    progress: &mut dyn FnMut(Progress) -> bool,
) -> Result<Outcome, TransferError> {
    let ledger = &Ledger::in_store(Arc::clone(store));
    let started = Instant::now();
    let mut removed = Vec::new();
    let Transfer {
        source,
        dest,
        source_name,
        mut virtual_size,
        mut tags,
        concurrency,
        ..
    } = t;
    let admitted_in = |context: &str| admitted.iter().find(|a| a.context() == context);
    let mut local_disk = None;
    // A downloaded source's file, removed when the transfer ends.
    let mut downloaded = None;
    let (mut reader, cloud_disk): (Box<dyn DiskReader>, _) = match source {
        Opened::Local { reader, path } => {
            local_disk = Some(path);
            (reader, None)
        }
        Opened::Cloud {
            provider,
            cref,
            image: _,
        } if super::transfer_in(&provider, &cref)?.streams() => {
            // The image's file, downloaded whole and verified, read by the engine.
            let t = super::transfer_in(&provider, &cref)?;
            let file = tempfile::Builder::new()
                .prefix(".drydock-download-")
                .tempfile()
                .map_err(|e| TransferError::Usage(format!("a temporary file for {cref}: {e}")))?;
            let format = rt.block_on(t.download(&cref.place, &cref.image, file.path()))?;
            tracing::info!("transfer: downloaded {cref} ({format})");
            let reader = convert::open_reader(file.path(), None)?;
            downloaded = Some(file);
            (reader, None)
        }
        Opened::Cloud {
            provider,
            cref,
            image,
        } => {
            let t = super::transfer_in(&provider, &cref)?;
            let token = super::token();
            let creates = t.reading_creates().is_some();
            if creates {
                let Some(a) = admitted_in(&cref.context) else {
                    return Err(TransferError::Usage(format!(
                        "{cref}: the gate has not admitted reading it"
                    )));
                };
                out_removed(&mut removed, ledger, rt, t, a.context())?;
                ledger
                    .record(&Pending {
                        token: token.clone(),
                        context: cref.context.clone(),
                        place: cref.place.clone(),
                        what: format!("read of {}", image.name),
                        started: chrono::Utc::now().to_rfc3339(),
                    })
                    .map_err(ledger_err)?;
            }
            let disk: Arc<dyn CloudDisk> =
                Arc::from(rt.block_on(t.open(&cref.place, &cref.image, &token))?);
            let r = CloudReader::new(disk.clone(), rt.clone(), concurrency);
            (
                Box::new(r) as Box<dyn DiskReader>,
                Some((disk, token, creates)),
            )
        }
    };
    let reader = reader.as_mut();
    // What the cloud reports once the disk is open is exact (a description may round).
    if let Some((disk, _, _)) = &cloud_disk {
        virtual_size = disk.layout().size;
    }
    if downloaded.is_some() {
        virtual_size = reader.info().virtual_size;
    }
    // The destination's part; whatever its outcome, a temporary read disk is given back.
    let written = (|| -> Result<Outcome, TransferError> {
        let mut out = Outcome {
            virtual_size,
            removed,
            ..Outcome::default()
        };
        match dest {
            Destination::Local { path, format } => {
                let sink = convert::sink::Sink::create(&path, false)?;
                let opts = convert::Options::default();
                let mut writer = convert::writer_for(format, sink, virtual_size, &path, &opts)?;
                let (data, sha) = pump_hashed(reader, writer.as_mut(), progress)?;
                let finished = writer.finish()?;
                finished.sink.commit()?;
                tags.insert(
                    provenance::SOURCE.into(),
                    provenance::source_value(&source_name, &sha),
                );
                provenance::write_sidecar(&path, &tags).map_err(|e| {
                    TransferError::Usage(format!("{}: {e}", provenance::sidecar(&path).display()))
                })?;
                out.created = path.display().to_string();
                out.data_bytes = data;
                out.sha256 = sha;
            }
            Destination::Cloud {
                provider,
                mut upload,
                cref,
            } => {
                let t = super::transfer_in(&provider, &cref)?;
                if upload.size != virtual_size {
                    upload.size = virtual_size;
                    rt.block_on(t.plan_upload(&upload))?;
                }
                // The footer describes the final size, known only now.
                if t.needs_vhd_footer() {
                    upload.footer = convert::vhd::make_footer(virtual_size, 2, u64::MAX).to_vec();
                }
                let Some(admitted) = admitted_in(&cref.context) else {
                    return Err(TransferError::Usage(format!(
                        "{cref}: the gate has not admitted this transfer"
                    )));
                };
                out_removed(&mut out.removed, ledger, rt, t, admitted.context())?;
                ledger
                    .record(&Pending {
                        token: upload.token.clone(),
                        context: cref.context.clone(),
                        place: upload.place.clone(),
                        what: upload.name.clone(),
                        started: chrono::Utc::now().to_rfc3339(),
                    })
                    .map_err(ledger_err)?;
                let to = Publish {
                    t,
                    upload: &upload,
                    context: &cref.context,
                    ledger,
                    rt,
                    source_name: &source_name,
                };
                let (image, data, sha, sent) = if t.streams() {
                    to.stream(reader, progress, &mut tags)?
                } else {
                    to.blocks(reader, progress, &mut tags, concurrency)?
                };
                // What the published disk holds, for the Images view and diffs.
                if let Some(disk) = &local_disk {
                    match crate::sbom::record(store.as_ref(), &image, disk) {
                        Ok(p) => out.sbom = Some(p),
                        Err(e) => tracing::warn!("{image}: no SBOM recorded: {e}"),
                    }
                }
                out.created = image;
                out.data_bytes = data;
                out.sha256 = sha;
                out.sent = sent;
            }
        }
        out.tags = tags;
        Ok(out)
    })();
    if let Some((disk, token, creates)) = cloud_disk {
        match rt.block_on(disk.close()) {
            Ok(()) if creates => ledger.clear(&token).map_err(ledger_err)?,
            Ok(()) => {}
            // The ledger keeps the record: the next transfer in that context removes it.
            Err(e) if written.is_err() => tracing::warn!("closing the source: {e}"),
            Err(e) => return Err(e.into()),
        }
    }
    let mut out = written?;
    out.elapsed = started.elapsed();
    Ok(out)
}

/// Sends the engine's bytes to `sink` in pieces of about 1 MiB.
struct Batching<'a> {
    up: &'a dyn StreamUpload,
    rt: &'a tokio::runtime::Handle,
    buf: Vec<u8>,
}

const BATCH: usize = 1 << 20;

impl Batching<'_> {
    fn flush(&mut self) -> convert::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let data = std::mem::replace(&mut self.buf, Vec::with_capacity(BATCH));
        self.rt
            .block_on(self.up.send(data))
            .map_err(|e| convert::ConvertError::Remote(e.to_string()))
    }
}

impl convert::stream::ByteSink for Batching<'_> {
    fn send(&mut self, data: Vec<u8>) -> convert::Result<()> {
        if self.buf.is_empty() && data.len() >= BATCH {
            self.buf = data;
            return self.flush();
        }
        self.buf.extend_from_slice(&data);
        if self.buf.len() >= BATCH {
            self.flush()?;
        }
        Ok(())
    }
}

/// What an upload published: (image id, data bytes, SHA-256, what was sent).
type Published = (String, u64, String, Sent);

/// One upload into a cloud, its ledger record made: the bytes moved by blocks or as one
/// stream, the image registered and tagged with the provenance, the record cleared. On
/// failure what the upload created is removed and the record cleared; if it cannot be
/// removed, the record stays for the next transfer to the context.
struct Publish<'a> {
    t: &'a dyn ImageTransfer,
    upload: &'a drydock_api::transfer::UploadRequest,
    context: &'a str,
    ledger: &'a Ledger,
    rt: &'a tokio::runtime::Handle,
    source_name: &'a str,
}

impl Publish<'_> {
    /// `tags` completed with `drydock:source` for the digest `sha`.
    fn source(&self, tags: &mut std::collections::BTreeMap<String, String>, sha: &str) {
        tags.insert(
            provenance::SOURCE.into(),
            provenance::source_value(self.source_name, sha),
        );
    }

    /// The upload's outcome settled in the ledger: cleared when it succeeded, or when its
    /// leftovers (`resource`) were removed by `abort`.
    fn settle(
        &self,
        result: Result<Published, TransferError>,
        resource: String,
        abort: impl std::future::Future<Output = Result<(), drydock_api::ProviderError>>,
    ) -> Result<Published, TransferError> {
        if result.is_ok() {
            let _ = self.ledger.clear(&self.upload.token);
            return result;
        }
        // Nothing half-made stays: the partial snapshot, disk or image goes.
        match self.rt.block_on(abort) {
            Ok(()) => {
                let _ = self.ledger.clear(&self.upload.token);
            }
            Err(a) => tracing::warn!(
                "transfer {}: could not remove {resource} ({a}); the next transfer to {} removes it",
                self.upload.token,
                self.context
            ),
        }
        result
    }

    /// Blocks that hold data, `concurrency` puts at a time, then the image registered.
    fn blocks(
        &self,
        reader: &mut dyn DiskReader,
        progress: &mut dyn FnMut(Progress) -> bool,
        tags: &mut std::collections::BTreeMap<String, String>,
        concurrency: usize,
    ) -> Result<Published, TransferError> {
        let up: Arc<dyn drydock_api::transfer::CloudUpload> =
            Arc::from(self.rt.block_on(self.t.start_upload(self.upload))?);
        tracing::info!("transfer {}: writing {}", self.upload.token, up.resource());
        let mut writer = CloudWriter::new(up.clone(), self.rt.clone(), concurrency);
        let pumped = pump_hashed(reader, &mut writer, progress);
        let drained = writer.drain();
        let result = pumped.and_then(|(data, sha)| {
            let sent = drained?;
            self.source(tags, &sha);
            let image = self.rt.block_on(up.complete(sent.puts, tags))?;
            Ok((image, data, sha, sent))
        });
        self.settle(result, up.resource(), up.abort())
    }

    /// The disk as one stream in the format the cloud takes (Glance), closed before the
    /// digest is awaited so the cloud verifies and stores it meanwhile.
    fn stream(
        &self,
        reader: &mut dyn DiskReader,
        progress: &mut dyn FnMut(Progress) -> bool,
        tags: &mut std::collections::BTreeMap<String, String>,
    ) -> Result<Published, TransferError> {
        let rt = self.rt;
        let up = rt.block_on(self.t.start_stream(self.upload))?;
        tracing::info!("transfer {}: writing {}", self.upload.token, up.resource());
        let result = (|| -> Result<Published, TransferError> {
            let sink = Batching {
                up: up.as_ref(),
                rt,
                buf: Vec::with_capacity(BATCH),
            };
            let size = reader.info().virtual_size;
            let mut writer = match up.format() {
                StreamFormat::Raw => convert::stream::StreamWriter::raw(sink),
                StreamFormat::Qcow2 => {
                    let clusters = convert::stream::allocated_clusters(reader)?;
                    convert::stream::StreamWriter::qcow2(sink, size, clusters)?
                }
            };
            up.expect_len(writer.total_len(size));
            let (data, digest) = pump_hashing(reader, &mut writer, progress)?;
            let sent = writer.sent;
            writer.into_sink().flush()?;
            rt.block_on(up.close());
            let sha = digest.finish()?;
            self.source(tags, &sha);
            let image = rt.block_on(up.complete(sent, tags))?;
            let sent = Sent {
                puts: 1,
                bytes: sent,
            };
            Ok((image, data, sha, sent))
        })();
        self.settle(result, up.resource(), up.abort())
    }
}

fn ledger_err(e: drydock_store::StoreError) -> TransferError {
    TransferError::Usage(format!("transfer ledger: {e}"))
}

/// Killed transfers in `context` leave snapshots or disks: remove them first.
fn out_removed(
    removed: &mut Vec<String>,
    ledger: &Ledger,
    rt: &tokio::runtime::Handle,
    t: &dyn ImageTransfer,
    context: &str,
) -> Result<(), TransferError> {
    for p in ledger.left_in(context) {
        removed.extend(rt.block_on(t.remove_leftovers(&p.place, &p.token))?);
        ledger.clear(&p.token).map_err(ledger_err)?;
    }
    Ok(())
}
