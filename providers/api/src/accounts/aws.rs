//! `[[aws.accounts]]`: one AWS account drydock scans, and how to reach it. Credentials come
//! only from the SDK's standard chain (environment, profiles, SSO, assume-role, IMDS); they
//! are never stored or logged.

use serde::{Deserialize, Serialize};

/// Which regions to scan: `regions = ["eu-west-1", "us-east-1"]`, or `"all"` (every region
/// DescribeRegions returns).
pub type Regions = crate::Places;

/// One account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AwsAccount {
    /// The context name (shown in the dashboard, used by `--context`).
    pub name: String,
    /// A profile from the shared config files; default: the default chain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// A role to assume on top of the base credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    pub regions: Regions,
    /// A local or private endpoint (e.g. a moto server for tests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_url: Option<String>,
    #[serde(default)]
    pub readonly: bool,
    #[serde(default)]
    pub production: bool,
    /// How many regions are scanned at once.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
}

fn default_concurrency() -> usize {
    4
}

impl AwsAccount {
    /// Where the credentials come from, for messages (never the credentials themselves).
    pub fn credential_source(&self) -> String {
        match (&self.profile, &self.role_arn) {
            (Some(p), Some(r)) => format!("profile `{p}`, assuming {r}"),
            (Some(p), None) => format!("profile `{p}`"),
            (None, Some(r)) => format!("the default credential chain, assuming {r}"),
            (None, None) => "the default credential chain (environment first)".into(),
        }
    }
}
