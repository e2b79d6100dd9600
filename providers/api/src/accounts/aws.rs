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
    /// Roles assumed in order before `role_arn` (a hop through a jump account).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub role_chain: Vec<String>,
    /// The external id `role_arn`'s trust policy asks for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
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
        let base = match &self.profile {
            Some(p) => format!("profile `{p}`"),
            None if self.role_arn.is_none() => {
                "the default credential chain (environment first)".into()
            }
            None => "the default credential chain".into(),
        };
        let hops: Vec<&String> = self.role_chain.iter().chain(&self.role_arn).collect();
        if hops.is_empty() {
            return base;
        }
        let hops: Vec<&str> = hops.iter().map(|h| h.as_str()).collect();
        format!("{base}, assuming {}", hops.join(" then "))
    }
}

fn default_role_name() -> String {
    "OrganizationAccountAccessRole".into()
}

fn default_cache_ttl() -> u64 {
    3600
}

/// `[[aws.organizations]]`: every account of an AWS Organization as a context, discovered
/// from the OU tree with the management (or delegated administrator) account's
/// credentials and scanned through a role assumed in each account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AwsOrganization {
    /// The organisation's name in drydock (its discovery outcome and cache key).
    pub name: String,
    /// The profile of the management or delegated administrator account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// The role assumed in each member account.
    #[serde(default = "default_role_name")]
    pub role_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Roles assumed in order before each account's role.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub role_chain: Vec<String>,
    pub regions: Regions,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_url: Option<String>,
    #[serde(flatten)]
    pub rules: crate::accounts::org::Rules,
    /// How long the discovered account list is reused (seconds; `drydock org refresh`
    /// forces a new discovery).
    #[serde(default = "default_cache_ttl")]
    pub cache_ttl_secs: u64,
    /// Regions scanned at once in each account (accounts at once: `[scan] contexts_at_once`).
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
}

impl AwsOrganization {
    /// The context of one member account: its role assumed with this entry's settings.
    pub fn account(
        &self,
        context: String,
        id: &str,
        production: bool,
        readonly: bool,
    ) -> AwsAccount {
        AwsAccount {
            name: context,
            profile: self.profile.clone(),
            role_arn: Some(format!("arn:aws:iam::{id}:role/{}", self.role_name)),
            role_chain: self.role_chain.clone(),
            external_id: self.external_id.clone(),
            regions: self.regions.clone(),
            endpoint_url: self.endpoint_url.clone(),
            readonly,
            production,
            concurrency: self.concurrency,
        }
    }
}
