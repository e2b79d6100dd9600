//! The credential behind every call: a static bearer token (`credential = "token"`, and
//! tests), or one of azure_identity's sources. The scope is always Resource Manager's,
//! whatever the endpoint.

use crate::CredentialSource;
use azure_core::auth::{AccessToken, Secret, TokenCredential};
use std::sync::Arc;

/// The scope every token is asked for.
pub const SCOPE: &str = "https://management.azure.com/.default";

/// The environment variable `credential = "token"` reads.
pub const TOKEN_VAR: &str = "DRYDOCK_AZURE_TOKEN";

/// A bearer token given up front.
#[derive(Debug)]
pub struct StaticToken(Secret);

impl StaticToken {
    pub fn new(token: impl Into<String>) -> StaticToken {
        StaticToken(Secret::new(token.into()))
    }
}

#[async_trait::async_trait]
impl TokenCredential for StaticToken {
    async fn get_token(&self, _scopes: &[&str]) -> azure_core::Result<AccessToken> {
        // Valid for an hour from each call: the caller asks again per request.
        let expires = time::OffsetDateTime::now_utc() + time::Duration::hours(1);
        Ok(AccessToken::new(self.0.clone(), expires))
    }

    async fn clear_cache(&self) -> azure_core::Result<()> {
        Ok(())
    }
}

/// Why a provider for a subscription cannot be set up (before any call).
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("azure subscription `{subscription}`: {source_name}: {error}")]
    Credential {
        subscription: String,
        source_name: &'static str,
        #[source]
        error: azure_core::Error,
    },
    #[error("azure subscription `{subscription}`: credential = \"token\" needs {TOKEN_VAR} (e.g. from `az account get-access-token --query accessToken -o tsv`)")]
    NoToken { subscription: String },
    #[error("azure subscription `{subscription}`: endpoint `{endpoint}` is not a URL: {reason}")]
    Endpoint {
        subscription: String,
        endpoint: String,
        reason: String,
    },
    #[error("azure subscription `{subscription}`: {error}")]
    Client {
        subscription: String,
        #[source]
        error: azure_core::Error,
    },
}

/// Builds the credential of `source` for subscription `name`; `env` looks up environment
/// variables (injectable).
pub fn build(
    source: CredentialSource,
    name: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Arc<dyn TokenCredential>, SetupError> {
    use azure_identity as id;
    let err = |error: azure_core::Error| SetupError::Credential {
        subscription: name.to_string(),
        source_name: source.describe(),
        error,
    };
    Ok(match source {
        CredentialSource::Token => match env(TOKEN_VAR).filter(|t| !t.trim().is_empty()) {
            Some(t) => Arc::new(StaticToken::new(t.trim().to_string())),
            None => {
                return Err(SetupError::NoToken {
                    subscription: name.to_string(),
                })
            }
        },
        CredentialSource::Default => id::create_credential().map_err(err)?,
        CredentialSource::Cli => Arc::new(id::AzureCliCredential::new()),
        CredentialSource::Env => Arc::new(
            id::EnvironmentCredential::create(id::TokenCredentialOptions::default())
                .map_err(err)?,
        ),
        CredentialSource::ManagedIdentity => Arc::new(
            id::VirtualMachineManagedIdentityCredential::new(id::TokenCredentialOptions::default()),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "current_thread")]
    async fn a_token_from_the_environment_is_served_for_any_scope() {
        let env = |k: &str| (k == TOKEN_VAR).then(|| " abc.def ".to_string());
        let c = build(CredentialSource::Token, "prod-az", &env).unwrap();
        let t = c.get_token(&[SCOPE]).await.unwrap();
        assert_eq!(t.token.secret(), "abc.def");
        let none = |_: &str| None;
        let e = build(CredentialSource::Token, "prod-az", &none)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains(TOKEN_VAR) && e.contains("prod-az"), "{e}");
        // The token is never in Debug output.
        assert!(!format!("{c:?}").contains("abc.def"));
    }
}
