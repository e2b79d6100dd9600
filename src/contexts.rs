//! The registry of contexts and providers: from the configuration, the one list of contexts
//! drydock knows (name, cloud, production, read-only, accent) and the builders of their
//! providers. The CLI, the plan commands, the mutation gate and the dashboard all ask it.
//! The library links no cloud SDK: the binary hands the registry a `CloudConnector` that
//! builds AWS, Azure and OpenStack providers; adding a cloud touches this module, the connector and
//! the cloud's own crate, nothing else.

use crate::config::{Accent, Config};
use chrono::{DateTime, Utc};
use drydock_api::accounts::{aws::AwsAccount, azure::AzureSubscription, openstack::OpenStackCloud};
use drydock_api::{Cloud, Provider};
use drydock_sim::SimSettings;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use thiserror::Error;

/// The simulated demo contexts (the embedded fleet and `[demo] fleet` alike).
pub const DEMO_CONTEXTS: [(&str, Cloud); 2] =
    [("demo-aws", Cloud::Aws), ("demo-azure", Cloud::Azure)];

/// How to configure a cloud account, for messages that say there is none.
pub const CONFIGURE_HINT: &str =
    "configure [[aws.accounts]], [[azure.subscriptions]] or [[openstack.clouds]] (see README, AWS, Azure and OpenStack)";

/// Where a context's provider comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Backend {
    /// A simulated cloud of the demo fleet.
    Demo,
    /// An `[[aws.accounts]]` entry.
    Aws(Box<AwsAccount>),
    /// An `[[azure.subscriptions]]` entry.
    Azure(Box<AzureSubscription>),
    /// An `[[openstack.clouds]]` entry.
    OpenStack(Box<OpenStackCloud>),
    /// Only named in `[[contexts]]` (e.g. a snapshot's provider): nothing to build.
    Named,
}

/// One context: a provider drydock reads and may change, with its safety flags.
#[derive(Debug, Clone, PartialEq)]
pub struct Context {
    pub name: String,
    /// The cloud it talks to (`None` for a context only named in `[[contexts]]`).
    pub cloud: Option<Cloud>,
    /// Typed confirmations and a red accent.
    pub production: bool,
    /// The gate refuses every change here.
    pub readonly: bool,
    pub accent: Option<Accent>,
    pub backend: Backend,
}

/// Why a provider could not be built.
#[derive(Debug, Error)]
pub enum RegistryError {
    #[error("[demo] fleet: {0}")]
    FleetFile(#[from] drydock_convert::input::InputError),
    #[error("[demo] fleet {path}: {message}")]
    FleetSpec { path: PathBuf, message: String },
    #[error("demo state file: {0}")]
    State(#[from] drydock_sim::StateError),
    /// The connector could not build a cloud context's provider (its error kept).
    #[error("context `{context}`: {source}")]
    Provider {
        context: String,
        #[source]
        source: ConnectError,
    },
    #[error(
        "context `{0}` is a cloud account, and this program was built without cloud providers"
    )]
    NoConnector(String),
    #[error("no context `{name}`; contexts: {known}")]
    Unknown { name: String, known: String },
}

/// Why a connector could not build a provider: the cloud crate's own error.
pub type ConnectError = Box<dyn std::error::Error + Send + Sync>;

/// Builds the provider of a real cloud's context. The binary supplies one (it links the
/// AWS and Azure crates); the library and the tests that talk to no cloud do without.
pub trait CloudConnector: Send + Sync {
    /// The provider of `context` (an `Aws`, `Azure` or `OpenStack` backend), built inside `rt`, which
    /// will run it.
    fn connect(
        &self,
        context: &Context,
        rt: &tokio::runtime::Runtime,
    ) -> Result<Arc<dyn Provider>, ConnectError>;

    /// The member accounts of an AWS Organization (its OU tree walked, tags read).
    fn discover_aws(
        &self,
        org: &drydock_api::accounts::aws::AwsOrganization,
        rt: &tokio::runtime::Runtime,
    ) -> Result<Vec<drydock_api::accounts::org::OrgAccount>, drydock_api::ProviderError>;

    /// The subscriptions of an Azure tenant (the Subscriptions list).
    fn discover_azure(
        &self,
        tenant: &drydock_api::accounts::azure::AzureTenant,
        rt: &tokio::runtime::Runtime,
    ) -> Result<Vec<drydock_api::accounts::org::OrgAccount>, drydock_api::ProviderError>;
}

/// The registry's connector, if the binary gave it one.
#[derive(Clone, Default)]
struct Connector(Option<Arc<dyn CloudConnector>>);

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Connector(..)"
        } else {
            "Connector(none)"
        })
    }
}

/// Every context of a configuration, and how to build their providers.
#[derive(Clone, Default)]
pub struct Registry {
    pub(crate) contexts: Vec<Context>,
    /// Outcomes of what organisation discovery left out: skipped accounts, organisations
    /// that could not be read.
    pub(crate) discovery: Vec<drydock_api::ScopeOutcome>,
    scan: crate::config::ScanConfig,
    demo: crate::config::DemoConfig,
    /// Where the demo clouds keep their state (`None`: in memory only).
    demo_state: Option<Arc<dyn drydock_store::Store>>,
    connector: Connector,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("contexts", &self.contexts)
            .field("demo", &self.demo)
            .field(
                "demo_state",
                &self.demo_state.as_ref().map(|s| s.describe()),
            )
            .finish()
    }
}

/// The kind of the store's documents that hold the demo clouds' state (one per cloud).
pub const DEMO_STATE: &str = "demo-cloud";

/// A demo cloud's state as a document of the store.
struct StoredState {
    store: Arc<dyn drydock_store::Store>,
    key: String,
}

impl drydock_sim::StateStore for StoredState {
    fn describe(&self) -> String {
        format!("{} ({DEMO_STATE} {})", self.store.describe(), self.key)
    }

    fn load(&self) -> Result<Option<(i64, Vec<u8>)>, String> {
        self.store
            .document(DEMO_STATE, &self.key)
            .map(|d| d.map(|d| (d.rev, d.body)))
            .map_err(|e| e.to_string())
    }

    fn save(&self, expect: i64, body: &[u8]) -> Result<Option<i64>, String> {
        self.store
            .put_document(DEMO_STATE, &self.key, body, Some(expect))
            .map_err(|e| e.to_string())
    }
}

impl Registry {
    /// The contexts of `config`: the demo's, one per cloud account, and any other named in
    /// `[[contexts]]`. A `[[contexts]]` entry adds its flags to the context of that name.
    pub fn new(config: &Config) -> Registry {
        let mut contexts: Vec<Context> = DEMO_CONTEXTS
            .iter()
            .map(|(name, cloud)| Context {
                name: name.to_string(),
                cloud: Some(*cloud),
                production: false,
                readonly: false,
                accent: None,
                backend: Backend::Demo,
            })
            .collect();
        for a in &config.aws.accounts {
            contexts.push(Context {
                name: a.name.clone(),
                cloud: Some(Cloud::Aws),
                production: a.production,
                readonly: a.readonly,
                accent: None,
                backend: Backend::Aws(Box::new(a.clone())),
            });
        }
        for s in &config.azure.subscriptions {
            contexts.push(Context {
                name: s.name.clone(),
                cloud: Some(Cloud::Azure),
                production: s.production,
                readonly: s.readonly,
                accent: None,
                backend: Backend::Azure(Box::new(s.clone())),
            });
        }
        for o in &config.openstack.clouds {
            contexts.push(Context {
                name: o.context(),
                cloud: Some(Cloud::OpenStack),
                production: o.production,
                readonly: o.readonly,
                accent: None,
                backend: Backend::OpenStack(Box::new(o.clone())),
            });
        }
        for c in &config.contexts {
            match contexts.iter_mut().find(|x| x.name == c.name) {
                Some(x) => {
                    x.production |= c.production;
                    x.readonly |= c.readonly;
                    x.accent = c.accent.or(x.accent);
                }
                None => contexts.push(Context {
                    name: c.name.clone(),
                    cloud: None,
                    production: c.production,
                    readonly: c.readonly,
                    accent: c.accent,
                    backend: Backend::Named,
                }),
            }
        }
        Registry {
            contexts,
            discovery: Vec::new(),
            scan: config.scan.clone(),
            demo: config.demo.clone(),
            demo_state: None,
            connector: Connector::default(),
        }
    }

    /// Builds the cloud contexts' providers with `connector` (the binary's).
    pub fn with_connector(mut self, connector: Arc<dyn CloudConnector>) -> Registry {
        self.connector = Connector(Some(connector));
        self
    }

    /// Keeps the demo clouds' state in `store` (shared by every process using it; `None`,
    /// the default: in memory, e.g. in tests).
    pub fn with_demo_state(mut self, store: Option<Arc<dyn drydock_store::Store>>) -> Registry {
        self.demo_state = store;
        self
    }

    /// The connector the binary gave, if any.
    pub fn connector(&self) -> Option<&dyn CloudConnector> {
        self.connector.0.as_deref()
    }

    /// The outcomes of what organisation discovery left out (skipped accounts, an
    /// organisation that could not be read).
    pub fn discovery(&self) -> &[drydock_api::ScopeOutcome] {
        &self.discovery
    }

    /// How to scan this registry's contexts: the timeout, how many at once, and the
    /// outcomes of the accounts discovery left out (`skipped`, or a failed discovery).
    pub fn scan_options(&self) -> crate::scan::ScanOptions {
        crate::scan::ScanOptions {
            timeout: Duration::from_secs(self.scan.context_timeout_secs.max(1)),
            at_once: self.scan.contexts_at_once.max(1),
            outcomes: self.discovery.clone(),
        }
    }

    /// Where the demo clouds keep their state.
    pub fn demo_state(&self) -> Option<&Arc<dyn drydock_store::Store>> {
        self.demo_state.as_ref()
    }

    pub fn contexts(&self) -> &[Context] {
        &self.contexts
    }

    pub fn get(&self, name: &str) -> Option<&Context> {
        self.contexts.iter().find(|c| c.name == name)
    }

    /// Whether any real cloud account is configured.
    pub fn has_cloud_accounts(&self) -> bool {
        self.contexts
            .iter()
            .any(|c| !matches!(c.backend, Backend::Demo | Backend::Named))
    }

    /// The simulated demo clouds (or `[demo] fleet`), each keeping its state in a file
    /// under the state directory so that changes outlive the process.
    pub fn demo_providers(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<Arc<dyn Provider>>, RegistryError> {
        let d = &self.demo;
        let settings = SimSettings {
            latency: Duration::from_millis(d.latency_ms),
            fault_rate: d.fault_rate,
            seed: d.seed,
        };
        let clouds = match &d.fleet {
            None => drydock_sim::demo_clouds(now, settings),
            Some(path) => {
                let text = drydock_convert::input::read_regular_text(
                    path,
                    "[demo] fleet file",
                    16 << 20,
                    "a fleet file describes families and fleets, not VMs one by one",
                )?;
                let spec_err = |message: String| RegistryError::FleetSpec {
                    path: path.clone(),
                    message,
                };
                let spec =
                    drydock_sim::FleetSpec::parse(&text).map_err(|e| spec_err(e.to_string()))?;
                drydock_sim::clouds_of(&spec, now, settings).map_err(|e| spec_err(e.0))?
            }
        };
        clouds
            .into_iter()
            .map(|c| {
                let c = match &self.demo_state {
                    Some(store) => {
                        let backing = Arc::new(StoredState {
                            store: Arc::clone(store),
                            key: Provider::name(&c).to_string(),
                        });
                        c.with_state_store(backing).map_err(RegistryError::State)?
                    }
                    None => c,
                };
                Ok(Arc::new(c) as Arc<dyn Provider>)
            })
            .collect()
    }

    /// The configured cloud accounts as providers (built inside `rt`, which will run them).
    pub fn cloud_providers(
        &self,
        rt: &tokio::runtime::Runtime,
    ) -> Result<Vec<Arc<dyn Provider>>, RegistryError> {
        let mut out = Vec::new();
        for c in &self.contexts {
            if matches!(
                c.backend,
                Backend::Aws(_) | Backend::Azure(_) | Backend::OpenStack(_)
            ) {
                let Some(connector) = &self.connector.0 else {
                    return Err(RegistryError::NoConnector(c.name.clone()));
                };
                out.push(
                    connector
                        .connect(c, rt)
                        .map_err(|source| RegistryError::Provider {
                            context: c.name.clone(),
                            source,
                        })?,
                );
            }
        }
        Ok(out)
    }

    /// The providers of the contexts `names` (demo and cloud alike).
    pub fn providers_for(
        &self,
        names: &[&str],
        rt: &tokio::runtime::Runtime,
        now: DateTime<Utc>,
    ) -> Result<Vec<Arc<dyn Provider>>, RegistryError> {
        let mut out = Vec::new();
        let want = |b: fn(&Backend) -> bool| {
            names
                .iter()
                .any(|n| self.get(n).is_some_and(|c| b(&c.backend)))
        };
        if want(|b| matches!(b, Backend::Demo)) {
            out.extend(self.demo_providers(now)?);
        }
        if want(|b| {
            matches!(
                b,
                Backend::Aws(_) | Backend::Azure(_) | Backend::OpenStack(_)
            )
        }) {
            out.extend(self.cloud_providers(rt)?);
        }
        if let Some(missing) = names.iter().find(|n| !out.iter().any(|p| p.name() == **n)) {
            let known: Vec<&str> = self
                .contexts
                .iter()
                .filter(|c| c.backend != Backend::Named)
                .map(|c| c.name.as_str())
                .collect();
            return Err(RegistryError::Unknown {
                name: missing.to_string(),
                known: known.join(", "),
            });
        }
        out.retain(|p| names.contains(&p.name()));
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contexts_merge_accounts_demo_and_named_entries() {
        let config: Config = toml::from_str(
            r#"
            [[aws.accounts]]
            name = "prod"
            regions = ["eu-west-1"]
            production = true
            readonly = true
            [[contexts]]
            name = "demo-azure"
            production = true
            accent = "blue"
            [[contexts]]
            name = "snap"
            "#,
        )
        .unwrap();
        let r = Registry::new(&config);
        let prod = r.get("prod").unwrap();
        assert!(prod.production && prod.readonly);
        assert_eq!(prod.cloud, Some(Cloud::Aws));
        let az = r.get("demo-azure").unwrap();
        assert!(az.production && !az.readonly);
        assert_eq!(az.cloud, Some(Cloud::Azure));
        assert_eq!(az.accent, Some(Accent::Blue));
        assert_eq!(r.get("snap").unwrap().backend, Backend::Named);
        assert!(r.has_cloud_accounts());
        assert!(!r.get("demo-aws").unwrap().production);
    }

    #[test]
    fn providers_for_builds_only_what_is_asked() {
        let r = Registry::new(&Config::default()).with_demo_state(None);
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let p = r.providers_for(&["demo-azure"], &rt, Utc::now()).unwrap();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].name(), "demo-azure");
        let Err(err) = r.providers_for(&["nope"], &rt, Utc::now()) else {
            panic!("an unknown context builds nothing");
        };
        assert!(err.to_string().contains("demo-aws, demo-azure"), "{err}");
    }
}
