//! Image lists as a policy source: the HEPiX / EGI AppDB image list format
//! (`hv:imagelist` with `dc:date:expires`, images with `dc:identifier`, `hv:version`,
//! `ad:mpuri` and `sl:checksum:sha512`). An image belongs to a list when its tags name the
//! list (`drydock:image-list`), one of its identifiers or its marketplace URI; it is
//! current when its checksum, its version or its exact URI is in the list.

use crate::model::Image;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A subscription in the config: `[[policy.image_lists]] name = "…", source = "…"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Subscription {
    pub name: String,
    /// A file path, `file://` URL or `https://` URL.
    pub source: String,
}

/// One image of a list.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Listed {
    pub identifier: String,
    pub title: String,
    pub version: String,
    pub mpuri: String,
    pub sha512: String,
}

/// A loaded list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ImageList {
    pub name: String,
    pub source: String,
    pub title: String,
    pub version: String,
    pub expires: Option<DateTime<Utc>>,
    pub images: Vec<Listed>,
    /// Where the copy in use came from when the source could not be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stale: Option<String>,
}

/// A field read as text: a JSON string (trimmed); any other value reads as empty and is
/// skipped without being built in memory.
#[derive(Default)]
struct Text(String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Text, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Text;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E>(self, s: &str) -> Result<Text, E> {
                Ok(Text(s.trim().to_string()))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Text, E> {
                Ok(Text::default())
            }
            fn visit_i64<E>(self, _: i64) -> Result<Text, E> {
                Ok(Text::default())
            }
            fn visit_u64<E>(self, _: u64) -> Result<Text, E> {
                Ok(Text::default())
            }
            fn visit_f64<E>(self, _: f64) -> Result<Text, E> {
                Ok(Text::default())
            }
            fn visit_unit<E>(self) -> Result<Text, E> {
                Ok(Text::default())
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut a: A) -> Result<Text, A::Error> {
                while a.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(Text::default())
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut a: A) -> Result<Text, A::Error> {
                while a
                    .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
                    .is_some()
                {}
                Ok(Text::default())
            }
        }
        d.deserialize_any(V)
    }
}

/// The document, typed: only the fields drydock reads are built; the rest is skipped.
#[derive(Deserialize)]
struct Doc {
    #[serde(rename = "hv:imagelist")]
    list: Option<ListDoc>,
}

#[derive(Deserialize)]
struct ListDoc {
    #[serde(rename = "dc:title", default)]
    title: Text,
    #[serde(rename = "hv:version", default)]
    version: Text,
    #[serde(rename = "dc:date:expires", default)]
    expires: Text,
    #[serde(rename = "hv:images", default)]
    images: Vec<EntryDoc>,
}

#[derive(Deserialize)]
struct EntryDoc {
    #[serde(rename = "hv:image")]
    image: Option<ImageDoc>,
}

#[derive(Deserialize)]
struct ImageDoc {
    #[serde(rename = "dc:identifier", default)]
    identifier: Text,
    #[serde(rename = "dc:title", default)]
    title: Text,
    #[serde(rename = "hv:version", default)]
    version: Text,
    #[serde(rename = "ad:mpuri", default)]
    mpuri: Text,
    #[serde(rename = "sl:checksum:sha512", default)]
    sha512: Text,
}

/// Why an image list cannot be read: the field, or that it is no list.
#[derive(Debug, thiserror::Error)]
pub enum ImageListParseError {
    #[error("not an image list (JSON): {0}")]
    NotJson(#[from] serde_json::Error),
    #[error("no `hv:imagelist` object at the top level")]
    NoList,
    #[error("`hv:images[{0}]` has no `hv:image`")]
    NoImage(usize),
    #[error("`{key}` {value:?} is not an RFC 3339 time: {source}")]
    Time {
        key: &'static str,
        value: String,
        source: chrono::ParseError,
    },
}

fn time(s: &str, key: &'static str) -> Result<Option<DateTime<Utc>>, ImageListParseError> {
    match Some(s).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => DateTime::parse_from_rfc3339(s)
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(|source| ImageListParseError::Time {
                key,
                value: s.to_string(),
                source,
            }),
    }
}

/// The JSON of a list: the document itself, or the JSON part of an S/MIME-signed one
/// (the signature is not verified; drydock says so where it shows the list).
fn json_part(body: &str) -> &str {
    match (body.find('{'), body.rfind('}')) {
        (Some(a), Some(b)) if a < b => &body[a..=b],
        _ => body,
    }
}

impl ImageList {
    /// Parse a list; errors name the field.
    pub fn parse(name: &str, source: &str, body: &str) -> Result<ImageList, ImageListParseError> {
        let doc: Doc = serde_json::from_str(json_part(body))?;
        let list = doc.list.ok_or(ImageListParseError::NoList)?;
        let mut images = Vec::with_capacity(list.images.len());
        for (n, e) in list.images.into_iter().enumerate() {
            let img = e.image.ok_or(ImageListParseError::NoImage(n))?;
            images.push(Listed {
                identifier: img.identifier.0,
                title: img.title.0,
                version: img.version.0,
                mpuri: img.mpuri.0,
                sha512: img.sha512.0.to_ascii_lowercase(),
            });
        }
        Ok(ImageList {
            name: name.to_string(),
            source: source.to_string(),
            title: list.title.0,
            version: list.version.0,
            expires: time(&list.expires.0, "dc:date:expires")?,
            images,
            stale: None,
        })
    }

    /// Whether `img` is one of this list's images (any version).
    fn covers(&self, img: &Image) -> bool {
        let tag = |k: &str| img.tags.get(k).map(|v| v.trim());
        if tag("drydock:image-list") == Some(self.name.as_str()) {
            return true;
        }
        let id = tag("dc:identifier");
        let uri = tag("ad:mpuri").map(|u| u.trim_end_matches('/'));
        self.images.iter().any(|l| {
            id.is_some_and(|i| !l.identifier.is_empty() && i == l.identifier)
                || uri.is_some_and(|u| {
                    let base = |s: &str| s.rsplit_once(':').map_or(s, |(b, _)| b).to_string();
                    !l.mpuri.is_empty() && base(u) == base(l.mpuri.trim_end_matches('/'))
                })
        })
    }

    /// The list entry `img` is, if it is in the current list.
    fn entry(&self, img: &Image) -> Option<&Listed> {
        let tag = |k: &str| img.tags.get(k).map(|v| v.trim());
        let sha = tag("sl:checksum:sha512").map(str::to_ascii_lowercase);
        let id = tag("dc:identifier");
        let version = tag("hv:version").or(tag("drydock:version"));
        let uri = tag("ad:mpuri").map(|u| u.trim_end_matches('/'));
        self.images.iter().find(|l| {
            sha.as_deref()
                .is_some_and(|s| !l.sha512.is_empty() && s == l.sha512)
                || uri.is_some_and(|u| !l.mpuri.is_empty() && u == l.mpuri.trim_end_matches('/'))
                || (id.is_some_and(|i| i == l.identifier) && version == Some(l.version.as_str()))
        })
    }
}

/// What the subscribed lists say of `img`: `Err((eol?, reason))` when it must not be
/// used, `Ok(Some(reason))` when a list vouches for it, `Ok(None)` when no list covers it.
pub fn judge(
    lists: &[ImageList],
    img: &Image,
    now: DateTime<Utc>,
) -> Result<Option<String>, (bool, String)> {
    let mut vouched = None;
    for l in lists.iter().filter(|l| l.covers(img)) {
        if let Some(t) = l.expires.filter(|&t| t <= now) {
            return Err((
                true,
                format!(
                    "image list {} expired on {} ({} days ago)",
                    l.name,
                    t.format("%Y-%m-%d"),
                    (now - t).num_days()
                ),
            ));
        }
        match l.entry(img) {
            Some(e) => {
                vouched.get_or_insert_with(|| {
                    format!("in image list {} ({} {})", l.name, e.title, e.version)
                });
            }
            None => {
                let id = img.tags.get("dc:identifier");
                let now_listed: Vec<String> = l
                    .images
                    .iter()
                    .filter(|e| id.is_some_and(|i| *i == e.identifier))
                    .map(|e| e.version.clone())
                    .collect();
                let current = if now_listed.is_empty() {
                    String::new()
                } else {
                    format!("; the list has {}", now_listed.join(", "))
                };
                return Err((
                    false,
                    format!(
                        "not in image list {} (version {}, checksum not listed){current}",
                        l.name, l.version
                    ),
                ));
            }
        }
    }
    Ok(vouched)
}

#[cfg(test)]
mod tests {
    use super::ImageList;

    #[test]
    fn malformed_lists_name_the_field() {
        let e = ImageList::parse(
            "l",
            "f",
            "{\"hv:imagelist\": {\"dc:date:expires\": \"soon\"}}",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("`dc:date:expires` \"soon\""), "{e}");
        let e = ImageList::parse("l", "f", "{\"hv:imagelist\": {\"hv:images\": [{}]}}")
            .unwrap_err()
            .to_string();
        assert!(e.contains("`hv:images[0]` has no `hv:image`"), "{e}");
        assert!(ImageList::parse("l", "f", "garbage").is_err());
        let ok = ImageList::parse("l", "f", "{\"hv:imagelist\": {\"hv:version\": \"7\"}}").unwrap();
        assert_eq!(
            (ok.version.as_str(), ok.expires, ok.images.len()),
            ("7", None, 0)
        );
    }
}
