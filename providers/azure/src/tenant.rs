//! Azure tenant discovery: the subscriptions the credential sees (Subscriptions_List,
//! `GET /subscriptions`, paged by `nextLink`), with their state and tags. The caller keeps
//! the enabled ones its rules select and caches the list.

use crate::provider::AzureProvider;
use drydock_api::accounts::azure::{AzureSubscription, AzureTenant};
use drydock_api::accounts::org::OrgAccount;
use drydock_api::{ProviderError, ProviderErrorKind};

/// The Subscriptions API version.
pub const SUBSCRIPTIONS_API: &str = "2022-12-01";

/// At most this many pages are followed (a tenant of a million subscriptions).
const MAX_PAGES: usize = 10_000;

/// Every subscription of the tenant the credential can see.
pub async fn discover(
    tenant: &AzureTenant,
    env: &(dyn Fn(&str) -> Option<String> + Sync),
) -> Result<Vec<OrgAccount>, ProviderError> {
    let setup = |e: crate::credential::SetupError| {
        ProviderError::new(
            ProviderErrorKind::Auth,
            "Subscriptions_List",
            &tenant.name,
            e.to_string(),
            "check the tenant's credential",
        )
    };
    // A provider with no subscription of its own: its ARM client and credential.
    let anchor = AzureSubscription {
        id: String::new(),
        name: tenant.name.clone(),
        locations: tenant.locations.clone(),
        endpoint: tenant.endpoint.clone(),
        readonly: true,
        production: false,
        concurrency: 1,
        credential: tenant.credential,
        tenant: None,
    };
    let p = AzureProvider::new(anchor, env).map_err(setup)?;
    let mut out = Vec::new();
    let mut next = Some("/subscriptions".to_string());
    let mut pages = 0;
    while let Some(path) = next.take() {
        pages += 1;
        if pages > MAX_PAGES {
            break;
        }
        let a = p
            .arm(
                azure_core::Method::Get,
                &path,
                SUBSCRIPTIONS_API,
                None,
                "Subscriptions_List",
            )
            .await?;
        for s in a.body["value"].as_array().into_iter().flatten() {
            let Some(id) = s["subscriptionId"].as_str() else {
                continue;
            };
            out.push(OrgAccount {
                id: id.to_string(),
                name: s["displayName"].as_str().unwrap_or(id).to_string(),
                status: s["state"].as_str().unwrap_or("Unknown").to_string(),
                path: String::new(),
                tags: s["tags"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .filter_map(|(k, v)| Some((k.as_str(), v.as_str()?)))
                    .collect(),
            });
        }
        next = a.body["nextLink"].as_str().map(String::from);
    }
    Ok(out)
}
