//! Replacements and health, for plans: a VM launched like the one it replaces (location,
//! size, OS disk type, admin user and SSH keys, subnet through `networkInterfaceConfigurations`
//! so Compute creates the NIC itself, tags plus `drydock:replaces`), named from the client
//! token so that a repeated PUT changes nothing; and a VM's health from its instance view.

use crate::credential::SCOPE;
use crate::ops::{target, Target};
use crate::provider::AzureProvider;
use azure_mgmt_compute::package_2024_07_01::models;
use drydock_api::{OperationOutcome, ProviderError, ProviderErrorKind, Tags, VmHealth};
use serde_json::{json, Value};

/// The replacement's name within Azure's 64 characters (see
/// [`drydock_api::operation::replacement_name`]).
pub fn replacement_name(old: &str, token: &str) -> String {
    drydock_api::operation::replacement_name(old, token, 64)
}

/// A marketplace URN `publisher:offer:sku:version`, or a resource id.
pub(crate) fn image_reference(image: &str) -> Value {
    match image.split(':').collect::<Vec<_>>().as_slice() {
        [p, o, s, v] if !image.starts_with('/') => {
            json!({"publisher": p, "offer": o, "sku": s, "version": v})
        }
        _ => json!({"id": image}),
    }
}

fn err(kind: ProviderErrorKind, call: &str, id: &str, msg: &str, hint: &str) -> ProviderError {
    ProviderError::new(kind, call, id, msg, hint)
}

impl AzureProvider {
    /// The subnet the old VM's primary NIC is in: from its NIC configuration when Compute
    /// made the NIC, else from the NIC resource (a GET on the Network provider).
    async fn subnet_of(&self, old: &Value, id: &str) -> Result<String, ProviderError> {
        let net = &old["properties"]["networkProfile"];
        if let Some(s) = net["networkInterfaceConfigurations"][0]["properties"]["ipConfigurations"]
            [0]["properties"]["subnet"]["id"]
            .as_str()
        {
            return Ok(s.to_string());
        }
        let nic = net["networkInterfaces"][0]["id"].as_str().ok_or_else(|| {
            err(
                ProviderErrorKind::Rejected,
                "launch replacement",
                id,
                "the VM has no network interface",
                "",
            )
        })?;
        let nic = self
            .get_raw(nic, "2023-09-01", "NetworkInterfaces_Get")
            .await?;
        nic["properties"]["ipConfigurations"][0]["properties"]["subnet"]["id"]
            .as_str()
            .map(String::from)
            .ok_or_else(|| {
                err(
                    ProviderErrorKind::Rejected,
                    "launch replacement",
                    id,
                    "its NIC names no subnet",
                    "",
                )
            })
    }

    /// A GET outside Microsoft.Compute (the crate only covers Compute).
    pub(crate) async fn get_raw(
        &self,
        path: &str,
        api: &str,
        call: &str,
    ) -> Result<Value, ProviderError> {
        let mut url = self.client_endpoint();
        url.set_path(path);
        url.query_pairs_mut().append_pair("api-version", api);
        let token = self
            .credential()
            .get_token(&[SCOPE])
            .await
            .map_err(|e| self.map_err(&e, call, path))?;
        let mut req = azure_core::Request::new(url, azure_core::Method::Get);
        req.insert_header(
            azure_core::headers::AUTHORIZATION,
            format!("Bearer {}", token.token.secret()),
        );
        let rsp = azure_core::new_http_client()
            .execute_request(&req)
            .await
            .map_err(|e| self.map_err(&e, call, path))?;
        let status = u16::from(rsp.status());
        let body = rsp
            .into_body()
            .collect()
            .await
            .map_err(|e| self.map_err(&e, call, path))?;
        if status != 200 {
            return Err(err(
                if status == 404 {
                    ProviderErrorKind::NotFound
                } else {
                    ProviderErrorKind::Rejected
                },
                call,
                path,
                &format!("HTTP {status}: {}", String::from_utf8_lossy(&body)),
                "check the resource and the credential's role",
            ));
        }
        serde_json::from_slice(&body).map_err(|e| {
            err(
                ProviderErrorKind::Other,
                call,
                path,
                &format!("unreadable response: {e}"),
                "",
            )
        })
    }

    /// Launches (or, for a token already used, finds) the replacement of VM `replaces`.
    pub(crate) async fn launch_replacement(
        &self,
        replaces: &str,
        image: &str,
        token: &str,
        tags: &Tags,
        dry_run: bool,
    ) -> Result<OperationOutcome, ProviderError> {
        let (rg, name) = match target(replaces) {
            Some(Target::Vm { rg, name }) => (rg, name),
            // A scale-set instance is replaced in place: onto the model, which is pointed at
            // the image first; the instance is its own replacement.
            Some(Target::ScaleSetVm { rg, set, instance }) => {
                return self
                    .upgrade_instance(replaces, &rg, &set, &instance, image, dry_run)
                    .await
            }
            _ => {
                return Err(err(
                    ProviderErrorKind::Rejected,
                    "launch replacement",
                    replaces,
                    "not a VM id",
                    "",
                ))
            }
        };
        let s = self.sub().id.clone();
        let vms = self.client().virtual_machines_client();
        let old = vms
            .get(&rg, &name, &s)
            .await
            .map_err(|e| self.map_err(&e, "VirtualMachines_Get", replaces))?;
        let old = serde_json::to_value(&old).unwrap_or_default();
        let os = &old["properties"]["osProfile"];
        if os["windowsConfiguration"].is_object() {
            return Err(err(
                ProviderErrorKind::Unsupported,
                "launch replacement",
                replaces,
                "a Windows VM's admin password cannot be read back to launch its like",
                "replace Windows VMs through their scale set or template",
            ));
        }
        let subnet = self.subnet_of(&old, replaces).await?;
        let new_name = replacement_name(&name, token);
        let mut all_tags: Tags = crate::records::tags(&old.get("tags").cloned());
        all_tags.extend(tags.clone());
        all_tags.insert("drydock:replaces", replaces);
        let body = json!({
            "location": old["location"],
            "tags": all_tags,
            "properties": {
                "hardwareProfile": old["properties"]["hardwareProfile"],
                "storageProfile": {
                    "imageReference": image_reference(image),
                    "osDisk": {
                        "createOption": "FromImage",
                        "deleteOption": "Delete",
                        "managedDisk": {"storageAccountType":
                            old["properties"]["storageProfile"]["osDisk"]["managedDisk"]["storageAccountType"]},
                    },
                },
                "osProfile": {
                    "computerName": new_name,
                    "adminUsername": os["adminUsername"],
                    "linuxConfiguration": os["linuxConfiguration"],
                },
                "networkProfile": {
                    "networkApiVersion": "2020-11-01",
                    "networkInterfaceConfigurations": [{
                        "name": format!("{new_name}-nic"),
                        "properties": {"primary": true, "deleteOption": "Delete",
                            "ipConfigurations": [{"name": "ipconfig1",
                                "properties": {"subnet": {"id": subnet}}}]},
                    }],
                },
            },
        });
        let model: models::VirtualMachine = serde_json::from_value(body).map_err(|e| {
            err(
                ProviderErrorKind::Other,
                "launch replacement",
                replaces,
                &format!("cannot build the VM: {e}"),
                "",
            )
        })?;
        if dry_run {
            return Ok(OperationOutcome::WouldSucceed);
        }
        let made = vms
            .create_or_update(&rg, &new_name, model, &s)
            .await
            .map_err(|e| self.map_err(&e, "VirtualMachines_CreateOrUpdate", &new_name))?;
        Ok(OperationOutcome::Done {
            created: made.resource.id,
        })
    }

    /// Upgrades scale-set instance `id` onto `image` (repointing the model if it names
    /// another image): `manualUpgrade` of that instance, polled.
    async fn upgrade_instance(
        &self,
        id: &str,
        rg: &str,
        set: &str,
        instance: &str,
        image: &str,
        dry_run: bool,
    ) -> Result<OperationOutcome, ProviderError> {
        let s = self.sub().id.clone();
        let sets = self.client().virtual_machine_scale_sets_client();
        let model = sets
            .get(rg, set, &s)
            .await
            .map_err(|e| self.map_err(&e, "VirtualMachineScaleSets_Get", id))?;
        if dry_run {
            return Ok(OperationOutcome::WouldSucceed);
        }
        let set_id = model.resource.id.clone().unwrap_or_default();
        let current = serde_json::to_value(&model).unwrap_or_default()["properties"]
            ["virtualMachineProfile"]["storageProfile"]["imageReference"]
            .clone();
        if current != image_reference(image) {
            self.repoint(&set_id, image, false).await?;
        }
        self.manual_upgrade(
            rg,
            set,
            vec![instance.to_string()],
            id,
            "launch replacement",
        )
        .await?;
        Ok(OperationOutcome::Done {
            created: Some(id.to_string()),
        })
    }

    /// A VM's (or scale-set instance's) health from its instance view: provisioning, power
    /// state and the VM agent.
    pub(crate) async fn health(&self, vm: &str) -> Result<VmHealth, ProviderError> {
        let s = self.sub().id.clone();
        let view = match target(vm) {
            Some(Target::Vm { rg, name }) => self
                .client()
                .virtual_machines_client()
                .instance_view(&rg, &name, &s)
                .await
                .map(|v| (v.statuses, v.vm_agent)),
            Some(Target::ScaleSetVm { rg, set, instance }) => self
                .client()
                .virtual_machine_scale_set_v_ms_client()
                .get_instance_view(&rg, &set, &instance, &s)
                .await
                .map(|v| (v.statuses, v.vm_agent)),
            _ => {
                return Err(err(
                    ProviderErrorKind::Rejected,
                    "vm health",
                    vm,
                    "not a VM id",
                    "",
                ))
            }
        };
        let (statuses, vm_agent) = match view {
            Ok(v) => v,
            Err(e) if crate::error::status(&e) == Some(404) => return Ok(VmHealth::Gone),
            Err(e) => return Err(self.map_err(&e, "VirtualMachines_InstanceView", vm)),
        };
        let codes: Vec<&str> = statuses.iter().filter_map(|s| s.code.as_deref()).collect();
        let has = |c: &str| codes.iter().any(|x| x.eq_ignore_ascii_case(c));
        let agent_ready = vm_agent.as_ref().is_some_and(|a| {
            a.statuses
                .iter()
                .any(|s| s.display_status.as_deref() == Some("Ready"))
        });
        Ok(if has("ProvisioningState/failed") {
            VmHealth::Unhealthy("provisioning failed".into())
        } else if has("PowerState/stopped") || has("PowerState/deallocated") {
            VmHealth::Unhealthy("stopped".into())
        } else if has("PowerState/running") && agent_ready {
            VmHealth::Healthy
        } else {
            VmHealth::Starting
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replacement_names_are_stable_and_short_enough() {
        let a = replacement_name("web-001", "plan-x/vm:web-001");
        assert_eq!(a, replacement_name("web-001", "plan-x/vm:web-001"));
        assert_ne!(a, replacement_name("web-001", "plan-y/vm:web-001"));
        assert!(replacement_name(&"x".repeat(80), "t").len() <= 64);
        assert_eq!(
            image_reference("Canonical:offer:sku:1.2.3")["publisher"],
            "Canonical"
        );
        assert_eq!(
            image_reference("/subscriptions/s/x")["id"],
            "/subscriptions/s/x"
        );
    }
}
