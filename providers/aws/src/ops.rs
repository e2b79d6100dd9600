//! Mutations through EC2 and Auto Scaling. Each honours DryRun (AWS answers
//! `DryRunOperation` when the call would have succeeded) and is idempotent where AWS allows.

use crate::provider::AwsProvider;
use aws_sdk_ec2::types::{ResourceType, Tag, TagSpecification};
use drydock_api::{Operation, OperationOutcome, ProviderError, ProviderErrorKind, Tags};

/// Tag recording the client token an image was created with (CreateImage has no token).
pub const TAG_TOKEN: &str = "drydock:client-token";

fn aws_tags(tags: &Tags) -> Vec<Tag> {
    tags.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

fn spec(kind: ResourceType, tags: &Tags) -> TagSpecification {
    TagSpecification::builder()
        .resource_type(kind)
        .set_tags(Some(aws_tags(tags)))
        .build()
}

/// `Ok(Done)`, or for a dry run the `DryRunOperation` answer as `WouldSucceed`.
pub(crate) fn outcome<T>(
    r: Result<T, ProviderError>,
    created: impl FnOnce(T) -> Option<String>,
) -> Result<OperationOutcome, ProviderError> {
    match r {
        Ok(v) => Ok(OperationOutcome::Done {
            created: created(v),
        }),
        Err(e) if e.kind == ProviderErrorKind::DryRunOk => Ok(OperationOutcome::WouldSucceed),
        Err(e) => Err(e),
    }
}

pub(crate) fn region_of(p: &AwsProvider, call: &str, id: &str) -> Result<String, ProviderError> {
    let index = p.regions_of.lock().unwrap_or_else(|e| e.into_inner());
    index.get(id).cloned().ok_or_else(|| {
        ProviderError::new(
            ProviderErrorKind::NotFound,
            call,
            format!("{} ({id})", p.account.name),
            "not seen in the last scan",
            "rescan, then retry",
        )
    })
}

pub async fn apply(
    p: &AwsProvider,
    op: &Operation,
    dry: bool,
) -> Result<OperationOutcome, ProviderError> {
    match op {
        Operation::Tag { resource, tags } => {
            let region = region_of(p, "CreateTags", resource)?;
            let r = p
                .ec2(&region)
                .create_tags()
                .resources(resource)
                .set_tags(Some(aws_tags(tags)))
                .dry_run(dry)
                .send()
                .await
                .map_err(|e| p.err(e, "CreateTags", resource));
            outcome(r, |_| None)
        }
        Operation::Deprecate { image, at } => {
            let region = region_of(p, "EnableImageDeprecation", image)?;
            let r = p
                .ec2(&region)
                .enable_image_deprecation()
                .image_id(image)
                .deprecate_at(aws_sdk_ec2::primitives::DateTime::from_secs(at.timestamp()))
                .dry_run(dry)
                .send()
                .await
                .map_err(|e| p.err(e, "EnableImageDeprecation", image));
            outcome(r, |_| None)
        }
        Operation::Disable { image } => {
            let region = region_of(p, "DisableImage", image)?;
            let r = p
                .ec2(&region)
                .disable_image()
                .image_id(image)
                .dry_run(dry)
                .send()
                .await
                .map_err(|e| p.err(e, "DisableImage", image));
            outcome(r, |_| None)
        }
        Operation::Deregister { image } => deregister(p, image, dry).await,
        Operation::Terminate { vm } => {
            let region = region_of(p, "TerminateInstances", vm)?;
            let r = p
                .ec2(&region)
                .terminate_instances()
                .instance_ids(vm)
                .dry_run(dry)
                .send()
                .await
                .map_err(|e| p.err(e, "TerminateInstances", vm));
            outcome(r, |_| None)
        }
        Operation::CreateImage {
            source_vm,
            name,
            tags,
            client_token,
        } => create_image(p, source_vm, name, tags, client_token, dry).await,
        Operation::LaunchReplacement {
            replaces,
            image,
            client_token,
            tags,
        } => launch_replacement(p, replaces, (image, tags), client_token, dry).await,
        Operation::Repoint { resource, image } => {
            crate::rollout::repoint(p, resource, image, dry).await
        }
        Operation::StartRollingUpgrade { scale_group, .. } => Err(ProviderError::new(
            ProviderErrorKind::Unsupported,
            "StartInstanceRefresh",
            format!("{} ({scale_group})", p.account.name),
            "rolling upgrades of auto scaling groups are not available in this release",
            "replace the group's VMs with launch replacement instead",
        )),
    }
}

/// Deregisters an image, then deletes the snapshots behind it (AWS keeps them otherwise).
async fn deregister(
    p: &AwsProvider,
    image: &str,
    dry: bool,
) -> Result<OperationOutcome, ProviderError> {
    let region = region_of(p, "DeregisterImage", image)?;
    let ec2 = p.ec2(&region);
    let described = ec2
        .describe_images()
        .image_ids(image)
        .include_deprecated(true)
        .include_disabled(true)
        .send()
        .await
        .map_err(|e| p.err(e, "DescribeImages", image))?;
    let snapshots: Vec<String> = described
        .images()
        .iter()
        .flat_map(|i| i.block_device_mappings())
        .filter_map(|m| m.ebs().and_then(|e| e.snapshot_id()).map(String::from))
        .collect();
    let r = ec2
        .deregister_image()
        .image_id(image)
        .dry_run(dry)
        .send()
        .await
        .map_err(|e| p.err(e, "DeregisterImage", image));
    let result = outcome(r, |_| None)?;
    if result == OperationOutcome::WouldSucceed {
        return Ok(result);
    }
    for snap in &snapshots {
        ec2.delete_snapshot()
            .snapshot_id(snap)
            .send()
            .await
            .map_err(|e| p.err(e, "DeleteSnapshot", snap))?;
        tracing::info!(%image, snapshot = %snap, "deleted the snapshot of a deregistered image");
    }
    Ok(result)
}

async fn create_image(
    p: &AwsProvider,
    vm: &str,
    name: &str,
    tags: &Tags,
    token: &str,
    dry: bool,
) -> Result<OperationOutcome, ProviderError> {
    let region = region_of(p, "CreateImage", vm)?;
    let ec2 = p.ec2(&region);
    // CreateImage takes no client token: look for an image made with this one first.
    let existing = ec2
        .describe_images()
        .owners("self")
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name(format!("tag:{TAG_TOKEN}"))
                .values(token)
                .build(),
        )
        .send()
        .await
        .map_err(|e| p.err(e, "DescribeImages", token))?;
    if let Some(id) = existing.images().first().and_then(|i| i.image_id()) {
        return Ok(OperationOutcome::Done {
            created: Some(id.to_string()),
        });
    }
    let mut tags = tags.clone();
    tags.insert(TAG_TOKEN, token);
    let r = ec2
        .create_image()
        .instance_id(vm)
        .name(name)
        .tag_specifications(spec(ResourceType::Image, &tags))
        .dry_run(dry)
        .send()
        .await
        .map_err(|e| p.err(e, "CreateImage", vm));
    let created = outcome(r, |out| out.image_id().map(String::from))?;
    if let OperationOutcome::Done { created: Some(id) } = &created {
        p.regions_of
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.clone(), region);
    }
    Ok(created)
}

/// Launches a VM like `old` (type, subnet, security groups, key, instance profile, tags)
/// from `image`, tagged `drydock:replaces`; the client token makes a retry launch nothing new.
async fn launch_replacement(
    p: &AwsProvider,
    old: &str,
    (image, extra): (&str, &Tags),
    token: &str,
    dry: bool,
) -> Result<OperationOutcome, ProviderError> {
    let region = region_of(p, "RunInstances", old)?;
    let ec2 = p.ec2(&region);
    let described = ec2
        .describe_instances()
        .instance_ids(old)
        .send()
        .await
        .map_err(|e| p.err(e, "DescribeInstances", old))?;
    let Some(i) = described
        .reservations()
        .iter()
        .flat_map(|r| r.instances())
        .next()
    else {
        return Err(ProviderError::new(
            ProviderErrorKind::NotFound,
            "DescribeInstances",
            old,
            "no such instance",
            "rescan",
        ));
    };
    // The ClientToken makes AWS idempotent; the token tag lets a rerun (after a crash, or on
    // an endpoint that ignores ClientToken) find the VM it already launched.
    let existing = ec2
        .describe_instances()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name(format!("tag:{TAG_TOKEN}"))
                .values(token)
                .build(),
        )
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("instance-state-name")
                .values("pending")
                .values("running")
                .values("stopping")
                .values("stopped")
                .build(),
        )
        .send()
        .await
        .map_err(|e| p.err(e, "DescribeInstances", token))?;
    if let Some(id) = existing
        .reservations()
        .iter()
        .flat_map(|r| r.instances())
        .find_map(|i| i.instance_id())
    {
        return Ok(OperationOutcome::Done {
            created: Some(id.to_string()),
        });
    }
    let mut tags = crate::records::tags(i.tags());
    tags.retain(|k, _| !k.starts_with("aws:") && k != TAG_TOKEN && k != "drydock:plan");
    tags.extend(extra.iter());
    tags.insert("drydock:replaces", old);
    tags.insert(TAG_TOKEN, token);
    let mut run = ec2
        .run_instances()
        .image_id(image)
        .min_count(1)
        .max_count(1)
        .client_token(token)
        .set_instance_type(i.instance_type().cloned())
        .set_subnet_id(i.subnet_id().map(String::from))
        .set_key_name(i.key_name().map(String::from))
        .set_security_group_ids(Some(
            i.security_groups()
                .iter()
                .filter_map(|g| g.group_id().map(String::from))
                .collect(),
        ))
        .tag_specifications(spec(ResourceType::Instance, &tags))
        .dry_run(dry);
    if let Some(arn) = i.iam_instance_profile().and_then(|p| p.arn()) {
        run = run.iam_instance_profile(
            aws_sdk_ec2::types::IamInstanceProfileSpecification::builder()
                .arn(arn)
                .build(),
        );
    }
    let r = run.send().await.map_err(|e| p.err(e, "RunInstances", old));
    let launched = outcome(r, |out| {
        out.instances()
            .first()
            .and_then(|i| i.instance_id())
            .map(String::from)
    })?;
    if let OperationOutcome::Done { created: Some(id) } = &launched {
        p.regions_of
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.clone(), region);
    }
    Ok(launched)
}
