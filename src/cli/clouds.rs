//! The cloud connector: the one place the binary turns an AWS, Azure or OpenStack context into its
//! provider (the library's registry asks it; the library itself links no cloud SDK).

use drydock::contexts::{Backend, CloudConnector, ConnectError, Context};
use drydock_api::Provider;
use std::sync::Arc;

/// Builds AWS providers with the SDK's credential chain and Azure providers with
/// azure_identity (or the token from the environment); the subscriptions of one
/// `[[azure.tenants]]` entry share its Resource Graph query.
#[derive(Default)]
pub struct Clouds {
    graphs: std::sync::Mutex<std::collections::HashMap<String, Arc<drydock_azure::graph::Graph>>>,
}

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
                let p = drydock_azure::AzureProvider::new((**s).clone(), &env)?;
                let Some(tenant) = &s.tenant else {
                    return Ok(Arc::new(p));
                };
                let graph = {
                    let mut graphs = self.graphs.lock().unwrap_or_else(|e| e.into_inner());
                    Arc::clone(
                        graphs
                            .entry(tenant.clone())
                            .or_insert_with(|| Arc::new(p.new_graph())),
                    )
                };
                Ok(Arc::new(p.with_graph(graph)))
            }
            Backend::OpenStack(o) => {
                let env = |k: &str| std::env::var(k).ok();
                Ok(Arc::new(drydock_openstack::OpenStackProvider::new(
                    o, &env,
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
