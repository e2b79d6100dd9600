//! Resource tags: key → value, sorted by key, kept in one small vector of inline strings.
//! A fleet of a million VMs holds a few million tags: a `BTreeMap<String, String>` costs a
//! 544-byte node plus an allocation per key and value for each VM; this costs one
//! allocation per VM, and keys and values of up to 24 bytes live inline.

use compact_str::CompactString;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// A tag key or value.
pub type Text = CompactString;

/// Tags, sorted by key so output is stable.
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tags(Vec<(Text, Text)>);

impl Tags {
    pub fn new() -> Tags {
        Tags(Vec::new())
    }

    /// Room for `n` tags.
    pub fn with_capacity(n: usize) -> Tags {
        Tags(Vec::with_capacity(n))
    }

    fn find(&self, key: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| k.as_str().cmp(key))
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.find(key).ok().map(|i| self.0[i].1.as_str())
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.find(key).is_ok()
    }

    /// Sets `key`, returning its previous value.
    pub fn insert(&mut self, key: impl Into<Text>, value: impl Into<Text>) -> Option<Text> {
        let (key, value) = (key.into(), value.into());
        // Tags read in order (a snapshot, a sorted map) go on the end without a search.
        if self.0.last().is_none_or(|(last, _)| *last < key) {
            self.0.push((key, value));
            return None;
        }
        match self.find(&key) {
            Ok(i) => Some(std::mem::replace(&mut self.0[i].1, value)),
            Err(i) => {
                self.0.insert(i, (key, value));
                None
            }
        }
    }

    pub fn remove(&mut self, key: &str) -> Option<Text> {
        self.find(key).ok().map(|i| self.0.remove(i).1)
    }

    /// Keeps the tags `keep` says yes to.
    pub fn retain(&mut self, mut keep: impl FnMut(&str, &str) -> bool) {
        self.0.retain(|(k, v)| keep(k, v));
    }

    /// Where the tags are stored and how many bytes (for a prefetch: no read of them).
    pub fn storage(&self) -> (*const u8, usize) {
        (
            self.0.as_ptr().cast(),
            std::mem::size_of_val(self.0.as_slice()),
        )
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Key and value pairs, sorted by key.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&str, &str)> + ExactSizeIterator {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_str())
    }

    /// As an ordinary map (for code that builds requests from tags).
    pub fn to_map(&self) -> BTreeMap<String, String> {
        self.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }
}

impl fmt::Debug for Tags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl std::ops::Index<&str> for Tags {
    type Output = str;

    fn index(&self, key: &str) -> &str {
        match self.get(key) {
            Some(v) => v,
            None => panic!("no tag `{key}`"),
        }
    }
}

impl<K: Into<Text>, V: Into<Text>> FromIterator<(K, V)> for Tags {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Tags {
        let mut t = Tags::new();
        t.extend(iter);
        t
    }
}

impl<K: Into<Text>, V: Into<Text>> Extend<(K, V)> for Tags {
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        let iter = iter.into_iter();
        self.0.reserve(iter.size_hint().0);
        for (k, v) in iter {
            self.insert(k, v);
        }
    }
}

impl<K: Into<Text>, V: Into<Text>, const N: usize> From<[(K, V); N]> for Tags {
    fn from(pairs: [(K, V); N]) -> Tags {
        pairs.into_iter().collect()
    }
}

impl From<BTreeMap<String, String>> for Tags {
    fn from(m: BTreeMap<String, String>) -> Tags {
        // Already sorted and unique: no search per insert.
        Tags(m.into_iter().map(|(k, v)| (k.into(), v.into())).collect())
    }
}

impl<'a> IntoIterator for &'a Tags {
    type Item = (&'a str, &'a str);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (Text, Text)>,
        fn(&'a (Text, Text)) -> (&'a str, &'a str),
    >;

    fn into_iter(self) -> Self::IntoIter {
        fn pair(p: &(Text, Text)) -> (&str, &str) {
            (p.0.as_str(), p.1.as_str())
        }
        self.0.iter().map(pair)
    }
}

impl IntoIterator for Tags {
    type Item = (Text, Text);
    type IntoIter = std::vec::IntoIter<(Text, Text)>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl Serialize for Tags {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for Tags {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Tags, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Tags;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of tag keys to values")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut m: A) -> Result<Tags, A::Error> {
                let mut v: Vec<(Text, Text)> =
                    Vec::with_capacity(m.size_hint().unwrap_or(0).min(64));
                while let Some((k, val)) = m.next_entry::<Text, Text>()? {
                    v.push((k, val));
                }
                // Sorted input (what drydock writes) costs one pass; a later duplicate wins.
                if !v.windows(2).all(|w| w[0].0 < w[1].0) {
                    v.reverse();
                    v.sort_by(|a, b| a.0.cmp(&b.0));
                    v.dedup_by(|a, b| a.0 == b.0);
                }
                v.shrink_to_fit();
                Ok(Tags(v))
            }
        }
        d.deserialize_map(Visit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_sorted_map() {
        let mut t: Tags = [("b", "2"), ("a", "1")].into_iter().collect();
        assert_eq!(t.iter().collect::<Vec<_>>(), [("a", "1"), ("b", "2")]);
        assert_eq!(t.insert("a", "9").as_deref(), Some("1"));
        assert_eq!(t.get("a"), Some("9"));
        assert_eq!(&t["b"], "2");
        assert!(t.contains_key("b") && !t.contains_key("c"));
        t.retain(|k, _| k != "a");
        assert_eq!(t.len(), 1);
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(json, r#"{"b":"2"}"#);
        let back: Tags = serde_json::from_str(r#"{"z":"1","a":"2","z":"3"}"#).unwrap();
        assert_eq!(back.iter().collect::<Vec<_>>(), [("a", "2"), ("z", "3")]);
    }
}
