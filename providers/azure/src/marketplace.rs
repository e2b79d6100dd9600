//! Marketplace freshness: for each publisher/offer/sku a VM in scope was launched from, per
//! location, the versions Azure still offers (`VirtualMachineImages_List`). The version in
//! use and every newer one become vendor images named by their URN, so the policy sees how
//! far behind the VM is; the one in use names the newest as its `newer_base`.

use crate::scan::Scanner;
use chrono::{DateTime, NaiveDate, Utc};
use drydock_api::{Cloud, Image, ImageState, ProviderError, ScanResult};
use futures_util::{stream, StreamExt};
use std::cmp::Ordering;
use std::collections::BTreeSet;

/// Marketplace versions in natural order (`22.04.202610150` > `22.04.202607010`).
pub fn compare(a: &str, b: &str) -> Ordering {
    let parts = |s: &str| -> Vec<u64> { s.split('.').map(|p| p.parse().unwrap_or(0)).collect() };
    parts(a).cmp(&parts(b))
}

/// When a version was published, where its last part starts with a date (`…202610150`).
fn published(version: &str) -> Option<DateTime<Utc>> {
    let last = version.rsplit('.').next()?;
    let d = NaiveDate::parse_from_str(last.get(..8)?, "%Y%m%d").ok()?;
    Some(d.and_hms_opt(0, 0, 0)?.and_utc())
}

impl Scanner<'_> {
    pub(crate) async fn marketplace(&self, result: &mut ScanResult) -> Result<(), ProviderError> {
        // (publisher, offer, sku, location) → versions in use.
        let used: BTreeSet<(String, String, String, String, String)> = result
            .vms
            .iter()
            .filter(|v| !v.image_id.starts_with('/'))
            .filter_map(
                |v| match v.image_id.split(':').collect::<Vec<_>>().as_slice() {
                    [p, o, s, ver] => Some((
                        p.to_string(),
                        o.to_string(),
                        s.to_string(),
                        v.region.to_string(),
                        ver.to_string(),
                    )),
                    _ => None,
                },
            )
            .collect();
        let skus: BTreeSet<(String, String, String, String)> = used
            .iter()
            .map(|(p, o, s, l, _)| (p.clone(), o.clone(), s.clone(), l.clone()))
            .collect();
        let sub = self.sub.id.clone();
        let lists: Vec<_> = stream::iter(skus)
            .map(|(p, o, s, l)| {
                let c = self.client.virtual_machine_images_client();
                let sub = sub.clone();
                async move {
                    let r = c
                        .list(l.clone(), p.clone(), o.clone(), s.clone(), sub)
                        .await;
                    ((p, o, s, l), r)
                }
            })
            .buffer_unordered(self.sub.concurrency.max(1))
            .collect()
            .await;
        for ((p, o, s, l), r) in lists {
            let scope = format!("{}/{l}/{p}:{o}:{s}", self.sub.name);
            let offered: Vec<String> = match r {
                Ok(list) => list.into_iter().map(|v| v.name).collect(),
                Err(e) => {
                    self.problem(&e, "VirtualMachineImages_List", &scope, result)?;
                    continue;
                }
            };
            let newest = offered.iter().max_by(|a, b| compare(a, b)).cloned();
            let in_use: Vec<&String> = used
                .iter()
                .filter(|(up, uo, us, ul, _)| (up, uo, us, ul) == (&p, &o, &s, &l))
                .map(|(.., v)| v)
                .collect();
            let oldest_in_use = in_use.iter().copied().min_by(|a, b| compare(a, b));
            let urn = |v: &str| format!("{p}:{o}:{s}:{v}");
            let mut versions: BTreeSet<String> = offered
                .iter()
                .filter(|v| oldest_in_use.is_none_or(|u| compare(v, u) != Ordering::Less))
                .cloned()
                .collect();
            versions.extend(in_use.iter().map(|v| v.to_string()));
            for v in versions {
                let newer = newest
                    .as_ref()
                    .filter(|n| compare(n, &v) == Ordering::Greater)
                    .map(|n| urn(n));
                result.images.push(Image {
                    id: urn(&v),
                    name: urn(&v),
                    cloud: Cloud::Azure,
                    account: p.clone(),
                    region: l.clone(),
                    created: published(&v).unwrap_or(self.now),
                    // A version no longer offered can no longer be launched.
                    state: if offered.contains(&v) {
                        ImageState::Available
                    } else {
                        ImageState::Deregistered
                    },
                    deprecation_time: None,
                    end_of_life: None,
                    owner: p.clone(),
                    newer_base: newer,
                    vendor: true,
                    tags: Default::default(),
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_and_their_dates() {
        assert_eq!(
            compare("22.04.202610150", "22.04.202607010"),
            Ordering::Greater
        );
        assert_eq!(compare("1.10.0", "1.9.0"), Ordering::Greater);
        assert_eq!(
            published("22.04.202610150").unwrap().to_rfc3339(),
            "2026-10-15T00:00:00+00:00"
        );
        assert_eq!(published("1.0.0"), None);
    }
}
