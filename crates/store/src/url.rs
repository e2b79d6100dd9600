//! Where a store lives: a SQLite file or a PostgreSQL URL, and how a URL is shown (never
//! with its password).

use std::path::PathBuf;

/// A store's location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Sqlite(PathBuf),
    /// `postgres://…` or `postgresql://…`; `sslmode=require` asks for TLS, verified
    /// against `ca_file` when given, else the public web roots.
    Postgres {
        url: String,
        ca_file: Option<PathBuf>,
    },
}

impl Location {
    /// Reads `postgres://…`, `postgresql://…`, `sqlite:PATH` or a bare path.
    pub fn parse(text: &str, ca_file: Option<PathBuf>) -> Result<Location, crate::StoreError> {
        let t = text.trim();
        if t.starts_with("postgres://") || t.starts_with("postgresql://") {
            return Ok(Location::Postgres {
                url: t.to_string(),
                ca_file,
            });
        }
        if let Some(p) = t
            .strip_prefix("sqlite://")
            .or_else(|| t.strip_prefix("sqlite:"))
        {
            return Ok(Location::Sqlite(PathBuf::from(p)));
        }
        if t.is_empty() || t.contains("://") {
            return Err(crate::StoreError::Location(format!(
                "`{}` is neither postgres://… nor sqlite:PATH",
                redact(t)
            )));
        }
        Ok(Location::Sqlite(PathBuf::from(t)))
    }

    /// The location as it may be shown and logged.
    pub fn describe(&self) -> String {
        match self {
            Location::Sqlite(p) => format!("sqlite:{}", p.display()),
            Location::Postgres { url, .. } => redact(url),
        }
    }
}

/// `url` with any password replaced by `***` (in the authority and in a `password=`
/// query parameter).
pub fn redact(url: &str) -> String {
    let mut out = url.to_string();
    if let Some(scheme_end) = out.find("://") {
        let rest = &out[scheme_end + 3..];
        // The userinfo ends at the last `@` before the query: a password may hold `/`.
        let auth_end = rest.find('?').unwrap_or(rest.len());
        let auth = &rest[..auth_end];
        let auth = match auth.rfind('@') {
            Some(at) => &auth[..=at],
            None => auth,
        };
        if let Some(at) = auth.rfind('@') {
            let user = &auth[..at];
            if let Some(colon) = user.find(':') {
                let start = scheme_end + 3 + colon + 1;
                let end = scheme_end + 3 + at;
                out.replace_range(start..end, "***");
            }
        }
    }
    if let Some(q) = out.find('?') {
        let (head, query) = out.split_at(q + 1);
        let query: Vec<String> = query
            .split('&')
            .map(|kv| match kv.split_once('=') {
                Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                _ => kv.to_string(),
            })
            .collect();
        out = format!("{head}{}", query.join("&"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_show() {
        assert_eq!(
            redact("postgres://ops:s3cr3t@db.example:5432/drydock?sslmode=require"),
            "postgres://ops:***@db.example:5432/drydock?sslmode=require"
        );
        assert_eq!(
            redact("postgres://db/drydock?user=ops&password=s3cr3t"),
            "postgres://db/drydock?user=ops&password=***"
        );
        assert_eq!(redact("postgres://ops@db/x"), "postgres://ops@db/x");
        assert_eq!(redact("postgres://a:b:c@d/e"), "postgres://a:***@d/e");
        assert_eq!(redact("postgres://a:x/y@z@h/db"), "postgres://a:***@h/db");
        assert_eq!(redact("postgres://h/db?x=a@b"), "postgres://h/db?x=a@b");
    }

    #[test]
    fn locations() {
        assert!(matches!(
            Location::parse("postgresql://h/d", None).unwrap(),
            Location::Postgres { .. }
        ));
        assert_eq!(
            Location::parse("sqlite:/tmp/x.db", None).unwrap(),
            Location::Sqlite("/tmp/x.db".into())
        );
        assert!(Location::parse("mysql://h/d", None).is_err());
    }
}
