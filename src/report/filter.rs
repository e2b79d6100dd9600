//! Filter expressions shared by the report and the TUI: whitespace-separated terms, all of
//! which must hold. `field:value` matches a field against a glob (`*`, `?`), case-insensitive,
//! with `a,b` for alternatives; `tag:key=value` or `tag:key` tests tags; a bare word matches
//! name, id, image or family as a substring; `!` before a term negates it.

use glob::{MatchOptions, Pattern};
use std::fmt;

/// A field a filter term can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Name,
    Id,
    Cloud,
    Account,
    Region,
    State,
    Size,
    Image,
    Family,
    Version,
    Verdict,
    Owner,
    Group,
    Class,
}

const FIELDS: [(&str, Field); 14] = [
    ("name", Field::Name),
    ("id", Field::Id),
    ("cloud", Field::Cloud),
    ("account", Field::Account),
    ("region", Field::Region),
    ("state", Field::State),
    ("size", Field::Size),
    ("image", Field::Image),
    ("family", Field::Family),
    ("version", Field::Version),
    ("verdict", Field::Verdict),
    ("owner", Field::Owner),
    ("group", Field::Group),
    ("class", Field::Class),
];

/// Every field a term can name, in the order help lists them.
pub fn field_names() -> impl Iterator<Item = &'static str> {
    FIELDS.iter().map(|(n, _)| *n)
}

/// The values a field can take, for fields with a closed set: a term whose pattern matches
/// none of them is a typo, and an error naming them, never a filter that matches nothing.
pub fn closed_values(field: Field) -> Option<&'static [&'static str]> {
    match field {
        Field::Verdict => Some(&[
            "current",
            "unmanaged",
            "behind",
            "unknown",
            "outdated",
            "eol",
            "revoked",
        ]),
        Field::Cloud => Some(&["aws", "azure"]),
        Field::Class => Some(&["base", "golden", "capsule", "dynamic"]),
        // VM states and image states: one filter serves both kinds of row.
        Field::State => Some(&[
            "pending",
            "running",
            "stopping",
            "stopped",
            "terminated",
            "unknown",
            "available",
            "deprecated",
            "disabled",
            "deregistered",
        ]),
        _ => None,
    }
}

/// The values a row has for one field: none, one, or two (an image's id and name).
pub type Values<'a> = [Option<&'a str>; 2];

/// What a filter needs from a row.
pub trait Filterable {
    /// The values of `field` (`[None, None]` when the row has none).
    fn values(&self, field: Field) -> Values<'_>;
    fn tag(&self, key: &str) -> Option<&str>;
    /// Name, id, image and family, lower-cased in one string, if the row keeps one ready:
    /// bare-word terms then search it in one pass instead of field by field.
    fn search_text(&self) -> Option<&str> {
        None
    }
}

/// A glob as it is matched: the common shapes (`web`, `web-*`, `*-prod`, `*web*`, `*`)
/// compared directly on ASCII text, anything else (and non-ASCII text) by the glob crate.
/// A million rows are tested on each keystroke of the dashboard's filter.
#[derive(Debug, Clone)]
struct Glob {
    pattern: Pattern,
    shape: Shape,
}

#[derive(Debug, Clone)]
enum Shape {
    Exact(String),
    Prefix(String),
    Suffix(String),
    Contains(String),
    Any,
    Other,
}

impl Glob {
    fn new(term: &str, s: &str) -> Result<Glob, FilterError> {
        let pattern = pattern(term, s)?;
        let (lead, rest) = match s.strip_prefix('*') {
            Some(r) => (true, r),
            None => (false, s),
        };
        let (trail, core) = match rest.strip_suffix('*') {
            Some(c) => (true, c),
            None => (false, rest),
        };
        let plain = core.is_ascii() && !core.contains(['*', '?', '[', ']']);
        let core = core.to_ascii_lowercase();
        let shape = match (plain, lead, trail) {
            (false, ..) => Shape::Other,
            (true, true, true) if core.is_empty() => Shape::Any,
            (true, false, false) => Shape::Exact(core),
            (true, false, true) => Shape::Prefix(core),
            (true, true, false) => Shape::Suffix(core),
            (true, true, true) => Shape::Contains(core),
        };
        Ok(Glob { pattern, shape })
    }

    fn as_str(&self) -> &str {
        self.pattern.as_str()
    }

    fn matches(&self, v: &str) -> bool {
        if !v.is_ascii() {
            return self.pattern.matches_with(v, OPTS);
        }
        let (v, eq) = (v.as_bytes(), |a: &[u8], b: &str| {
            a.eq_ignore_ascii_case(b.as_bytes())
        });
        match &self.shape {
            Shape::Exact(c) => eq(v, c),
            Shape::Prefix(c) => v.len() >= c.len() && eq(&v[..c.len()], c),
            Shape::Suffix(c) => v.len() >= c.len() && eq(&v[v.len() - c.len()..], c),
            Shape::Contains(c) => {
                c.is_empty()
                    || v.windows(c.len())
                        .any(|w| w.eq_ignore_ascii_case(c.as_bytes()))
            }
            Shape::Any => true,
            Shape::Other => self
                .pattern
                .matches_with(std::str::from_utf8(v).unwrap_or(""), OPTS),
        }
    }
}

#[derive(Debug, Clone)]
enum Test {
    Field(Field, Vec<Glob>),
    /// Tag key (exact) and an optional value pattern.
    Tag(String, Option<Glob>),
    /// Lower-cased text and a searcher for it, built once per filter, not per row.
    Text(String, Box<memchr::memmem::Finder<'static>>),
}

#[derive(Debug, Clone)]
struct Term {
    /// The term as written.
    raw: String,
    negate: bool,
    test: Test,
}

/// A parsed filter expression. The empty filter matches everything.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    terms: Vec<Term>,
    source: String,
}

/// A filter expression that cannot be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad filter term `{term}`: {message}")]
pub struct FilterError {
    pub term: String,
    pub message: String,
}

const OPTS: MatchOptions = MatchOptions {
    case_sensitive: false,
    require_literal_separator: false,
    require_literal_leading_dot: false,
};

fn pattern(term: &str, s: &str) -> Result<Pattern, FilterError> {
    Pattern::new(s).map_err(|e| FilterError {
        term: term.to_string(),
        message: format!("invalid pattern: {}", e.msg),
    })
}

impl Filter {
    /// Parses an expression such as `verdict:outdated family:web-* !region:us-*`.
    pub fn parse(expr: &str) -> Result<Filter, FilterError> {
        let mut terms = Vec::new();
        for raw in expr.split_whitespace() {
            let (negate, body) = match raw.strip_prefix('!') {
                Some(rest) => (true, rest),
                None => (false, raw),
            };
            if body.is_empty() {
                return Err(FilterError {
                    term: raw.into(),
                    message: "`!` needs a term after it".into(),
                });
            }
            let test = match body.split_once(':') {
                Some(("tag", kv)) => {
                    let (k, v) = match kv.split_once('=') {
                        Some((k, v)) => (k, Some(Glob::new(raw, v)?)),
                        None => (kv, None),
                    };
                    Test::Tag(k.to_string(), v)
                }
                Some((name, value)) => {
                    let field = FIELDS
                        .iter()
                        .find(|(n, _)| n.eq_ignore_ascii_case(name))
                        .map(|&(_, f)| f)
                        .ok_or_else(|| FilterError {
                            term: raw.into(),
                            message: format!(
                                "unknown field `{name}`; fields are {}, tag",
                                FIELDS.map(|(n, _)| n).join(", ")
                            ),
                        })?;
                    let alts: Vec<Glob> = value
                        .split(',')
                        .map(|v| Glob::new(raw, v))
                        .collect::<Result<_, _>>()?;
                    if value.is_empty() {
                        return Err(FilterError {
                            term: raw.into(),
                            message: format!("`{name}:` needs a value"),
                        });
                    }
                    if let Some(valid) = closed_values(field) {
                        if let Some(bad) = alts.iter().find(|p| !valid.iter().any(|v| p.matches(v)))
                        {
                            return Err(FilterError {
                                term: raw.into(),
                                message: format!(
                                    "no {name} matches `{}`; valid values: {}",
                                    bad.as_str(),
                                    valid.join(", ")
                                ),
                            });
                        }
                    }
                    Test::Field(field, alts)
                }
                None => {
                    let needle = body.to_lowercase();
                    let finder = memchr::memmem::Finder::new(needle.as_bytes()).into_owned();
                    Test::Text(needle, Box::new(finder))
                }
            };
            terms.push(Term {
                raw: raw.to_string(),
                negate,
                test,
            });
        }
        Ok(Filter {
            terms,
            source: expr.trim().to_string(),
        })
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// True when every row this filter lets through, `before` let through too: each of
    /// `before`'s terms is here unchanged, or as a longer search text containing it (what
    /// typing one more character does), and any further terms only narrow. The rows
    /// `before` showed are then all that need testing.
    pub fn narrows(&self, before: &Filter) -> bool {
        self.terms.len() >= before.terms.len()
            && self.terms.iter().zip(&before.terms).all(|(new, old)| {
                new.raw == old.raw
                    || match (&new.test, &old.test) {
                        (Test::Text(n, _), Test::Text(o, _)) => {
                            !new.negate && !old.negate && n.contains(o.as_str())
                        }
                        _ => false,
                    }
            })
    }

    /// The terms but the last, as written (one space between): what the filter was before
    /// its last term was begun. None for a filter of no terms.
    pub fn head(&self) -> Option<String> {
        let (_, head) = self.terms.split_last()?;
        Some(written(head))
    }

    /// Every term as written, one space between.
    pub fn terms_text(&self) -> String {
        written(&self.terms)
    }

    /// True when every term holds for `row`.
    pub fn matches(&self, row: &dyn Filterable) -> bool {
        self.terms.iter().all(|t| t.negate != t.test.holds(row))
    }
}

impl Test {
    fn holds(&self, row: &dyn Filterable) -> bool {
        match self {
            Test::Field(field, alts) => row
                .values(*field)
                .iter()
                .flatten()
                .any(|v| alts.iter().any(|p| p.matches(v))),
            Test::Tag(key, value) => row
                .tag(key)
                .is_some_and(|v| value.as_ref().is_none_or(|p| p.matches(v))),
            Test::Text(needle, finder) => {
                if let Some(hay) = row.search_text() {
                    return finder.find(hay.as_bytes()).is_some();
                }
                [Field::Name, Field::Id, Field::Image, Field::Family]
                    .iter()
                    .flat_map(|&f| row.values(f))
                    .flatten()
                    .any(|v| contains_ci(v, needle))
            }
        }
    }
}

fn contains_ci(hay: &str, needle_lower: &str) -> bool {
    if hay.is_ascii() && needle_lower.is_ascii() {
        let (h, n) = (hay.as_bytes(), needle_lower.as_bytes());
        return n.is_empty() || h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n));
    }
    hay.to_lowercase().contains(needle_lower)
}

/// Checks the promise the dashboard's narrowing relies on, for the fuzzer and its replay:
/// `before` and `after` (filter expressions, as typed one after the other) are parsed, and
/// when `after` narrows `before`, no row `after` lets through is one `before` did not. The
/// rows take their values from the expressions' own words (so that terms match) and from
/// fixed ones; panics when the promise is broken.
pub fn check_narrowing(before: &str, after: &str) {
    let (Ok(b), Ok(a)) = (Filter::parse(before), Filter::parse(after)) else {
        return;
    };
    let mut words: Vec<&str> = vec!["", "web-001", "eu-west-1", "WEB", "naïve", "outdated"];
    for w in before
        .split_whitespace()
        .chain(after.split_whitespace())
        .take(16)
    {
        let w = w.trim_start_matches('!');
        words.push(w);
        if let Some((_, v)) = w.split_once(':') {
            words.push(v);
            words.push(v.trim_matches('*'));
        }
    }
    struct Row<'w>(&'w str, &'w str);
    impl Filterable for Row<'_> {
        fn values(&self, field: Field) -> Values<'_> {
            match field {
                Field::Image => [Some(self.0), Some(self.1)],
                _ if (field as usize).is_multiple_of(2) => [Some(self.0), None],
                _ => [Some(self.1), None],
            }
        }
        fn tag(&self, _key: &str) -> Option<&str> {
            Some(self.1)
        }
    }
    let narrows = a.narrows(&b);
    for x in &words {
        for y in &words {
            let row = Row(x, y);
            let (was, is) = (b.matches(&row), a.matches(&row));
            assert!(
                !(narrows && is && !was),
                "`{after}` narrows `{before}` but lets through ({x:?}, {y:?}), which it did not"
            );
        }
    }
}

/// Terms as written, one space between.
fn written(terms: &[Term]) -> String {
    terms
        .iter()
        .map(|t| t.raw.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    struct Row(BTreeMap<&'static str, &'static str>);

    impl Filterable for Row {
        fn values(&self, field: Field) -> Values<'_> {
            let name = FIELDS.iter().find(|(_, f)| *f == field).unwrap().0;
            [self.0.get(name).copied(), None]
        }
        fn tag(&self, key: &str) -> Option<&str> {
            (key == "env").then_some("prod")
        }
    }

    fn row() -> Row {
        Row(BTreeMap::from([
            ("name", "web-001"),
            ("verdict", "outdated"),
            ("family", "web-base-ubuntu22"),
            ("region", "eu-west-1"),
        ]))
    }

    #[test]
    fn terms_globs_negation_and_alternatives() {
        let m = |e: &str| Filter::parse(e).unwrap().matches(&row());
        assert!(m(""));
        assert!(m("verdict:outdated family:web-* region:eu-*"));
        assert!(m("VERDICT:Outdated"));
        assert!(!m("verdict:outdated !region:eu-*"));
        assert!(m("verdict:eol,outdated"));
        assert!(m("web-0"));
        assert!(!m("checkout"));
        assert!(m("tag:env=prod") && m("tag:env") && !m("tag:env=dev") && !m("tag:team"));
        assert!(!m("size:*"), "a missing field matches nothing");
        assert!(m("!size:*"));
    }

    #[test]
    fn the_direct_glob_shapes_agree_with_the_glob_crate() {
        let values = [
            "",
            "web",
            "WEB",
            "web-001",
            "my-web",
            "Web-Base-Ubuntu22",
            "eu-west-1",
            "x*y",
            "naïve-web",
            "WEB-ß",
            "a?b",
            "[x]",
        ];
        let globs = [
            "web", "web*", "*web", "*web*", "*", "**", "WEB-*", "*-1", "*-*", "w?b", "[w]eb*",
            "*naïve*", "x*y", "*ß", "",
        ];
        for g in globs {
            let mine = Glob::new(g, g).unwrap();
            let theirs = Pattern::new(g).unwrap();
            for v in values {
                assert_eq!(
                    mine.matches(v),
                    theirs.matches_with(v, OPTS),
                    "glob `{g}` on `{v}` ({:?})",
                    mine.shape
                );
            }
        }
    }

    #[test]
    fn a_filter_narrows_when_typing_only_adds_to_it() {
        let f = |e: &str| Filter::parse(e).unwrap();
        assert!(f("vm-0421").narrows(&f("vm-042")));
        assert!(f("vm-042").narrows(&f("")));
        assert!(f("verdict:eol web").narrows(&f("verdict:eol")));
        assert!(f("verdict:eol web").narrows(&f("verdict:eol we")));
        assert!(
            !f("vm-042").narrows(&f("vm-0421")),
            "shorter text is broader"
        );
        assert!(
            !f("!vm-0421").narrows(&f("!vm-042")),
            "a longer negated text is broader"
        );
        assert!(
            !f("family:web-b*").narrows(&f("family:web-*")),
            "globs are not compared"
        );
        assert!(!f("region:eu").narrows(&f("verdict:eol")));
        assert!(!f("").narrows(&f("web")));
    }

    #[test]
    fn bad_terms_are_errors() {
        let e = Filter::parse("colour:red").unwrap_err();
        assert!(e.message.contains("unknown field `colour`"), "{e}");
        assert!(e.message.contains("verdict"));
        assert!(Filter::parse("!").is_err());
        assert!(Filter::parse("name:[").is_err());
    }

    #[test]
    fn values_of_closed_fields_are_checked() {
        let e = Filter::parse("verdict:outdatd").unwrap_err();
        assert_eq!(e.term, "verdict:outdatd");
        assert!(
            e.message.contains("valid values: current, unmanaged"),
            "{e}"
        );
        let e = Filter::parse("verdict:eol,revokd").unwrap_err();
        assert!(e.message.contains("`revokd`"), "{e}");
        assert!(Filter::parse("cloud:gcp").is_err());
        assert!(Filter::parse("state:runing").is_err());
        assert!(Filter::parse("verdict:").is_err());
        // Globs that match a valid value are fine, and case does not matter.
        for ok in [
            "verdict:out*",
            "VERDICT:EOL",
            "cloud:az*",
            "state:dep*",
            "!verdict:current",
        ] {
            Filter::parse(ok).unwrap();
        }
    }

    #[test]
    fn closed_verdicts_are_the_verdict_ladder() {
        let names: Vec<&str> = crate::drift::Verdict::ALL
            .iter()
            .map(|v| v.as_str())
            .collect();
        assert_eq!(closed_values(Field::Verdict).unwrap(), names.as_slice());
        assert_eq!(closed_values(Field::Cloud).unwrap(), ["aws", "azure"]);
    }
}
