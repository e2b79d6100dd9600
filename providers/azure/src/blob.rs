//! A page blob behind a SAS URL (a managed disk's upload or read grant): Put Page with a
//! Content-MD5 the service verifies, Get Page Ranges, ranged reads verified against the
//! range's MD5, and the blob's size. Plain HTTP on the SAS URL, retried on 429/5xx.

use azure_core::{Method, Request, Url};
use base64::Engine;
use drydock_api::{ProviderError, ProviderErrorKind};
use md5::{Digest, Md5};
use std::time::Duration;

const VERSION: &str = "2019-12-12";
/// The largest Put Page and the largest range whose MD5 the service returns.
pub const MAX_PAGE_WRITE: u64 = 4 << 20;

/// A page blob reached through a SAS URL.
pub struct PageBlob {
    url: Url,
    /// The disk it belongs to, for messages (never the SAS, which is a secret).
    pub name: String,
    http: std::sync::Arc<dyn azure_core::HttpClient>,
}

fn md5_b64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(Md5::digest(data))
}

fn err(kind: ProviderErrorKind, call: &str, what: &str, msg: String) -> ProviderError {
    ProviderError::new(
        kind,
        call,
        what,
        msg,
        match kind {
            ProviderErrorKind::Auth => {
                "the access grant expired or was revoked; rerun the transfer"
            }
            _ => "rerun the transfer; interrupted transfers are cleaned up by the next",
        },
    )
}

impl PageBlob {
    pub fn new(sas: &str, name: &str) -> Result<PageBlob, ProviderError> {
        let url = Url::parse(sas).map_err(|e| {
            err(
                ProviderErrorKind::Rejected,
                "beginGetAccess",
                name,
                format!("the access SAS is not a URL: {e}"),
            )
        })?;
        Ok(PageBlob {
            url,
            name: name.to_string(),
            http: azure_core::new_http_client(),
        })
    }

    fn with_query(&self, extra: &str) -> Url {
        let mut u = self.url.clone();
        if !extra.is_empty() {
            let q = match u.query() {
                Some(q) => format!("{q}&{extra}"),
                None => extra.to_string(),
            };
            u.set_query(Some(&q));
        }
        u
    }

    /// One request, retried on throttling and server faults; returns the response after
    /// its body was read.
    async fn send(
        &self,
        call: &str,
        method: Method,
        extra: &str,
        headers: &[(&'static str, String)],
        body: Option<&[u8]>,
    ) -> Result<(u16, azure_core::headers::Headers, Vec<u8>), ProviderError> {
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let mut req = Request::new(self.with_query(extra), method);
            req.insert_header("x-ms-version", VERSION);
            for (k, v) in headers {
                req.insert_header(*k, v.clone());
            }
            match body {
                Some(b) => req.set_body(b.to_vec()),
                None if method == Method::Put => req.insert_header("content-length", "0"),
                None => {}
            }
            let result = self.http.execute_request(&req).await;
            // A connection or body failure is retried like a server fault.
            let received = match result {
                Ok(rsp) => {
                    let status = u16::from(rsp.status());
                    let hdrs = rsp.headers().clone();
                    rsp.into_body()
                        .collect()
                        .await
                        .map(|b| (status, hdrs, b.to_vec()))
                }
                Err(e) => Err(e),
            };
            let (status, hdrs, bytes) = match received {
                Ok(r) => r,
                Err(e) if attempt < 5 => {
                    tracing::debug!("{call} on {}: {e}; retrying", self.name);
                    tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
                    continue;
                }
                Err(e) => {
                    return Err(err(
                        ProviderErrorKind::Transient,
                        call,
                        &self.name,
                        e.to_string(),
                    ))
                }
            };
            if (status == 429 || status >= 500) && attempt < 5 {
                tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
                continue;
            }
            if status >= 400 {
                let text = String::from_utf8_lossy(&bytes);
                let code = text
                    .split("<Code>")
                    .nth(1)
                    .and_then(|t| t.split("</Code>").next())
                    .unwrap_or("");
                let kind = match status {
                    401 | 403 => ProviderErrorKind::Auth,
                    404 => ProviderErrorKind::NotFound,
                    _ => ProviderErrorKind::Rejected,
                };
                return Err(err(kind, call, &self.name, format!("HTTP {status} {code}")));
            }
            return Ok((status, hdrs, bytes));
        }
    }

    /// Put Page: `data` (512-byte multiple, at most 4 MiB) at `offset`, MD5-verified.
    pub async fn put_page(&self, offset: u64, data: &[u8]) -> Result<(), ProviderError> {
        let end = offset + data.len() as u64 - 1;
        self.send(
            "Put Page",
            Method::Put,
            "comp=page",
            &[
                ("x-ms-page-write", "update".into()),
                ("x-ms-range", format!("bytes={offset}-{end}")),
                ("content-md5", md5_b64(data)),
            ],
            Some(data),
        )
        .await?;
        Ok(())
    }

    /// The blob's length in bytes.
    pub async fn size(&self) -> Result<u64, ProviderError> {
        let (_, h, _) = self
            .send("Get Blob Properties", Method::Head, "", &[], None)
            .await?;
        h.get_optional_string(&azure_core::headers::HeaderName::from_static(
            "content-length",
        ))
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| {
            err(
                ProviderErrorKind::Rejected,
                "Get Blob Properties",
                &self.name,
                "no Content-Length".into(),
            )
        })
    }

    /// Get Page Ranges: the written ranges as (offset, length), sorted.
    pub async fn page_ranges(&self) -> Result<Vec<(u64, u64)>, ProviderError> {
        let (_, _, body) = self
            .send("Get Page Ranges", Method::Get, "comp=pagelist", &[], None)
            .await?;
        let text = String::from_utf8_lossy(&body);
        let mut out = Vec::new();
        for part in text.split("<PageRange>").skip(1) {
            let field = |name: &str| -> Option<u64> {
                part.split(&format!("<{name}>"))
                    .nth(1)?
                    .split(&format!("</{name}>"))
                    .next()?
                    .trim()
                    .parse()
                    .ok()
            };
            if let (Some(s), Some(e)) = (field("Start"), field("End")) {
                if e >= s {
                    out.push((s, e - s + 1));
                }
            }
        }
        out.sort_unstable();
        Ok(out)
    }

    /// Read `len` bytes at `offset`; ranges of at most 4 MiB are checked against the MD5
    /// the service computes for them.
    pub async fn read(&self, offset: u64, len: u64) -> Result<Vec<u8>, ProviderError> {
        let mut headers = vec![(
            "x-ms-range",
            format!("bytes={}-{}", offset, offset + len - 1),
        )];
        let verify = len <= MAX_PAGE_WRITE;
        if verify {
            headers.push(("x-ms-range-get-content-md5", "true".into()));
        }
        let (_, h, body) = self
            .send("Get Blob", Method::Get, "", &headers, None)
            .await?;
        if body.len() as u64 != len {
            return Err(err(
                ProviderErrorKind::Transient,
                "Get Blob",
                &self.name,
                format!("{} bytes at {offset}, {len} asked for", body.len()),
            ));
        }
        if verify {
            let sum =
                h.get_optional_string(&azure_core::headers::HeaderName::from_static("content-md5"));
            if let Some(sum) = sum {
                if sum != md5_b64(&body) {
                    return Err(err(
                        ProviderErrorKind::Transient,
                        "Get Blob",
                        &self.name,
                        format!("MD5 mismatch on {len} bytes at {offset}"),
                    ));
                }
            }
        }
        Ok(body)
    }
}
