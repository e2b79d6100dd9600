//! Lint checks on the files of an ext filesystem: credentials (private keys, cloud
//! credential files, unlocked password hashes, shell histories, shared SSH host keys),
//! default accounts, the contextualisation agent, and what `virt-sysprep` would remove.

use super::{Evidence, Findings, Severity};
use crate::contents::Contents;
use crate::walk::{read_capped, read_text, walk};
use ext4_view::Ext4;

/// The most bytes read from one file to look for a key (private keys are a few KiB).
const KEY_SCAN: u64 = 64 << 10;
/// The most entries visited under one home directory.
pub(super) const HOME_WALK: usize = 20_000;

/// Accounts that images ship under well-known names (with well-known passwords, often).
const DEFAULT_ACCOUNTS: &[&str] = &[
    "ubuntu",
    "debian",
    "admin",
    "ec2-user",
    "centos",
    "fedora",
    "cloud-user",
    "azureuser",
    "rocky",
    "almalinux",
    "alpine",
    "opc",
    "vagrant",
    "pi",
    "user",
    "test",
    "guest",
];

/// Contextualisation agents: files that show one is installed, and package names.
const AGENT_FILES: &[&str] = &[
    "/usr/bin/cloud-init",
    "/etc/cloud/cloud.cfg",
    "/usr/sbin/waagent",
    "/usr/bin/google_guest_agent",
    "/usr/bin/google-guest-agent",
    "/usr/bin/afterburn",
    "/usr/bin/ignition",
    "/usr/lib/dracut/modules.d/30ignition",
    "/usr/bin/coreos-metadata",
];
const AGENT_PACKAGES: &[&str] = &[
    "cloud-init",
    "walinuxagent",
    "WALinuxAgent",
    "google-guest-agent",
    "afterburn",
    "ignition",
];

/// Shell and tool histories.
const HISTORIES: &[&str] = &[
    ".bash_history",
    ".zsh_history",
    ".ash_history",
    ".sh_history",
    ".history",
    ".python_history",
    ".mysql_history",
    ".psql_history",
    ".node_repl_history",
    ".lesshst",
    ".viminfo",
    ".wget-hsts",
];

/// Cloud credential files under a home directory, and text that makes one a credential
/// (empty: the file itself is).
const CLOUD_FILES: &[(&str, &str)] = &[
    (".aws/credentials", ""),
    (".aws/config", "aws_secret_access_key"),
    (".azure/accessTokens.json", ""),
    (".azure/msal_token_cache.json", ""),
    (".azure/msal_token_cache.bin", ""),
    (".azure/service_principal_entries.json", ""),
    (".config/gcloud/credentials.db", ""),
    (".config/gcloud/application_default_credentials.json", ""),
    (".docker/config.json", "\"auth\""),
    (".kube/config", "client-key-data"),
    (".kube/config", "token:"),
    (".netrc", "password"),
    (".git-credentials", ""),
];

pub(super) fn ev(partition: u32, path: &str, detail: impl Into<String>) -> Evidence {
    Evidence {
        partition,
        path: Some(path.to_string()),
        offset: None,
        detail: detail.into(),
    }
}

/// The length of a regular, non-empty file (symlinks are not followed: a history linked to
/// /dev/null is the usual way to disable it).
pub(super) fn nonempty(fs: &Ext4, path: &str) -> Option<u64> {
    let m = fs.symlink_metadata(path).ok()?;
    (m.file_type().is_regular_file() && m.len() > 0).then(|| m.len())
}

/// The regular files directly in `dir`, as full paths with their sizes.
pub(super) fn files_in(fs: &Ext4, dir: &str) -> Vec<(String, u64)> {
    let Ok(entries) = fs.read_dir(dir) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in entries.flatten() {
        let Ok(name) = e.file_name().as_str().map(str::to_string) else {
            continue;
        };
        if name == "." || name == ".." {
            continue;
        }
        let path = format!("{}/{name}", dir.trim_end_matches('/'));
        if let Some(len) = nonempty(fs, &path) {
            out.push((path, len));
        }
    }
    out.sort();
    out
}

/// `/root` and each directory in `/home`.
pub(super) fn homes(fs: &Ext4) -> Vec<String> {
    let mut out = vec!["/root".to_string()];
    if let Ok(entries) = fs.read_dir("/home") {
        for e in entries.flatten() {
            if let (Ok(name), Ok(t)) = (e.file_name().as_str(), e.file_type()) {
                if t.is_dir() && name != "." && name != ".." {
                    out.push(format!("/home/{name}"));
                }
            }
        }
    }
    out.sort();
    out
}

fn has_private_key(fs: &Ext4, path: &str, len: u64) -> bool {
    len <= KEY_SCAN
        && read_capped(fs, path, KEY_SCAN).is_some_and(|b| {
            let t = String::from_utf8_lossy(&b);
            t.contains("-----BEGIN") && t.contains("PRIVATE KEY-----")
        })
}

/// Run every file check on one filesystem.
pub fn check(fs: &Ext4, n: u32, contents: &Contents, out: &mut Findings) {
    credentials(fs, n, out);
    accounts(fs, n, out);
    agent(fs, n, contents, out);
    super::sysprep::leftovers(fs, n, out);
}

fn credentials(fs: &Ext4, n: u32, out: &mut Findings) {
    for home in homes(fs) {
        for (path, len) in walk(fs, &home, HOME_WALK) {
            if has_private_key(fs, &path, len) {
                out.add(
                    "credentials.private-key",
                    Severity::Error,
                    "a private key is baked into the image: every VM gets it",
                    "delete it and rebuild; hand keys to VMs at boot (cloud-init, a secrets store)",
                    ev(n, &path, format!("{len} bytes")),
                );
            }
        }
        for (rel, marker) in CLOUD_FILES {
            let path = format!("{home}/{rel}");
            let Some(len) = nonempty(fs, &path) else {
                continue;
            };
            let hit = marker.is_empty()
                || read_capped(fs, &path, 1 << 20)
                    .is_some_and(|b| String::from_utf8_lossy(&b).contains(marker));
            if hit {
                out.add(
                    "credentials.cloud",
                    Severity::Error,
                    "cloud or registry credentials are baked into the image",
                    "delete them and rebuild; give VMs an instance role or managed identity instead",
                    ev(n, &path, format!("{len} bytes")),
                );
            }
        }
        for h in HISTORIES {
            let path = format!("{home}/{h}");
            if let Some(len) = nonempty(fs, &path) {
                out.add(
                    "credentials.history",
                    Severity::Warning,
                    "shell or tool histories ship in the image (they hold commands, often secrets)",
                    "delete them before capture (virt-sysprep --operations bash-history)",
                    ev(n, &path, format!("{len} bytes")),
                );
            }
        }
    }
    for (path, _) in files_in(fs, "/etc/ssh") {
        let name = path.rsplit('/').next().unwrap_or_default();
        if name.starts_with("ssh_host_") && name.ends_with("_key") {
            out.add(
                "credentials.ssh-host-key",
                Severity::Error,
                "SSH host keys ship in the image: every VM would share them",
                "delete /etc/ssh/ssh_host_*; cloud-init or sshd-keygen makes new ones at first boot",
                ev(n, &path, ""),
            );
        }
    }
}

/// Whether a shadow password field is locked (or disabled).
fn locked(hash: &str) -> bool {
    hash.starts_with('!') || hash.starts_with('*') || hash == "x"
}

fn accounts(fs: &Ext4, n: u32, out: &mut Findings) {
    let Some(shadow) = read_text(fs, "/etc/shadow") else {
        return;
    };
    for (line_no, line) in shadow.lines().enumerate() {
        let mut fields = line.split(':');
        let (Some(user), Some(hash)) = (fields.next(), fields.next()) else {
            continue;
        };
        let detail = format!("user {user} (line {})", line_no + 1);
        if hash.is_empty() {
            out.add(
                "accounts.empty-password",
                Severity::Error,
                "an account logs in without a password",
                "lock it (passwd -l USER) or remove it",
                ev(n, "/etc/shadow", detail),
            );
        } else if !locked(hash) {
            let (id, title) = if DEFAULT_ACCOUNTS.contains(&user) {
                (
                    "accounts.default-password",
                    "a default account has a password: its name is the first one tried",
                )
            } else {
                (
                    "credentials.password-hash",
                    "an account's password hash is not locked: every VM accepts the same password",
                )
            };
            out.add(
                id,
                Severity::Error,
                title,
                "lock it (passwd -l USER, or usermod -p '*'); set passwords or keys at boot",
                ev(n, "/etc/shadow", detail),
            );
        }
    }
}

fn agent(fs: &Ext4, n: u32, contents: &Contents, out: &mut Findings) {
    if contents.os.is_none() {
        return; // not a root filesystem
    }
    let by_file = AGENT_FILES.iter().any(|p| fs.exists(*p).unwrap_or(false));
    let by_package = contents
        .packages
        .iter()
        .any(|p| AGENT_PACKAGES.contains(&p.name.as_str()));
    if !by_file && !by_package {
        out.add(
            "agent.missing",
            Severity::Error,
            "no contextualisation agent (cloud-init, walinuxagent or a vendor's own): VMs get no \
             SSH keys, hostname or user data",
            "install cloud-init (or walinuxagent on Azure) in the image",
            ev(n, "/", contents.os.clone().unwrap_or_default()),
        );
    }
}
