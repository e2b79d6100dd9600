//! AWS Organizations discovery: walks the OU tree from each root (ListRoots →
//! ListOrganizationalUnitsForParent → ListAccountsForParent) with the management or
//! delegated administrator account's credentials, and reads each account's tags
//! (ListTagsForResource), a few at a time. The caller caches the result.

use crate::error::map;
use crate::provider::sdk_loader;
use aws_config::retry::RetryConfig;
use aws_config::Region;
use drydock_api::accounts::aws::AwsOrganization;
use drydock_api::accounts::org::OrgAccount;
use drydock_api::ProviderError;
use futures_util::StreamExt;

/// Tag reads in flight at once (Organizations allows a few requests a second per account).
const TAG_READS_AT_ONCE: usize = 4;

/// Every account of the organisation, with its OU path (`/Root/Prod/Web`) and tags.
pub async fn discover(org: &AwsOrganization) -> Result<Vec<OrgAccount>, ProviderError> {
    // Organizations is a global service answered in us-east-1.
    let mut loader = sdk_loader()
        .region(Region::new("us-east-1"))
        .retry_config(RetryConfig::standard().with_max_attempts(8));
    if let Some(p) = &org.profile {
        loader = loader.profile_name(p);
    }
    if let Some(u) = &org.endpoint_url {
        loader = loader.endpoint_url(u);
    }
    let config = loader.load().await;
    let client = aws_sdk_organizations::Client::new(&config);
    let credentials = match &org.profile {
        Some(p) => format!("profile `{p}`"),
        None => "the default credential chain".into(),
    };
    let err = |call: &'static str, resource: &str| Mapper {
        call,
        resource: format!("organization {} ({resource})", org.name),
        credentials: &credentials,
    };
    let mut accounts = Vec::new();
    // Breadth first over (parent id, path); no recursion, whatever the depth.
    let mut parents: std::collections::VecDeque<(String, String)> = Default::default();
    let mut roots = client.list_roots().into_paginator().send();
    while let Some(page) = roots.next().await {
        for r in page.map_err(|e| err("ListRoots", "roots").map(e))?.roots() {
            if let Some(id) = r.id() {
                parents.push_back((id.to_string(), format!("/{}", r.name().unwrap_or("Root"))));
            }
        }
    }
    while let Some((parent, path)) = parents.pop_front() {
        let mut ous = client
            .list_organizational_units_for_parent()
            .parent_id(&parent)
            .into_paginator()
            .send();
        while let Some(page) = ous.next().await {
            let page = page.map_err(|e| err("ListOrganizationalUnitsForParent", &path).map(e))?;
            for ou in page.organizational_units() {
                if let Some(id) = ou.id() {
                    let name = ou.name().unwrap_or(id);
                    parents.push_back((id.to_string(), format!("{path}/{name}")));
                }
            }
        }
        let mut pages = client
            .list_accounts_for_parent()
            .parent_id(&parent)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| err("ListAccountsForParent", &path).map(e))?;
            for a in page.accounts() {
                let Some(id) = a.id() else { continue };
                #[allow(deprecated)]
                let status = a
                    .state()
                    .map(|s| s.as_str().to_string())
                    .or_else(|| a.status().map(|s| s.as_str().to_string()))
                    .unwrap_or_else(|| "UNKNOWN".into());
                accounts.push(OrgAccount {
                    id: id.to_string(),
                    name: a.name().unwrap_or(id).to_string(),
                    status,
                    path: path.clone(),
                    tags: Default::default(),
                });
            }
        }
    }
    let client = &client;
    let err = &err;
    let tagged: Vec<Result<OrgAccount, ProviderError>> = futures_util::stream::iter(accounts)
        .map(|mut a| async move {
            let mut pages = client
                .list_tags_for_resource()
                .resource_id(&a.id)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| err("ListTagsForResource", &a.id).map(e))?;
                for t in page.tags() {
                    a.tags.insert(t.key().to_string(), t.value().to_string());
                }
            }
            Ok(a)
        })
        .buffered(TAG_READS_AT_ONCE)
        .collect()
        .await;
    tagged.into_iter().collect()
}

/// Maps an Organizations error of one call on one resource.
struct Mapper<'a> {
    call: &'static str,
    resource: String,
    credentials: &'a str,
}

impl Mapper<'_> {
    fn map<E>(
        &self,
        e: aws_sdk_ec2::error::SdkError<E, aws_sdk_ec2::config::http::HttpResponse>,
    ) -> ProviderError
    where
        E: aws_sdk_ec2::error::ProvideErrorMetadata + std::error::Error + 'static,
    {
        map(e, self.call, &self.resource, self.credentials)
    }
}
