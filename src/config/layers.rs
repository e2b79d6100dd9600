//! Loading and layering: each layer is checked on its own (so an error names its file,
//! line and key), then merged over the ones below it.

use super::error::{ConfigError, Origin};
use super::{paths, Config, DEFAULT_CONFIG};
use std::path::{Path, PathBuf};
use toml::{Table, Value};

/// The largest config file read.
pub const MAX_CONFIG: u64 = 4 << 20;

/// Where the effective configuration came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sources {
    /// The config file read, if any.
    pub file: Option<PathBuf>,
    /// `DRYDOCK_*` variables applied.
    pub env: Vec<String>,
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

fn describe<E: serde::de::Error + std::fmt::Display>(
    err: serde_path_to_error::Error<E>,
) -> (Option<String>, String, E) {
    let path = err.path().to_string();
    let inner = err.into_inner();
    let message = inner.to_string();
    (
        (!path.is_empty() && path != ".").then_some(path),
        message,
        inner,
    )
}

/// Adds the offending name of an "unknown field `x`" error to the key path.
fn full_key(path: Option<String>, message: &str) -> Option<String> {
    let unknown = message
        .strip_prefix("unknown field `")
        .and_then(|rest| rest.split('`').next());
    match (path, unknown) {
        (Some(p), Some(u)) if p == u || p.ends_with(&format!(".{u}")) => Some(p),
        (Some(p), Some(u)) => Some(format!("{p}.{u}")),
        (None, Some(u)) => Some(u.to_string()),
        (p, None) => p,
    }
}

/// Parses one TOML layer and checks it against the schema.
pub(super) fn parse_layer(text: &str, origin: Origin) -> Result<Table, ConfigError> {
    let de = toml::Deserializer::new(text);
    if let Err(err) = serde_path_to_error::deserialize::<_, Config>(de) {
        let (path, _, inner) = describe(err);
        let message = inner.message().trim().to_string();
        return Err(ConfigError {
            origin,
            line: inner.span().map(|s| line_of(text, s.start)),
            key: full_key(path, &message)
                .or_else(|| inner.span().and_then(|s| key_at(text, s.start))),
            message,
        });
    }
    toml::from_str(text).map_err(|e| ConfigError {
        origin,
        line: e.span().map(|s| line_of(text, s.start)),
        key: e.span().and_then(|s| key_at(text, s.start)),
        message: e.message().to_string(),
    })
}

/// The dotted key of the `key = value` line at `offset` (under its `[table]` header), for
/// errors the TOML parser reports without one (a number too large for any integer).
fn key_at(text: &str, offset: usize) -> Option<String> {
    let line_no = line_of(text, offset);
    let lines: Vec<&str> = text.lines().collect();
    let line = lines.get(line_no.checked_sub(1)?)?;
    let key = line.split_once('=')?.0.trim();
    if key.is_empty() || key.starts_with('[') {
        return None;
    }
    let table = lines[..line_no - 1]
        .iter()
        .rev()
        .map(|l| l.trim())
        .find(|l| l.starts_with('['))
        .map(|l| l.trim_matches(|c| c == '[' || c == ']').trim().to_string());
    Some(match table {
        Some(t) if !t.is_empty() => format!("{t}.{key}"),
        _ => key.to_string(),
    })
}

/// Context names become tab labels, file names and parts of transfer sides
/// (`aws:NAME/REGION`): letters, digits, `.`, `_` and `-`, not starting with `.` or `-`,
/// at most 64 characters, each defined once, and not a demo context's name.
fn check_context_names(config: &Config, text: &str, origin: &Origin) -> Result<(), ConfigError> {
    let mut defined: Vec<(String, String)> = Vec::new();
    for (i, a) in config.aws.accounts.iter().enumerate() {
        defined.push((format!("aws.accounts[{i}].name"), a.name.clone()));
    }
    for (i, s) in config.azure.subscriptions.iter().enumerate() {
        defined.push((format!("azure.subscriptions[{i}].name"), s.name.clone()));
    }
    for (i, c) in config.openstack.clouds.iter().enumerate() {
        if let Err(message) = c.check() {
            return Err(ConfigError {
                origin: origin.clone(),
                // The line of the entry's `[[openstack.clouds]]` header.
                line: text
                    .lines()
                    .enumerate()
                    .filter(|(_, l)| l.trim().replace(' ', "") == "[[openstack.clouds]]")
                    .nth(i)
                    .map(|(n, _)| n + 1),
                key: Some(format!("openstack.clouds[{i}]")),
                message,
            });
        }
        defined.push((format!("openstack.clouds[{i}].name"), c.context()));
    }
    let flags: Vec<(String, String)> = config
        .contexts
        .iter()
        .enumerate()
        .map(|(i, c)| (format!("contexts[{i}].name"), c.name.clone()))
        .collect();
    // The line of the `nth` (from 0) `name = "NAME"` in the file.
    let line = |name: &str, nth: usize| {
        text.lines()
            .enumerate()
            .filter(|(_, l)| {
                l.split_once('=')
                    .is_some_and(|(k, v)| k.trim() == "name" && v.trim().trim_matches('"') == name)
            })
            .nth(nth)
            .map(|(i, _)| i + 1)
    };
    let err = |key: &str, name: &str, message: String| ConfigError {
        origin: origin.clone(),
        line: line(
            name,
            defined
                .iter()
                .chain(&flags)
                .take_while(|(k, _)| k != key)
                .filter(|(_, n)| n == name)
                .count(),
        ),
        key: Some(key.to_string()),
        message,
    };
    for (key, name) in defined.iter().chain(&flags) {
        let plain = !name.is_empty()
            && name.len() <= 64
            && !name.starts_with(['.', '-'])
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if !plain {
            return Err(err(
                key,
                name,
                format!(
                    "context name {name:?} must be 1–64 letters, digits, `.`, `_` or `-`, not starting with `.` or `-`"
                ),
            ));
        }
    }
    for (i, (key, name)) in defined.iter().enumerate() {
        if crate::contexts::DEMO_CONTEXTS
            .iter()
            .any(|(d, _)| d == name)
        {
            return Err(err(
                key,
                name,
                format!("context name {name:?} is the demo's; pick another"),
            ));
        }
        if let Some((first, _)) = defined[..i].iter().find(|(_, n)| n == name) {
            return Err(err(
                key,
                name,
                format!(
                    "context {name:?} is defined twice (first as {first}); names must be unique"
                ),
            ));
        }
    }
    for (i, (key, name)) in flags.iter().enumerate() {
        if let Some((first, _)) = flags[..i].iter().find(|(_, n)| n == name) {
            return Err(err(
                key,
                name,
                format!("[[contexts]] {name:?} is given twice (first as {first}); merge the two"),
            ));
        }
    }
    Ok(())
}

/// Deserialises merged (or environment) settings; errors carry no line, only the key.
fn typed(table: Table, origin: Origin) -> Result<Config, ConfigError> {
    serde_path_to_error::deserialize::<_, Config>(Value::Table(table)).map_err(|err| {
        let (path, message, _) = describe(err);
        ConfigError {
            origin,
            line: None,
            key: full_key(path, &message),
            message,
        }
    })
}

/// Merges `over` into `base`: tables key by key; arrays of named tables (family rules) by
/// `name`, with `over`'s rules first so they take precedence; anything else is replaced.
pub(super) fn merge(base: &mut Table, over: Table) {
    for (key, value) in over {
        match (base.get_mut(&key), value) {
            (Some(Value::Table(b)), Value::Table(o)) => merge(b, o),
            (Some(Value::Array(b)), Value::Array(o)) if named(b) && named(&o) => {
                let mut merged = Vec::with_capacity(b.len() + o.len());
                for item in o {
                    let name = item.get("name").cloned();
                    match b.iter().position(|x| x.get("name") == name.as_ref()) {
                        Some(i) => {
                            let mut base_item = b.remove(i);
                            if let (Value::Table(bt), Value::Table(ot)) = (&mut base_item, item) {
                                merge(bt, ot);
                            }
                            merged.push(base_item);
                        }
                        None => merged.push(item),
                    }
                }
                merged.append(b);
                *b = merged;
            }
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

fn named(items: &[Value]) -> bool {
    items
        .iter()
        .all(|v| v.as_table().is_some_and(|t| t.contains_key("name")))
}

/// Turns `DRYDOCK_POLICY__DEFAULTS__MAX_AGE_DAYS=60` into `policy.defaults.max_age_days = 60`.
fn env_layer(var: &str, raw: &str) -> Option<Table> {
    let path = var.strip_prefix("DRYDOCK_")?;
    if !path.contains("__") {
        return None;
    }
    let keys: Vec<String> = path.split("__").map(|k| k.to_ascii_lowercase()).collect();
    let value = toml::from_str::<Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| Value::String(raw.to_string()));
    let mut table = Table::new();
    table.insert(keys.last()?.clone(), value);
    for key in keys.iter().rev().skip(1) {
        let mut outer = Table::new();
        outer.insert(key.clone(), Value::Table(table));
        table = outer;
    }
    Some(table)
}

/// Loads the layered configuration. `explicit` is `--config`; `env` is the process
/// environment (passed in so tests control it).
pub fn load(
    explicit: Option<&Path>,
    env: &[(String, String)],
) -> Result<(Config, Sources), ConfigError> {
    let mut merged = parse_layer(DEFAULT_CONFIG, Origin::Embedded)?;
    let mut sources = Sources::default();
    let from_env = env
        .iter()
        .find(|(k, _)| k == "DRYDOCK_CONFIG")
        .map(|(_, v)| PathBuf::from(v));
    let file = match explicit.map(Path::to_path_buf).or(from_env) {
        Some(path) => Some(path),
        None => paths::config_file().filter(|p| p.is_file()),
    };
    if let Some(path) = file {
        // `/dev/null` is the usual way to say "no config file": an empty one.
        let text = if path == Path::new("/dev/null") {
            Ok(String::new())
        } else {
            drydock_convert::input::read_regular_text(
                &path,
                "config",
                MAX_CONFIG,
                "a config is a few KiB; organisations are discovered, not listed",
            )
        }
        .map_err(|e| ConfigError {
            origin: Origin::File(path.clone()),
            line: None,
            key: None,
            message: match e {
                drydock_convert::input::InputError::Io { source, .. } => {
                    format!("cannot read it: {source}")
                }
                e => e.reason(),
            },
        })?;
        let layer = parse_layer(&text, Origin::File(path.clone()))?;
        check_context_names(
            &typed(layer.clone(), Origin::File(path.clone()))?,
            &text,
            &Origin::File(path.clone()),
        )?;
        merge(&mut merged, layer);
        sources.file = Some(path);
    }
    let mut vars: Vec<_> = env.iter().collect();
    vars.sort();
    for (var, raw) in vars {
        if let Some(layer) = env_layer(var, raw) {
            typed(layer.clone(), Origin::Env(var.clone()))?;
            merge(&mut merged, layer);
            sources.env.push(var.clone());
        }
    }
    let origin = sources.file.clone().map_or(Origin::Embedded, Origin::File);
    Ok((typed(merged, origin)?, sources))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> Table {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn family_rules_merge_by_name_and_file_rules_come_first() {
        let mut base = table(
            "[[policy.families]]\nname = \"a\"\nmatch_name = \"a-*\"\n\n[[policy.families]]\nname = \"b\"\nmatch_name = \"b-*\"\n",
        );
        let over = table(
            "[[policy.families]]\nname = \"c\"\nmatch_tag = \"c\"\n\n[[policy.families]]\nname = \"b\"\nmax_age_days = 5\n",
        );
        merge(&mut base, over);
        let config = typed(base, Origin::Embedded).unwrap();
        let names: Vec<_> = config
            .policy
            .families
            .iter()
            .map(|f| f.name.as_str())
            .collect();
        assert_eq!(names, ["c", "b", "a"]);
        let b = &config.policy.families[1];
        assert_eq!(b.max_age_days, Some(5));
        assert_eq!(
            b.match_name.as_ref().unwrap().as_str(),
            "b-*",
            "kept from the base rule"
        );
    }

    #[test]
    fn env_vars_become_nested_typed_keys() {
        let t = env_layer("DRYDOCK_POLICY__DEFAULTS__MAX_AGE_DAYS", "60").unwrap();
        assert_eq!(
            typed(t, Origin::Embedded)
                .unwrap()
                .policy
                .defaults
                .max_age_days,
            60
        );
        let t = env_layer("DRYDOCK_GENERAL__COLOR", "never").unwrap();
        assert_eq!(
            t["general"]["color"].as_str(),
            Some("never"),
            "bare words are strings"
        );
        assert!(env_layer("DRYDOCK_CONFIG", "/x").is_none());
        assert!(env_layer("HOME", "/root").is_none());
    }

    #[test]
    fn embedded_defaults_are_valid_and_line_numbers_count_from_one() {
        let (config, sources) = load(Some(Path::new("/dev/null")), &[]).unwrap();
        assert_eq!(config.policy.defaults.max_age_days, 90);
        assert!(!config.policy.families.is_empty());
        assert_eq!(sources.file.as_deref(), Some(Path::new("/dev/null")));
        assert_eq!(line_of("a\nb\nc", 0), 1);
        assert_eq!(line_of("a\nb\nc", 2), 2);
    }

    #[test]
    fn openstack_entries_are_checked_with_their_line() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config.toml");
        std::fs::write(
            &file,
            "[[openstack.clouds]]\ncloud = \"a\"\n\n[[openstack.clouds]]\nauth_url = \"https://k:5000\"\n",
        )
        .unwrap();
        let err = load(Some(&file), &[]).unwrap_err().to_string();
        assert!(
            err.contains("line 4")
                && err.contains("openstack.clouds[1]")
                && err.contains("application_credential_id"),
            "{err}"
        );
        std::fs::write(
            &file,
            "[[openstack.clouds]]\ncloud = \"a\"\n\n[[openstack.clouds]]\ncloud = \"b\"\nname = \"a\"\n",
        )
        .unwrap();
        let err = load(Some(&file), &[]).unwrap_err().to_string();
        assert!(err.contains("defined twice"), "{err}");
        std::fs::write(
            &file,
            "[[openstack.clouds]]\ncloud = \"site\"\nregions = [\"RegionOne\"]\nreadonly = true\n",
        )
        .unwrap();
        let (config, _) = load(Some(&file), &[]).unwrap();
        let r = crate::contexts::Registry::new(&config);
        let site = r.get("site").unwrap();
        assert_eq!(site.cloud, Some(drydock_api::Cloud::OpenStack));
        assert!(site.readonly);
    }
}
