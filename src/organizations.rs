//! Organisation-wide contexts: the member accounts of each `[[aws.organizations]]` entry
//! and the subscriptions of each `[[azure.tenants]]` entry, discovered through the binary's
//! connector, cached in the store for the entry's TTL
//! (`drydock org refresh` forces a new discovery), turned into contexts by the entry's
//! rules, and the outcomes of what was not scanned (skipped accounts, a failed discovery)
//! kept for the scan's report.

use crate::contexts::{Backend, CloudConnector, Context, Registry};
use chrono::{DateTime, Utc};
use drydock_api::accounts::aws::AwsOrganization;
use drydock_api::accounts::azure::AzureTenant;
use drydock_api::accounts::org::{context_names, Decision, OrgAccount};
use drydock_api::{Cloud, ProviderError, ProviderErrorKind, ScopeOutcome};
use drydock_store::Store;
use serde::{Deserialize, Serialize};

/// The kind of the store's documents holding discovered account lists (key `aws:NAME`).
pub const ORG_ACCOUNTS: &str = "org-accounts";

/// An organisation-wide entry of the configuration.
#[derive(Debug, Clone, Copy)]
pub enum Organization<'a> {
    Aws(&'a AwsOrganization),
    Azure(&'a AzureTenant),
}

impl Organization<'_> {
    /// Every organisation and tenant of `config`.
    pub fn all(config: &crate::config::Config) -> Vec<Organization<'_>> {
        config
            .aws
            .organizations
            .iter()
            .map(Organization::Aws)
            .chain(config.azure.tenants.iter().map(Organization::Azure))
            .collect()
    }

    pub fn name(&self) -> &str {
        match self {
            Organization::Aws(o) => &o.name,
            Organization::Azure(t) => &t.name,
        }
    }

    fn cache_key(&self) -> String {
        match self {
            Organization::Aws(o) => format!("aws:{}", o.name),
            Organization::Azure(t) => format!("azure:{}", t.name),
        }
    }

    fn ttl_secs(&self) -> u64 {
        match self {
            Organization::Aws(o) => o.cache_ttl_secs,
            Organization::Azure(t) => t.cache_ttl_secs,
        }
    }

    pub fn rules(&self) -> &drydock_api::accounts::org::Rules {
        match self {
            Organization::Aws(o) => &o.rules,
            Organization::Azure(t) => &t.rules,
        }
    }

    /// The states of an account (subscription) that is scanned.
    pub fn active(&self) -> &'static [&'static str] {
        match self {
            Organization::Aws(_) => &["ACTIVE"],
            // Warned and PastDue subscriptions still run their VMs.
            Organization::Azure(_) => &["Enabled", "Warned", "PastDue"],
        }
    }

    /// What each of `accounts` becomes: its context name (unique, not one `taken`) and the
    /// rules' decision.
    pub fn decisions<'d>(
        &self,
        accounts: &'d [OrgAccount],
        taken: &dyn Fn(&str) -> bool,
    ) -> Vec<(String, &'d OrgAccount, Decision)> {
        context_names(accounts, taken)
            .into_iter()
            .zip(accounts)
            .map(|(name, a)| (name, a, self.rules().decide(a, self.active())))
            .collect()
    }

    fn cloud(&self) -> Cloud {
        match self {
            Organization::Aws(_) => Cloud::Aws,
            Organization::Azure(_) => Cloud::Azure,
        }
    }

    fn backend(&self, name: String, id: &str, production: bool, readonly: bool) -> Backend {
        match self {
            Organization::Aws(o) => {
                Backend::Aws(Box::new(o.account(name, id, production, readonly)))
            }
            Organization::Azure(t) => {
                Backend::Azure(Box::new(t.subscription(name, id, production, readonly)))
            }
        }
    }
}

/// An organisation's account list as discovered, and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Discovery {
    pub discovered_at: DateTime<Utc>,
    pub accounts: Vec<OrgAccount>,
}

/// Where an account list came from.
#[derive(Debug, Clone, PartialEq)]
pub enum Origin {
    /// The store's copy, younger than the TTL: no Organizations call was made.
    Cache,
    /// Discovered now (and cached).
    Discovered,
    /// Discovery failed; the store's older copy is used, and why discovery failed.
    Stale(String),
}

/// Discovers (or reads from the store) the accounts of AWS organisations.
pub struct Organizations<'a> {
    pub store: Option<&'a dyn Store>,
    pub connector: Option<&'a dyn CloudConnector>,
    pub rt: &'a tokio::runtime::Runtime,
    pub now: DateTime<Utc>,
    /// Discover even when the cached copy is fresh.
    pub force: bool,
}

impl Organizations<'_> {
    /// The account list of `org`.
    pub fn accounts(&self, org: Organization<'_>) -> Result<(Discovery, Origin), ProviderError> {
        let key = org.cache_key();
        let name = org.name();
        let cached: Option<Discovery> = self
            .store
            .and_then(|s| match s.document(ORG_ACCOUNTS, &key) {
                Ok(d) => d,
                Err(e) => {
                    tracing::warn!("cannot read the cached accounts of {name}: {e}");
                    None
                }
            })
            .and_then(|d| match serde_json::from_slice(&d.body) {
                Ok(d) => Some(d),
                Err(e) => {
                    tracing::warn!("the cached accounts of {name} are unreadable: {e}");
                    None
                }
            });
        let ttl = chrono::Duration::seconds(org.ttl_secs().min(i64::MAX as u64) as i64);
        if let Some(c) = &cached {
            let age = self.now.signed_duration_since(c.discovered_at);
            if !self.force && age >= chrono::Duration::zero() && age < ttl {
                return Ok((c.clone(), Origin::Cache));
            }
        }
        let discovered = match (self.connector, org) {
            (Some(c), Organization::Aws(o)) => c.discover_aws(o, self.rt),
            (Some(c), Organization::Azure(t)) => c.discover_azure(t, self.rt),
            (None, _) => Err(ProviderError::new(
                ProviderErrorKind::Unsupported,
                "discover",
                name,
                "this program was built without cloud providers",
                "",
            )),
        };
        match discovered {
            Ok(accounts) => {
                let d = Discovery {
                    discovered_at: self.now,
                    accounts,
                };
                if let Some(store) = self.store {
                    let body = serde_json::to_vec(&d).unwrap_or_default();
                    if let Err(e) = store.put_document(ORG_ACCOUNTS, &key, &body, None) {
                        tracing::warn!("cannot cache the accounts of {name}: {e}");
                    }
                }
                Ok((d, Origin::Discovered))
            }
            Err(e) => match cached {
                Some(c) => {
                    tracing::warn!("discovery of {name} failed, using the cached list: {e}");
                    Ok((c, Origin::Stale(e.to_string())))
                }
                None => Err(e),
            },
        }
    }
}

impl Registry {
    /// Adds the member accounts of `orgs` as contexts (a `[[contexts]]` entry of the same
    /// name adds its flags), and records the outcome of each account not scanned and of
    /// each organisation that could not be discovered.
    pub fn with_organizations(
        mut self,
        orgs: &[Organization<'_>],
        finder: &Organizations,
    ) -> Registry {
        for &org in orgs {
            let (d, origin) = match finder.accounts(org) {
                Ok(x) => x,
                Err(e) => {
                    tracing::warn!("organization {}: {e}", org.name());
                    self.discovery
                        .push(ScopeOutcome::failed(org.name(), "discovery", &e, 0));
                    continue;
                }
            };
            if let Origin::Stale(why) = &origin {
                tracing::warn!(
                    "organization {}: using the account list of {} ({why})",
                    org.name(),
                    d.discovered_at
                );
            }
            let taken = |n: &str| {
                self.contexts
                    .iter()
                    .any(|c| c.name == n && c.backend != Backend::Named)
            };
            for (name, a, decision) in org.decisions(&d.accounts, &taken) {
                match decision {
                    Decision::Skip(why) => self.discovery.push(ScopeOutcome::skipped(
                        &name,
                        "*",
                        format!(
                            "{} ({}{}): {why}",
                            org.name(),
                            a.id,
                            if a.path.is_empty() {
                                String::new()
                            } else {
                                format!(", {}", a.path)
                            }
                        ),
                    )),
                    Decision::Scan {
                        production,
                        readonly,
                    } => {
                        let backend = org.backend(name.clone(), &a.id, production, readonly);
                        let cloud = org.cloud();
                        match self.contexts.iter_mut().find(|c| c.name == name) {
                            // Flags from a `[[contexts]]` entry naming the account.
                            Some(c) => {
                                c.production |= production;
                                c.readonly |= readonly;
                                c.cloud = Some(cloud);
                                c.backend = backend;
                            }
                            None => self.contexts.push(Context {
                                name,
                                cloud: Some(cloud),
                                production,
                                readonly,
                                accent: None,
                                backend,
                            }),
                        }
                    }
                }
            }
        }
        self
    }
}
