//! Scale sets in plans: repoint a scale set's model at a new image (a PUT of its model), and
//! a rolling upgrade of its instances onto it (`manualUpgrade` of every instance, a 202
//! polled to the end).

use crate::launch::image_reference;
use crate::provider::AzureProvider;
use azure_mgmt_compute::package_2024_07_01::models;
use drydock_api::{OperationOutcome, ProviderError, ProviderErrorKind};

/// `/subscriptions/S/resourceGroups/RG/providers/Microsoft.Compute/virtualMachineScaleSets/N`
/// → (RG, N).
pub fn scale_set(id: &str) -> Option<(String, String)> {
    let p: Vec<&str> = id.trim_matches('/').split('/').collect();
    let rg = p
        .iter()
        .position(|s| s.eq_ignore_ascii_case("resourceGroups"))
        .and_then(|i| p.get(i + 1))?;
    match p.as_slice() {
        [.., kind, name] if kind.eq_ignore_ascii_case("virtualMachineScaleSets") => {
            Some((rg.to_string(), name.to_string()))
        }
        _ => None,
    }
}

impl AzureProvider {
    /// Points scale set `id`'s model at `image` (running instances keep theirs until upgraded).
    pub(crate) async fn repoint(
        &self,
        id: &str,
        image: &str,
        dry_run: bool,
    ) -> Result<OperationOutcome, ProviderError> {
        let (rg, name) = scale_set(id).ok_or_else(|| {
            ProviderError::new(
                ProviderErrorKind::Rejected,
                "repoint",
                id,
                "not a scale set id",
                "Azure repoints scale sets (pass the full ARM id)",
            )
        })?;
        let s = self.sub().id.clone();
        let sets = self.client().virtual_machine_scale_sets_client();
        let set = sets
            .get(&rg, &name, &s)
            .await
            .map_err(|e| self.map_err(&e, "VirtualMachineScaleSets_Get", id))?;
        if dry_run {
            return Ok(OperationOutcome::WouldSucceed);
        }
        let mut v = serde_json::to_value(&set).unwrap_or_default();
        v["properties"]["virtualMachineProfile"]["storageProfile"]["imageReference"] =
            image_reference(image);
        let model: models::VirtualMachineScaleSet = serde_json::from_value(v).map_err(|e| {
            ProviderError::new(ProviderErrorKind::Other, "repoint", id, format!("{e}"), "")
        })?;
        sets.create_or_update(&rg, &name, model, &s)
            .await
            .map_err(|e| self.map_err(&e, "VirtualMachineScaleSets_CreateOrUpdate", id))?;
        Ok(OperationOutcome::Done { created: None })
    }

    /// Repoints, then upgrades every instance to the model (`manualUpgrade`), polled to the end.
    pub(crate) async fn rolling_upgrade(
        &self,
        id: &str,
        image: &str,
        dry_run: bool,
    ) -> Result<OperationOutcome, ProviderError> {
        let outcome = self.repoint(id, image, dry_run).await?;
        if dry_run {
            return Ok(outcome);
        }
        let (rg, name) = scale_set(id).expect("checked by repoint");
        let s = self.sub().id.clone();
        let vms = self.client().virtual_machine_scale_set_v_ms_client();
        let mut ids = Vec::new();
        let mut pages = vms.list(&rg, &name, &s).into_stream();
        while let Some(page) = futures_util::StreamExt::next(&mut pages).await {
            let page = page.map_err(|e| self.map_err(&e, "VirtualMachineScaleSetVMs_List", id))?;
            ids.extend(page.value.into_iter().filter_map(|v| v.instance_id));
        }
        ids.sort();
        self.manual_upgrade(&rg, &name, ids, id, "start rolling upgrade")
            .await?;
        Ok(OperationOutcome::Done { created: None })
    }

    /// `manualUpgrade` of `instances` of scale set `rg/set` onto its model, polled.
    pub(crate) async fn manual_upgrade(
        &self,
        rg: &str,
        set: &str,
        instances: Vec<String>,
        id: &str,
        verb: &str,
    ) -> Result<(), ProviderError> {
        let call = "VirtualMachineScaleSets_UpdateInstances";
        let req = models::VirtualMachineScaleSetVmInstanceRequiredIDs::new(instances);
        let rsp = self
            .client()
            .virtual_machine_scale_sets_client()
            .update_instances(rg, set, req, &self.sub().id)
            .send()
            .await
            .map_err(|e| self.map_err(&e, call, id))?
            .into_raw_response();
        self.finish(rsp, verb, call, id).await
    }
}
