//! What installs software on a VM at boot: user data, read with DescribeInstanceAttribute
//! for VMs on vendor images (a VM on a base image with user data is `dynamic`).

use crate::provider::AwsProvider;
use drydock_api::ScanResult;
use std::collections::BTreeSet;

/// The most DescribeInstanceAttribute calls one region's scan makes for user data.
const MAX_USER_DATA_READS: usize = 256;

impl AwsProvider {
    /// User data of the VMs on vendor images (or images that cannot be described): what
    /// makes a VM `dynamic`. One DescribeInstanceAttribute per such VM, a few at a time; a
    /// refusal is a scan problem naming the call, never a failed scan.
    pub(crate) async fn boot_config(
        &self,
        ec2: &aws_sdk_ec2::Client,
        region: &str,
        out: &mut ScanResult,
    ) {
        use futures_util::StreamExt;
        let owned: BTreeSet<&str> = out
            .images
            .iter()
            .filter(|i| !i.vendor)
            .map(|i| i.id.as_str())
            .collect();
        let mut ask: Vec<(usize, String)> = out
            .vms
            .iter()
            .enumerate()
            .filter(|(_, v)| !owned.contains(v.image_id.as_str()))
            .map(|(i, v)| (i, v.id.to_string()))
            .collect();
        if ask.len() > MAX_USER_DATA_READS {
            out.problems.push(drydock_api::ScanProblem {
                provider: self.account.name.clone(),
                scope: region.to_string(),
                message: format!(
                    "user data read for {MAX_USER_DATA_READS} of {} VMs on vendor images (one \
                     DescribeInstanceAttribute each); the rest are not classed dynamic",
                    ask.len()
                ),
            });
            ask.truncate(MAX_USER_DATA_READS);
        }
        let answers: Vec<_> = futures_util::stream::iter(ask)
            .map(|(i, id)| async move {
                let r = ec2
                    .describe_instance_attribute()
                    .instance_id(&id)
                    .attribute(aws_sdk_ec2::types::InstanceAttributeName::UserData)
                    .send()
                    .await
                    .map_err(|e| self.err(e, "DescribeInstanceAttribute userData", &id));
                (i, r)
            })
            .buffer_unordered(8)
            .collect()
            .await;
        let mut reported = false;
        for (i, r) in answers {
            match r {
                Ok(a) => {
                    if a.user_data()
                        .and_then(|u| u.value())
                        .is_some_and(|v| !v.is_empty())
                    {
                        out.vms[i].boot_config.push("user data".into());
                    }
                }
                Err(e) if !reported => {
                    reported = true;
                    out.problems.push(drydock_api::ScanProblem {
                        provider: self.account.name.clone(),
                        scope: region.to_string(),
                        message: format!(
                            "{e}; VMs whose user data cannot be read are not classed dynamic"
                        ),
                    });
                }
                Err(_) => {}
            }
        }
    }
}
