//! Configuration: the typed settings and their layering — embedded `config/default.toml`
//! → config file → `DRYDOCK_*` environment → flags. Errors name file, line and key.

mod error;
mod layers;
pub mod operator;
pub mod paths;

pub use error::ConfigError;
pub use layers::{load, Sources};

use crate::drift::Policy;
use serde::{Deserialize, Serialize};

/// The embedded defaults.
pub const DEFAULT_CONFIG: &str = include_str!("../../config/default.toml");

/// When to colour output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// Every choice with the name the command line and the config give it.
    pub const NAMED: [(&'static str, ColorChoice); 3] = [
        ("auto", ColorChoice::Auto),
        ("always", ColorChoice::Always),
        ("never", ColorChoice::Never),
    ];
}

/// Log verbosity for the log file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    Trace,
    Debug,
    #[default]
    Info,
    Warn,
    Error,
}

impl LogLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Trace => "trace",
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
        }
    }
}

/// `[general]`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct General {
    pub color: ColorChoice,
    pub readonly: bool,
    pub log_level: LogLevel,
}

/// `[demo]`: how the simulated clouds behave.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DemoConfig {
    pub latency_ms: u64,
    #[serde(deserialize_with = "fraction")]
    pub fault_rate: f64,
    pub seed: u64,
    /// A fleet spec to simulate instead of the embedded demo fleet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fleet: Option<std::path::PathBuf>,
}

impl Default for DemoConfig {
    fn default() -> Self {
        DemoConfig {
            latency_ms: 0,
            fault_rate: 0.0,
            seed: 7,
            fleet: None,
        }
    }
}

fn fraction<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    let v = f64::deserialize(d)?;
    if (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err(serde::de::Error::custom(format!(
            "{v} is not a fraction; allowed: 0.0 to 1.0"
        )))
    }
}

/// A context's accent colour in the dashboard header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Accent {
    Cyan,
    Blue,
    Green,
    Magenta,
    Yellow,
    Red,
    White,
}

/// `[[contexts]]`: settings for one provider's context (its name is the provider name).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContextConfig {
    pub name: String,
    /// Production contexts get a red accent and typed confirmations.
    #[serde(default)]
    pub production: bool,
    /// The gate refuses every change in this context.
    #[serde(default)]
    pub readonly: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accent: Option<Accent>,
}

/// `[aws]`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AwsConfig {
    /// `[[aws.accounts]]`: one context per account.
    pub accounts: Vec<drydock_api::accounts::aws::AwsAccount>,
    /// `[[aws.organizations]]`: one context per member account, discovered.
    pub organizations: Vec<drydock_api::accounts::aws::AwsOrganization>,
}

/// `[scan]`: how a scan of many contexts behaves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScanConfig {
    /// Contexts scanned (and roles assumed) at once.
    pub contexts_at_once: usize,
    /// A context not done after this many seconds is given up as unreachable; the others
    /// go on.
    pub context_timeout_secs: u64,
    /// `report` reads the inventory `drydock scan` kept in the store instead of scanning
    /// when it is younger than this (0: never by default; `--from-store` always).
    pub shared_max_age_secs: u64,
}

impl Default for ScanConfig {
    fn default() -> Self {
        ScanConfig {
            contexts_at_once: 16,
            context_timeout_secs: 600,
            shared_max_age_secs: 900,
        }
    }
}

/// `[azure]`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AzureConfig {
    /// `[[azure.subscriptions]]`: one context per subscription.
    pub subscriptions: Vec<drydock_api::accounts::azure::AzureSubscription>,
    /// `[[azure.tenants]]`: one context per enabled subscription, discovered.
    pub tenants: Vec<drydock_api::accounts::azure::AzureTenant>,
}

/// `[openstack]`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OpenStackConfig {
    /// `[[openstack.clouds]]`: one context per cloud (a project and its regions).
    pub clouds: Vec<drydock_api::accounts::openstack::OpenStackCloud>,
}

/// `[store]`: where plans, the journal, leases, claims, the audit log and documents live.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// `postgres://…` for a team (`DRYDOCK_STORE_URL` overrides); unset: the embedded
    /// SQLite file in the data directory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// A holder silent this long may be taken over (`--take-over`).
    pub lease_ttl: crate::plan::Span,
    /// The CA that signed the PostgreSQL server's certificate (`sslmode=require`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<std::path::PathBuf>,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            url: None,
            lease_ttl: crate::plan::Span(chrono::Duration::seconds(60)),
            ca_file: None,
        }
    }
}

/// The whole configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Who this operator is in the journal and the audit log (`DRYDOCK_OPERATOR`
    /// overrides; unset: `user@host`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operator: Option<String>,
    pub general: General,
    pub policy: Policy,
    pub demo: DemoConfig,
    pub contexts: Vec<ContextConfig>,
    pub aws: AwsConfig,
    pub azure: AzureConfig,
    pub openstack: OpenStackConfig,
    pub store: StoreConfig,
    pub scan: ScanConfig,
}

/// The variable that names the store, over `[store] url`.
pub const STORE_URL_ENV: &str = "DRYDOCK_STORE_URL";

impl Config {
    /// Where the store is: `DRYDOCK_STORE_URL` (from `env`), else `[store] url`, else
    /// `store.sqlite` in the data directory (`None` without one).
    pub fn store_location(
        &self,
        data: Option<&paths::DataDir>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Option<drydock_store::Location>, drydock_store::StoreError> {
        let ca = self.store.ca_file.clone();
        match env(STORE_URL_ENV)
            .filter(|u| !u.trim().is_empty())
            .or_else(|| self.store.url.clone())
        {
            Some(url) => drydock_store::Location::parse(&url, ca).map(Some),
            None => Ok(data.map(|d| drydock_store::Location::Sqlite(d.store()))),
        }
    }

    /// The lease TTL (`[store] lease_ttl`), at least one second.
    pub fn lease_ttl(&self) -> std::time::Duration {
        self.store
            .lease_ttl
            .0
            .to_std()
            .unwrap_or_default()
            .max(std::time::Duration::from_secs(1))
    }

    /// The settings of context `name`, if configured.
    pub fn context(&self, name: &str) -> Option<&ContextConfig> {
        self.contexts.iter().find(|c| c.name == name)
    }
}
