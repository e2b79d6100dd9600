//! A Keystone v3 session: the token (password, token or application-credential auth, taken
//! again before it expires or when a service answers 401), the service catalog that decides
//! every endpoint (type, interface, region), and the one HTTP call every service module
//! makes, which names the call and the resource in its errors, retries throttling and
//! server faults, and counts requests.

use crate::clouds::{Auth, Project};
use crate::error;
use chrono::{DateTime, Duration, Utc};
use drydock_api::{ProviderError, ProviderErrorKind};
use serde::Deserialize;
use std::sync::atomic::{AtomicU64, Ordering};

/// Nova's microversion drydock speaks: embedded flavors (2.47), server tags (2.26) and
/// createImage answering the image id (2.45).
pub const NOVA_MICROVERSION: &str = "2.60";

/// How long before its expiry a token is renewed.
const RENEW_BEFORE: i64 = 300;

/// What to call Keystone with and how to pick endpoints.
#[derive(Clone, Debug)]
pub struct Login {
    /// Keystone's v3 root (`…/v3`).
    pub auth_url: String,
    pub auth: Auth,
    /// `public`, `internal` or `admin`.
    pub interface: String,
}

impl Login {
    /// `auth_url` as written in `clouds.yaml` (with or without `/v3`), normalised.
    pub fn new(auth_url: &str, auth: Auth, interface: &str) -> Login {
        let base = auth_url.trim_end_matches('/');
        let auth_url = if base.ends_with("/v3") {
            base.to_string()
        } else {
            format!("{base}/v3")
        };
        Login {
            auth_url,
            auth,
            interface: if interface.is_empty() {
                "public".into()
            } else {
                interface.to_string()
            },
        }
    }
}

#[derive(Deserialize, Clone, Debug)]
pub(crate) struct Endpoint {
    pub interface: String,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub region_id: Option<String>,
    pub url: String,
}

#[derive(Deserialize, Clone, Debug)]
pub(crate) struct Service {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub endpoints: Vec<Endpoint>,
}

#[derive(Deserialize)]
struct TokenBody {
    token: TokenInfo,
}

#[derive(Deserialize)]
struct TokenInfo {
    expires_at: DateTime<Utc>,
    #[serde(default)]
    catalog: Vec<Service>,
    #[serde(default)]
    project: Option<ProjectRef>,
}

#[derive(Deserialize)]
struct ProjectRef {
    id: String,
}

#[derive(Clone)]
struct Token {
    value: String,
    expires: DateTime<Utc>,
    catalog: Vec<Service>,
    project: String,
}

/// One Keystone session of a context.
pub struct Session {
    http: reqwest::Client,
    login: Login,
    /// The context, for messages.
    pub context: String,
    token: tokio::sync::Mutex<Option<Token>>,
    requests: AtomicU64,
}

/// The service types a catalog may list the block-storage service under.
const VOLUME_TYPES: [&str; 3] = ["volumev3", "block-storage", "volume"];

impl Session {
    pub fn new(context: &str, login: Login) -> Result<Session, ProviderError> {
        let http = reqwest::Client::builder()
            .connect_timeout(std::time::Duration::from_secs(10))
            .read_timeout(std::time::Duration::from_secs(120))
            .pool_max_idle_per_host(32)
            .user_agent(concat!("drydock/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                ProviderError::new(
                    ProviderErrorKind::Other,
                    "build HTTP client",
                    context,
                    e.to_string(),
                    "",
                )
            })?;
        Ok(Session {
            http,
            login,
            context: context.to_string(),
            token: tokio::sync::Mutex::new(None),
            requests: AtomicU64::new(0),
        })
    }

    /// Requests made so far (the token's included).
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    fn auth_body(&self) -> serde_json::Value {
        use serde_json::json;
        let scope = |p: &Project| match p {
            Project::Id(id) => json!({"project": {"id": id}}),
            Project::Named { name, domain } => {
                json!({"project": {"name": name, "domain": {"name": domain}}})
            }
        };
        let (identity, scope) = match &self.login.auth {
            Auth::Password {
                username,
                password,
                user_domain,
                project,
            } => (
                json!({"methods": ["password"], "password": {"user": {
                    "name": username, "password": password, "domain": {"name": user_domain}}}}),
                Some(scope(project)),
            ),
            Auth::Token { token, project } => (
                json!({"methods": ["token"], "token": {"id": token}}),
                Some(scope(project)),
            ),
            // An application credential carries its own project.
            Auth::ApplicationCredential { id, secret } => (
                json!({"methods": ["application_credential"],
                       "application_credential": {"id": id, "secret": secret}}),
                None,
            ),
        };
        let mut auth = json!({ "identity": identity });
        if let Some(s) = scope {
            auth["scope"] = s;
        }
        json!({ "auth": auth })
    }

    async fn authenticate(&self) -> Result<Token, ProviderError> {
        let url = format!("{}/auth/tokens", self.login.auth_url);
        let call = "POST /v3/auth/tokens";
        self.requests.fetch_add(1, Ordering::Relaxed);
        let resp = self
            .http
            .post(&url)
            .json(&self.auth_body())
            .send()
            .await
            .map_err(|e| error::transport(&e, call, &self.login.auth_url))?;
        let status = resp.status();
        let header = resp
            .headers()
            .get("X-Subject-Token")
            .and_then(|v| v.to_str().ok())
            .map(String::from);
        let body = resp
            .bytes()
            .await
            .map_err(|e| error::transport(&e, call, &self.login.auth_url))?;
        if !status.is_success() {
            let mut e = error::status(status.as_u16(), &body, call, &self.context);
            if e.kind == ProviderErrorKind::Auth {
                e.hint = format!(
                    "Keystone at {} refused the {}; check the cloud's credentials",
                    self.login.auth_url,
                    self.describe_auth()
                );
            }
            return Err(e);
        }
        let value = header.ok_or_else(|| {
            ProviderError::new(
                ProviderErrorKind::Other,
                call,
                &self.context,
                "Keystone answered without an X-Subject-Token header",
                "check auth_url points at Keystone v3",
            )
        })?;
        let info: TokenBody = error::json(&body, call, &self.context)?;
        Ok(Token {
            value,
            expires: info.token.expires_at,
            catalog: info.token.catalog,
            project: info.token.project.map(|p| p.id).unwrap_or_default(),
        })
    }

    fn describe_auth(&self) -> &'static str {
        match self.login.auth {
            Auth::Password { .. } => "password",
            Auth::Token { .. } => "token",
            Auth::ApplicationCredential { .. } => "application credential",
        }
    }

    /// The current token, taken (again) when there is none or it is about to expire.
    async fn token(&self, renew: bool) -> Result<Token, ProviderError> {
        let mut held = self.token.lock().await;
        if let Some(t) = held.as_ref() {
            if !renew && t.expires - Duration::seconds(RENEW_BEFORE) > Utc::now() {
                return Ok(t.clone());
            }
        }
        let t = self.authenticate().await?;
        *held = Some(t.clone());
        Ok(t)
    }

    /// The project the token is scoped to.
    pub async fn project(&self) -> Result<String, ProviderError> {
        Ok(self.token(false).await?.project)
    }

    /// The regions the catalog offers `kind` in (for the login's interface).
    pub async fn regions(&self, kind: &str) -> Result<Vec<String>, ProviderError> {
        let t = self.token(false).await?;
        let mut out: Vec<String> = t
            .catalog
            .iter()
            .filter(|s| s.kind == kind)
            .flat_map(|s| &s.endpoints)
            .filter(|e| e.interface == self.login.interface)
            .filter_map(|e| e.region_id.clone().or_else(|| e.region.clone()))
            .collect();
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// The URL of service `kind` (`image`, `compute`, `volume`) in `region`, by the
    /// catalog, without a trailing slash.
    pub async fn endpoint(&self, kind: &str, region: &str) -> Result<String, ProviderError> {
        let t = self.token(false).await?;
        let kinds: &[&str] = if kind == "volume" {
            &VOLUME_TYPES
        } else {
            std::slice::from_ref(&kind)
        };
        let found = kinds.iter().find_map(|k| {
            t.catalog
                .iter()
                .filter(|s| s.kind == *k)
                .flat_map(|s| &s.endpoints)
                .find(|e| {
                    e.interface == self.login.interface
                        && (e.region_id.as_deref() == Some(region)
                            || e.region.as_deref() == Some(region))
                })
        });
        match found {
            Some(e) => Ok(e.url.trim_end_matches('/').to_string()),
            None => Err(ProviderError::new(
                ProviderErrorKind::NotFound,
                "service catalog",
                format!("{}/{region}", self.context),
                format!(
                    "the catalog has no {kind} endpoint with interface {} in region {region}",
                    self.login.interface
                ),
                "check regions and interface for this cloud (openstack catalog list)",
            )),
        }
    }

    /// One call: `method url` with `body`, authenticated; `call` and `resource` name it in
    /// errors. A 401 takes a new token once; 429 and 5xx are retried (Retry-After honoured)
    /// up to three times. Answers with a status outside 2xx are errors.
    pub async fn send(&self, req: Request<'_>) -> Result<reqwest::Response, ProviderError> {
        let mut renewed = false;
        let mut attempt = 0u32;
        loop {
            let token = self.token(false).await?;
            let mut b = self
                .http
                .request(req.method.clone(), req.url)
                .header("X-Auth-Token", &token.value)
                .header(
                    "OpenStack-API-Version",
                    format!("compute {NOVA_MICROVERSION}"),
                )
                .header("X-OpenStack-Nova-API-Version", NOVA_MICROVERSION);
            if let Some((ctype, body)) = &req.body {
                b = b.header("Content-Type", *ctype).body(body.clone());
            }
            if let Some((from, to)) = req.range {
                b = b.header("Range", format!("bytes={from}-{to}"));
            }
            self.requests.fetch_add(1, Ordering::Relaxed);
            let resp = match b.send().await {
                Ok(r) => r,
                Err(e) if attempt < 3 && (e.is_connect() || e.is_timeout()) => {
                    attempt += 1;
                    tokio::time::sleep(backoff(attempt, None)).await;
                    continue;
                }
                Err(e) => return Err(error::transport(&e, req.call, req.resource)),
            };
            let status = resp.status().as_u16();
            if resp.status().is_success() {
                return Ok(resp);
            }
            if status == 401 && !renewed {
                renewed = true;
                self.token(true).await?;
                continue;
            }
            if (status == 429 || status >= 500) && attempt < 3 {
                attempt += 1;
                let after = resp
                    .headers()
                    .get("Retry-After")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok());
                tokio::time::sleep(backoff(attempt, after)).await;
                continue;
            }
            let body = resp.bytes().await.unwrap_or_default();
            return Err(error::status(status, &body, req.call, req.resource));
        }
    }

    /// A PUT whose body is a stream (an image's data), of `len` bytes if known: sent once,
    /// never retried (a stream cannot be replayed); a token about to expire is renewed
    /// first.
    pub async fn send_stream(
        &self,
        url: &str,
        body: reqwest::Body,
        len: Option<u64>,
        call: &str,
        resource: &str,
    ) -> Result<(), ProviderError> {
        let token = self.token(false).await?;
        self.requests.fetch_add(1, Ordering::Relaxed);
        let mut req = self
            .http
            .put(url)
            .header("X-Auth-Token", &token.value)
            .header("Content-Type", "application/octet-stream");
        // With its length known the body is sent as is, not chunked.
        if let Some(n) = len {
            req = req.header("Content-Length", n);
        }
        let resp = req
            .body(body)
            .send()
            .await
            .map_err(|e| error::transport(&e, call, resource))?;
        let status = resp.status().as_u16();
        if resp.status().is_success() {
            return Ok(());
        }
        let body = resp.bytes().await.unwrap_or_default();
        Err(error::status(status, &body, call, resource))
    }

    /// `send`, then the body as JSON of type `T` (bodies over 64 MiB are refused).
    pub async fn json<T: serde::de::DeserializeOwned>(
        &self,
        req: Request<'_>,
    ) -> Result<T, ProviderError> {
        let (call, resource) = (req.call, req.resource);
        let resp = self.send(req).await?;
        let body = read_capped(resp, 64 << 20, call, resource).await?;
        error::json(&body, call, resource)
    }
}

/// The body of `resp`, at most `cap` bytes.
pub(crate) async fn read_capped(
    mut resp: reqwest::Response,
    cap: usize,
    call: &str,
    resource: &str,
) -> Result<Vec<u8>, ProviderError> {
    let mut out = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| error::transport(&e, call, resource))?
    {
        if out.len() + chunk.len() > cap {
            return Err(ProviderError::new(
                ProviderErrorKind::Other,
                call,
                resource,
                format!("the answer is larger than {cap} bytes"),
                "the endpoint is not an OpenStack service as expected",
            ));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

fn backoff(attempt: u32, retry_after: Option<u64>) -> std::time::Duration {
    match retry_after {
        Some(s) => std::time::Duration::from_secs(s.min(30)),
        None => std::time::Duration::from_millis(200u64 << attempt.min(5)),
    }
}

/// One request to a service.
pub struct Request<'a> {
    pub method: reqwest::Method,
    pub url: &'a str,
    /// `GET /v2/images`, for messages.
    pub call: &'a str,
    /// What it is about (an image id, `context/region`).
    pub resource: &'a str,
    pub body: Option<(&'static str, bytes::Bytes)>,
    /// Only these bytes of the answer (`Range`).
    pub range: Option<(u64, u64)>,
}

impl<'a> Request<'a> {
    pub fn get(url: &'a str, call: &'a str, resource: &'a str) -> Request<'a> {
        Request {
            method: reqwest::Method::GET,
            url,
            call,
            resource,
            body: None,
            range: None,
        }
    }

    pub fn new(
        method: reqwest::Method,
        url: &'a str,
        call: &'a str,
        resource: &'a str,
    ) -> Request<'a> {
        Request {
            method,
            url,
            call,
            resource,
            body: None,
            range: None,
        }
    }

    /// Only bytes `from..=to` of the answer.
    pub fn range(mut self, from: u64, to: u64) -> Request<'a> {
        self.range = Some((from, to));
        self
    }

    /// With a JSON body.
    pub fn json(mut self, v: &serde_json::Value) -> Request<'a> {
        self.body = Some(("application/json", v.to_string().into()));
        self
    }

    /// With a body of content type `ctype`.
    pub fn body(mut self, ctype: &'static str, v: impl Into<bytes::Bytes>) -> Request<'a> {
        self.body = Some((ctype, v.into()));
        self
    }
}
