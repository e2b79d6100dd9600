//! Organisation-wide discovery, cloud-neutral: the accounts (or subscriptions) an AWS
//! Organization or an Azure tenant reports, the selectors of `include`/`exclude` and of the
//! `production`/`readonly` rules (`123456789012`, `ou:/Root/Prod/*`, `tag:KEY=VALUE`,
//! `name:GLOB`), and the decision each account gets: scanned (with its flags) or skipped.

use crate::Tags;
use serde::{Deserialize, Serialize};
use std::fmt;

/// One account of an organisation (an AWS account, an Azure subscription).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgAccount {
    /// The account id (12 digits) or subscription id (GUID).
    pub id: String,
    pub name: String,
    /// `ACTIVE` / `SUSPENDED` (AWS), `Enabled` / `Disabled` / `Warned`... (Azure).
    pub status: String,
    /// Where it sits: `/Root/Prod/Web` (AWS OU names from the root); empty for Azure.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub path: String,
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    pub tags: Tags,
}

/// What picks accounts: an id, an OU path glob, a tag, or a name glob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    Id(String),
    /// `ou:/Root/Prod/*`: `*` matches any run of characters (`/` included); a pattern
    /// ending in `/*` also matches the OU itself.
    Ou(String),
    /// `tag:KEY=VALUE` (`tag:KEY` for any value).
    Tag(String, Option<String>),
    /// `name:GLOB`.
    Name(String),
}

impl Selector {
    /// Whether `account` is selected.
    pub fn matches(&self, account: &OrgAccount) -> bool {
        match self {
            Selector::Id(id) => account.id.eq_ignore_ascii_case(id),
            Selector::Ou(pattern) => {
                let path = account.path.trim_end_matches('/');
                glob(pattern, path)
                    || pattern
                        .strip_suffix("/*")
                        .is_some_and(|p| p.eq_ignore_ascii_case(path))
            }
            Selector::Tag(k, v) => account
                .tags
                .get(k)
                .is_some_and(|have| v.as_ref().is_none_or(|v| v == have)),
            Selector::Name(pattern) => glob(pattern, &account.name),
        }
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Selector::Id(id) => f.write_str(id),
            Selector::Ou(p) => write!(f, "ou:{p}"),
            Selector::Tag(k, Some(v)) => write!(f, "tag:{k}={v}"),
            Selector::Tag(k, None) => write!(f, "tag:{k}"),
            Selector::Name(p) => write!(f, "name:{p}"),
        }
    }
}

impl std::str::FromStr for Selector {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if let Some(p) = s.strip_prefix("ou:") {
            if !p.starts_with('/') {
                return Err(format!(
                    "`{s}`: an OU path starts at the root, e.g. `ou:/Root/Prod/*`"
                ));
            }
            return Ok(Selector::Ou(p.to_string()));
        }
        if let Some(t) = s.strip_prefix("tag:") {
            return match t.split_once('=') {
                Some(("", _)) => Err(format!("`{s}`: the tag key is empty")),
                Some((k, v)) => Ok(Selector::Tag(k.to_string(), Some(v.to_string()))),
                None if t.is_empty() => Err(format!("`{s}`: the tag key is empty")),
                None => Ok(Selector::Tag(t.to_string(), None)),
            };
        }
        if let Some(n) = s.strip_prefix("name:") {
            return Ok(Selector::Name(n.to_string()));
        }
        if s.is_empty() || s.contains(char::is_whitespace) || s.contains(':') {
            return Err(format!(
                "`{s}` is not an account selector; use an account or subscription id, \
                 `ou:/Root/Path/*`, `tag:KEY=VALUE` or `name:GLOB`"
            ));
        }
        Ok(Selector::Id(s.to_string()))
    }
}

impl Serialize for Selector {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Selector {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// `*` matches any run of characters, `?` one; everything else literally, ignoring case.
pub fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let t: Vec<char> = text.to_lowercase().chars().collect();
    // Iterative wildcard match with one backtrack point: linear in practice, no recursion.
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// The selection rules of an organisation entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Rules {
    /// Only these accounts (empty: all).
    pub include: Vec<Selector>,
    /// Never these (wins over `include`).
    pub exclude: Vec<Selector>,
    /// These become production contexts (typed confirmations).
    pub production: Vec<Selector>,
    /// These become read-only contexts (the gate refuses every change).
    pub readonly: Vec<Selector>,
}

/// What the rules make of one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Scan {
        production: bool,
        readonly: bool,
    },
    /// Not scanned, and why (shown as the context's `skipped` outcome).
    Skip(String),
}

impl Rules {
    /// The decision for `account`, whose status must be `active` (compared without case)
    /// to be scanned.
    pub fn decide(&self, account: &OrgAccount, active: &[&str]) -> Decision {
        if !active
            .iter()
            .any(|a| a.eq_ignore_ascii_case(&account.status))
        {
            return Decision::Skip(format!("status {}", account.status));
        }
        if let Some(s) = self.exclude.iter().find(|s| s.matches(account)) {
            return Decision::Skip(format!("excluded by {s}"));
        }
        if !self.include.is_empty() && !self.include.iter().any(|s| s.matches(account)) {
            return Decision::Skip("not in include".into());
        }
        Decision::Scan {
            production: self.production.iter().any(|s| s.matches(account)),
            readonly: self.readonly.iter().any(|s| s.matches(account)),
        }
    }
}

/// The context names of discovered accounts: the account's name, made unique with its id
/// where two share one (or one is `taken` already), and kept to letters, digits, `-_.`.
pub fn context_names(accounts: &[OrgAccount], taken: &dyn Fn(&str) -> bool) -> Vec<String> {
    let clean = |s: &str| -> String {
        let c: String = s
            .chars()
            .map(|c| {
                if c.is_alphanumeric() || "-_.".contains(c) {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        let c = c.trim_matches('-').to_string();
        if c.is_empty() {
            "account".into()
        } else {
            c
        }
    };
    let names: Vec<String> = accounts.iter().map(|a| clean(&a.name)).collect();
    names
        .iter()
        .zip(accounts)
        .map(|(n, a)| {
            let shared = names.iter().filter(|m| *m == n).count() > 1;
            if shared || taken(n) {
                format!("{n}-{}", clean(&a.id))
            } else {
                n.clone()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acct(id: &str, name: &str, path: &str, tags: &[(&str, &str)]) -> OrgAccount {
        OrgAccount {
            id: id.into(),
            name: name.into(),
            status: "ACTIVE".into(),
            path: path.into(),
            tags: tags
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn selectors_parse_and_match() {
        let web = acct(
            "111122223333",
            "web prod",
            "/Root/Prod/Web",
            &[("team", "web")],
        );
        let sel = |s: &str| s.parse::<Selector>().unwrap();
        assert!(sel("111122223333").matches(&web));
        assert!(sel("ou:/Root/Prod/*").matches(&web));
        assert!(sel("ou:/root/prod/web").matches(&web));
        assert!(sel("ou:/Root/Prod/Web/*").matches(&web), "the OU itself");
        assert!(!sel("ou:/Root/Dev/*").matches(&web));
        assert!(!sel("ou:/Root/Prod").matches(&web), "not directly in Prod");
        assert!(sel("tag:team=web").matches(&web) && sel("tag:team").matches(&web));
        assert!(!sel("tag:team=db").matches(&web));
        assert!(sel("name:web*").matches(&web));
        assert_eq!(sel("tag:a=b").to_string(), "tag:a=b");
        for bad in ["ou:Root", "tag:", "tag:=x", "two words", "", "arn:aws:x"] {
            assert!(bad.parse::<Selector>().is_err(), "{bad}");
        }
        assert!(glob("a*b*c", "aXXbYYc") && !glob("a*b", "ab c") && glob("*", ""));
    }

    #[test]
    fn rules_decide_exclude_first_and_flag_by_ou_or_tag() {
        let rules: Rules = toml::from_str(
            r#"
            include = ["ou:/Root/*"]
            exclude = ["tag:drydock=skip"]
            production = ["ou:/Root/Prod/*"]
            readonly = ["tag:env=prod"]
            "#,
        )
        .unwrap();
        let prod = acct("1", "p", "/Root/Prod", &[("env", "prod")]);
        assert_eq!(
            rules.decide(&prod, &["ACTIVE"]),
            Decision::Scan {
                production: true,
                readonly: true
            }
        );
        let skip = acct("2", "s", "/Root/Dev", &[("drydock", "skip")]);
        assert_eq!(
            rules.decide(&skip, &["ACTIVE"]),
            Decision::Skip("excluded by tag:drydock=skip".into())
        );
        let mut gone = acct("3", "g", "/Root/Dev", &[]);
        gone.status = "SUSPENDED".into();
        assert_eq!(
            rules.decide(&gone, &["ACTIVE"]),
            Decision::Skip("status SUSPENDED".into())
        );
        assert!(toml::from_str::<Rules>("include = [\"ou:Prod\"]").is_err());
    }

    #[test]
    fn context_names_are_unique_and_plain() {
        let a = [
            acct("111", "Web Prod", "", &[]),
            acct("222", "db", "", &[]),
            acct("333", "db", "", &[]),
            acct("444", "taken", "", &[]),
        ];
        let names = context_names(&a, &|n| n == "taken");
        assert_eq!(names, ["Web-Prod", "db-222", "db-333", "taken-444"]);
    }
}
