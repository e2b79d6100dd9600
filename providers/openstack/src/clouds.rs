//! `clouds.yaml`: found where the OpenStack clients look (`OS_CLIENT_CONFIG_FILE`, then
//! `./clouds.yaml`, `~/.config/openstack/clouds.yaml`, `/etc/openstack/clouds.yaml`; `.yml`
//! too), `secure.yaml` from the same places merged over it (secrets kept apart), and one
//! cloud's entry read into what a connection needs. Errors name the file and the key.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// How a cloud authenticates to Keystone v3.
#[derive(Clone, PartialEq, Eq)]
pub enum Auth {
    Password {
        username: String,
        password: String,
        user_domain: String,
        project: Project,
    },
    Token {
        token: String,
        project: Project,
    },
    ApplicationCredential {
        id: String,
        secret: String,
    },
}

/// The project a token is scoped to: by id, or by name in a domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Project {
    Id(String),
    Named { name: String, domain: String },
}

impl std::fmt::Debug for Auth {
    // Secrets are never printed, even in a debug log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::Password {
                username, project, ..
            } => f
                .debug_struct("Password")
                .field("username", username)
                .field("project", project)
                .finish_non_exhaustive(),
            Auth::Token { project, .. } => f
                .debug_struct("Token")
                .field("project", project)
                .finish_non_exhaustive(),
            Auth::ApplicationCredential { id, .. } => f
                .debug_struct("ApplicationCredential")
                .field("id", id)
                .finish_non_exhaustive(),
        }
    }
}

/// One cloud's connection, as its `clouds.yaml` entry says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cloud {
    /// Its name in `clouds.yaml`.
    pub name: String,
    /// Keystone's URL (`auth.auth_url`).
    pub auth_url: String,
    pub auth: Auth,
    /// `region_name` (a list in `regions`, or one), empty when the catalog decides.
    pub regions: Vec<String>,
    /// The catalog interface endpoints are chosen by: `public` unless `interface` says.
    pub interface: String,
    /// The file the entry came from.
    pub file: PathBuf,
}

/// Why a cloud cannot be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CloudsError {
    #[error("no clouds.yaml found (looked in {looked}); set OS_CLIENT_CONFIG_FILE or create one")]
    NotFound { looked: String },
    #[error("{file}: cannot be read: {message}")]
    Unreadable { file: PathBuf, message: String },
    #[error("{file}: line {line}: {message}")]
    Malformed {
        file: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{file}: no cloud `{cloud}` (clouds: {known})")]
    UnknownCloud {
        file: PathBuf,
        cloud: String,
        known: String,
    },
    #[error("{file}: clouds.{cloud}.{key}: {message}")]
    BadKey {
        file: PathBuf,
        cloud: String,
        key: String,
        message: String,
    },
}

/// A parsed `clouds.yaml`.
#[derive(Deserialize, Default)]
struct File {
    #[serde(default)]
    clouds: BTreeMap<String, Entry>,
}

#[derive(Deserialize, Default, Clone)]
struct Entry {
    #[serde(default)]
    auth: BTreeMap<String, String>,
    auth_type: Option<String>,
    region_name: Option<String>,
    #[serde(default)]
    regions: Vec<String>,
    interface: Option<String>,
}

/// Where the clients look, in order (the first `clouds.yaml` found is the one read).
pub fn search_paths(env: &dyn Fn(&str) -> Option<String>) -> Vec<PathBuf> {
    let mut dirs = vec![PathBuf::from(".")];
    if let Some(home) = env("HOME") {
        dirs.push(Path::new(&home).join(".config/openstack"));
    }
    dirs.push(PathBuf::from("/etc/openstack"));
    dirs
}

fn first_in(dirs: &[PathBuf], stem: &str) -> Option<PathBuf> {
    dirs.iter()
        .flat_map(|d| ["yaml", "yml"].map(|ext| d.join(format!("{stem}.{ext}"))))
        .find(|p| p.is_file())
}

/// The largest clouds.yaml read.
const MAX_FILE: u64 = 4 << 20;

fn parse(file: &Path) -> Result<File, CloudsError> {
    let unreadable = |message: String| CloudsError::Unreadable {
        file: file.to_path_buf(),
        message,
    };
    // A regular file of bounded size only: never a FIFO, a device or a directory.
    let meta = std::fs::metadata(file).map_err(|e| unreadable(e.to_string()))?;
    if !meta.is_file() {
        return Err(unreadable("not a regular file".into()));
    }
    if meta.len() > MAX_FILE {
        return Err(unreadable(format!(
            "{} bytes; a clouds.yaml is at most {MAX_FILE}",
            meta.len()
        )));
    }
    let mut text = String::new();
    use std::io::Read;
    std::fs::File::open(file)
        .and_then(|f| f.take(MAX_FILE).read_to_string(&mut text))
        .map_err(|e| unreadable(e.to_string()))?;
    parse_text(file, &text)
}

/// A `clouds.yaml` (or `secure.yaml`) text, `file` naming it in errors.
fn parse_text(file: &Path, text: &str) -> Result<File, CloudsError> {
    yaml_serde::from_str(text).map_err(|e| CloudsError::Malformed {
        file: file.to_path_buf(),
        line: e.location().map_or(0, |l| l.line()),
        message: e.to_string(),
    })
}

/// Reads cloud `name` from the `clouds.yaml` the clients would find (`env` reads the
/// environment: `OS_CLIENT_CONFIG_FILE`, `HOME`), with `secure.yaml` merged over it.
pub fn load(name: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Cloud, CloudsError> {
    let dirs = search_paths(env);
    let clouds_file = match env("OS_CLIENT_CONFIG_FILE") {
        Some(f) => PathBuf::from(f),
        None => first_in(&dirs, "clouds").ok_or_else(|| CloudsError::NotFound {
            looked: dirs
                .iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        })?,
    };
    let clouds = parse(&clouds_file)?;
    let mut entry = clouds
        .clouds
        .get(name)
        .cloned()
        .ok_or_else(|| CloudsError::UnknownCloud {
            file: clouds_file.clone(),
            cloud: name.to_string(),
            known: clouds.clouds.keys().cloned().collect::<Vec<_>>().join(", "),
        })?;
    if let Some(secure) = first_in(&dirs, "secure") {
        if let Some(s) = parse(&secure)?.clouds.remove(name) {
            entry.auth.extend(s.auth);
        }
    }
    resolve(name, entry, clouds_file)
}

fn resolve(name: &str, e: Entry, file: PathBuf) -> Result<Cloud, CloudsError> {
    let bad = |key: &str, message: &str| CloudsError::BadKey {
        file: file.clone(),
        cloud: name.to_string(),
        key: key.to_string(),
        message: message.to_string(),
    };
    let get = |k: &str| e.auth.get(k).filter(|v| !v.is_empty()).cloned();
    let need = |k: &str| get(k).ok_or_else(|| bad(&format!("auth.{k}"), "missing"));
    let auth_url = need("auth_url")?;
    let project = || -> Result<Project, CloudsError> {
        match (get("project_id"), get("project_name")) {
            (Some(id), _) => Ok(Project::Id(id)),
            (None, Some(name)) => Ok(Project::Named {
                name,
                domain: get("project_domain_name")
                    .or_else(|| get("project_domain_id"))
                    .unwrap_or_else(|| "Default".into()),
            }),
            (None, None) => Err(bad("auth.project_id", "missing (or auth.project_name)")),
        }
    };
    let kind = e.auth_type.as_deref().unwrap_or("password");
    let auth = match kind {
        "password" | "v3password" => Auth::Password {
            username: need("username")?,
            password: need("password")?,
            user_domain: get("user_domain_name")
                .or_else(|| get("user_domain_id"))
                .unwrap_or_else(|| "Default".into()),
            project: project()?,
        },
        "token" | "v3token" => Auth::Token {
            token: need("token")?,
            project: project()?,
        },
        "v3applicationcredential" | "application_credential" => Auth::ApplicationCredential {
            id: need("application_credential_id")?,
            secret: need("application_credential_secret")?,
        },
        other => {
            return Err(bad(
                "auth_type",
                &format!("`{other}` is not supported (password, token, v3applicationcredential)"),
            ))
        }
    };
    let interface = e.interface.unwrap_or_else(|| "public".into());
    if !matches!(interface.as_str(), "public" | "internal" | "admin") {
        return Err(bad("interface", "is public, internal or admin"));
    }
    let mut regions = e.regions;
    if let Some(r) = e.region_name {
        if !regions.contains(&r) {
            regions.insert(0, r);
        }
    }
    Ok(Cloud {
        name: name.to_string(),
        auth_url,
        auth,
        regions,
        interface,
        file,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &[(&str, String)]) -> impl Fn(&str) -> Option<String> {
        let m: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        move |k| m.get(k).cloned()
    }

    #[test]
    fn a_cloud_is_read_from_the_home_config_with_its_secrets_merged() {
        let home = tempfile::tempdir().unwrap();
        let dir = home.path().join(".config/openstack");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("clouds.yaml"),
            "clouds:\n  site:\n    region_name: RegionOne\n    auth:\n      auth_url: http://k/identity/v3\n      username: ops\n      project_name: fleet\n      project_domain_name: Default\n  other:\n    auth_type: v3applicationcredential\n    auth:\n      auth_url: http://x\n      application_credential_id: ac\n",
        )
        .unwrap();
        std::fs::write(
            dir.join("secure.yml"),
            "clouds:\n  site:\n    auth:\n      password: s3cret\n  other:\n    auth:\n      application_credential_secret: acs\n",
        )
        .unwrap();
        let env = env_of(&[("HOME", home.path().display().to_string())]);
        let c = load("site", &env).unwrap();
        assert_eq!(c.auth_url, "http://k/identity/v3");
        assert_eq!(c.regions, ["RegionOne"]);
        assert_eq!(c.interface, "public");
        assert_eq!(
            c.auth,
            Auth::Password {
                username: "ops".into(),
                password: "s3cret".into(),
                user_domain: "Default".into(),
                project: Project::Named {
                    name: "fleet".into(),
                    domain: "Default".into()
                },
            }
        );
        assert!(
            !format!("{c:?}").contains("s3cret"),
            "secrets stay out of logs"
        );
        let o = load("other", &env).unwrap();
        assert_eq!(
            o.auth,
            Auth::ApplicationCredential {
                id: "ac".into(),
                secret: "acs".into()
            }
        );
    }

    #[test]
    fn errors_name_the_file_the_cloud_and_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.yaml");
        let env = env_of(&[("OS_CLIENT_CONFIG_FILE", file.display().to_string())]);
        std::fs::write(
            &file,
            "clouds:\n  a:\n    auth:\n      auth_url: http://k\n",
        )
        .unwrap();
        let e = load("a", &env).unwrap_err().to_string();
        assert!(e.contains("clouds.a.auth.username: missing"), "{e}");
        assert!(e.contains("c.yaml"), "{e}");
        let e = load("b", &env).unwrap_err().to_string();
        assert!(e.contains("no cloud `b` (clouds: a)"), "{e}");
        std::fs::write(&file, "clouds:\n  a:\n    auth: [1\n").unwrap();
        let e = load("a", &env).unwrap_err();
        assert!(matches!(e, CloudsError::Malformed { line: 3.., .. }), "{e}");
        std::fs::write(
            &file,
            "clouds:\n  a:\n    auth_type: oidc\n    auth:\n      auth_url: http://k\n",
        )
        .unwrap();
        let e = load("a", &env).unwrap_err().to_string();
        assert!(
            e.contains("clouds.a.auth_type: `oidc` is not supported"),
            "{e}"
        );
        let none = env_of(&[("HOME", dir.path().join("nowhere").display().to_string())]);
        if !Path::new("clouds.yaml").exists() && !Path::new("/etc/openstack").exists() {
            let e = load("a", &none).unwrap_err().to_string();
            assert!(e.starts_with("no clouds.yaml found"), "{e}");
        }
    }

    #[test]
    fn only_a_bounded_regular_file_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("clouds.yaml");
        assert!(std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success());
        let path = fifo.display().to_string();
        let env = move |k: &str| (k == "OS_CLIENT_CONFIG_FILE").then(|| path.clone());
        let err = load("site", &env).unwrap_err().to_string();
        assert!(err.contains("not a regular file"), "{err}");
        let big = dir.path().join("big.yaml");
        std::fs::File::create(&big)
            .unwrap()
            .set_len(MAX_FILE + 1)
            .unwrap();
        let path = big.display().to_string();
        let env = move |k: &str| (k == "OS_CLIENT_CONFIG_FILE").then(|| path.clone());
        let err = load("site", &env).unwrap_err().to_string();
        assert!(err.contains("at most"), "{err}");
    }
}
