//! `[[aws.accounts]]`: one AWS account drydock scans, and how to reach it. Credentials come
//! only from the SDK's standard chain (environment, profiles, SSO, assume-role, IMDS); they
//! are never stored or logged.

use serde::{Deserialize, Serialize};

/// Which regions to scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Regions {
    /// `regions = ["eu-west-1", "us-east-1"]`
    List(Vec<String>),
    /// `regions = "all"`: every region DescribeRegions returns.
    All,
}

impl Serialize for Regions {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Regions::List(l) => l.serialize(s),
            Regions::All => s.serialize_str("all"),
        }
    }
}

impl<'de> Deserialize<'de> for Regions {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Regions;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(r#"a list of regions (["eu-west-1"]) or "all""#)
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Regions, E> {
                match v {
                    "all" => Ok(Regions::All),
                    other => Err(E::custom(format!(
                        r#"`{other}` is not "all"; give a list such as ["{other}"]"#
                    ))),
                }
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Regions, A::Error> {
                let mut list = Vec::new();
                while let Some(r) = seq.next_element::<String>()? {
                    list.push(r);
                }
                if list.is_empty() {
                    return Err(serde::de::Error::custom(
                        r#"no regions; list some or say "all""#,
                    ));
                }
                Ok(Regions::List(list))
            }
        }
        d.deserialize_any(V)
    }
}

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
