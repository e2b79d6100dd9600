//! `AzureProvider`: one subscription behind the provider API. The endpoint, scope and
//! credential are injectable, so tests run this production code path against a local
//! Resource Manager with a static token.

use crate::credential::{self, SetupError, SCOPE};
use crate::scan::Scanner;
use crate::AzureSubscription;
use async_trait::async_trait;
use azure_core::auth::TokenCredential;
use azure_mgmt_compute::package_2024_07_01::Client;
use drydock_api::{
    Cloud, Operation, OperationOutcome, ProgressSink, Provider, ProviderError, ScanProgress,
    ScanResult, ScopeOutcome,
};
use std::sync::Arc;

/// One subscription (cloned cheaply: a transfer's disks keep their own handle).
#[derive(Clone)]
pub struct AzureProvider {
    sub: AzureSubscription,
    client: Client,
    credential: Arc<dyn TokenCredential>,
    /// The tenant's Resource Graph, when its VMs are read through it.
    graph: Option<Arc<crate::graph::Graph>>,
}

impl AzureProvider {
    /// The provider of `sub`, its credential built from its source (environment variables
    /// read through `env`).
    pub fn new(
        sub: AzureSubscription,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<AzureProvider, SetupError> {
        let cred = credential::build(sub.credential, &sub.name, env)?;
        AzureProvider::with_credential(sub, cred)
    }

    /// The same with a given credential (tests: a static token).
    pub fn with_credential(
        sub: AzureSubscription,
        cred: Arc<dyn TokenCredential>,
    ) -> Result<AzureProvider, SetupError> {
        // Throttling and server faults are retried (Retry-After honoured) within a bounded
        // budget, so an endpoint that does not answer fails in seconds, not minutes.
        let retry = azure_core::ExponentialRetryOptions::default()
            .initial_delay(std::time::Duration::from_millis(200))
            .max_retries(4u32)
            .max_delay(std::time::Duration::from_secs(5))
            .max_total_elapsed(std::time::Duration::from_secs(30));
        let mut builder = Client::builder(Arc::clone(&cred))
            .scopes(&[SCOPE])
            .retry(azure_core::RetryOptions::exponential(retry));
        if let Some(e) = &sub.endpoint {
            let url = azure_core::Url::parse(e).map_err(|err| SetupError::Endpoint {
                subscription: sub.name.clone(),
                endpoint: e.clone(),
                reason: err.to_string(),
            })?;
            builder = builder.endpoint(url);
        }
        let client = builder.build().map_err(|error| SetupError::Client {
            subscription: sub.name.clone(),
            error,
        })?;
        Ok(AzureProvider {
            sub,
            client,
            credential: cred,
            graph: None,
        })
    }

    /// Reads this subscription's VMs through `graph` (the tenant's, shared).
    pub fn with_graph(mut self, graph: Arc<crate::graph::Graph>) -> AzureProvider {
        graph.add(&self.sub.id);
        self.graph = Some(graph);
        self
    }

    /// A Resource Graph for this provider's tenant, with its endpoint and credential (the
    /// tenant's other subscriptions join it with `with_graph`).
    pub fn new_graph(&self) -> crate::graph::Graph {
        crate::graph::Graph::new(self.client_endpoint(), Arc::clone(&self.credential))
    }

    pub(crate) fn sub(&self) -> &AzureSubscription {
        &self.sub
    }

    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    pub(crate) fn credential(&self) -> &dyn TokenCredential {
        self.credential.as_ref()
    }

    /// The Resource Manager's base URL.
    pub(crate) fn client_endpoint(&self) -> azure_core::Url {
        azure_core::Url::parse(
            self.sub
                .endpoint
                .as_deref()
                .unwrap_or("https://management.azure.com"),
        )
        .unwrap_or_else(|_| azure_core::Url::parse("https://management.azure.com").expect("valid"))
    }

    /// An azure_core error of `call` on `resource`, named.
    pub(crate) fn map_err(
        &self,
        e: &azure_core::Error,
        call: &str,
        resource: &str,
    ) -> ProviderError {
        crate::error::map(e, call, resource, self.sub.credential)
    }
}

#[async_trait]
impl Provider for AzureProvider {
    fn name(&self) -> &str {
        &self.sub.name
    }

    fn cloud(&self) -> Cloud {
        Cloud::Azure
    }

    async fn scan(&self, progress: ProgressSink<'_>) -> Result<ScanResult, ProviderError> {
        let scope = format!("{}/{}", self.sub.name, self.sub.id);
        progress(ScanProgress {
            provider: self.sub.name.clone(),
            scope: scope.clone(),
            done: 0,
            total: 1,
        });
        let scanner = Scanner {
            sub: &self.sub,
            client: &self.client,
            now: chrono::Utc::now(),
            failed: Default::default(),
            graph: self.graph.as_deref(),
        };
        let started = std::time::Instant::now();
        let name = self.sub.name.as_str();
        let result = match scanner.scan().await {
            Ok(mut r) => {
                let failed = scanner
                    .failed
                    .into_inner()
                    .unwrap_or_else(|e| e.into_inner());
                let ms = started.elapsed().as_millis() as u64;
                r.outcomes.push(
                    ScopeOutcome::ok(name, &self.sub.id, r.vms.len(), r.images.len(), ms)
                        .with_failures(&failed),
                );
                r
            }
            // Credentials refused or the endpoint unreachable: nothing was read.
            Err(e) => {
                let ms = started.elapsed().as_millis() as u64;
                let mut r = ScanResult::default();
                r.outcomes
                    .push(ScopeOutcome::failed(name, &self.sub.id, &e, ms));
                r.problems.push(drydock_api::ScanProblem::of(name, &e));
                r
            }
        };
        progress(ScanProgress {
            provider: self.sub.name.clone(),
            scope,
            done: 1,
            total: 1,
        });
        Ok(result)
    }

    async fn apply(
        &self,
        op: &Operation,
        dry_run: bool,
    ) -> Result<OperationOutcome, ProviderError> {
        self.apply_op(op, dry_run).await
    }

    async fn vm_health(&self, vm: &str) -> Result<drydock_api::VmHealth, ProviderError> {
        self.health(vm).await
    }

    fn transfer(&self) -> Option<&dyn drydock_api::transfer::ImageTransfer> {
        Some(self)
    }
}
