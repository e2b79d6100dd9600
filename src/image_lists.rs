//! Loading subscribed image lists: from a file path, `file://` or `https://` URL, with the
//! last good copy kept under the data directory (written atomically) and used, with a
//! warning, when the source cannot be read. No copy at all is an error naming the list.

use crate::drift::image_list::{ImageList, Subscription};
use crate::model::snapshot::write_atomic;
use anyhow::{anyhow, Context, Result};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long one fetch may take.
const TIMEOUT: Duration = Duration::from_secs(20);
/// The largest list drydock reads.
const MAX_LIST: u64 = 64 << 20;

/// The text at `source`: a file path, `file://` or `http(s)://` URL (bounded, with a timeout).
pub fn read_source(source: &str) -> Result<String> {
    if source.starts_with("https://") || source.starts_with("http://") {
        let client = reqwest::blocking::Client::builder()
            .timeout(TIMEOUT)
            .build()
            .context("HTTP client")?;
        let resp = client
            .get(source)
            .send()
            .with_context(|| format!("GET {source}"))?;
        let status = resp.status();
        if !status.is_success() {
            return Err(anyhow!("GET {source}: HTTP {status}"));
        }
        if resp.content_length().is_some_and(|n| n > MAX_LIST) {
            return Err(anyhow!("GET {source}: larger than {MAX_LIST} bytes"));
        }
        return resp.text().with_context(|| format!("GET {source}: body"));
    }
    let path = source.strip_prefix("file://").unwrap_or(source);
    let meta = std::fs::metadata(path).with_context(|| format!("read {path}"))?;
    if meta.len() > MAX_LIST {
        return Err(anyhow!("{path}: larger than {MAX_LIST} bytes"));
    }
    std::fs::read_to_string(path).with_context(|| format!("read {path}"))
}

fn cache_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!(
        "{}.list",
        crate::config::paths::safe_file_name(name)
    ))
}

fn write_cache(dir: &Path, name: &str, body: &str) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    write_atomic(&cache_path(dir, name), |w| w.write_all(body.as_bytes()))
}

/// Load every subscription; warnings say where a cached copy stood in for a source.
pub fn load(subs: &[Subscription], cache: Option<&Path>) -> Result<(Vec<ImageList>, Vec<String>)> {
    let mut lists = Vec::new();
    let mut warnings = Vec::new();
    for s in subs {
        let fresh = read_source(&s.source).and_then(|body| {
            let list = ImageList::parse(&s.name, &s.source, &body)
                .map_err(|e| anyhow!("{}: {e}", s.source))?;
            Ok((list, body))
        });
        match fresh {
            Ok((list, body)) => {
                if let Some(dir) = cache {
                    if let Err(e) = write_cache(dir, &s.name, &body) {
                        warnings.push(format!("image list {}: cache not written: {e}", s.name));
                    }
                }
                lists.push(list);
            }
            Err(e) => {
                let cached = cache
                    .map(|d| cache_path(d, &s.name))
                    .and_then(|p| std::fs::read_to_string(&p).ok().map(|b| (p, b)));
                let Some((path, body)) = cached else {
                    return Err(anyhow!(
                        "image list {}: {e:#}; no cached copy either (fix the source or remove \
                         the subscription from [[policy.image_lists]])",
                        s.name
                    ));
                };
                let mut list = ImageList::parse(&s.name, &s.source, &body)
                    .map_err(|e2| anyhow!("image list {}: {e:#}; cached copy: {e2}", s.name))?;
                list.stale = Some(path.display().to_string());
                warnings.push(format!(
                    "image list {}: {e:#}; using the copy cached at {}",
                    s.name,
                    path.display()
                ));
                lists.push(list);
            }
        }
    }
    Ok((lists, warnings))
}
