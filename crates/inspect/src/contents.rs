//! Inside an ext2/3/4 filesystem, read with `ext4-view` through the engine's reader mapped
//! onto the partition's byte range: the OS release (`/etc/os-release`), the kernels in
//! `/boot`, and the installed packages from dpkg (with licences from the machine-readable
//! `/usr/share/doc/PKG/copyright` files), rpm's SQLite database or apk.

use super::error::ContentError;
pub use super::packages::Package;
use super::packages::{dep5_licenses, parse_apk_installed, parse_dpkg_status, parse_rpm_header};
use super::walk::{read_capped, read_text};
use drydock_convert::DiskReader;
use ext4_view::{Ext4, Ext4Read};
use serde::Serialize;

/// A partition's bytes as ext4-view reads them.
struct PartitionRead {
    reader: Box<dyn DiskReader>,
    start: u64,
    len: u64,
}

impl Ext4Read for PartitionRead {
    fn read(
        &mut self,
        start_byte: u64,
        dst: &mut [u8],
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync + 'static>> {
        let end = start_byte.checked_add(dst.len() as u64);
        if end.is_none_or(|e| e > self.len) {
            return Err(format!(
                "read of {} bytes at {start_byte} past the partition's {} bytes",
                dst.len(),
                self.len
            )
            .into());
        }
        self.reader
            .read_at(self.start + start_byte, dst)
            .map_err(|e| e.to_string().into())
    }
}

/// What a filesystem holds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Contents {
    /// `PRETTY_NAME` of `/etc/os-release` (else `ID VERSION_ID`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_version: Option<String>,
    /// Kernel versions (`/boot/vmlinuz-VERSION`, or unified kernel images on an EFI partition).
    #[serde(default)]
    pub kernels: Vec<String>,
    /// `dpkg`, `rpm` or `apk`, when its database is there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package_manager: Option<String>,
    #[serde(default)]
    pub packages: Vec<Package>,
    /// EFI boot loaders (`/EFI/*/*.efi`) on an EFI system partition.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub boot_loaders: Vec<String>,
}

/// One field of an os-release file, unquoted.
fn os_field(text: &str, key: &str) -> Option<String> {
    text.lines().find_map(|l| {
        let v = l.strip_prefix(key)?.strip_prefix('=')?;
        Some(v.trim().trim_matches('"').trim_matches('\'').to_string())
    })
}

/// The largest package database drydock copies out to read (rpm's SQLite file).
const MAX_RPMDB: u64 = 512 << 20;

/// Open the ext filesystem at `start` (`len` bytes) of `reader`'s disk.
pub fn open(mut reader: Box<dyn DiskReader>, start: u64, len: u64) -> Result<Ext4, ContentError> {
    check_extent(reader.as_mut(), start, len)?;
    Ext4::load(Box::new(PartitionRead { reader, start, len }))
        .map_err(|source| ContentError::Ext { start, source })
}

/// Refuses a superblock that claims more than its partition holds before the ext4 reader
/// sizes its tables from it (a hostile block count had it allocate 12 GB for descriptors):
/// the blocks must fit the partition, and so must the group descriptor table.
fn check_extent(reader: &mut dyn DiskReader, start: u64, len: u64) -> Result<(), ContentError> {
    use drydock_convert::bytes::{le16, le32};
    let corrupt = |detail: String| ContentError::Superblock { start, detail };
    if len < 2048 {
        return Err(corrupt(format!(
            "the partition's {len} bytes hold no superblock"
        )));
    }
    let mut sb = [0u8; 1024];
    let at = start
        .checked_add(1024)
        .ok_or_else(|| corrupt("the partition starts past any disk".into()))?;
    reader
        .read_at(at, &mut sb)
        .map_err(|e| corrupt(format!("cannot be read: {e}")))?;
    let incompat = le32(&sb, 0x60);
    let wide = incompat & 0x80 != 0;
    let blocks = u64::from(le32(&sb, 0x04))
        | if wide {
            u64::from(le32(&sb, 0x150)) << 32
        } else {
            0
        };
    let log = le32(&sb, 0x18);
    let per_group = u64::from(le32(&sb, 0x20));
    let first = u64::from(le32(&sb, 0x14));
    if log > 6 || per_group == 0 {
        return Err(corrupt(format!(
            "block size 2^{} and {per_group} blocks per group are not an ext filesystem's",
            10 + log
        )));
    }
    let bs = 1024u64 << log;
    let bytes = blocks
        .checked_mul(bs)
        .filter(|&b| b <= len)
        .ok_or_else(|| {
            corrupt(format!(
                "{blocks} blocks of {bs} bytes do not fit the partition's {len} bytes"
            ))
        })?;
    let groups = blocks.saturating_sub(first).div_ceil(per_group);
    let desc = if wide {
        u64::from(le16(&sb, 0xFE)).max(32)
    } else {
        32
    };
    if groups.saturating_mul(desc) > bytes {
        return Err(corrupt(format!(
            "{groups} block groups' descriptors do not fit its {bytes} bytes"
        )));
    }
    Ok(())
}

/// The most packages read from one database (a full distribution has about 60,000).
const MAX_PACKAGES: usize = 250_000;

/// SQLite virtual-machine steps one database may take (a full rpmdb needs a few million).
const SQLITE_BUDGET: u64 = 200_000_000;

/// Opens a database found inside an image as untrusted: read-only, its schema's functions
/// and views not trusted, values at most 64 MiB, and every query on a step budget so a
/// hostile view or trigger ends with an error instead of running on.
fn untrusted_sqlite(path: &std::path::Path) -> rusqlite::Result<rusqlite::Connection> {
    use rusqlite::{limits::Limit, OpenFlags};
    let conn = rusqlite::Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.pragma_update(None, "trusted_schema", "OFF")?;
    conn.set_limit(Limit::SQLITE_LIMIT_LENGTH, 64 << 20)?;
    let mut steps = 0u64;
    // Called every 10,000 steps; `true` interrupts the statement.
    conn.progress_handler(
        10_000,
        Some(move || {
            steps += 10_000;
            steps > SQLITE_BUDGET
        }),
    );
    Ok(conn)
}

/// Packages from rpm's SQLite database (copied with its WAL to a private temporary
/// directory, since SQLite reads files).
fn rpm_packages(fs: &Ext4) -> Result<Vec<Package>, ContentError> {
    let path = "/var/lib/rpm/rpmdb.sqlite";
    let meta = fs.metadata(path).map_err(|source| ContentError::File {
        path: path.into(),
        source,
    })?;
    if meta.len() > MAX_RPMDB {
        return Err(ContentError::TooLarge {
            path: path.into(),
            max: MAX_RPMDB,
        });
    }
    let dir = tempfile::tempdir().map_err(|source| ContentError::Local {
        path: "a temporary directory".into(),
        source,
    })?;
    let db = dir.path().join("rpmdb.sqlite");
    let copy = |from: &str, to: &std::path::Path| -> Result<(), ContentError> {
        let bytes = read_capped(fs, from, MAX_RPMDB).ok_or_else(|| ContentError::TooLarge {
            path: from.into(),
            max: MAX_RPMDB,
        })?;
        std::fs::write(to, bytes).map_err(|source| ContentError::Local {
            path: to.display().to_string(),
            source,
        })
    };
    copy(path, &db)?;
    if fs.exists("/var/lib/rpm/rpmdb.sqlite-wal").unwrap_or(false) {
        copy(
            "/var/lib/rpm/rpmdb.sqlite-wal",
            &dir.path().join("rpmdb.sqlite-wal"),
        )?;
    }
    let sql = |source| ContentError::Sqlite {
        path: path.into(),
        source,
    };
    let conn = untrusted_sqlite(&db).map_err(sql)?;
    // A view named Packages could compute anything: only a table is read.
    let kind: Option<String> = conn
        .query_row(
            "SELECT type FROM sqlite_master WHERE name = 'Packages'",
            [],
            |r| r.get(0),
        )
        .map_err(sql)?;
    if kind.as_deref() != Some("table") {
        return Err(ContentError::NotAPackageTable {
            path: path.into(),
            kind: kind.unwrap_or_else(|| "missing".into()),
        });
    }
    let mut stmt = conn
        .prepare("SELECT hnum, blob FROM Packages")
        .map_err(sql)?;
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?)))
        .map_err(sql)?;
    let mut out = Vec::new();
    for row in rows {
        let (hnum, blob) = row.map_err(sql)?;
        if out.len() >= MAX_PACKAGES {
            return Err(ContentError::TooMany {
                path: path.into(),
                max: MAX_PACKAGES,
            });
        }
        out.push(
            parse_rpm_header(&blob).map_err(|source| ContentError::RpmHeader {
                path: path.into(),
                hnum,
                source,
            })?,
        );
    }
    out.sort_by(|a, b| a.name.cmp(&b.name).then(a.version.cmp(&b.version)));
    Ok(out)
}

/// Read the contents of the ext filesystem at `start` (`len` bytes) of `reader`'s disk.
/// Problems with one database are warnings; the rest is still read.
pub fn read(
    reader: Box<dyn DiskReader>,
    start: u64,
    len: u64,
    warnings: &mut Vec<String>,
) -> Result<Contents, ContentError> {
    let fs = open(reader, start, len)?;
    // A filesystem whose root cannot be listed would read as empty: that is no answer.
    fs.read_dir("/")
        .map_err(|source| ContentError::Root { start, source })?;
    Ok(read_fs(&fs, warnings))
}

/// What an open ext filesystem holds.
pub fn read_fs(fs: &Ext4, warnings: &mut Vec<String>) -> Contents {
    let mut c = Contents::default();
    if let Some(text) = read_text(fs, "/etc/os-release") {
        c.os_id = os_field(&text, "ID");
        c.os_version = os_field(&text, "VERSION_ID");
        c.os = os_field(&text, "PRETTY_NAME").or_else(|| {
            c.os_id
                .as_ref()
                .map(|id| format!("{id} {}", c.os_version.clone().unwrap_or_default()))
        });
    }
    if let Ok(dir) = fs.read_dir("/boot") {
        for entry in dir.flatten() {
            let name = entry.file_name();
            if let Some(v) = name.as_str().ok().and_then(|n| n.strip_prefix("vmlinuz-")) {
                c.kernels.push(v.to_string());
            }
        }
        c.kernels.sort();
    }
    if let Some(status) = read_text(fs, "/var/lib/dpkg/status") {
        c.package_manager = Some("dpkg".into());
        let listed = parse_dpkg_status(&status);
        let stanzas = listed.len();
        // A package installed once is one package, however often its stanza repeats.
        let mut seen = std::collections::BTreeSet::new();
        c.packages = listed
            .into_iter()
            .filter(|p| seen.insert((p.name.clone(), p.architecture.clone())))
            .collect();
        if c.packages.len() < stanzas {
            let n = c.packages.len();
            warnings.push(format!(
                "/var/lib/dpkg/status lists {stanzas} installed stanzas for {n} package{}; \
                 repeated stanzas counted once",
                if n == 1 { "" } else { "s" }
            ));
        }
        // Each copyright file is read once, whatever the number of architectures.
        let mut licences: std::collections::HashMap<String, Vec<String>> =
            std::collections::HashMap::new();
        for p in &mut c.packages {
            let found = licences.entry(p.name.clone()).or_insert_with(|| {
                let copyright = format!("/usr/share/doc/{}/copyright", p.name);
                read_text(fs, &copyright)
                    .map(|t| dep5_licenses(&t))
                    .unwrap_or_default()
            });
            p.licenses = found.clone();
        }
    } else if fs.exists("/var/lib/rpm/rpmdb.sqlite").unwrap_or(false) {
        c.package_manager = Some("rpm".into());
        match rpm_packages(fs) {
            Ok(p) => c.packages = p,
            Err(e) => warnings.push(format!("rpm database not read: {e}")),
        }
    } else if fs.exists("/var/lib/rpm/Packages").unwrap_or(false) {
        warnings.push(
            "/var/lib/rpm/Packages is a Berkeley DB rpm database (RHEL 8 and older), which \
             drydock does not read: packages not listed"
                .into(),
        );
    } else if let Some(text) = read_text(fs, "/lib/apk/db/installed") {
        c.package_manager = Some("apk".into());
        c.packages = parse_apk_installed(&text);
    }
    c
}
