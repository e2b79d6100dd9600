//! The cloud connector: the one place the binary turns an AWS or Azure context into its
//! provider (the library's registry asks it; the library itself links no cloud SDK).

use drydock::contexts::{Backend, CloudConnector, ConnectError, Context};
use drydock_api::Provider;
use std::sync::Arc;

/// Builds AWS providers with the SDK's credential chain and Azure providers with
/// azure_identity (or the token from the environment).
pub struct Clouds;

impl CloudConnector for Clouds {
    fn connect(
        &self,
        context: &Context,
        rt: &tokio::runtime::Runtime,
    ) -> Result<Arc<dyn Provider>, ConnectError> {
        match &context.backend {
            Backend::Aws(a) => Ok(Arc::new(
                rt.block_on(drydock_aws::AwsProvider::new((**a).clone())),
            )),
            Backend::Azure(s) => {
                let env = |k: &str| std::env::var(k).ok();
                Ok(Arc::new(drydock_azure::AzureProvider::new(
                    (**s).clone(),
                    &env,
                )?))
            }
            Backend::Demo | Backend::Named => {
                Err(format!("context `{}` is not a cloud account", context.name).into())
            }
        }
    }

    fn discover_aws(
        &self,
        org: &drydock_aws::AwsOrganization,
        rt: &tokio::runtime::Runtime,
    ) -> Result<Vec<drydock_api::accounts::org::OrgAccount>, drydock_api::ProviderError> {
        rt.block_on(drydock_aws::org::discover(org))
    }

    fn discover_azure(
        &self,
        tenant: &drydock_azure::AzureTenant,
        rt: &tokio::runtime::Runtime,
    ) -> Result<Vec<drydock_api::accounts::org::OrgAccount>, drydock_api::ProviderError> {
        let env = |k: &str| std::env::var(k).ok();
        rt.block_on(drydock_azure::tenant::discover(tenant, &env))
    }
}
