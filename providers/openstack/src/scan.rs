//! Reading one region: Nova's servers (`/servers/detail`, paged by `servers_links`), Glance's
//! images (`/v2/images`, paged by `next`; the hidden ones by a second listing with
//! `os_hidden=true`), and for each server booted from a volume the volume's
//! `volume_image_metadata` (Cinder), so every server names the image it came from.

use crate::records::{self, GlanceImage, ImagePage, NovaServer, ServerPage, VolumeBody};
use crate::session::{Request, Session};
use chrono::Utc;
use drydock_api::{ProviderError, ScanResult};
use futures_util::stream::{self, StreamExt};

/// Items asked for per page.
pub const PAGE: usize = 1000;

/// Glance's root for `/v2/...` paths: the catalog URL without a version suffix.
pub fn glance_root(endpoint: &str) -> &str {
    endpoint
        .strip_suffix("/v2")
        .or_else(|| endpoint.strip_suffix("/v2.0"))
        .unwrap_or(endpoint)
}

/// A `next` link of Glance (relative to the service root) or Nova (absolute) as a URL.
pub fn follow(root: &str, next: &str) -> String {
    if next.starts_with("http://") || next.starts_with("https://") {
        next.to_string()
    } else {
        format!("{root}{}", next)
    }
}

/// Every item of a paged listing, from `url` on: `split` takes each page apart into its
/// items and the next page's URL. A next link already followed would loop forever: the
/// `service` is broken, and it is an error.
async fn paged<P: serde::de::DeserializeOwned, T>(
    s: &Session,
    mut url: String,
    call: &str,
    scope: &str,
    service: &str,
    split: impl Fn(P) -> (Vec<T>, Option<String>),
) -> Result<Vec<T>, ProviderError> {
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    loop {
        let (items, next) = split(s.json(Request::get(&url, call, scope)).await?);
        out.extend(items);
        match next {
            Some(n) if seen.insert(n.clone()) => url = n,
            Some(n) => {
                return Err(ProviderError::new(
                    drydock_api::ProviderErrorKind::Other,
                    call,
                    scope,
                    format!("the next link {n} repeats an earlier page"),
                    format!("the {service} service pages wrongly; report it to the cloud's admins"),
                ))
            }
            None => return Ok(out),
        }
    }
}

/// Every image of a listing, `extra` query terms added (`&os_hidden=true`).
pub async fn list_images(
    s: &Session,
    root: &str,
    extra: &str,
    scope: &str,
) -> Result<Vec<GlanceImage>, ProviderError> {
    let url = format!("{root}/v2/images?limit={PAGE}{extra}");
    paged(s, url, "GET /v2/images", scope, "image", |p: ImagePage| {
        (p.images, p.next.map(|n| follow(root, &n)))
    })
    .await
}

/// Every server of the project in this region.
pub async fn list_servers(
    s: &Session,
    compute: &str,
    scope: &str,
) -> Result<Vec<NovaServer>, ProviderError> {
    let url = format!("{compute}/servers/detail?limit={PAGE}");
    paged(
        s,
        url,
        "GET /servers/detail",
        scope,
        "compute",
        |p: ServerPage| {
            let next = p.next().map(String::from);
            (p.servers, next)
        },
    )
    .await
}

/// The image a volume was created from, if Cinder records one.
pub async fn volume_image(
    s: &Session,
    volume: &str,
    id: &str,
) -> Result<Option<String>, ProviderError> {
    let url = format!("{volume}/volumes/{id}");
    let v: VolumeBody = s.json(Request::get(&url, "GET /volumes/{id}", id)).await?;
    Ok(v.volume.image_id())
}

/// The image a server runs: Nova's, or its boot volume's.
pub async fn server_image(
    s: &Session,
    volume: Option<&str>,
    server: &NovaServer,
) -> Result<String, ProviderError> {
    if let Some(id) = server.image_id() {
        return Ok(id.to_string());
    }
    let Some(volume) = volume else {
        return Ok(String::new());
    };
    for v in &server.volumes {
        if let Some(id) = volume_image(s, volume, &v.id).await? {
            return Ok(id);
        }
    }
    Ok(String::new())
}

async fn numbered<T>(i: usize, f: impl std::future::Future<Output = T>) -> (usize, T) {
    (i, f.await)
}

/// What one region holds.
pub async fn region(
    s: &Session,
    context: &str,
    region: &str,
    concurrency: usize,
    failed: &mut Vec<ProviderError>,
) -> Result<ScanResult, ProviderError> {
    let scope = format!("{context}/{region}");
    let project = s.project().await?;
    let compute = s.endpoint("compute", region).await?;
    let image = s.endpoint("image", region).await?;
    let root = glance_root(&image).to_string();
    let (servers, visible, hidden) = tokio::join!(
        list_servers(s, &compute, &scope),
        list_images(s, &root, "", &scope),
        list_images(s, &root, "&os_hidden=true", &scope),
    );
    let servers = servers?;
    let mut glance = visible?;
    match hidden {
        Ok(h) => glance.extend(h),
        // A Glance before os_hidden (Rocky) rejects the filter: nothing is hidden there.
        Err(e) if e.kind == drydock_api::ProviderErrorKind::Rejected => {}
        Err(e) => return Err(e),
    }
    // Boot volumes: only looked up where a server names no image.
    let volume = if servers.iter().any(|v| v.image_id().is_none()) {
        match s.endpoint("volume", region).await {
            Ok(v) => Some(v),
            Err(e) => {
                failed.push(e);
                None
            }
        }
    } else {
        None
    };
    let now = Utc::now();
    let mut lookups = Vec::new();
    for (i, srv) in servers.iter().enumerate() {
        if srv.image_id().is_none() {
            lookups.push(numbered(i, server_image(s, volume.as_deref(), srv)));
        }
    }
    let resolved: Vec<(usize, Result<String, ProviderError>)> = stream::iter(lookups)
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    let mut images_of: Vec<String> = servers
        .iter()
        .map(|s| s.image_id().unwrap_or("").to_string())
        .collect();
    for (i, r) in resolved {
        match r {
            Ok(id) => images_of[i] = id,
            Err(e) => failed.push(e),
        }
    }
    let mut seen = std::collections::HashSet::new();
    let mut images: Vec<_> = glance
        .iter()
        .filter(|i| seen.insert(i.id.clone()))
        .map(|i| i.to_image(&project, region, now))
        .collect();
    records::newer_bases(&mut images);
    Ok(ScanResult {
        vms: servers
            .iter()
            .zip(&images_of)
            .map(|(srv, img)| srv.to_vm(&project, region, img, now))
            .collect(),
        images,
        ..ScanResult::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_resolve_against_the_service_root() {
        assert_eq!(glance_root("http://h/image/v2"), "http://h/image");
        assert_eq!(glance_root("http://h:9292"), "http://h:9292");
        assert_eq!(
            follow("http://h/image", "/v2/images?marker=x"),
            "http://h/image/v2/images?marker=x"
        );
        assert_eq!(follow("http://h/image", "https://o/v2/i"), "https://o/v2/i");
    }
}
