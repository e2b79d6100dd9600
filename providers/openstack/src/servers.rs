//! What acts on servers themselves, through the gate like every mutation: launch a
//! replacement like the old server (flavor, networks from its interfaces, key pair,
//! security groups, AZ, user data where readable, `drydock:replaces`; idempotent by a name
//! derived from the client token), delete a server, and a server's health from Nova's
//! status, task state and power state. A dry run only reads.

use crate::ops::{enc, err};
use crate::provider::OpenStackProvider;
use crate::records::{NovaServer, TAG_PREFIX};
use crate::session::Request;
use drydock_api::{OperationOutcome, ProviderError, ProviderErrorKind, Tags, VmHealth};
use reqwest::Method;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize)]
struct Interfaces {
    #[serde(rename = "interfaceAttachments", default)]
    attachments: Vec<Interface>,
}

#[derive(Deserialize)]
struct Interface {
    net_id: String,
}

#[derive(Deserialize)]
struct Flavors {
    flavors: Vec<Flavor>,
}

#[derive(Deserialize)]
struct Flavor {
    id: String,
    name: String,
}

impl OpenStackProvider {
    async fn flavor_id(&self, compute: &str, old: &NovaServer) -> Result<String, ProviderError> {
        if let Some(id) = old.flavor.get("id").and_then(|v| v.as_str()) {
            return Ok(id.to_string());
        }
        let name = old.flavor_name();
        let url = format!("{compute}/flavors/detail");
        let all: Flavors = self
            .session
            .json(Request::get(&url, "GET /flavors/detail", &old.id))
            .await?;
        all.flavors
            .into_iter()
            .find(|f| f.name == name)
            .map(|f| f.id)
            .ok_or_else(|| {
                err(
                    ProviderErrorKind::NotFound,
                    "GET /flavors/detail",
                    &old.id,
                    format!("no flavor named {name} any more"),
                    "launch the replacement by hand with a current flavor",
                )
            })
    }

    pub(crate) async fn launch_replacement(
        &self,
        replaces: &str,
        image: &str,
        token: &str,
        extra: &Tags,
        dry_run: bool,
    ) -> Result<OperationOutcome, ProviderError> {
        let call = "POST /servers";
        let at = self.find_server(replaces, call).await?;
        let old = &at.item;
        let target = self.find_image(image, call).await?;
        if target.region != at.region {
            return Err(err(
                ProviderErrorKind::Rejected,
                call,
                replaces,
                format!(
                    "image {image} is in {}, the server in {}",
                    target.region, at.region
                ),
                "copy the image to the server's region first (drydock transfer)",
            ));
        }
        if target.item.status != "active" || target.item.os_hidden {
            return Err(err(
                ProviderErrorKind::Rejected,
                call,
                replaces,
                format!(
                    "image {image} is {}{}",
                    target.item.status,
                    if target.item.os_hidden {
                        ", hidden"
                    } else {
                        ""
                    }
                ),
                "replace with an active image",
            ));
        }
        let compute = self.session.endpoint("compute", &at.region).await?;
        let name = drydock_api::operation::replacement_name(&old.name, token, 255);
        // The same token names the same server: a repeated launch finds it.
        let url = format!(
            "{compute}/servers/detail?name=^{}$",
            enc(&regex_escape(&name))
        );
        let page: crate::records::ServerPage = self
            .session
            .json(Request::get(&url, "GET /servers/detail", replaces))
            .await?;
        if let Some(s) = page.servers.iter().find(|s| s.name == name) {
            return Ok(if dry_run {
                OperationOutcome::WouldSucceed
            } else {
                OperationOutcome::Done {
                    created: Some(s.id.clone()),
                }
            });
        }
        let flavor = self.flavor_id(&compute, old).await?;
        let url = format!("{compute}/servers/{replaces}/os-interface");
        let networks: Vec<Value> = match self
            .session
            .json::<Interfaces>(Request::get(
                &url,
                "GET /servers/{id}/os-interface",
                replaces,
            ))
            .await
        {
            Ok(i) => {
                let mut nets: Vec<String> = i.attachments.into_iter().map(|a| a.net_id).collect();
                nets.dedup();
                nets.into_iter().map(|n| json!({ "uuid": n })).collect()
            }
            Err(e) if e.kind == ProviderErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(e),
        };
        if dry_run {
            return Ok(OperationOutcome::WouldSucceed);
        }
        let mut metadata: serde_json::Map<String, Value> = old
            .metadata
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        for (k, v) in extra.iter() {
            if !k.starts_with(TAG_PREFIX) {
                metadata.insert(k.to_string(), Value::String(v.to_string()));
            }
        }
        metadata.insert("drydock:replaces".into(), Value::String(old.id.clone()));
        let mut server = json!({
            "name": name,
            "flavorRef": flavor,
            "metadata": metadata,
            "networks": if networks.is_empty() { json!("none") } else { Value::Array(networks) },
            "security_groups": old.security_groups.iter().map(|g| json!({"name": g.name})).collect::<Vec<_>>(),
        });
        if old.image_id().is_none() && !old.volumes.is_empty() {
            // Booted from a volume: the replacement too, the volume made from the image.
            let size = old
                .flavor
                .get("disk")
                .and_then(Value::as_u64)
                .filter(|d| *d > 0)
                .unwrap_or(20);
            server["imageRef"] = json!("");
            server["block_device_mapping_v2"] = json!([{"boot_index": 0, "uuid": image,
                "source_type": "image", "destination_type": "volume", "volume_size": size,
                "delete_on_termination": true}]);
        } else {
            server["imageRef"] = json!(image);
        }
        if let Some(k) = &old.key_name {
            server["key_name"] = json!(k);
        }
        if let Some(u) = old.user_data.as_ref().filter(|u| !u.is_empty()) {
            server["user_data"] = json!(u);
        }
        if let Some(z) = &old.availability_zone {
            server["availability_zone"] = json!(z);
        }
        let tags: Vec<&str> = old.tags.iter().map(String::as_str).collect();
        if !tags.is_empty() {
            server["tags"] = json!(tags);
        }
        let url = format!("{compute}/servers");
        #[derive(Deserialize)]
        struct Created {
            server: CreatedServer,
        }
        #[derive(Deserialize)]
        struct CreatedServer {
            id: String,
        }
        let made: Created = self
            .session
            .json(
                Request::new(Method::POST, &url, call, replaces).json(&json!({ "server": server })),
            )
            .await?;
        Ok(OperationOutcome::Done {
            created: Some(made.server.id),
        })
    }

    pub(crate) async fn terminate(
        &self,
        vm: &str,
        dry_run: bool,
    ) -> Result<OperationOutcome, ProviderError> {
        let at = self.find_server(vm, "DELETE /servers/{id}").await?;
        if dry_run {
            return Ok(OperationOutcome::WouldSucceed);
        }
        let compute = self.session.endpoint("compute", &at.region).await?;
        let url = format!("{compute}/servers/{vm}");
        self.session
            .send(Request::new(
                Method::DELETE,
                &url,
                "DELETE /servers/{id}",
                vm,
            ))
            .await?;
        Ok(OperationOutcome::Done { created: None })
    }

    /// A server's health: ACTIVE, running and with no task is healthy; building or busy with
    /// a task is starting; anything else unhealthy, with Nova's words.
    pub(crate) async fn health(&self, vm: &str) -> Result<VmHealth, ProviderError> {
        let at = match self.find_server(vm, "GET /servers/{id}").await {
            Ok(a) => a,
            Err(e) if e.kind == ProviderErrorKind::NotFound => return Ok(VmHealth::Gone),
            Err(e) => return Err(e),
        };
        Ok(health_of(&at.item))
    }
}

/// Health from a server's status, task state and power state.
pub fn health_of(s: &NovaServer) -> VmHealth {
    let power = match s.power_state {
        Some(0) => "no state",
        Some(1) => "running",
        Some(3) => "paused",
        Some(4) => "shutdown",
        Some(6) => "crashed",
        Some(7) => "suspended",
        _ => "unknown",
    };
    match (s.status.as_str(), s.task_state.as_deref(), s.power_state) {
        ("ACTIVE", None, Some(1)) => VmHealth::Healthy,
        ("BUILD" | "REBUILD" | "REBOOT" | "HARD_REBOOT", _, _) | ("ACTIVE", Some(_), _) => {
            VmHealth::Starting
        }
        ("DELETED" | "SOFT_DELETED", _, _) => VmHealth::Gone,
        (status, task, _) => VmHealth::Unhealthy(format!(
            "status {status}, power state {power}{}",
            task.map(|t| format!(", task {t}")).unwrap_or_default()
        )),
    }
}

/// A name as a literal in Nova's regular-expression name filter.
fn regex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_reads_status_task_and_power() {
        let s = |j: &str| -> NovaServer { serde_json::from_str(j).unwrap() };
        assert_eq!(
            health_of(&s(
                r#"{"id":"a","status":"ACTIVE","OS-EXT-STS:power_state":1}"#
            )),
            VmHealth::Healthy
        );
        assert_eq!(
            health_of(&s(
                r#"{"id":"a","status":"BUILD","OS-EXT-STS:power_state":0}"#
            )),
            VmHealth::Starting
        );
        assert_eq!(
            health_of(&s(
                r#"{"id":"a","status":"ACTIVE","OS-EXT-STS:task_state":"rebooting","OS-EXT-STS:power_state":1}"#
            )),
            VmHealth::Starting
        );
        assert_eq!(
            health_of(&s(
                r#"{"id":"a","status":"SHUTOFF","OS-EXT-STS:power_state":4}"#
            )),
            VmHealth::Unhealthy("status SHUTOFF, power state shutdown".into())
        );
        assert_eq!(regex_escape("web-1.r"), "web-1\\.r");
    }
}
