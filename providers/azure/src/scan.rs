//! One subscription's scan: VMs (with their power states), managed images, and galleries →
//! image definitions → versions, each list paged through `nextLink`, the per-gallery lists
//! run concurrently within the subscription's bound. A list the endpoint cannot serve (403,
//! 404) becomes a scan problem naming the call and scope, never a failed scan.

use crate::error;
use crate::records;
use crate::AzureSubscription;
use azure_mgmt_compute::package_2024_07_01::{models, Client};
use chrono::{DateTime, Utc};
use drydock_api::{ProviderError, ScanProblem, ScanResult, VmState};
use futures_util::{stream, StreamExt};
use std::collections::HashMap;

/// Every item of a paged list.
async fn all<P, T>(
    mut pages: azure_core::Pageable<P, azure_core::Error>,
    items: impl Fn(P) -> Vec<T>,
) -> Result<Vec<T>, azure_core::Error>
where
    P: Send + 'static,
{
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        out.extend(items(page?));
    }
    Ok(out)
}

/// `/subscriptions/S/resourceGroups/RG/providers/NS/TYPE/NAME/...` → (RG, NAME).
fn group_and_name(id: &str) -> Option<(String, String)> {
    let parts: Vec<&str> = id.split('/').collect();
    let rg = parts
        .iter()
        .position(|p| p.eq_ignore_ascii_case("resourceGroups"))
        .and_then(|i| parts.get(i + 1))?;
    Some((rg.to_string(), parts.last()?.to_string()))
}

/// A reference to a gallery image definition (no version) means its latest version: the
/// newest not excluded from latest, by published date.
fn resolve_latest(result: &mut ScanResult) {
    let images = &result.images;
    let latest = |def: &str| {
        let prefix = format!("{}/versions/", def.to_lowercase());
        images
            .iter()
            .filter(|i| i.id.to_lowercase().starts_with(&prefix))
            .filter(|i| i.state == drydock_api::ImageState::Available)
            .max_by_key(|i| i.created)
            .map(|i| i.id.clone())
    };
    let is_definition = |id: &str| {
        let l = id.to_lowercase();
        l.contains("/providers/microsoft.compute/galleries/")
            && !l.contains("/versions/")
            && l.split("/images/").count() == 2
    };
    let resolved = |id: &str| is_definition(id).then(|| latest(id)).flatten();
    for v in &mut result.vms {
        if let Some(version) = resolved(&v.image_id) {
            v.image_id = version.into();
        }
    }
    for g in &mut result.scale_groups {
        if let Some(version) = resolved(&g.model_image_id) {
            g.model_image_id = version;
        }
    }
}

/// What one subscription's scan needs.
pub struct Scanner<'a> {
    pub sub: &'a AzureSubscription,
    pub client: &'a Client,
    pub now: DateTime<Utc>,
    /// The lists that failed while the rest was read (the scope's outcome is partial).
    pub failed: std::sync::Mutex<Vec<ProviderError>>,
    /// The tenant's Resource Graph, when VMs are read through it.
    pub graph: Option<&'a crate::graph::Graph>,
}

impl Scanner<'_> {
    /// A failed list: 403/404 (and other refusals) are problems of the scan; credential and
    /// connection failures fail it, since nothing else would work either.
    pub(crate) fn problem(
        &self,
        e: &azure_core::Error,
        call: &str,
        scope: &str,
        result: &mut ScanResult,
    ) -> Result<(), ProviderError> {
        let mapped = error::map(e, call, scope, self.sub.credential);
        match error::status(e) {
            Some(401) | None => Err(mapped),
            Some(_) => {
                result
                    .problems
                    .push(ScanProblem::of(&self.sub.name, &mapped));
                self.failed
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(mapped);
                Ok(())
            }
        }
    }

    /// This subscription's VMs from the tenant's Resource Graph query (`None`: no graph, the
    /// query failed, or Resource Graph refused this subscription: read its own list).
    async fn graph_vms(&self) -> Option<Vec<models::VirtualMachine>> {
        let rows = match self.graph?.rows().await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(
                    "Resource Graph: {e}; reading {} by its own lists",
                    self.sub.name
                );
                return None;
            }
        };
        let sub = self.sub.id.to_lowercase();
        if rows.refused.contains(&sub) {
            tracing::info!(
                "Resource Graph refused {}: reading its own lists",
                self.sub.name
            );
            return None;
        }
        Some(
            rows.vms
                .get(&sub)
                .into_iter()
                .flatten()
                .filter_map(|r| serde_json::from_value(r.clone()).ok())
                .collect(),
        )
    }

    pub async fn scan(&self) -> Result<ScanResult, ProviderError> {
        let s = &self.sub.id;
        let scope = format!("{}/{}", self.sub.name, s);
        let mut result = ScanResult::default();
        let vms_client = self.client.virtual_machines_client();
        // VMs with their power states: one list with statusOnly, whose items carry the model
        // (as the specification's example shows) and the instance view's statuses.
        let vms = match self.graph_vms().await {
            Some(v) => v,
            None => match all(
                vms_client.list_all(s).status_only("true").into_stream(),
                |p| p.value,
            )
            .await
            {
                Ok(v) => v,
                Err(e) => {
                    self.problem(&e, "VirtualMachines_ListAll", &scope, &mut result)?;
                    Vec::new()
                }
            },
        };
        let states: HashMap<String, VmState> = vms
            .iter()
            .filter_map(|v| {
                let statuses = &v.properties.as_ref()?.instance_view.as_ref()?.statuses;
                Some((
                    v.resource.id.clone()?.to_lowercase(),
                    records::power_state(statuses),
                ))
            })
            .collect();
        for v in &vms {
            if !self.sub.locations.contains(&v.resource.location) {
                continue;
            }
            let state = v
                .resource
                .id
                .as_ref()
                .and_then(|id| states.get(&id.to_lowercase()).copied());
            result.vms.extend(records::vm(v, s, state, self.now));
        }
        // Managed images.
        match all(self.client.images_client().list(s).into_stream(), |p| {
            p.value
        })
        .await
        {
            Ok(list) => result.images.extend(
                list.iter()
                    .filter(|i| self.sub.locations.contains(&i.resource.location))
                    .filter_map(|i| records::managed_image(i, s, self.now)),
            ),
            Err(e) => self.problem(&e, "Images_List", &scope, &mut result)?,
        }
        self.galleries(&scope, &mut result).await?;
        self.scale_sets(&scope, &mut result).await?;
        resolve_latest(&mut result);
        self.marketplace(&mut result).await?;
        Ok(result)
    }

    /// The scale-set VMs of this subscription from the tenant's Resource Graph query, by
    /// lower-cased scale set id (`None`: read each set's own list).
    async fn graph_instances(
        &self,
    ) -> Option<HashMap<String, Vec<models::VirtualMachineScaleSetVm>>> {
        let rows = self.graph?.rows().await.ok()?;
        let sub = self.sub.id.to_lowercase();
        if rows.refused.contains(&sub) {
            return None;
        }
        let mut by_set: HashMap<String, Vec<models::VirtualMachineScaleSetVm>> = HashMap::new();
        for r in rows.scale_set_vms.get(&sub).into_iter().flatten() {
            let Some(id) = r["id"].as_str() else { continue };
            let lower = id.to_lowercase();
            let Some(at) = lower.rfind("/virtualmachines/") else {
                continue;
            };
            if let Ok(v) = serde_json::from_value(r.clone()) {
                by_set.entry(lower[..at].to_string()).or_default().push(v);
            }
        }
        Some(by_set)
    }

    /// Scale sets and their instances (each with its own image and power state).
    async fn scale_sets(&self, scope: &str, result: &mut ScanResult) -> Result<(), ProviderError> {
        let s = &self.sub.id;
        let sets = self.client.virtual_machine_scale_sets_client();
        let sets = match all(sets.list_all(s).into_stream(), |p| p.value).await {
            Ok(v) => v,
            Err(e) => return self.problem(&e, "VirtualMachineScaleSets_ListAll", scope, result),
        };
        let sets: Vec<_> = sets
            .into_iter()
            .filter(|x| self.sub.locations.contains(&x.resource.location))
            .collect();
        // From Resource Graph when the tenant's query has them: no list per set.
        let mut from_graph = self.graph_instances().await;
        // Owned inputs for each list, so the concurrent futures borrow nothing.
        let jobs: Vec<(usize, String, String)> = sets
            .iter()
            .enumerate()
            .filter(|_| from_graph.is_none())
            .filter_map(|(i, x)| {
                let (rg, name) = x.resource.id.as_deref().and_then(group_and_name)?;
                Some((i, rg, name))
            })
            .collect();
        let lists: Vec<_> = stream::iter(jobs)
            .map(|(i, rg, name)| {
                let c = self.client.virtual_machine_scale_set_v_ms_client();
                let s = s.clone();
                async move {
                    let r = all(
                        c.list(rg, name, s).expand("instanceView").into_stream(),
                        |p: models::VirtualMachineScaleSetVmListResult| p.value,
                    )
                    .await;
                    (i, r)
                }
            })
            .buffer_unordered(self.sub.concurrency.max(1))
            .collect()
            .await;
        let graph_lists = from_graph.as_mut().map(|by_set| {
            sets.iter()
                .enumerate()
                .map(|(i, x)| {
                    let id = x.resource.id.as_deref().unwrap_or("").to_lowercase();
                    (i, Ok(by_set.remove(&id).unwrap_or_default()))
                })
                .collect::<Vec<_>>()
        });
        for (i, r) in lists.into_iter().chain(graph_lists.into_iter().flatten()) {
            let set = &sets[i];
            let instances = match r {
                Ok(v) => v,
                Err(e) => {
                    let name = set.resource.name.as_deref().unwrap_or("?");
                    let where_ = format!("{scope}/virtualMachineScaleSets/{name}");
                    self.problem(&e, "VirtualMachineScaleSetVMs_List", &where_, result)?;
                    Vec::new()
                }
            };
            let vms: Vec<_> = instances
                .iter()
                .filter_map(|v| records::scale_set_vm(v, set, s, self.now))
                .collect();
            let members = vms.iter().map(|v| v.id.to_string()).collect();
            result
                .scale_groups
                .extend(records::scale_group(set, s, members));
            result.vms.extend(vms);
        }
        Ok(())
    }

    /// Galleries → definitions → versions.
    async fn galleries(&self, scope: &str, result: &mut ScanResult) -> Result<(), ProviderError> {
        let s = &self.sub.id;
        let galleries = match all(self.client.galleries_client().list(s).into_stream(), |p| {
            p.value
        })
        .await
        {
            Ok(g) => g,
            Err(e) => return self.problem(&e, "Galleries_List", scope, result),
        };
        let images = self.client.gallery_images_client();
        let mut definitions: Vec<(String, String, String)> = Vec::new();
        for g in &galleries {
            let Some((rg, gallery)) = g.resource.id.as_deref().and_then(group_and_name) else {
                continue;
            };
            match all(
                images.list_by_gallery(s, &rg, &gallery).into_stream(),
                |p| p.value,
            )
            .await
            {
                Ok(defs) => definitions.extend(
                    defs.iter()
                        .filter_map(|d| d.resource.name.clone())
                        .map(|d| (rg.clone(), gallery.clone(), d)),
                ),
                Err(e) => {
                    let where_ = format!("{scope}/galleries/{gallery}");
                    self.problem(&e, "GalleryImages_ListByGallery", &where_, result)?
                }
            }
        }
        let lists: Vec<_> = stream::iter(definitions)
            .map(|(rg, gallery, def)| {
                let c = self.client.gallery_image_versions_client();
                async move {
                    let r = all(
                        c.list_by_gallery_image(s, &rg, &gallery, &def)
                            .into_stream(),
                        |p: models::GalleryImageVersionList| p.value,
                    )
                    .await;
                    (gallery, def, r)
                }
            })
            .buffer_unordered(self.sub.concurrency.max(1))
            .collect()
            .await;
        for (gallery, def, r) in lists {
            match r {
                Ok(versions) => result.images.extend(
                    versions
                        .iter()
                        .filter(|v| self.sub.locations.contains(&v.resource.location))
                        .filter_map(|v| records::gallery_version(v, &def, s, self.now)),
                ),
                Err(e) => {
                    let where_ = format!("{scope}/galleries/{gallery}/images/{def}");
                    self.problem(
                        &e,
                        "GalleryImageVersions_ListByGalleryImage",
                        &where_,
                        result,
                    )?
                }
            }
        }
        Ok(())
    }
}
