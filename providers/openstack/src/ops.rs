//! Mutations on an OpenStack cloud, each applied only when drydock's gate hands it over,
//! and finding what they act on: image properties and tags (json-patch), server metadata
//! and tags, deprecate (`os_hidden`), disable (deactivate), deregister (delete, refused
//! while a server runs it), capture (createImage, waited for until active, provenance set).
//! What acts on servers themselves (a replacement, deletion, health) is in `servers`. A
//! dry run reads what the change would touch (GET) and changes nothing.

use crate::provider::OpenStackProvider;
use crate::records::{GlanceImage, NovaServer, TAG_PREFIX};
use crate::scan::{self, glance_root};
use crate::session::Request;
use chrono::{DateTime, Utc};
use drydock_api::{Operation, OperationOutcome, ProviderError, ProviderErrorKind, Tags};
use reqwest::Method;
use serde::Deserialize;
use serde_json::{json, Value};
use std::time::Duration;

/// The image property that records the client token of the capture that made it.
pub const CLIENT_TOKEN: &str = "drydock:client-token";
/// The property that records when an image is (to be) deprecated.
pub const DEPRECATION_TIME: &str = "drydock:deprecation-time";
/// Glance's json-patch media type.
pub const JSON_PATCH: &str = "application/openstack-images-v2.1-json-patch";
/// How long a capture may take to become active.
const CAPTURE_TIMEOUT: Duration = Duration::from_secs(3600);

pub(crate) fn err(
    kind: ProviderErrorKind,
    call: &str,
    id: &str,
    msg: String,
    hint: &str,
) -> ProviderError {
    ProviderError::new(kind, call, id, msg, hint)
}

#[derive(Deserialize)]
struct ServerBody {
    server: NovaServer,
}

/// Where an image or a server lives.
pub(crate) struct Located<T> {
    pub region: String,
    pub item: T,
}

impl OpenStackProvider {
    /// `GET {prefix}{id}` on `service` in each region in turn: the first answer, and where.
    async fn locate<B: serde::de::DeserializeOwned>(
        &self,
        service: &str,
        prefix: &str,
        id: &str,
        call: &str,
    ) -> Result<Located<B>, ProviderError> {
        let get = format!("GET {prefix}{{id}}");
        for region in self.regions().await? {
            let url = format!("{}{prefix}{id}", self.root(service, &region).await?);
            match self.session.json::<B>(Request::get(&url, &get, id)).await {
                Ok(item) => return Ok(Located { region, item }),
                Err(e) if e.kind == ProviderErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            }
        }
        let what = if service == "image" {
            "image"
        } else {
            "server"
        };
        Err(err(
            ProviderErrorKind::NotFound,
            call,
            id,
            format!("no {what} {id} in {}'s regions", self.name),
            "it may have been deleted; scan again",
        ))
    }

    /// The image `id` and its region (each region's Glance asked in turn).
    pub(crate) async fn find_image(
        &self,
        id: &str,
        call: &str,
    ) -> Result<Located<GlanceImage>, ProviderError> {
        self.locate("image", "/v2/images/", id, call).await
    }

    /// The server `id` and its region.
    pub(crate) async fn find_server(
        &self,
        id: &str,
        call: &str,
    ) -> Result<Located<NovaServer>, ProviderError> {
        let found: Located<ServerBody> = self.locate("compute", "/servers/", id, call).await?;
        Ok(Located {
            region: found.region,
            item: found.item.server,
        })
    }

    /// Where `service`'s paths start in `region`: the catalog's URL (Glance's without a
    /// version suffix: its paths carry `/v2`).
    async fn root(&self, service: &str, region: &str) -> Result<String, ProviderError> {
        let url = self.session.endpoint(service, region).await?;
        Ok(if service == "image" {
            glance_root(&url).to_string()
        } else {
            url
        })
    }

    pub(crate) async fn glance(&self, region: &str) -> Result<String, ProviderError> {
        self.root("image", region).await
    }

    /// A json-patch of image `id` under Glance root `root` (nothing sent for no operations).
    pub(crate) async fn patch(
        &self,
        root: &str,
        id: &str,
        ops: Vec<Value>,
    ) -> Result<(), ProviderError> {
        if ops.is_empty() {
            return Ok(());
        }
        let url = format!("{root}/v2/images/{id}");
        self.session
            .send(
                Request::new(Method::PATCH, &url, "PATCH /v2/images/{id}", id)
                    .body(JSON_PATCH, Value::Array(ops).to_string()),
            )
            .await?;
        Ok(())
    }

    /// Deletes image `id` under Glance root `root`; `false` if it was already gone.
    pub(crate) async fn delete_image(&self, root: &str, id: &str) -> Result<bool, ProviderError> {
        let url = format!("{root}/v2/images/{id}");
        match self
            .session
            .send(Request::new(
                Method::DELETE,
                &url,
                "DELETE /v2/images/{id}",
                id,
            ))
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if e.kind == ProviderErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Properties as json-patch `add` operations (Glance's `add` replaces an existing one)
    /// and Glance tags (`tag:NAME`) as tag calls.
    async fn tag_image(
        &self,
        at: &Located<GlanceImage>,
        tags: &Tags,
        dry_run: bool,
    ) -> Result<OperationOutcome, ProviderError> {
        if dry_run {
            return Ok(OperationOutcome::WouldSucceed);
        }
        let id = &at.item.id;
        let mut ops = Vec::new();
        for (k, v) in tags.iter() {
            if let Some(tag) = k.strip_prefix(TAG_PREFIX) {
                let url = format!(
                    "{}/v2/images/{id}/tags/{tag}",
                    self.glance(&at.region).await?
                );
                let remove = v == "false" || v.is_empty();
                if remove && !at.item.tags.iter().any(|t| t == tag) {
                    continue;
                }
                let (m, call) = if remove {
                    (Method::DELETE, "DELETE /v2/images/{id}/tags/{tag}")
                } else {
                    (Method::PUT, "PUT /v2/images/{id}/tags/{tag}")
                };
                self.session.send(Request::new(m, &url, call, id)).await?;
            } else {
                ops.push(property_op(k, v));
            }
        }
        self.patch(&self.glance(&at.region).await?, id, ops).await?;
        Ok(OperationOutcome::Done { created: None })
    }

    async fn tag_server(
        &self,
        at: &Located<NovaServer>,
        tags: &Tags,
        dry_run: bool,
    ) -> Result<OperationOutcome, ProviderError> {
        if dry_run {
            return Ok(OperationOutcome::WouldSucceed);
        }
        let id = &at.item.id;
        let compute = self.session.endpoint("compute", &at.region).await?;
        let mut metadata = serde_json::Map::new();
        for (k, v) in tags.iter() {
            if let Some(tag) = k.strip_prefix(TAG_PREFIX) {
                let url = format!("{compute}/servers/{id}/tags/{tag}");
                let (m, call) = if v == "false" || v.is_empty() {
                    (Method::DELETE, "DELETE /servers/{id}/tags/{tag}")
                } else {
                    (Method::PUT, "PUT /servers/{id}/tags/{tag}")
                };
                self.session.send(Request::new(m, &url, call, id)).await?;
            } else {
                metadata.insert(k.to_string(), Value::String(v.to_string()));
            }
        }
        if !metadata.is_empty() {
            let url = format!("{compute}/servers/{id}/metadata");
            self.session
                .send(
                    Request::new(Method::POST, &url, "POST /servers/{id}/metadata", id)
                        .json(&json!({ "metadata": metadata })),
                )
                .await?;
        }
        Ok(OperationOutcome::Done { created: None })
    }

    /// The servers of `region` that run `image` (booted from it, or from a volume made
    /// from it), by name.
    pub(crate) async fn users_of(
        &self,
        region: &str,
        image: &str,
    ) -> Result<Vec<String>, ProviderError> {
        let compute = self.session.endpoint("compute", region).await?;
        let scope = format!("{}/{region}", self.name);
        let servers = scan::list_servers(&self.session, &compute, &scope).await?;
        let volume = if servers.iter().any(|s| s.image_id().is_none()) {
            Some(self.session.endpoint("volume", region).await?)
        } else {
            None
        };
        let mut users = Vec::new();
        for s in &servers {
            if scan::server_image(&self.session, volume.as_deref(), s).await? == image {
                users.push(format!("{} ({})", s.name, s.id));
            }
        }
        Ok(users)
    }

    async fn deregister(
        &self,
        at: &Located<GlanceImage>,
        dry_run: bool,
    ) -> Result<OperationOutcome, ProviderError> {
        let id = &at.item.id;
        let users = self.users_of(&at.region, id).await?;
        if !users.is_empty() {
            return Err(err(
                ProviderErrorKind::Rejected,
                "DELETE /v2/images/{id}",
                id,
                format!(
                    "{} server(s) still run this image: {}",
                    users.len(),
                    users.join(", ")
                ),
                "replace or delete those servers first (a plan's waves do)",
            ));
        }
        if at.item.rest.get("protected").and_then(Value::as_bool) == Some(true) {
            return Err(err(
                ProviderErrorKind::Rejected,
                "DELETE /v2/images/{id}",
                id,
                "the image is protected".into(),
                "unprotect it first if it is really to go (openstack image set --unprotected)",
            ));
        }
        if dry_run {
            return Ok(OperationOutcome::WouldSucceed);
        }
        let url = format!("{}/v2/images/{id}", self.glance(&at.region).await?);
        self.session
            .send(Request::new(
                Method::DELETE,
                &url,
                "DELETE /v2/images/{id}",
                id,
            ))
            .await?;
        Ok(OperationOutcome::Done { created: None })
    }

    async fn deprecate(
        &self,
        at: &Located<GlanceImage>,
        when: DateTime<Utc>,
        dry_run: bool,
    ) -> Result<OperationOutcome, ProviderError> {
        if dry_run {
            return Ok(OperationOutcome::WouldSucceed);
        }
        let mut ops = vec![property_op(
            DEPRECATION_TIME,
            &when.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        )];
        // Glance cannot hide an image later: hidden now when the time has come.
        if when <= Utc::now() + chrono::Duration::minutes(1) {
            ops.push(json!({"op": "replace", "path": "/os_hidden", "value": true}));
        }
        self.patch(&self.glance(&at.region).await?, &at.item.id, ops)
            .await?;
        Ok(OperationOutcome::Done { created: None })
    }

    async fn disable(
        &self,
        at: &Located<GlanceImage>,
        dry_run: bool,
    ) -> Result<OperationOutcome, ProviderError> {
        let id = &at.item.id;
        if at.item.status != "active" && at.item.status != "deactivated" {
            return Err(err(
                ProviderErrorKind::Rejected,
                "POST /v2/images/{id}/actions/deactivate",
                id,
                format!(
                    "the image is {}; only an active image can be deactivated",
                    at.item.status
                ),
                "",
            ));
        }
        if dry_run || at.item.status == "deactivated" {
            return Ok(if dry_run {
                OperationOutcome::WouldSucceed
            } else {
                OperationOutcome::Done { created: None }
            });
        }
        let url = format!(
            "{}/v2/images/{id}/actions/deactivate",
            self.glance(&at.region).await?
        );
        self.session
            .send(Request::new(
                Method::POST,
                &url,
                "POST /v2/images/{id}/actions/deactivate",
                id,
            ))
            .await?;
        Ok(OperationOutcome::Done { created: None })
    }

    /// The images of `region` whose property `key` is `value` (Glance filters on custom
    /// properties; the answer is checked too).
    pub(crate) async fn images_with(
        &self,
        region: &str,
        key: &str,
        value: &str,
    ) -> Result<Vec<GlanceImage>, ProviderError> {
        let root = self.glance(region).await?;
        let scope = format!("{}/{region}", self.name);
        let extra = format!("&{}={}", enc(key), enc(value));
        let mut found = scan::list_images(&self.session, &root, &extra, &scope).await?;
        found.retain(|i| i.property(key).as_deref() == Some(value));
        Ok(found)
    }

    async fn capture(
        &self,
        vm: &str,
        name: &str,
        tags: &Tags,
        token: &str,
        dry_run: bool,
    ) -> Result<OperationOutcome, ProviderError> {
        let at = self.find_server(vm, "createImage").await?;
        if dry_run {
            return Ok(OperationOutcome::WouldSucceed);
        }
        let done = self.images_with(&at.region, CLIENT_TOKEN, token).await?;
        let id = match done.into_iter().next() {
            Some(done) => done.id,
            None => {
                let compute = self.session.endpoint("compute", &at.region).await?;
                let url = format!("{compute}/servers/{vm}/action");
                let resp = self
                    .session
                    .send(
                        Request::new(
                            Method::POST,
                            &url,
                            "POST /servers/{id}/action createImage",
                            vm,
                        )
                        .json(&json!({"createImage": {"name": name,
                                          "metadata": {CLIENT_TOKEN: token}}})),
                    )
                    .await?;
                let location = resp
                    .headers()
                    .get("Location")
                    .and_then(|v| v.to_str().ok())
                    .map(String::from);
                let body = crate::session::read_capped(resp, 1 << 20, "createImage", vm).await?;
                let from_body = serde_json::from_slice::<Value>(&body)
                    .ok()
                    .and_then(|v| v.get("image_id").and_then(|i| i.as_str()).map(String::from));
                from_body
                    .or_else(|| location.and_then(|l| l.rsplit('/').next().map(String::from)))
                    .ok_or_else(|| {
                        err(
                            ProviderErrorKind::Other,
                            "POST /servers/{id}/action createImage",
                            vm,
                            "Nova named no image (neither image_id nor Location)".into(),
                            "check the new image in Glance by the server's name",
                        )
                    })?
            }
        };
        let image = self.wait_active(&at.region, &id).await?;
        self.tag_image(
            &Located {
                region: at.region.clone(),
                item: image,
            },
            tags,
            false,
        )
        .await?;
        Ok(OperationOutcome::Done { created: Some(id) })
    }

    /// Polls image `id` until it is active; killed or deleted is an error.
    pub(crate) async fn wait_active(
        &self,
        region: &str,
        id: &str,
    ) -> Result<GlanceImage, ProviderError> {
        let url = format!("{}/v2/images/{id}", self.glance(region).await?);
        let started = std::time::Instant::now();
        let mut wait = Duration::from_millis(100);
        loop {
            let img: GlanceImage = self
                .session
                .json(Request::get(&url, "GET /v2/images/{id}", id))
                .await?;
            match img.status.as_str() {
                "active" => return Ok(img),
                "killed" | "deleted" | "pending_delete" | "deactivated" => {
                    return Err(err(
                        ProviderErrorKind::Other,
                        "wait for image",
                        id,
                        format!("the image became {} instead of active", img.status),
                        "look at the server's and the image service's logs; capture again",
                    ))
                }
                _ => {}
            }
            if started.elapsed() > CAPTURE_TIMEOUT {
                return Err(err(
                    ProviderErrorKind::Unreachable,
                    "wait for image",
                    id,
                    format!("still {} after {} s", img.status, CAPTURE_TIMEOUT.as_secs()),
                    "the image may still finish; scan later",
                ));
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(Duration::from_secs(5));
        }
    }

    pub(crate) async fn apply_op(
        &self,
        op: &Operation,
        dry_run: bool,
    ) -> Result<OperationOutcome, ProviderError> {
        match op {
            Operation::Tag { resource, tags } => match self.find_image(resource, "tag").await {
                Ok(at) => self.tag_image(&at, tags, dry_run).await,
                Err(e) if e.kind == ProviderErrorKind::NotFound => {
                    let at = self.find_server(resource, "tag").await?;
                    self.tag_server(&at, tags, dry_run).await
                }
                Err(e) => Err(e),
            },
            Operation::Deprecate { image, at } => {
                let img = self.find_image(image, "deprecate").await?;
                self.deprecate(&img, *at, dry_run).await
            }
            Operation::Disable { image } => {
                let img = self.find_image(image, "deactivate").await?;
                self.disable(&img, dry_run).await
            }
            Operation::Deregister { image } => {
                let img = self.find_image(image, "DELETE /v2/images/{id}").await?;
                self.deregister(&img, dry_run).await
            }
            Operation::CreateImage {
                source_vm,
                name,
                tags,
                client_token,
            } => {
                self.capture(source_vm, name, tags, client_token, dry_run)
                    .await
            }
            Operation::LaunchReplacement {
                replaces,
                image,
                client_token,
                tags,
            } => {
                self.launch_replacement(replaces, image, client_token, tags, dry_run)
                    .await
            }
            Operation::Terminate { vm } => self.terminate(vm, dry_run).await,
            Operation::StartRollingUpgrade { .. } | Operation::Repoint { .. } => Err(err(
                ProviderErrorKind::Unsupported,
                op.verb(),
                op.target(),
                format!(
                    "{} has no scale groups or launch templates (OpenStack)",
                    self.name
                ),
                "replace the servers one by one (a plan's waves do)",
            )),
        }
    }
}

/// The json-patch operation that sets property `key` to `value` (Glance's `add` replaces
/// an existing one); the key a JSON pointer segment (`~` and `/` escaped).
pub(crate) fn property_op(key: &str, value: &str) -> Value {
    let path = format!("/{}", key.replace('~', "~0").replace('/', "~1"));
    json!({"op": "add", "path": path, "value": value})
}

/// Percent-encoding of a query value.
pub(crate) fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(enc("drydock:client-token"), "drydock%3Aclient-token");
    }
}
