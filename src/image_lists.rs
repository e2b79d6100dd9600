//! Loading subscribed image lists: from a file path, `file://` or `https://` URL, with the
//! last good copy kept under the data directory (written atomically) and used, with a
//! warning, when the source cannot be read. No copy at all is an error naming the list.

use crate::drift::image_list::{ImageList, ImageListParseError, Subscription};
use crate::model::snapshot::write_atomic;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;
use thiserror::Error;

/// How long one fetch may take.
const TIMEOUT: Duration = Duration::from_secs(20);
/// The largest list drydock reads.
const MAX_LIST: u64 = 64 << 20;

/// Why a source (a file or an http(s) URL) could not be read.
#[derive(Debug, Error)]
pub enum FetchError {
    #[error("GET {url}: {source}")]
    Http {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("GET {url}: reading the body: {source}")]
    Body {
        url: String,
        #[source]
        source: std::io::Error,
    },
    #[error("GET {url}: HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("{what}: larger than {MAX_LIST} bytes")]
    TooLarge { what: String },
    #[error(transparent)]
    File(#[from] drydock_convert::input::InputError),
}

/// Why a subscribed image list cannot be used.
#[derive(Debug, Error)]
pub enum ImageListError {
    #[error("image list {name}: {fetch}; no cached copy either (fix the source or remove the subscription from [[policy.image_lists]])")]
    NoCopy {
        name: String,
        #[source]
        fetch: Box<ImageListError>,
    },
    #[error("image list {name}: {fetch}; cached copy {}: {parse}", path.display())]
    BadCopy {
        name: String,
        fetch: Box<ImageListError>,
        path: PathBuf,
        parse: ImageListParseError,
    },
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error("{from}: {source}")]
    Parse {
        from: String,
        source: ImageListParseError,
    },
}

/// The text at `source`: a file path, `file://` or `http(s)://` URL (bounded, with a timeout).
pub fn read_source(source: &str) -> Result<String, FetchError> {
    if source.starts_with("https://") || source.starts_with("http://") {
        let http = |e| FetchError::Http {
            url: source.to_string(),
            source: e,
        };
        let client = reqwest::blocking::Client::builder()
            .timeout(TIMEOUT)
            .build()
            .map_err(http)?;
        let resp = client.get(source).send().map_err(http)?;
        let status = resp.status();
        if !status.is_success() {
            return Err(FetchError::Status {
                url: source.to_string(),
                status: status.as_u16(),
            });
        }
        if resp.content_length().is_some_and(|n| n > MAX_LIST) {
            return Err(FetchError::TooLarge {
                what: format!("GET {source}"),
            });
        }
        // Bounded while reading: a chunked body has no length to check first.
        let mut body = Vec::new();
        std::io::Read::read_to_end(&mut std::io::Read::take(resp, MAX_LIST + 1), &mut body)
            .map_err(|e| FetchError::Body {
                url: source.to_string(),
                source: e,
            })?;
        if body.len() as u64 > MAX_LIST {
            return Err(FetchError::TooLarge {
                what: format!("GET {source}"),
            });
        }
        return String::from_utf8(body).map_err(|e| FetchError::Body {
            url: source.to_string(),
            source: std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()),
            ),
        });
    }
    let path = source.strip_prefix("file://").unwrap_or(source);
    Ok(drydock_convert::input::read_regular_text(
        Path::new(path),
        "image list",
        MAX_LIST,
        "an image list is at most 64 MiB",
    )?)
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

/// Every subscription from its cached copy only, never the network: for commands that must
/// work with every remote source down (`plan pause`, `info`, the dashboard at start-up).
/// A list never fetched is left out with a warning.
pub fn load_cached(subs: &[Subscription], cache: Option<&Path>) -> (Vec<ImageList>, Vec<String>) {
    let mut lists = Vec::new();
    let mut warnings = Vec::new();
    for s in subs {
        let path = cache.map(|d| cache_path(d, &s.name));
        let body = path.as_ref().and_then(|p| {
            drydock_convert::input::read_regular_text(p, "image list", MAX_LIST, "").ok()
        });
        match (path, body) {
            (Some(path), Some(body)) => match ImageList::parse(&s.name, &s.source, &body) {
                Ok(mut list) => {
                    list.stale = Some(path.display().to_string());
                    lists.push(list);
                }
                Err(e) => warnings.push(format!(
                    "image list {}: the cached copy {} is not a list ({e})",
                    s.name,
                    path.display()
                )),
            },
            _ => warnings.push(format!(
                "image list {}: no cached copy yet (`drydock report` fetches it); its verdicts are left out",
                s.name
            )),
        }
    }
    (lists, warnings)
}

/// Load every subscription; warnings say where a cached copy stood in for a source.
pub fn load(
    subs: &[Subscription],
    cache: Option<&Path>,
) -> Result<(Vec<ImageList>, Vec<String>), ImageListError> {
    let mut lists = Vec::new();
    let mut warnings = Vec::new();
    for s in subs {
        let fresh = read_source(&s.source)
            .map_err(ImageListError::from)
            .and_then(|body| {
                let list = ImageList::parse(&s.name, &s.source, &body).map_err(|source| {
                    ImageListError::Parse {
                        from: s.source.clone(),
                        source,
                    }
                })?;
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
                    return Err(ImageListError::NoCopy {
                        name: s.name.clone(),
                        fetch: Box::new(e),
                    });
                };
                let warning = format!(
                    "image list {}: {e}; using the copy cached at {}",
                    s.name,
                    path.display()
                );
                let mut list = match ImageList::parse(&s.name, &s.source, &body) {
                    Ok(l) => l,
                    Err(parse) => {
                        return Err(ImageListError::BadCopy {
                            name: s.name.clone(),
                            fetch: Box::new(e),
                            path,
                            parse,
                        })
                    }
                };
                list.stale = Some(path.display().to_string());
                warnings.push(warning);
                lists.push(list);
            }
        }
    }
    Ok((lists, warnings))
}
