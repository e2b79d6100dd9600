//! What `virt-sysprep` removes from a template, as lint findings: machine-id, logs,
//! package caches, temporary files, DHCP state, pinned network, cron and mail spools, crash
//! data, and the rest of its default operations (backup files, blkid cache, Kerberos data,
//! LVM devices file, NetworkManager connections, password-file backups, registrations,
//! service state, utmp, yum uuid, rpm database locks, users' SSH directories).

use super::files::{ev, files_in, homes, nonempty, HOME_WALK};
use super::{Findings, Severity};
use crate::walk::{read_text, walk};
use ext4_view::Ext4;

/// What `virt-sysprep` removes: (id, severity, title, fix, directories whose files count,
/// single files).
type Leftover = (
    &'static str,
    Severity,
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
);

const PINNED_MAC: &str =
    "network rules pin the build machine's MAC address: VMs come up without their network";
const PINNED_MAC_FIX: &str = "delete /etc/udev/rules.d/70-persistent-net.rules and HWADDR lines";

const LEFTOVERS: &[Leftover] = &[
    ("sysprep.machine-id", Severity::Warning, "a machine-id ships in the image: every VM would share it",
     "empty /etc/machine-id (truncate, do not delete) before capture",
     &[], &["/etc/machine-id", "/var/lib/dbus/machine-id"]),
    ("sysprep.logs", Severity::Info, "log files ship in the image",
     "truncate /var/log before capture (virt-sysprep --operations logfiles)", &["/var/log"], &[]),
    ("sysprep.package-cache", Severity::Warning, "package manager caches ship in the image",
     "apt-get clean / dnf clean all before capture (virt-sysprep --operations package-manager-cache)",
     &["/var/cache/apt/archives", "/var/cache/dnf", "/var/cache/yum", "/var/cache/apk"], &[]),
    ("sysprep.tmp", Severity::Info, "temporary files ship in the image",
     "empty /tmp and /var/tmp before capture", &["/tmp", "/var/tmp"], &[]),
    ("sysprep.dhcp-leases", Severity::Warning, "DHCP leases ship in the image",
     "delete them before capture (virt-sysprep --operations dhcp-client-state)",
     &["/var/lib/dhcp", "/var/lib/dhclient", "/var/lib/dhcpd", "/var/lib/NetworkManager"], &[]),
    ("sysprep.persistent-net", Severity::Warning, PINNED_MAC, PINNED_MAC_FIX,
     &[], &["/etc/udev/rules.d/70-persistent-net.rules"]),
    ("sysprep.cron-spool", Severity::Warning, "user crontabs ship in the image",
     "remove them unless every VM must run them", &["/var/spool/cron"], &[]),
    ("sysprep.crash-data", Severity::Warning, "crash dumps ship in the image",
     "delete /var/crash and core dumps before capture", &["/var/crash", "/var/lib/systemd/coredump"], &[]),
    ("sysprep.mail-spool", Severity::Info, "mail spools ship in the image",
     "empty /var/mail before capture", &["/var/mail", "/var/spool/mail"], &[]),
    ("sysprep.abrt-data", Severity::Warning, "crash reports (abrt) ship in the image",
     "delete /var/spool/abrt before capture", &["/var/spool/abrt"], &[]),
    ("sysprep.blkid-tab", Severity::Info, "a blkid cache of the build machine's devices ships",
     "delete /etc/blkid/blkid.tab before capture", &[], &["/etc/blkid/blkid.tab", "/etc/blkid.tab"]),
    ("credentials.kerberos-keytab", Severity::Error,
     "a Kerberos host keytab ships in the image: every VM would hold the build host's keys",
     "delete /etc/krb5.keytab; join each VM to the realm at boot", &[], &["/etc/krb5.keytab"]),
    ("sysprep.kerberos-data", Severity::Warning, "Kerberos KDC data ships in the image",
     "delete /var/kerberos/krb5kdc before capture", &["/var/kerberos/krb5kdc"], &[]),
    ("sysprep.lvm-devices", Severity::Warning,
     "the LVM devices file names the build machine's disks: VMs may not find their volumes",
     "delete /etc/lvm/devices/system.devices before capture", &[], &["/etc/lvm/devices/system.devices"]),
    ("sysprep.nm-connections", Severity::Warning,
     "NetworkManager connections of the build machine ship (MACs, sometimes secrets)",
     "delete /etc/NetworkManager/system-connections/* before capture",
     &["/etc/NetworkManager/system-connections"], &[]),
    ("sysprep.pacct-log", Severity::Info, "process accounting logs ship in the image",
     "truncate /var/account/pacct before capture", &[], &["/var/account/pacct", "/var/log/pacct"]),
    ("sysprep.passwd-backups", Severity::Warning,
     "backups of the password files ship (old hashes and accounts)",
     "delete /etc/passwd- /etc/shadow- /etc/group- /etc/gshadow- before capture",
     &[], &["/etc/passwd-", "/etc/shadow-", "/etc/group-", "/etc/gshadow-"]),
    ("sysprep.registration", Severity::Warning,
     "the build machine's subscription or RHN registration ships in the image",
     "unregister before capture (subscription-manager clean)",
     &["/etc/pki/consumer", "/etc/pki/entitlement"], &["/etc/sysconfig/rhn/systemid"]),
    ("sysprep.service-data", Severity::Warning,
     "service state of the build machine ships (puppet certificates, sssd, samba, dovecot, ipa)",
     "remove it before capture (virt-sysprep's puppet-data-log, sssd-db-log, samba-db-log, dovecot-data, ipa-client)",
     &["/var/lib/puppet/ssl", "/etc/puppetlabs/puppet/ssl", "/var/lib/sss/db", "/var/lib/samba", "/var/lib/dovecot", "/etc/ipa"], &[]),
    ("sysprep.utmp", Severity::Info, "login records of the build machine ship",
     "truncate utmp before capture", &[], &["/var/run/utmp", "/run/utmp"]),
    ("sysprep.yum-uuid", Severity::Info, "yum's uuid ships: every VM reports the same one",
     "delete /var/lib/yum/uuid before capture", &[], &["/var/lib/yum/uuid"]),
];

pub(super) fn leftovers(fs: &Ext4, n: u32, out: &mut Findings) {
    patterns(fs, n, out);
    for (id, severity, title, fix, dirs, single) in LEFTOVERS {
        for path in *single {
            let Some(len) = nonempty(fs, path) else {
                continue;
            };
            if *id == "sysprep.machine-id"
                && read_text(fs, path)
                    .is_some_and(|t| t.trim() == "uninitialized" || t.trim().is_empty())
            {
                continue;
            }
            out.add(
                id,
                *severity,
                title,
                fix,
                ev(n, path, format!("{len} bytes")),
            );
        }
        for dir in *dirs {
            let files: Vec<(String, u64)> = walk(fs, dir, HOME_WALK)
                .into_iter()
                .filter(|(p, len)| {
                    *len > 0 && !p.ends_with("/lock") && !p.ends_with("/.placeholder")
                })
                .collect();
            if files.is_empty() {
                continue;
            }
            let total: u64 = files.iter().map(|(_, l)| l).sum();
            out.add(
                id,
                *severity,
                title,
                fix,
                ev(
                    n,
                    dir,
                    format!(
                        "{} files, {total} bytes (first: {})",
                        files.len(),
                        files[0].0
                    ),
                ),
            );
        }
    }
    for (path, _) in files_in(fs, "/etc/sysconfig/network-scripts") {
        if read_text(fs, &path)
            .is_some_and(|t| t.lines().any(|l| l.trim_start().starts_with("HWADDR=")))
        {
            out.add(
                "sysprep.persistent-net",
                Severity::Warning,
                PINNED_MAC,
                PINNED_MAC_FIX,
                ev(n, &path, "HWADDR="),
            );
        }
    }
}

/// File names that are backups (`*~`, `*.bak`, `*.orig`, `*.rpmsave`, `*.dpkg-old`).
fn backup_name(name: &str) -> bool {
    name.ends_with('~')
        || [
            ".bak",
            ".orig",
            ".rpmsave",
            ".rpmnew",
            ".dpkg-old",
            ".dpkg-dist",
        ]
        .iter()
        .any(|s| name.ends_with(s))
}

/// What virt-sysprep removes by pattern, not by name: backup files in /etc, rpm's database
/// environment files, and users' SSH directories (the builder's authorized_keys).
pub(super) fn patterns(fs: &Ext4, n: u32, out: &mut Findings) {
    for (path, len) in walk(fs, "/etc", 50_000) {
        if backup_name(path.rsplit('/').next().unwrap_or_default()) {
            out.add(
                "sysprep.backup-files",
                Severity::Info,
                "editor and package backup files ship in /etc",
                "delete them before capture (virt-sysprep --operations backup-files)",
                ev(n, &path, format!("{len} bytes")),
            );
        }
    }
    for (path, _) in files_in(fs, "/var/lib/rpm") {
        if path
            .rsplit('/')
            .next()
            .is_some_and(|f| f.starts_with("__db."))
        {
            out.add(
                "sysprep.rpm-db",
                Severity::Info,
                "rpm's database environment files ship (they belong to the build machine)",
                "delete /var/lib/rpm/__db.* before capture",
                ev(n, &path, ""),
            );
        }
    }
    for home in homes(fs) {
        for (path, len) in files_in(fs, &format!("{home}/.ssh")) {
            if path.ends_with("/authorized_keys") || path.ends_with("/authorized_keys2") {
                out.add(
                    "sysprep.ssh-userdir",
                    Severity::Warning,
                    "SSH authorized_keys ship in the image: whoever holds those keys logs in to every VM",
                    "delete ~/.ssh of every user before capture; keys are injected at boot",
                    ev(n, &path, format!("{len} bytes")),
                );
            }
        }
    }
}
