//! `AwsProvider`: one account, scanned concurrently per region (bounded), with every
//! mutation applied through EC2 and honouring DryRun.

use crate::error::map;
use crate::records;
use crate::{AwsAccount, Regions};
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider as TlsProvider};
use chrono::Utc;
use drydock_api::{
    Cloud, ProgressSink, Provider, ProviderError, ScanProblem, ScanProgress, ScanResult,
    ScopeOutcome,
};
use futures_util::StreamExt;
use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;
use std::time::Duration;

/// An AWS account as a drydock provider.
pub struct AwsProvider {
    pub(crate) account: AwsAccount,
    base: SdkConfig,
    /// Resource id → region, from the last scan (mutations need the region).
    pub(crate) regions_of: Mutex<HashMap<String, String>>,
    /// The endpoint failed DescribeInstanceImageMetadata once: don't ask again.
    pub(crate) no_image_metadata: std::sync::atomic::AtomicBool,
}

/// The SDK's config loader with the HTTPS client every call uses: rustls on ring, the one
/// crypto provider the binary compiles (reqwest uses it too), trusting the platform's roots.
/// Anything that builds an SDK client (tests and benches included) starts here: without
/// the SDK's default client feature there is no other.
pub fn sdk_loader() -> aws_config::ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest()).http_client(
        aws_smithy_http_client::Builder::new()
            .tls_provider(TlsProvider::Rustls(CryptoMode::Ring))
            .build_https(),
    )
}

impl AwsProvider {
    /// Builds clients from the SDK's standard credential chain (plus profile / role).
    pub async fn new(account: AwsAccount) -> AwsProvider {
        let first = match &account.regions {
            Regions::List(l) => l.first().cloned(),
            Regions::All => None,
        }
        .unwrap_or_else(|| "us-east-1".into());
        let mut loader = sdk_loader()
            .region(Region::new(first))
            // Throttling is retried with exponential backoff, within a bounded budget.
            .retry_config(RetryConfig::standard().with_max_attempts(6))
            // A call the endpoint never answers fails instead of hanging.
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(5))
                    .operation_attempt_timeout(Duration::from_secs(30))
                    .operation_timeout(Duration::from_secs(120))
                    .build(),
            );
        if let Some(p) = &account.profile {
            loader = loader.profile_name(p);
        }
        if let Some(u) = &account.endpoint_url {
            loader = loader.endpoint_url(u);
        }
        let mut base = loader.load().await;
        // Each hop assumes its role with the credentials of the one before; the external
        // id goes with the account's own role. The SDK caches each session until it expires.
        let hops = account.role_chain.iter().map(|r| (r, None)).chain(
            account
                .role_arn
                .iter()
                .map(|r| (r, account.external_id.as_deref())),
        );
        for (role, external_id) in hops {
            let mut assume =
                aws_config::sts::AssumeRoleProvider::builder(role).session_name("drydock");
            if let Some(id) = external_id {
                assume = assume.external_id(id);
            }
            let assumed = assume.configure(&base).build().await;
            let session = crate::session::Session::new(
                aws_sdk_ec2::config::SharedCredentialsProvider::new(assumed),
            );
            base = base
                .into_builder()
                .credentials_provider(aws_sdk_ec2::config::SharedCredentialsProvider::new(session))
                .build();
        }
        AwsProvider {
            account,
            base,
            regions_of: Mutex::new(HashMap::new()),
            no_image_metadata: std::sync::atomic::AtomicBool::new(false),
        }
    }

    pub(crate) fn ec2(&self, region: &str) -> aws_sdk_ec2::Client {
        let conf = aws_sdk_ec2::config::Builder::from(&self.base)
            .region(Region::new(region.to_string()))
            .build();
        aws_sdk_ec2::Client::from_conf(conf)
    }

    pub(crate) fn ebs(&self, region: &str) -> aws_sdk_ebs::Client {
        let conf = aws_sdk_ebs::config::Builder::from(&self.base)
            .region(Region::new(region.to_string()))
            .build();
        aws_sdk_ebs::Client::from_conf(conf)
    }

    pub(crate) fn autoscaling(&self, region: &str) -> aws_sdk_autoscaling::Client {
        let conf = aws_sdk_autoscaling::config::Builder::from(&self.base)
            .region(Region::new(region.to_string()))
            .build();
        aws_sdk_autoscaling::Client::from_conf(conf)
    }

    pub(crate) fn err<E>(
        &self,
        e: aws_sdk_ec2::error::SdkError<E, aws_sdk_ec2::config::http::HttpResponse>,
        call: &str,
        resource: &str,
    ) -> ProviderError
    where
        E: aws_sdk_ec2::error::ProvideErrorMetadata + std::error::Error + 'static,
    {
        let resource = format!("{} ({resource})", self.account.name);
        map(e, call, &resource, &self.account.credential_source())
    }

    /// Resolves the assumed role's credentials (nothing to do without a role).
    async fn assumed(&self) -> Result<(), ProviderError> {
        use aws_sdk_ec2::config::ProvideCredentials;
        let Some(role) = &self.account.role_arn else {
            return Ok(());
        };
        let Some(creds) = self.base.credentials_provider() else {
            return Ok(());
        };
        creds.provide_credentials().await.map(|_| ()).map_err(|e| {
            let said = crate::error::causes(&e);
            let (kind, hint) = if said.contains("dispatch failure") || said.contains("timed out") {
                (
                    drydock_api::ProviderErrorKind::Unreachable,
                    "check `endpoint_url` and the network to STS".to_string(),
                )
            } else {
                (
                    drydock_api::ProviderErrorKind::Auth,
                    format!(
                        "{} was refused: check the role exists in the account and trusts the caller{}",
                        self.account.credential_source(),
                        if self.account.external_id.is_some() { " with this external_id" } else { "" }
                    ),
                )
            };
            ProviderError::new(kind, "AssumeRole", role, said, hint)
        })
    }

    /// The regions to scan: the configured list, or every region DescribeRegions returns.
    async fn regions(&self) -> Result<Vec<String>, ProviderError> {
        match &self.account.regions {
            Regions::List(l) => Ok(l.clone()),
            Regions::All => {
                let out = self
                    .ec2(self.base.region().map_or("us-east-1", |r| r.as_ref()))
                    .describe_regions()
                    .send()
                    .await
                    .map_err(|e| self.err(e, "DescribeRegions", "all regions"))?;
                Ok(out
                    .regions()
                    .iter()
                    .filter_map(|r| r.region_name().map(String::from))
                    .collect())
            }
        }
    }

    /// Scans one region. DescribeInstances failing fails the region; a later call failing
    /// leaves it partial (the error is kept, the rest still read).
    async fn scan_region(
        &self,
        region: &str,
    ) -> Result<(ScanResult, Vec<ProviderError>), ProviderError> {
        let ec2 = self.ec2(region);
        let mut soft = Vec::new();
        let now = Utc::now();
        let mut out = ScanResult::default();
        let mut account = None;
        // Instances: always paginate (moto pages by reservation).
        let mut pages = ec2.describe_instances().into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.err(e, "DescribeInstances", region))?;
            for r in page.reservations() {
                let owner = r.owner_id().unwrap_or("");
                account.get_or_insert_with(|| owner.to_string());
                out.vms.extend(
                    r.instances()
                        .iter()
                        .filter_map(|i| records::vm(i, owner, region)),
                );
            }
        }
        // Owned images, deprecated and disabled included.
        let mut pages = ec2
            .describe_images()
            .owners("self")
            .include_deprecated(true)
            .include_disabled(true)
            .into_paginator()
            .send();
        let mut owned = Vec::new();
        while let Some(page) = pages.next().await {
            match page {
                Ok(page) => owned.extend(page.images().iter().cloned()),
                Err(e) => {
                    soft.push(self.err(e, "DescribeImages", region));
                    break;
                }
            }
        }
        if account.is_none() {
            account = owned.first().and_then(|i| i.owner_id()).map(String::from);
        }
        let account = account.unwrap_or_default();
        out.images.extend(
            owned
                .iter()
                .filter_map(|i| records::image(i, &account, region, now)),
        );
        // Images VMs were launched from that the account does not own (vendor AMIs).
        let have: BTreeSet<&str> = out.images.iter().map(|i| i.id.as_str()).collect();
        let missing: Vec<String> = out
            .vms
            .iter()
            .map(|v| v.image_id.to_string())
            .filter(|id| !id.is_empty() && !have.contains(id.as_str()))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let referenced = self
            .describe_some_images(&ec2, region, &missing)
            .await
            .unwrap_or_else(|e| {
                soft.push(e);
                Vec::new()
            });
        out.images.extend(
            referenced
                .iter()
                .filter_map(|i| records::image(i, &account, region, now)),
        );
        self.image_metadata(&ec2, region, &account, &mut out).await;
        if let Err(e) = self.newer_bases(&ec2, region, &account, &mut out).await {
            soft.push(e);
        }
        self.boot_config(&ec2, region, &mut out).await;
        // Launch templates, their default and latest versions.
        let mut pages = ec2.describe_launch_templates().into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = match page {
                Ok(page) => page,
                Err(e) => {
                    soft.push(self.err(e, "DescribeLaunchTemplates", region));
                    break;
                }
            };
            for t in page.launch_templates() {
                let Some(id) = t.launch_template_id() else {
                    continue;
                };
                let versions = match ec2
                    .describe_launch_template_versions()
                    .launch_template_id(id)
                    .versions("$Default")
                    .versions("$Latest")
                    .send()
                    .await
                {
                    Ok(v) => v,
                    Err(e) => {
                        soft.push(self.err(e, "DescribeLaunchTemplateVersions", id));
                        continue;
                    }
                };
                let mut seen = BTreeSet::new();
                for v in versions.launch_template_versions() {
                    if seen.insert(v.version_number()) {
                        out.launch_templates
                            .extend(records::launch_template(v, &account, region));
                    }
                }
            }
        }
        if let Err(e) = self.scale_groups(region, &account, &mut out).await {
            soft.push(e);
        }
        let mut index = self.regions_of.lock().unwrap_or_else(|e| e.into_inner());
        for id in out
            .vms
            .iter()
            .map(|v| v.id.as_str())
            .chain(out.images.iter().map(|i| i.id.as_str()))
            .chain(
                out.scale_groups
                    .iter()
                    .flat_map(|g| [g.id.as_str(), g.name.as_str()]),
            )
            .chain(out.launch_templates.iter().map(|t| t.id.as_str()))
        {
            index.insert(id.to_string(), region.to_string());
        }
        Ok((out, soft))
    }

    async fn scale_groups(
        &self,
        region: &str,
        account: &str,
        out: &mut ScanResult,
    ) -> Result<(), ProviderError> {
        let asg = self.autoscaling(region);
        let mut pages = asg.describe_auto_scaling_groups().into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| {
                let resource = format!("{} ({region})", self.account.name);
                map(
                    e,
                    "DescribeAutoScalingGroups",
                    &resource,
                    &self.account.credential_source(),
                )
            })?;
            for g in page.auto_scaling_groups() {
                let lt = g
                    .launch_template()
                    .and_then(|t| t.launch_template_id())
                    .map(String::from);
                // The model image: the template version the group launches, else its default.
                let model = lt
                    .as_deref()
                    .and_then(|id| {
                        out.launch_templates
                            .iter()
                            .filter(|t| t.id == id)
                            .max_by_key(|t| t.default_version)
                    })
                    .map(|t| t.image_id.clone())
                    .unwrap_or_default();
                out.scale_groups.push(drydock_api::ScaleGroup {
                    id: g
                        .auto_scaling_group_arn()
                        .unwrap_or_else(|| g.auto_scaling_group_name().unwrap_or(""))
                        .to_string(),
                    name: g.auto_scaling_group_name().unwrap_or("").to_string(),
                    cloud: Cloud::Aws,
                    account: account.to_string(),
                    region: region.to_string(),
                    members: g
                        .instances()
                        .iter()
                        .filter_map(|i| i.instance_id().map(String::from))
                        .collect(),
                    model_image_id: model,
                    launch_template: lt,
                    tags: g
                        .tags()
                        .iter()
                        .filter_map(|t| {
                            Some((t.key()?.to_string(), t.value().unwrap_or("").to_string()))
                        })
                        .collect(),
                });
            }
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl Provider for AwsProvider {
    fn name(&self) -> &str {
        &self.account.name
    }

    fn cloud(&self) -> Cloud {
        Cloud::Aws
    }

    async fn scan(&self, progress: ProgressSink<'_>) -> Result<ScanResult, ProviderError> {
        let name = self.account.name.as_str();
        // A role that cannot be assumed fails the whole context at once, named: no region
        // would be readable, and the error would otherwise surface once per call.
        if let Err(e) = self.assumed().await {
            let mut out = ScanResult::default();
            out.outcomes.push(ScopeOutcome::failed(name, "*", &e, 0));
            out.problems.push(ScanProblem::of(name, &e));
            return Ok(out);
        }
        let regions = match self.regions().await {
            Ok(r) => r,
            // Without the region list nothing can be read: one outcome for the context.
            Err(e) => {
                let mut out = ScanResult::default();
                out.outcomes.push(ScopeOutcome::failed(name, "*", &e, 0));
                out.problems.push(ScanProblem::of(name, &e));
                return Ok(out);
            }
        };
        let total = regions.len();
        let this = self;
        let mut results = futures_util::stream::iter(regions)
            .map(move |r: String| async move {
                let started = std::time::Instant::now();
                let result = this.scan_region(&r).await;
                (r, result, started.elapsed().as_millis() as u64)
            })
            .buffer_unordered(self.account.concurrency.max(1));
        let mut out = ScanResult::default();
        let mut done = 0;
        while let Some((region, result, ms)) = results.next().await {
            done += 1;
            progress(ScanProgress {
                provider: name.to_string(),
                scope: region.clone(),
                done,
                total,
            });
            match result {
                Ok((r, soft)) => {
                    let outcome = ScopeOutcome::ok(name, &region, r.vms.len(), r.images.len(), ms)
                        .with_failures(&soft);
                    for e in &soft {
                        tracing::warn!(account = %name, %region, "scan call failed: {e}");
                        out.problems.push(ScanProblem::of(name, e));
                    }
                    out.outcomes.push(outcome);
                    out.merge(r);
                }
                Err(e) => {
                    tracing::warn!(account = %name, %region, "scan failed: {e}");
                    out.outcomes
                        .push(ScopeOutcome::failed(name, &region, &e, ms));
                    out.problems.push(ScanProblem::of(name, &e));
                }
            }
        }
        Ok(out)
    }

    async fn apply(
        &self,
        op: &drydock_api::Operation,
        dry_run: bool,
    ) -> Result<drydock_api::OperationOutcome, ProviderError> {
        crate::ops::apply(self, op, dry_run).await
    }

    async fn vm_health(&self, vm: &str) -> Result<drydock_api::VmHealth, ProviderError> {
        crate::rollout::health(self, vm).await
    }

    fn transfer(&self) -> Option<&dyn drydock_api::transfer::ImageTransfer> {
        Some(self)
    }
}
