//! Images beyond the account's own: those VMs reference (DescribeImages by id, then
//! DescribeInstanceImageMetadata for what it cannot see) and vendor freshness.

use crate::provider::AwsProvider;
use crate::records;
use aws_config::retry::RetryConfig;
use chrono::Utc;
use drydock_api::{ProviderError, ProviderErrorKind, ScanResult};
use std::collections::{BTreeSet, HashMap};

impl AwsProvider {
    /// DescribeImages by id. One unknown id fails the whole call, so on NotFound the ids
    /// are asked one by one and the missing ones left out: their VMs become `unknown`.
    pub(crate) async fn describe_some_images(
        &self,
        ec2: &aws_sdk_ec2::Client,
        region: &str,
        ids: &[String],
    ) -> Result<Vec<aws_sdk_ec2::types::Image>, ProviderError> {
        let mut found = Vec::new();
        for chunk in ids.chunks(100) {
            let call = ec2
                .describe_images()
                .set_image_ids(Some(chunk.to_vec()))
                .include_deprecated(true)
                .include_disabled(true)
                .send()
                .await;
            match call {
                Ok(out) => found.extend(out.images().iter().cloned()),
                Err(e) => {
                    let e = self.err(e, "DescribeImages", region);
                    if e.kind != ProviderErrorKind::NotFound {
                        return Err(e);
                    }
                    for id in chunk {
                        match ec2
                            .describe_images()
                            .image_ids(id)
                            .include_deprecated(true)
                            .send()
                            .await
                        {
                            Ok(out) => found.extend(out.images().iter().cloned()),
                            Err(e) => {
                                let e = self.err(e, "DescribeImages", id);
                                if e.kind != ProviderErrorKind::NotFound {
                                    return Err(e);
                                }
                                tracing::info!(image = %id, "image cannot be resolved");
                            }
                        }
                    }
                }
            }
        }
        Ok(found)
    }

    /// Images VMs run that DescribeImages cannot see (deregistered, or no longer shared):
    /// DescribeInstanceImageMetadata still knows what they were, where the endpoint has it.
    /// Without it (or on any error) those VMs stay `unknown`.
    pub(crate) async fn image_metadata(
        &self,
        ec2: &aws_sdk_ec2::Client,
        region: &str,
        account: &str,
        out: &mut ScanResult,
    ) {
        let known: BTreeSet<&str> = out.images.iter().map(|i| i.id.as_str()).collect();
        let instances: Vec<String> = out
            .vms
            .iter()
            .filter(|v| !v.image_id.is_empty() && !known.contains(v.image_id.as_str()))
            .map(|v| v.id.to_string())
            .collect();
        let mut found: HashMap<String, drydock_api::Image> = HashMap::new();
        let skip = std::sync::atomic::Ordering::Relaxed;
        for chunk in instances.chunks(50) {
            if self.no_image_metadata.load(skip) {
                return;
            }
            // Best effort: one attempt, no retries, and not again once it has failed.
            let answer = ec2
                .describe_instance_image_metadata()
                .set_instance_ids(Some(chunk.to_vec()))
                .customize()
                .config_override(
                    aws_sdk_ec2::config::Builder::default().retry_config(RetryConfig::disabled()),
                )
                .send()
                .await
                .map_err(|e| self.err(e, "DescribeInstanceImageMetadata", region));
            let answer = match answer {
                Ok(a) => a,
                Err(e) => {
                    tracing::debug!("{e}; images that cannot be described stay unknown");
                    self.no_image_metadata.store(true, skip);
                    return;
                }
            };
            for m in answer
                .instance_image_metadata()
                .iter()
                .filter_map(|i| i.image_metadata())
            {
                if let Some(img) = records::image_metadata(m, account, region) {
                    found.entry(img.id.clone()).or_insert(img);
                }
            }
        }
        out.images.extend(found.into_values());
    }

    /// Vendor freshness: for each vendor image in use, the newest image from the same owner
    /// whose name matches the same pattern (the date in the name as a wildcard). A newer one
    /// joins the inventory (so the drift engine sees the newer version) and is named on the
    /// old image as `newer_base`.
    pub(crate) async fn newer_bases(
        &self,
        ec2: &aws_sdk_ec2::Client,
        region: &str,
        account: &str,
        out: &mut ScanResult,
    ) -> Result<(), ProviderError> {
        let mut newest: HashMap<(String, String), Option<aws_sdk_ec2::types::Image>> =
            HashMap::new();
        for img in out.images.iter().filter(|i| i.vendor) {
            let (Some(pattern), Some(owner)) = (name_pattern(&img.name), owner_id(img)) else {
                continue;
            };
            let key = (owner, pattern);
            if newest.contains_key(&key) {
                continue;
            }
            let found = ec2
                .describe_images()
                .owners(&key.0)
                .filters(
                    aws_sdk_ec2::types::Filter::builder()
                        .name("name")
                        .values(&key.1)
                        .build(),
                )
                .send()
                .await
                .map_err(|e| self.err(e, "DescribeImages", &key.1))?;
            let best = found
                .images()
                .iter()
                .max_by_key(|i| records::parse_time(i.creation_date()))
                .cloned();
            newest.insert(key, best);
        }
        let now = Utc::now();
        let mut added = Vec::new();
        for img in out.images.iter_mut().filter(|i| i.vendor) {
            let (Some(pattern), Some(owner)) = (name_pattern(&img.name), owner_id(img)) else {
                continue;
            };
            let Some(Some(best)) = newest.get(&(owner, pattern)) else {
                continue;
            };
            let created = records::parse_time(best.creation_date());
            if best.image_id() != Some(img.id.as_str()) && created.is_some_and(|c| c > img.created)
            {
                img.newer_base = best.image_id().map(String::from);
                added.extend(records::image(best, account, region, now));
            }
        }
        for img in added {
            if !out.images.iter().any(|i| i.id == img.id) {
                out.images.push(img);
            }
        }
        Ok(())
    }
}

/// A vendor image name with its date (the last run of 8 or more digits), and any build
/// number after it (a run of 3 or more digits), as `*`:
/// `al2023-ami-2023.9.20260520-kernel-6.1-x86_64` → `al2023-ami-2023.9.*-kernel-6.1-x86_64`,
/// `debian-12-amd64-20260801-1824` → `debian-12-amd64-*-*`.
fn name_pattern(name: &str) -> Option<String> {
    let bytes = name.as_bytes();
    let mut end = bytes.len();
    while end > 0 {
        if bytes[end - 1].is_ascii_digit() {
            let mut start = end;
            while start > 0 && bytes[start - 1].is_ascii_digit() {
                start -= 1;
            }
            if end - start >= 8 {
                return Some(format!("{}*{}", &name[..start], wild_numbers(&name[end..])));
            }
            end = start;
        } else {
            end -= 1;
        }
    }
    None
}

/// Replaces runs of 3 or more digits with `*`.
fn wild_numbers(s: &str) -> String {
    let mut out = String::new();
    let mut digits = String::new();
    for c in s.chars().chain(std::iter::once('\0')) {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        if digits.len() >= 3 {
            out.push('*');
        } else {
            out.push_str(&digits);
        }
        digits.clear();
        if c != '\0' {
            out.push(c);
        }
    }
    out
}

/// The owner id of a vendor image (its account field holds it).
fn owner_id(img: &drydock_api::Image) -> Option<String> {
    (!img.account.is_empty()).then(|| img.account.clone())
}

#[cfg(test)]
mod tests {
    use super::name_pattern;

    #[test]
    fn vendor_name_patterns() {
        assert_eq!(
            name_pattern("al2023-ami-2023.9.20260520-kernel-6.1-x86_64").as_deref(),
            Some("al2023-ami-2023.9.*-kernel-6.1-x86_64")
        );
        assert_eq!(
            name_pattern("ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-20260505")
                .as_deref(),
            Some("ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-*")
        );
        assert_eq!(
            name_pattern("debian-12-amd64-20260801-1824").as_deref(),
            Some("debian-12-amd64-*-*")
        );
        assert_eq!(name_pattern("web-base-2026.11.1"), None);
    }
}
