//! SDK shapes → provider-neutral records.

use chrono::{DateTime, Utc};
use drydock_api::{Cloud, Image, ImageState, LaunchTemplate, Tags, Vm, VmState};

pub fn tags(t: &[aws_sdk_ec2::types::Tag]) -> Tags {
    t.iter()
        .filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or("").to_string())))
        .collect()
}

pub fn time(t: Option<&aws_sdk_ec2::primitives::DateTime>) -> DateTime<Utc> {
    t.and_then(|t| DateTime::from_timestamp(t.secs(), t.subsec_nanos()))
        .unwrap_or(DateTime::UNIX_EPOCH)
}

/// AWS writes image times as RFC 3339 strings.
pub fn parse_time(s: Option<&str>) -> Option<DateTime<Utc>> {
    s.and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
}

pub fn vm(i: &aws_sdk_ec2::types::Instance, account: &str, region: &str) -> Option<Vm> {
    use aws_sdk_ec2::types::InstanceStateName as S;
    let id = i.instance_id()?.to_string();
    let tags = tags(i.tags());
    let state = match i.state().and_then(|s| s.name()) {
        Some(S::Pending) => VmState::Pending,
        Some(S::Running) => VmState::Running,
        Some(S::Stopping) | Some(S::ShuttingDown) => VmState::Stopping,
        Some(S::Stopped) => VmState::Stopped,
        Some(S::Terminated) => VmState::Terminated,
        _ => VmState::Unknown,
    };
    Some(Vm {
        name: tags
            .get("Name")
            .map_or_else(|| id.as_str().into(), Into::into),
        id: id.into(),
        cloud: Cloud::Aws,
        account: account.into(),
        region: region.into(),
        state,
        size: i
            .instance_type()
            .map(|t| t.as_str().into())
            .unwrap_or_default(),
        launched_at: time(i.launch_time()),
        image_id: i.image_id().unwrap_or("").into(),
        scale_group: tags.get("aws:autoscaling:groupName").map(Into::into),
        // Filled by the provider from DescribeInstanceAttribute for VMs on vendor images.
        boot_config: Vec::new(),
        tags,
    })
}

pub fn image(
    i: &aws_sdk_ec2::types::Image,
    account: &str,
    region: &str,
    now: DateTime<Utc>,
) -> Option<Image> {
    use aws_sdk_ec2::types::ImageState as S;
    let deprecation_time = parse_time(i.deprecation_time());
    let state = match i.state() {
        Some(S::Disabled) => ImageState::Disabled,
        Some(S::Deregistered) => ImageState::Deregistered,
        _ if deprecation_time.is_some_and(|t| t <= now) => ImageState::Deprecated,
        _ => ImageState::Available,
    };
    let owner = i.owner_id().unwrap_or("").to_string();
    let alias = i.image_owner_alias();
    Some(Image {
        id: i.image_id()?.to_string(),
        name: i.name().unwrap_or("").to_string(),
        cloud: Cloud::Aws,
        account: if owner.is_empty() {
            account.to_string()
        } else {
            owner.clone()
        },
        region: region.to_string(),
        created: parse_time(i.creation_date()).unwrap_or(DateTime::UNIX_EPOCH),
        state,
        deprecation_time,
        end_of_life: None,
        newer_base: None,
        vendor: owner != account || alias.is_some() || i.public().unwrap_or(false),
        owner: alias.map(str::to_string).unwrap_or(owner),
        tags: tags(i.tags()),
    })
}

pub fn launch_template(
    v: &aws_sdk_ec2::types::LaunchTemplateVersion,
    account: &str,
    region: &str,
) -> Option<LaunchTemplate> {
    let image_id = v.launch_template_data()?.image_id()?.to_string();
    Some(LaunchTemplate {
        id: v.launch_template_id()?.to_string(),
        name: v.launch_template_name().unwrap_or("").to_string(),
        cloud: Cloud::Aws,
        account: account.to_string(),
        region: region.to_string(),
        version: v.version_number().unwrap_or(0).max(0) as u64,
        default_version: v.default_version().unwrap_or(false),
        image_id,
    })
}

/// An image known only from DescribeInstanceImageMetadata (DescribeImages cannot see it).
pub fn image_metadata(
    m: &aws_sdk_ec2::types::ImageMetadata,
    account: &str,
    region: &str,
) -> Option<Image> {
    use aws_sdk_ec2::types::ImageState as S;
    let owner = m.owner_id().unwrap_or("").to_string();
    let alias = m.image_owner_alias();
    Some(Image {
        id: m.image_id()?.to_string(),
        name: m.name().unwrap_or("").to_string(),
        cloud: Cloud::Aws,
        account: if owner.is_empty() {
            account.to_string()
        } else {
            owner.clone()
        },
        region: region.to_string(),
        created: parse_time(m.creation_date()).unwrap_or(DateTime::UNIX_EPOCH),
        state: match m.state() {
            Some(S::Available) => ImageState::Available,
            Some(S::Disabled) => ImageState::Disabled,
            // Described by metadata only: it cannot be launched any more.
            _ => ImageState::Deregistered,
        },
        deprecation_time: parse_time(m.deprecation_time()),
        end_of_life: None,
        newer_base: None,
        vendor: owner != account || alias.is_some(),
        owner: alias.map_or(owner, String::from),
        tags: Tags::new(),
    })
}
