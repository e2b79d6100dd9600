//! Loading subscribed image lists: from a file path, `file://` or `https://` URL, with the
//! last good copy kept under the data directory (written atomically) and used, with a
//! warning, when the source cannot be read. No copy at all is an error naming the list.

use crate::drift::image_list::{ImageList, ImageListParseError, Subscription};
use drydock_store::Store;
use std::path::Path;
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
    #[error("image list {name}: {fetch}; cached copy {path}: {parse}")]
    BadCopy {
        name: String,
        fetch: Box<ImageListError>,
        path: String,
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

/// The kind of the store's documents that hold the last good copy of each list.
pub const KIND: &str = "image-list";

/// Where a list's cached copy is, for messages.
fn cache_name(store: &dyn Store, name: &str) -> String {
    format!("{} ({KIND} {name})", store.describe())
}

/// The cached copy of list `name`, if any.
fn cached(store: &dyn Store, name: &str) -> Option<String> {
    let doc = store.document(KIND, name).ok()??;
    String::from_utf8(doc.body).ok()
}

/// Every subscription from its cached copy only, never the network: for commands that must
/// work with every remote source down (`plan pause`, `info`, the dashboard at start-up).
/// A list never fetched is left out with a warning.
pub fn load_cached(
    subs: &[Subscription],
    cache: Option<&dyn Store>,
) -> (Vec<ImageList>, Vec<String>) {
    let mut lists = Vec::new();
    let mut warnings = Vec::new();
    for s in subs {
        let found = cache.and_then(|c| cached(c, &s.name).map(|b| (cache_name(c, &s.name), b)));
        match found {
            Some((path, body)) => match ImageList::parse(&s.name, &s.source, &body) {
                Ok(mut list) => {
                    list.stale = Some(path);
                    lists.push(list);
                }
                Err(e) => warnings.push(format!(
                    "image list {}: the cached copy {path} is not a list ({e})",
                    s.name
                )),
            },
            None => warnings.push(format!(
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
    cache: Option<&dyn Store>,
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
                if let Some(store) = cache {
                    if let Err(e) = store.put_document(KIND, &s.name, body.as_bytes(), None) {
                        warnings.push(format!("image list {}: cache not written: {e}", s.name));
                    }
                }
                lists.push(list);
            }
            Err(e) => {
                let copy =
                    cache.and_then(|c| cached(c, &s.name).map(|b| (cache_name(c, &s.name), b)));
                let Some((path, body)) = copy else {
                    return Err(ImageListError::NoCopy {
                        name: s.name.clone(),
                        fetch: Box::new(e),
                    });
                };
                let warning = format!(
                    "image list {}: {e}; using the copy cached in {path}",
                    s.name
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
                list.stale = Some(path);
                warnings.push(warning);
                lists.push(list);
            }
        }
    }
    Ok((lists, warnings))
}
