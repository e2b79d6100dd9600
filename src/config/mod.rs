//! Configuration: the typed settings and their layering — embedded `config/default.toml`
//! → config file → `DRYDOCK_*` environment → flags. Errors name file, line and key.

mod error;
mod layers;
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
}

/// `[azure]`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AzureConfig {
    /// `[[azure.subscriptions]]`: one context per subscription.
    pub subscriptions: Vec<drydock_api::accounts::azure::AzureSubscription>,
}

/// The whole configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub general: General,
    pub policy: Policy,
    pub demo: DemoConfig,
    pub contexts: Vec<ContextConfig>,
    pub aws: AwsConfig,
    pub azure: AzureConfig,
}

impl Config {
    /// The settings of context `name`, if configured.
    pub fn context(&self, name: &str) -> Option<&ContextConfig> {
        self.contexts.iter().find(|c| c.name == name)
    }
}
