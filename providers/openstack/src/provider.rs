//! `OpenStackProvider`: one `[[openstack.clouds]]` entry (a project in its regions) behind
//! the provider API. The connection comes from `clouds.yaml` (or the entry's inline
//! application credential); each region is scanned on its own, `concurrency` calls at once.

use crate::clouds::{self, Auth, CloudsError};
use crate::session::{Login, Session};
use async_trait::async_trait;
use drydock_api::accounts::openstack::OpenStackCloud;
use drydock_api::{
    Cloud, Operation, OperationOutcome, ProgressSink, Provider, ProviderError, ScanProblem,
    ScanProgress, ScanResult, ScopeOutcome,
};
use std::sync::Arc;

/// Why a provider could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("[[openstack.clouds]] {context}: {source}")]
    Clouds {
        context: String,
        #[source]
        source: CloudsError,
    },
    #[error("[[openstack.clouds]] {context}: {message}")]
    Config { context: String, message: String },
    #[error("[[openstack.clouds]] {context}: {source}")]
    Client {
        context: String,
        #[source]
        source: Box<ProviderError>,
    },
}

/// One OpenStack cloud (cheap to clone: the session is shared).
#[derive(Clone)]
pub struct OpenStackProvider {
    pub(crate) name: String,
    pub(crate) session: Arc<Session>,
    /// The regions to scan (empty: every region of the catalog's compute service).
    regions: Vec<String>,
    pub(crate) concurrency: usize,
}

impl OpenStackProvider {
    /// The provider of `cfg`; `env` reads the environment (`OS_CLIENT_CONFIG_FILE`, `HOME`,
    /// the secret's variable).
    pub fn new(
        cfg: &OpenStackCloud,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<OpenStackProvider, SetupError> {
        let context = cfg.context();
        let config = |message: String| SetupError::Config {
            context: context.clone(),
            message,
        };
        cfg.check().map_err(config)?;
        let (login, regions) = match &cfg.cloud {
            Some(name) => {
                let c = clouds::load(name, env).map_err(|source| SetupError::Clouds {
                    context: context.clone(),
                    source,
                })?;
                let interface = cfg.interface.clone().unwrap_or(c.interface);
                (Login::new(&c.auth_url, c.auth, &interface), c.regions)
            }
            None => {
                let secret = match (
                    &cfg.application_credential_secret,
                    &cfg.application_credential_secret_env,
                ) {
                    (Some(s), _) => s.clone(),
                    (None, Some(var)) => env(var).ok_or_else(|| {
                        config(format!(
                            "application_credential_secret_env names {var}, which is not set"
                        ))
                    })?,
                    (None, None) => {
                        return Err(config("application_credential_secret is missing".into()))
                    }
                };
                let auth = Auth::ApplicationCredential {
                    id: cfg.application_credential_id.clone().unwrap_or_default(),
                    secret,
                };
                let url = cfg.auth_url.clone().unwrap_or_default();
                (
                    Login::new(&url, auth, cfg.interface.as_deref().unwrap_or("public")),
                    Vec::new(),
                )
            }
        };
        let regions = if cfg.regions.is_empty() {
            regions
        } else {
            cfg.regions.clone()
        };
        let session = Session::new(&context, login).map_err(|source| SetupError::Client {
            context: context.clone(),
            source: Box::new(source),
        })?;
        Ok(OpenStackProvider {
            name: context,
            session: Arc::new(session),
            regions,
            concurrency: cfg.concurrency.max(1),
        })
    }

    /// The session (requests made, endpoints).
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The regions this provider reads: as configured, else the catalog's.
    pub async fn regions(&self) -> Result<Vec<String>, ProviderError> {
        if !self.regions.is_empty() {
            return Ok(self.regions.clone());
        }
        self.session.regions("compute").await
    }
}

impl OpenStackProvider {
    /// One region's scan, timed, with its partial failures.
    async fn scan_region<'a>(
        &self,
        region: &'a str,
        total: usize,
        done: &std::sync::atomic::AtomicUsize,
        progress: ProgressSink<'_>,
    ) -> (
        &'a str,
        Result<ScanResult, ProviderError>,
        Vec<ProviderError>,
        u64,
    ) {
        let t = std::time::Instant::now();
        let mut failed = Vec::new();
        let r = crate::scan::region(
            &self.session,
            &self.name,
            region,
            self.concurrency,
            &mut failed,
        )
        .await;
        progress(ScanProgress {
            provider: self.name.clone(),
            scope: format!("{}/{region}", self.name),
            done: done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1,
            total,
        });
        (region, r, failed, t.elapsed().as_millis() as u64)
    }
}

#[async_trait]
impl Provider for OpenStackProvider {
    fn name(&self) -> &str {
        &self.name
    }

    fn cloud(&self) -> Cloud {
        Cloud::OpenStack
    }

    async fn scan(&self, progress: ProgressSink<'_>) -> Result<ScanResult, ProviderError> {
        let started = std::time::Instant::now();
        let regions = match self.regions().await {
            Ok(r) => r,
            // Keystone refused or unreachable: nothing was read.
            Err(e) => {
                let mut r = ScanResult::default();
                r.outcomes.push(ScopeOutcome::failed(
                    &self.name,
                    &self.name,
                    &e,
                    started.elapsed().as_millis() as u64,
                ));
                r.problems.push(ScanProblem::of(&self.name, &e));
                return Ok(r);
            }
        };
        let total = regions.len();
        let mut out = ScanResult::default();
        let done = std::sync::atomic::AtomicUsize::new(0);
        let mut per_region = Vec::with_capacity(total);
        for region in &regions {
            per_region.push(self.scan_region(region, total, &done, progress));
        }
        let results = futures_util::future::join_all(per_region).await;
        for (region, r, failed, ms) in results {
            match r {
                Ok(mut r) => {
                    r.outcomes.push(
                        ScopeOutcome::ok(&self.name, region, r.vms.len(), r.images.len(), ms)
                            .with_failures(&failed),
                    );
                    r.problems
                        .extend(failed.iter().map(|e| ScanProblem::of(&self.name, e)));
                    out.merge(r);
                }
                Err(e) => {
                    out.outcomes
                        .push(ScopeOutcome::failed(&self.name, region, &e, ms));
                    out.problems.push(ScanProblem::of(&self.name, &e));
                }
            }
        }
        Ok(out)
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
