//! Long-running calls: an answer of 200/204 is done; a 202 is polled at its
//! `Azure-AsyncOperation` (else `Location`) URL until `Succeeded`, `Failed`/`Canceled`, or
//! ten minutes — the legacy crate returns DELETEs and POST actions without polling.

use crate::credential::SCOPE;
use crate::provider::AzureProvider;
use drydock_api::{ProviderError, ProviderErrorKind};
use std::time::Duration;

impl AzureProvider {
    /// A long-running call's answer: done (200/204), or accepted (202) and then polled at
    /// its `Azure-AsyncOperation` (else `Location`) URL; anything else is an error.
    pub(crate) async fn finish(
        &self,
        rsp: azure_core::Response,
        verb: &str,
        call: &str,
        id: &str,
    ) -> Result<(), ProviderError> {
        let status = u16::from(rsp.status());
        match status {
            200 | 204 => Ok(()),
            202 => {
                let url = rsp
                    .headers()
                    .get_optional_string(&azure_core::headers::HeaderName::from_static(
                        "azure-asyncoperation",
                    ))
                    .or_else(|| {
                        rsp.headers()
                            .get_optional_string(&azure_core::headers::LOCATION)
                    });
                match url {
                    Some(url) => self.poll(&url, call, id).await,
                    None => Ok(()),
                }
            }
            s => {
                // ARM's error body: {"error": {"code", "message"}}.
                let body = rsp.into_body().collect().await.unwrap_or_default();
                let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                let code = v["error"]["code"].as_str().unwrap_or("");
                let message = v["error"]["message"].as_str().unwrap_or("");
                let hint = match (s, code) {
                    (409, "ScopeLocked") => "remove the resource lock first (it blocks deletes)",
                    (409, _) => "another operation holds the resource; retry when it is done",
                    _ => "see the Azure activity log for the resource",
                };
                Err(ProviderError::new(
                    match s {
                        404 => ProviderErrorKind::NotFound,
                        401 | 403 => ProviderErrorKind::Auth,
                        _ => ProviderErrorKind::Rejected,
                    },
                    format!("{verb} ({call})"),
                    id,
                    format!("HTTP {s} {code}: {message}"),
                    hint,
                ))
            }
        }
    }

    async fn poll(&self, url: &str, call: &str, id: &str) -> Result<(), ProviderError> {
        let http = azure_core::new_http_client();
        let deadline = std::time::Instant::now() + Duration::from_secs(600);
        let url = azure_core::Url::parse(url).map_err(|e| {
            ProviderError::new(
                ProviderErrorKind::Other,
                call,
                id,
                format!("operation URL: {e}"),
                "",
            )
        })?;
        loop {
            let token = self
                .credential()
                .get_token(&[SCOPE])
                .await
                .map_err(|e| self.map_err(&e, call, id))?;
            let mut req = azure_core::Request::new(url.clone(), azure_core::Method::Get);
            req.insert_header(
                azure_core::headers::AUTHORIZATION,
                format!("Bearer {}", token.token.secret()),
            );
            let rsp = http
                .execute_request(&req)
                .await
                .map_err(|e| self.map_err(&e, call, id))?;
            let body = rsp
                .into_body()
                .collect()
                .await
                .map_err(|e| self.map_err(&e, call, id))?;
            let status = serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v["status"].as_str().map(String::from))
                .unwrap_or_default();
            match status.as_str() {
                "Succeeded" => return Ok(()),
                "Failed" | "Canceled" => {
                    return Err(ProviderError::new(
                        ProviderErrorKind::Rejected,
                        call,
                        id,
                        format!(
                            "the operation ended {status}: {}",
                            String::from_utf8_lossy(&body)
                        ),
                        "see the Azure activity log for the resource",
                    ))
                }
                _ if std::time::Instant::now() > deadline => {
                    return Err(ProviderError::new(
                        ProviderErrorKind::Transient,
                        call,
                        id,
                        "the operation did not finish within 10 minutes",
                        "check it in the Azure portal, then rescan",
                    ))
                }
                _ => tokio::time::sleep(Duration::from_secs(1)).await,
            }
        }
    }
}
