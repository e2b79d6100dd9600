//! Checking data against what Glance records of it: the SHA-512 `os_hash_value` (Glance
//! since Rocky) or the legacy MD5 `checksum`, with the size; computed on a thread of its
//! own for an upload, so hashing never holds the stream back.

use crate::ops::err;
use crate::records::GlanceImage;
use drydock_api::{ProviderError, ProviderErrorKind};

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Which digest the site records: SHA-512 (`os_hash_value`, Glance since Rocky) or only
/// the legacy MD5 `checksum`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Algo {
    Sha512,
    Md5,
}

/// The digest of a stream of bytes, as Glance records it.
enum Digest {
    Sha512(ring::digest::Context),
    Md5(md5::Md5),
}

pub(crate) struct Digests {
    digest: Digest,
    /// Bytes hashed.
    pub(crate) len: u64,
}

impl Digests {
    pub(crate) fn new(algo: Algo) -> Digests {
        Digests {
            digest: match algo {
                Algo::Sha512 => Digest::Sha512(ring::digest::Context::new(&ring::digest::SHA512)),
                Algo::Md5 => Digest::Md5(md5::Md5::default()),
            },
            len: 0,
        }
    }

    pub(crate) fn update(&mut self, b: &[u8]) {
        match &mut self.digest {
            Digest::Sha512(c) => c.update(b),
            Digest::Md5(m) => md5::Digest::update(m, b),
        }
        self.len += b.len() as u64;
    }

    /// Checks `img` (after its data was taken) against what passed.
    pub(crate) fn verify(self, img: &GlanceImage, call: &str) -> Result<(), ProviderError> {
        let mismatch = |what: &str, theirs: &str, ours: &str| {
            err(
                ProviderErrorKind::Other,
                call,
                &img.id,
                format!("the image's {what} is {theirs}, the bytes' {ours}"),
                "the data was corrupted on the way; the image is not used",
            )
        };
        if let Some(size) = img.size {
            if size != self.len {
                return Err(mismatch("size", &size.to_string(), &self.len.to_string()));
            }
        }
        let none = || {
            err(
                ProviderErrorKind::Other,
                call,
                &img.id,
                "Glance recorded no digest of the data to compare".into(),
                "the data cannot be verified; check the image by hand",
            )
        };
        match self.digest {
            Digest::Sha512(c) => {
                let ours = hex(c.finish().as_ref());
                match (img.os_hash_algo.as_deref(), img.os_hash_value.as_deref()) {
                    (Some("sha512"), Some(v)) if v == ours => Ok(()),
                    (Some("sha512"), Some(v)) => Err(mismatch("os_hash_value", v, &ours)),
                    _ => Err(none()),
                }
            }
            Digest::Md5(m) => {
                let ours = hex(&md5::Digest::finalize(m));
                match img.property("checksum") {
                    Some(c) if c == ours => Ok(()),
                    Some(c) => Err(mismatch("checksum", &c, &ours)),
                    None => Err(none()),
                }
            }
        }
    }
}

/// Digests bytes on a thread of its own, so hashing never holds the stream back; at most
/// `LAG` pieces wait for it.
pub(crate) struct Hasher {
    tx: Option<std::sync::mpsc::SyncSender<bytes::Bytes>>,
    done: Option<std::thread::JoinHandle<Digests>>,
}

/// Pieces (of about 1 MiB) the hashing thread may fall behind by.
const LAG: usize = 512;

impl Hasher {
    pub(crate) fn start(algo: Algo) -> Hasher {
        let (tx, rx) = std::sync::mpsc::sync_channel::<bytes::Bytes>(LAG);
        let done = std::thread::spawn(move || {
            let mut d = Digests::new(algo);
            while let Ok(b) = rx.recv() {
                d.update(&b);
            }
            d
        });
        Hasher {
            tx: Some(tx),
            done: Some(done),
        }
    }

    /// Hands `b` to the thread (waiting only when it is `LAG` pieces behind).
    pub(crate) async fn update(&self, b: bytes::Bytes) {
        let Some(tx) = &self.tx else { return };
        match tx.try_send(b) {
            Ok(()) => {}
            Err(std::sync::mpsc::TrySendError::Full(b)) => {
                let tx = tx.clone();
                let _ = tokio::task::spawn_blocking(move || tx.send(b)).await;
            }
            Err(std::sync::mpsc::TrySendError::Disconnected(_)) => {}
        }
    }

    /// The digests of everything handed over.
    pub(crate) async fn finish(&mut self) -> Option<Digests> {
        drop(self.tx.take());
        let done = self.done.take()?;
        tokio::task::spawn_blocking(move || done.join().ok())
            .await
            .ok()
            .flatten()
    }
}
