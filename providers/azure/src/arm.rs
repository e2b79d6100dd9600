//! Raw Resource Manager calls for what the typed crate makes awkward (managed disks and their
//! access grants): one request with the subscription's token, throttling and server faults
//! retried, ARM error bodies turned into named errors, long-running answers followed.

use crate::credential::SCOPE;
use crate::provider::AzureProvider;
use azure_core::{Method, Request, Url};
use drydock_api::{ProviderError, ProviderErrorKind};
use serde_json::Value;
use std::time::Duration;

/// API version of managed disks.
pub const DISKS_API: &str = "2024-03-02";
/// API version of galleries.
pub const GALLERY_API: &str = "2023-07-03";

/// An answer: status, the URL to poll (if any) and the JSON body.
pub struct Answer {
    pub status: u16,
    pub poll: Option<String>,
    pub body: Value,
}

fn header(rsp: &azure_core::Response, name: &'static str) -> Option<String> {
    rsp.headers()
        .get_optional_string(&azure_core::headers::HeaderName::from_static(name))
}

impl AzureProvider {
    /// `method` on `path` (an ARM path or an absolute URL) at `api`, retried on 429/5xx.
    pub(crate) async fn arm(
        &self,
        method: Method,
        path: &str,
        api: &str,
        body: Option<&Value>,
        call: &str,
    ) -> Result<Answer, ProviderError> {
        let url = if path.starts_with("http") {
            Url::parse(path)
        } else {
            let mut u = self.client_endpoint();
            u.set_path(path);
            u.set_query(Some(&format!("api-version={api}")));
            Ok(u)
        }
        .map_err(|e| ProviderError::new(ProviderErrorKind::Other, call, path, e.to_string(), ""))?;
        let http = azure_core::new_http_client();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let token = self
                .credential()
                .get_token(&[SCOPE])
                .await
                .map_err(|e| self.map_err(&e, call, path))?;
            let mut req = Request::new(url.clone(), method);
            req.insert_header(
                azure_core::headers::AUTHORIZATION,
                format!("Bearer {}", token.token.secret()),
            );
            if let Some(b) = body {
                req.insert_header(azure_core::headers::CONTENT_TYPE, "application/json");
                req.set_body(serde_json::to_vec(b).unwrap_or_default());
            }
            let rsp = http
                .execute_request(&req)
                .await
                .map_err(|e| self.map_err(&e, call, path))?;
            let status = u16::from(rsp.status());
            let poll = header(&rsp, "azure-asyncoperation").or_else(|| header(&rsp, "location"));
            let retry_after = header(&rsp, "retry-after").and_then(|v| v.parse::<u64>().ok());
            let bytes = rsp
                .into_body()
                .collect()
                .await
                .map_err(|e| self.map_err(&e, call, path))?;
            let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            if (status == 429 || status >= 500) && attempt < 5 {
                let wait = retry_after.unwrap_or(1 << attempt).min(30);
                tokio::time::sleep(Duration::from_secs(wait)).await;
                continue;
            }
            if status >= 400 {
                let code = body["error"]["code"].as_str().unwrap_or("");
                let message = body["error"]["message"].as_str().unwrap_or("");
                return Err(ProviderError::new(
                    match status {
                        404 => ProviderErrorKind::NotFound,
                        401 | 403 => ProviderErrorKind::Auth,
                        429 | 500.. => ProviderErrorKind::Transient,
                        _ => ProviderErrorKind::Rejected,
                    },
                    call,
                    path,
                    format!("HTTP {status} {code}: {message}"),
                    match status {
                        401 | 403 => "check the credential and its role on the resource group",
                        404 => "check the name, the resource group and the location",
                        409 => "another operation holds the resource; retry when it is done",
                        _ => "see the Azure activity log for the resource",
                    },
                ));
            }
            return Ok(Answer { status, poll, body });
        }
    }

    /// GET a resource; `None` when it does not exist.
    pub(crate) async fn arm_get(
        &self,
        path: &str,
        api: &str,
        call: &str,
    ) -> Result<Option<Value>, ProviderError> {
        match self.arm(Method::Get, path, api, None, call).await {
            Ok(a) => Ok(Some(a.body)),
            Err(e) if e.kind == ProviderErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// PUT a resource and wait until its `provisioningState` is final.
    pub(crate) async fn arm_put(
        &self,
        path: &str,
        api: &str,
        body: &Value,
        call: &str,
    ) -> Result<Value, ProviderError> {
        let mut got = self
            .arm(Method::Put, path, api, Some(body), call)
            .await?
            .body;
        for _ in 0..600 {
            match got["properties"]["provisioningState"]
                .as_str()
                .unwrap_or("Succeeded")
            {
                "Succeeded" => return Ok(got),
                "Failed" | "Canceled" => {
                    return Err(ProviderError::new(
                        ProviderErrorKind::Rejected,
                        call,
                        path,
                        format!(
                            "provisioning ended {}",
                            got["properties"]["provisioningState"]
                        ),
                        "see the Azure activity log for the resource",
                    ))
                }
                _ => {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    got = self.arm(Method::Get, path, api, None, call).await?.body;
                }
            }
        }
        Err(ProviderError::new(
            ProviderErrorKind::Transient,
            call,
            path,
            "provisioning did not finish within 10 minutes",
            "check it in the Azure portal",
        ))
    }

    /// A POST action, followed to its end; returns the operation's result body (a 202 is
    /// polled at its operation URL, whose final answer carries the result or `output`).
    pub(crate) async fn arm_action(
        &self,
        path: &str,
        api: &str,
        body: &Value,
        call: &str,
    ) -> Result<Value, ProviderError> {
        let a = self.arm(Method::Post, path, api, Some(body), call).await?;
        match a.poll.filter(|_| a.status == 202) {
            Some(url) => self.follow(url, path, api, call).await,
            None => Ok(a.body),
        }
    }

    /// Poll an operation URL until it ends (ten minutes at most); its result.
    async fn follow(
        &self,
        mut url: String,
        path: &str,
        api: &str,
        call: &str,
    ) -> Result<Value, ProviderError> {
        for _ in 0..600 {
            let p = self.arm(Method::Get, &url, api, None, call).await?;
            if p.status == 202 {
                if let Some(next) = p.poll {
                    url = next;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
            match p.body["status"].as_str() {
                Some("InProgress") => tokio::time::sleep(Duration::from_secs(1)).await,
                Some("Failed") | Some("Canceled") => {
                    return Err(ProviderError::new(
                        ProviderErrorKind::Rejected,
                        call,
                        path,
                        format!("the operation ended {}", p.body),
                        "see the Azure activity log for the resource",
                    ))
                }
                Some("Succeeded") => {
                    return Ok(p
                        .body
                        .get("properties")
                        .and_then(|v| v.get("output"))
                        .cloned()
                        .unwrap_or(p.body))
                }
                _ => return Ok(p.body),
            }
        }
        Err(ProviderError::new(
            ProviderErrorKind::Transient,
            call,
            path,
            "the operation did not finish within 10 minutes",
            "check it in the Azure portal",
        ))
    }

    /// DELETE a resource and wait for it to go (gone already is fine).
    pub(crate) async fn arm_delete(
        &self,
        path: &str,
        api: &str,
        call: &str,
    ) -> Result<(), ProviderError> {
        match self.arm(Method::Delete, path, api, None, call).await {
            Ok(a) => match a.poll.filter(|_| a.status == 202) {
                Some(url) => self.follow(url, path, api, call).await.map(|_| ()),
                None => Ok(()),
            },
            Err(e) if e.kind == ProviderErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
        }
    }
}
