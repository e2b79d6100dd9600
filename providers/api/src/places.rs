//! Where a cloud context scans: a list of regions or locations, or `"all"`. Shared by the
//! AWS (`regions`) and Azure (`locations`) configuration.

use serde::{Deserialize, Serialize};

/// `["eu-west-1", "us-east-1"]` or `"all"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Places {
    List(Vec<String>),
    /// Every place the cloud reports (DescribeRegions, or wherever the subscription has
    /// resources).
    All,
}

impl Places {
    /// Whether `place` is in scope (compared without case: Azure spells locations freely).
    pub fn contains(&self, place: &str) -> bool {
        match self {
            Places::All => true,
            Places::List(l) => l.iter().any(|x| x.eq_ignore_ascii_case(place)),
        }
    }
}

impl Serialize for Places {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Places::List(l) => l.serialize(s),
            Places::All => s.serialize_str("all"),
        }
    }
}

impl<'de> Deserialize<'de> for Places {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Places;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(r#"a list (["eu-west-1"], ["westeurope"]) or "all""#)
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Places, E> {
                match v {
                    "all" => Ok(Places::All),
                    other => Err(E::custom(format!(
                        r#"`{other}` is not "all"; give a list such as ["{other}"]"#
                    ))),
                }
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Places, A::Error> {
                let mut list = Vec::new();
                while let Some(r) = seq.next_element::<String>()? {
                    list.push(r);
                }
                if list.is_empty() {
                    return Err(serde::de::Error::custom(
                        r#"an empty list; list some or say "all""#,
                    ));
                }
                Ok(Places::List(list))
            }
        }
        d.deserialize_any(V)
    }
}
