//! `[[azure.subscriptions]]`: one Azure subscription drydock scans, and how to reach it.
//! Credentials come through azure_identity (or a bearer token from the environment); they
//! are never stored or logged.

use serde::{Deserialize, Serialize};

/// Which locations to scan: `locations = ["westeurope"]`, or `"all"` (wherever the
/// subscription has resources).
pub type Locations = crate::Places;

/// Where the bearer token comes from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CredentialSource {
    /// azure_identity's default chain (environment, managed identity, Azure CLI).
    #[default]
    Default,
    /// The Azure CLI (`az login`).
    Cli,
    /// A service principal from `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET`.
    Env,
    /// The managed identity of the machine drydock runs on.
    ManagedIdentity,
    /// A bearer token in `DRYDOCK_AZURE_TOKEN` (e.g. from `az account get-access-token`).
    Token,
}

impl CredentialSource {
    /// How the source is named in errors (so a 401/403 says which one was used).
    pub fn describe(self) -> &'static str {
        match self {
            CredentialSource::Default => {
                "azure_identity's default chain (environment, managed identity, Azure CLI)"
            }
            CredentialSource::Cli => "the Azure CLI (az login)",
            CredentialSource::Env => {
                "the service principal in AZURE_TENANT_ID / AZURE_CLIENT_ID / AZURE_CLIENT_SECRET"
            }
            CredentialSource::ManagedIdentity => "this machine's managed identity",
            CredentialSource::Token => "the bearer token in DRYDOCK_AZURE_TOKEN",
        }
    }
}

fn default_concurrency() -> usize {
    4
}

/// One subscription: a context.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AzureSubscription {
    /// The subscription id (a GUID).
    pub id: String,
    /// The context name.
    pub name: String,
    pub locations: Locations,
    /// A Resource Manager other than management.azure.com (e.g. a local one in tests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    #[serde(default)]
    pub readonly: bool,
    #[serde(default)]
    pub production: bool,
    /// Calls in flight at once.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    #[serde(default)]
    pub credential: CredentialSource,
    /// The `[[azure.tenants]]` entry it was discovered from: its VMs are read through the
    /// tenant's Resource Graph query.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
}

fn default_cache_ttl() -> u64 {
    3600
}

/// `[[azure.tenants]]`: every enabled subscription the credential sees in its tenant as a
/// context, discovered from the Subscriptions list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AzureTenant {
    /// The tenant's name in drydock (its discovery outcome and cache key).
    pub name: String,
    #[serde(default)]
    pub credential: CredentialSource,
    pub locations: Locations,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// Selectors: a subscription id, `name:GLOB` or `tag:KEY=VALUE`.
    #[serde(flatten)]
    pub rules: crate::accounts::org::Rules,
    /// How long the discovered subscription list is reused (seconds).
    #[serde(default = "default_cache_ttl")]
    pub cache_ttl_secs: u64,
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// Read VMs across the tenant with one Resource Graph query (false: each subscription's
    /// own lists).
    #[serde(default = "yes")]
    pub resource_graph: bool,
}

fn yes() -> bool {
    true
}

impl AzureTenant {
    /// The context of one subscription of the tenant.
    pub fn subscription(
        &self,
        context: String,
        id: &str,
        production: bool,
        readonly: bool,
    ) -> AzureSubscription {
        AzureSubscription {
            id: id.to_string(),
            name: context,
            locations: self.locations.clone(),
            endpoint: self.endpoint.clone(),
            readonly,
            production,
            concurrency: self.concurrency,
            credential: self.credential,
            tenant: self.resource_graph.then(|| self.name.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Doc {
        subscriptions: Vec<AzureSubscription>,
    }

    #[test]
    fn parses_every_field_and_rejects_mistakes() {
        let doc: Doc = toml::from_str(
            r#"
            [[subscriptions]]
            id = "6b1f3c2e-0f4d-4a6b-9a53-2d8e7c1b4f90"
            name = "prod-az"
            locations = ["westeurope", "NorthEurope"]
            endpoint = "http://127.0.0.1:8080"
            production = true
            credential = "managed-identity"
            [[subscriptions]]
            id = "x"
            name = "all"
            locations = "all"
            "#,
        )
        .unwrap();
        let s = &doc.subscriptions[0];
        assert!(s.locations.contains("northeurope") && !s.locations.contains("eastus"));
        assert_eq!(s.credential, CredentialSource::ManagedIdentity);
        assert_eq!(s.concurrency, 4);
        assert!(doc.subscriptions[1].locations.contains("eastus"));
        assert_eq!(doc.subscriptions[1].credential, CredentialSource::Default);
        for bad in [
            "locations = \"westeurope\"",
            "locations = []",
            "locations = \"all\"\ncredential = \"password\"",
        ] {
            let text = format!("[[subscriptions]]\nid = \"x\"\nname = \"n\"\n{bad}\n");
            assert!(toml::from_str::<Doc>(&text).is_err(), "{bad}");
        }
    }
}
