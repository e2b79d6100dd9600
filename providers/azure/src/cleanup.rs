//! After a deregister: the managed disks and snapshots a deleted image or gallery version
//! was made from, deleted when nothing uses them any more (a disk attached to a VM, or a
//! source another managed image still names, is left alone).

use crate::provider::AzureProvider;
use azure_mgmt_compute::package_2024_07_01::models;
use drydock_api::ProviderError;
use futures_util::StreamExt;
use serde_json::Value;

/// Disk and snapshot ids anywhere under `v` (`.../providers/Microsoft.Compute/disks/...` or
/// `/snapshots/...`).
pub fn backing_ids(v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(s) => {
                let l = s.to_lowercase();
                if l.starts_with("/subscriptions/")
                    && (l.contains("/providers/microsoft.compute/disks/")
                        || l.contains("/providers/microsoft.compute/snapshots/"))
                    && !out.iter().any(|o: &String| o.eq_ignore_ascii_case(s))
                {
                    out.push(s.clone());
                }
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            Value::Object(o) => o.values().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    walk(v, &mut out);
    out
}

/// (resource group, name, is a snapshot) of a disk or snapshot id.
fn parts(id: &str) -> Option<(String, String, bool)> {
    let p: Vec<&str> = id.trim_matches('/').split('/').collect();
    let rg = p
        .iter()
        .position(|s| s.eq_ignore_ascii_case("resourceGroups"))
        .and_then(|i| p.get(i + 1))?;
    let kind = p.get(p.len().checked_sub(2)?)?.to_lowercase();
    Some((rg.to_string(), p.last()?.to_string(), kind == "snapshots"))
}

impl AzureProvider {
    /// Deletes the `sources` nothing uses any more; returns the ids deleted.
    pub(crate) async fn remove_unused(
        &self,
        sources: &[String],
        image: &str,
    ) -> Result<Vec<String>, ProviderError> {
        if sources.is_empty() {
            return Ok(Vec::new());
        }
        let s = self.sub().id.clone();
        // What the remaining managed images were made from.
        let mut used: Vec<String> = Vec::new();
        let mut pages = self.client().images_client().list(&s).into_stream();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.map_err(&e, "Images_List", image))?;
            for i in page.value {
                used.extend(backing_ids(&serde_json::to_value(&i).unwrap_or_default()));
            }
        }
        let mut deleted = Vec::new();
        for id in sources {
            if used.iter().any(|u| u.eq_ignore_ascii_case(id)) {
                continue;
            }
            let Some((rg, name, snapshot)) = parts(id) else {
                continue;
            };
            let (call, r) = if snapshot {
                let r = self
                    .client()
                    .snapshots_client()
                    .delete(&s, &rg, &name)
                    .send()
                    .await;
                ("Snapshots_Delete", r.map(|x| x.into_raw_response()))
            } else {
                let disk: Result<models::Disk, _> =
                    self.client().disks_client().get(&s, &rg, &name).await;
                match disk {
                    // Attached to a VM: in use.
                    Ok(d) if d.managed_by.is_some() => continue,
                    Ok(_) => {}
                    Err(e) if crate::error::status(&e) == Some(404) => continue,
                    Err(e) => return Err(self.map_err(&e, "Disks_Get", id)),
                }
                let r = self
                    .client()
                    .disks_client()
                    .delete(&s, &rg, &name)
                    .send()
                    .await;
                ("Disks_Delete", r.map(|x| x.into_raw_response()))
            };
            let rsp = r.map_err(|e| self.map_err(&e, call, id))?;
            self.finish(rsp, "deregister (backing storage)", call, id)
                .await?;
            tracing::info!("deleted {id}, left unused by {image}");
            deleted.push(id.clone());
        }
        Ok(deleted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_disks_and_snapshots_anywhere_in_a_model() {
        let v = serde_json::json!({"properties": {"storageProfile": {
            "osDisk": {"snapshot": {"id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/snapshots/snap-1"}},
            "dataDisks": [{"managedDisk": {"id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/disks/d-1"}}],
            "other": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm"}}});
        let ids = backing_ids(&v);
        assert_eq!(ids.len(), 2, "{ids:?}");
        let mut found: Vec<(String, String, bool)> =
            ids.iter().map(|i| parts(i).unwrap()).collect();
        found.sort();
        assert_eq!(
            found,
            [
                ("rg".to_string(), "d-1".to_string(), false),
                ("rg".to_string(), "snap-1".to_string(), true)
            ]
        );
    }
}
