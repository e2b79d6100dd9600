//! A cloud upload as the pump's writer: each chunk's blocks that hold data become puts,
//! run on the runtime `concurrency` at a time (a semaphore bounds the bytes in flight);
//! all-zero blocks are never sent. The first failure stops the pump at its next chunk.

use crate::convert::disk::{Chunk, ChunkWriter};
use crate::convert::{ConvertError, Result};
use drydock_api::transfer::CloudUpload;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::Semaphore;

/// Writes chunks into a [`CloudUpload`].
pub struct CloudWriter {
    upload: Arc<dyn CloudUpload>,
    rt: tokio::runtime::Handle,
    permits: Arc<Semaphore>,
    concurrency: usize,
    /// Puts made.
    puts: Arc<AtomicU64>,
    /// Bytes sent.
    sent: Arc<AtomicU64>,
    failure: Arc<Mutex<Option<String>>>,
}

/// What an upload sent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sent {
    pub puts: u64,
    pub bytes: u64,
}

impl CloudWriter {
    pub fn new(
        upload: Arc<dyn CloudUpload>,
        rt: tokio::runtime::Handle,
        concurrency: usize,
    ) -> CloudWriter {
        let concurrency = concurrency.max(1);
        CloudWriter {
            upload,
            rt,
            permits: Arc::new(Semaphore::new(concurrency)),
            concurrency,
            puts: Arc::default(),
            sent: Arc::default(),
            failure: Arc::default(),
        }
    }

    fn failed(&self) -> Option<String> {
        self.failure.lock().map(|f| f.clone()).unwrap_or(None)
    }

    fn put(&self, offset: u64, data: Vec<u8>) -> Result<()> {
        if let Some(e) = self.failed() {
            return Err(ConvertError::Remote(e));
        }
        let permits = self.permits.clone();
        let permit = self
            .rt
            .block_on(permits.acquire_owned())
            .map_err(|_| ConvertError::Remote("the upload was closed".into()))?;
        let (upload, puts, sent, failure) = (
            self.upload.clone(),
            self.puts.clone(),
            self.sent.clone(),
            self.failure.clone(),
        );
        let len = data.len() as u64;
        self.rt.spawn(async move {
            match upload.put(offset, data).await {
                Ok(()) => {
                    puts.fetch_add(1, Ordering::Relaxed);
                    sent.fetch_add(len, Ordering::Relaxed);
                }
                Err(e) => {
                    if let Ok(mut f) = failure.lock() {
                        f.get_or_insert_with(|| e.to_string());
                    }
                }
            }
            drop(permit);
        });
        Ok(())
    }

    /// Wait for every put in flight; the first failure, if any, is the error.
    pub fn drain(&self) -> Result<Sent> {
        let permits = self.permits.clone();
        let n = self.concurrency as u32;
        let all = self
            .rt
            .block_on(permits.acquire_many_owned(n))
            .map_err(|_| ConvertError::Remote("the upload was closed".into()))?;
        drop(all);
        if let Some(e) = self.failed() {
            return Err(ConvertError::Remote(e));
        }
        Ok(Sent {
            puts: self.puts.load(Ordering::Relaxed),
            bytes: self.sent.load(Ordering::Relaxed),
        })
    }
}

impl ChunkWriter for CloudWriter {
    fn granularity(&self) -> usize {
        self.upload.block() as usize
    }

    /// A cloud disk reads as zeros where nothing was put.
    fn skip(&mut self, _offset: u64, _len: u64) -> Result<bool> {
        Ok(true)
    }

    fn write(&mut self, chunk: &Chunk) -> Result<()> {
        let block = self.upload.block() as usize;
        for (rel, n) in chunk.data_blocks(block) {
            if self.upload.sparse_blocks() {
                for (r, len) in chunk.data_runs(rel, n) {
                    self.put(chunk.offset + r as u64, chunk.bytes(r, len).to_vec())?;
                }
            } else {
                self.put(chunk.offset + rel as u64, chunk.bytes(rel, n).to_vec())?;
            }
        }
        Ok(())
    }
}
