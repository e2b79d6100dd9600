//! `[[openstack.clouds]]`: one OpenStack project drydock scans, named by its `clouds.yaml`
//! entry or given inline (Keystone URL and an application credential). Secrets are never
//! stored elsewhere, printed or logged.

use serde::{Deserialize, Serialize};

fn default_concurrency() -> usize {
    4
}

/// One OpenStack cloud (a project in one or more regions): a context.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenStackCloud {
    /// The cloud's name in `clouds.yaml` (found where the OpenStack clients look).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud: Option<String>,
    /// The context name (default: `cloud`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Regions to scan (default: the cloud's `region_name`/`regions`, else every region
    /// of the service catalog).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub regions: Vec<String>,
    #[serde(default)]
    pub production: bool,
    #[serde(default)]
    pub readonly: bool,
    /// Calls in flight at once.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// Inline: Keystone's URL (instead of `cloud`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_url: Option<String>,
    /// Inline: the application credential's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_credential_id: Option<String>,
    /// Inline: its secret (or `application_credential_secret_env`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_credential_secret: Option<String>,
    /// Inline: the environment variable holding the secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_credential_secret_env: Option<String>,
    /// The catalog interface endpoints are chosen by (`public`, `internal`, `admin`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interface: Option<String>,
}

impl OpenStackCloud {
    /// The context name: `name`, else the `clouds.yaml` name, else the Keystone host.
    pub fn context(&self) -> String {
        if let Some(n) = self.name.as_ref().or(self.cloud.as_ref()) {
            return n.clone();
        }
        let url = self.auth_url.as_deref().unwrap_or("openstack");
        let host = url.split("://").nth(1).unwrap_or(url);
        host.split(['/', ':']).next().unwrap_or(host).to_string()
    }

    /// What is wrong with the entry, if anything: one of `cloud` or `auth_url` with an
    /// application credential.
    pub fn check(&self) -> Result<(), String> {
        match (&self.cloud, &self.auth_url) {
            (Some(_), Some(_)) => Err("give `cloud` or `auth_url`, not both".into()),
            (None, None) => Err(
                "give `cloud` (a clouds.yaml entry) or `auth_url` with application_credential_id and application_credential_secret".into(),
            ),
            (None, Some(_)) => {
                if self.application_credential_id.is_none() {
                    return Err("`auth_url` needs `application_credential_id`".into());
                }
                if self.application_credential_secret.is_none()
                    && self.application_credential_secret_env.is_none()
                {
                    return Err("`auth_url` needs `application_credential_secret` or `application_credential_secret_env`".into());
                }
                Ok(())
            }
            (Some(_), None) => Ok(()),
        }
    }
}

impl std::fmt::Debug for OpenStackCloud {
    // The secret is never printed, even in a debug log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenStackCloud")
            .field("cloud", &self.cloud)
            .field("name", &self.name)
            .field("regions", &self.regions)
            .field("production", &self.production)
            .field("readonly", &self.readonly)
            .field("concurrency", &self.concurrency)
            .field("auth_url", &self.auth_url)
            .field("application_credential_id", &self.application_credential_id)
            .field(
                "application_credential_secret_env",
                &self.application_credential_secret_env,
            )
            .field("interface", &self.interface)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_name_their_context_and_hide_the_secret() {
        let c: OpenStackCloud = toml::from_str(
            "auth_url = \"https://keystone.example.org:5000/v3\"\napplication_credential_id = \"a\"\napplication_credential_secret = \"s3cret\"\n",
        )
        .unwrap();
        assert_eq!(c.context(), "keystone.example.org");
        assert!(c.check().is_ok());
        assert!(!format!("{c:?}").contains("s3cret"));
        let n: OpenStackCloud = toml::from_str("cloud = \"site\"").unwrap();
        assert_eq!((n.context(), n.concurrency), ("site".to_string(), 4));
        let both: OpenStackCloud = toml::from_str("cloud = \"a\"\nauth_url = \"x\"").unwrap();
        assert!(both.check().is_err());
    }
}
