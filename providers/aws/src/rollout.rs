//! What a plan's rollout needs from EC2 beyond launches and terminations: pointing a launch
//! template (or an auto scaling group's template) at a new image, and instance status checks
//! for the health gate.

use crate::ops::{outcome, region_of};
use crate::provider::AwsProvider;
use aws_sdk_ec2::types::RequestLaunchTemplateData;
use drydock_api::{OperationOutcome, ProviderError, ProviderErrorKind, VmHealth};

/// Points `resource` (a launch template id, or an auto scaling group by name or ARN, through
/// its launch template) at `image`: a new template version from the default one, made the
/// default. Groups using `$Default` launch from it; running VMs are left alone.
pub(crate) async fn repoint(
    p: &AwsProvider,
    resource: &str,
    image: &str,
    dry: bool,
) -> Result<OperationOutcome, ProviderError> {
    let region = region_of(p, "CreateLaunchTemplateVersion", resource)?;
    let template = if resource.starts_with("lt-") {
        resource.to_string()
    } else {
        let name = resource
            .rsplit("autoScalingGroupName/")
            .next()
            .unwrap_or(resource);
        let out = p
            .autoscaling(&region)
            .describe_auto_scaling_groups()
            .auto_scaling_group_names(name)
            .send()
            .await
            .map_err(|e| {
                crate::error::map(
                    e,
                    "DescribeAutoScalingGroups",
                    &format!("{} ({name})", p.account.name),
                    &p.account.credential_source(),
                )
            })?;
        let group = out.auto_scaling_groups().first();
        match group
            .and_then(|g| g.launch_template())
            .and_then(|t| t.launch_template_id())
        {
            Some(t) => t.to_string(),
            None => {
                return Err(ProviderError::new(
                    ProviderErrorKind::Rejected,
                    "DescribeAutoScalingGroups",
                    format!("{} ({name})", p.account.name),
                    "the group has no launch template (launch configurations and mixed instances policies are not repointed)",
                    "move the group to a launch template, or point it at the new image by hand",
                ))
            }
        }
    };
    let ec2 = p.ec2(&region);
    let made = ec2
        .create_launch_template_version()
        .launch_template_id(&template)
        .source_version("$Default")
        .launch_template_data(RequestLaunchTemplateData::builder().image_id(image).build())
        .dry_run(dry)
        .send()
        .await
        .map_err(|e| p.err(e, "CreateLaunchTemplateVersion", &template));
    let made = outcome(made, |out| {
        out.launch_template_version()
            .and_then(|v| v.version_number())
            .map(|n| n.to_string())
    })?;
    let OperationOutcome::Done {
        created: Some(version),
    } = made
    else {
        return Ok(made);
    };
    ec2.modify_launch_template()
        .launch_template_id(&template)
        .default_version(&version)
        .send()
        .await
        .map_err(|e| p.err(e, "ModifyLaunchTemplate", &template))?;
    Ok(OperationOutcome::Done {
        created: Some(format!("{template}:{version}")),
    })
}

/// The instance's state and status checks (DescribeInstanceStatus, all instances).
pub(crate) async fn health(p: &AwsProvider, vm: &str) -> Result<VmHealth, ProviderError> {
    let region = region_of(p, "DescribeInstanceStatus", vm)?;
    let out = p
        .ec2(&region)
        .describe_instance_status()
        .instance_ids(vm)
        .include_all_instances(true)
        .send()
        .await;
    let out = match out {
        Ok(o) => o,
        Err(e) => {
            let e = p.err(e, "DescribeInstanceStatus", vm);
            return match e.kind {
                ProviderErrorKind::NotFound => Ok(VmHealth::Gone),
                _ => Err(e),
            };
        }
    };
    let Some(s) = out.instance_statuses().first() else {
        return Ok(VmHealth::Gone);
    };
    use aws_sdk_ec2::types::{InstanceStateName as S, SummaryStatus};
    let state = s.instance_state().and_then(|st| st.name());
    let check =
        |x: Option<&aws_sdk_ec2::types::InstanceStatusSummary>| x.and_then(|x| x.status()).cloned();
    let checks = [
        ("system", check(s.system_status())),
        ("instance", check(s.instance_status())),
    ];
    Ok(match state {
        Some(S::Pending) => VmHealth::Starting,
        Some(S::Running) => {
            if let Some((which, st)) = checks
                .iter()
                .find(|(_, st)| matches!(st, Some(SummaryStatus::Impaired)))
            {
                VmHealth::Unhealthy(format!("{which} status check: {st:?}"))
            } else if checks
                .iter()
                .any(|(_, st)| matches!(st, Some(SummaryStatus::Initializing)))
            {
                VmHealth::Starting
            } else {
                VmHealth::Healthy
            }
        }
        Some(S::Terminated) | Some(S::ShuttingDown) => VmHealth::Gone,
        other => VmHealth::Unhealthy(format!(
            "instance is {}",
            other.map_or("in an unknown state", |s| s.as_str())
        )),
    })
}
