//! The packed snapshot (`drydock.snapshot/v2`): what a scan of a million VMs is written as.
//! JSON of that fleet is 400 MB and takes two seconds to parse; this is a fifth of the size
//! and reads in a fraction of the time (`cargo bench --bench million` measures both).
//!
//! Layout: the magic `DDSNAP` and version byte 2 and a zero; a varint length and a JSON
//! header (everything but VMs and images: times, sources, scale groups, launch templates,
//! problems, accounts, outcomes); a table of the strings VMs and images share (accounts,
//! regions, sizes, image ids, tag keys and values...); then the images and the VMs, each a
//! run of varints (numbers, string-table indexes) and length-prefixed unique strings (ids,
//! names). Every count and length read is checked against the bytes left; a bad file is an
//! error naming the offset and the record.

use super::{Cloud, Image, ImageState, Inventory, Tags, Vm, VmState};
use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;
use std::io::{self, Write};

/// The first bytes of a packed snapshot.
pub const MAGIC: &[u8; 8] = b"DDSNAP\x02\x00";

/// Why a packed snapshot could not be read: what, and at which byte.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} at byte {offset}")]
pub struct PackedError {
    pub offset: usize,
    pub what: String,
}

/// Everything but the VMs and images (small next to them), as JSON.
#[derive(Serialize, Deserialize)]
struct Header {
    schema: String,
    scanned_at: DateTime<Utc>,
    sources: Vec<String>,
    scale_groups: Vec<super::ScaleGroup>,
    launch_templates: Vec<super::LaunchTemplate>,
    #[serde(default)]
    problems: Vec<super::ScanProblem>,
    #[serde(default)]
    accounts: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    outcomes: Vec<super::ScopeOutcome>,
}

/// The shared strings, numbered in first-seen order.
#[derive(Default)]
struct Table<'a> {
    index: HashMap<&'a str, u64>,
    order: Vec<&'a str>,
}

impl<'a> Table<'a> {
    fn add(&mut self, s: &'a str) {
        if !self.index.contains_key(s) {
            self.index.insert(s, self.order.len() as u64);
            self.order.push(s);
        }
    }

    fn of(&self, s: &str) -> u64 {
        self.index[s]
    }
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn text(out: &mut Vec<u8>, s: &str) {
    varint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

fn time(out: &mut Vec<u8>, t: DateTime<Utc>) {
    // Seconds zigzag-encoded (small either side of 1970), then nanoseconds.
    let s = t.timestamp();
    varint(out, ((s << 1) ^ (s >> 63)) as u64);
    varint(out, u64::from(t.timestamp_subsec_nanos()));
}

fn opt_time(out: &mut Vec<u8>, t: Option<DateTime<Utc>>) {
    match t {
        Some(t) => {
            out.push(1);
            time(out, t);
        }
        None => out.push(0),
    }
}

fn tags<'a>(table: &mut Table<'a>, t: &'a Tags) {
    for (k, v) in t.iter() {
        table.add(k);
        table.add(v);
    }
}

fn put_tags(out: &mut Vec<u8>, table: &Table<'_>, t: &Tags) {
    varint(out, t.len() as u64);
    for (k, v) in t.iter() {
        varint(out, table.of(k));
        varint(out, table.of(v));
    }
}

fn cloud_code(c: Cloud) -> u8 {
    match c {
        Cloud::Aws => 0,
        Cloud::Azure => 1,
        Cloud::OpenStack => 2,
    }
}

const VM_STATES: [VmState; 6] = [
    VmState::Pending,
    VmState::Running,
    VmState::Stopping,
    VmState::Stopped,
    VmState::Terminated,
    VmState::Unknown,
];

const IMAGE_STATES: [ImageState; 4] = [
    ImageState::Available,
    ImageState::Deprecated,
    ImageState::Disabled,
    ImageState::Deregistered,
];

/// Writes `inv` packed to `w` (buffered by the caller), a few thousand records at a time.
pub fn write(w: &mut dyn Write, inv: &Inventory, schema: &str) -> io::Result<()> {
    let header = Header {
        schema: schema.to_string(),
        scanned_at: inv.scanned_at,
        sources: inv.sources.clone(),
        scale_groups: inv.scale_groups.clone(),
        launch_templates: inv.launch_templates.clone(),
        problems: inv.problems.clone(),
        accounts: inv.accounts.clone(),
        outcomes: inv.outcomes.clone(),
    };
    let mut table = Table::default();
    for i in &inv.images {
        for s in [&i.account, &i.region, &i.owner] {
            table.add(s);
        }
        if let Some(n) = &i.newer_base {
            table.add(n);
        }
        tags(&mut table, &i.tags);
    }
    for v in &inv.vms {
        for s in [&v.account, &v.region, &v.size, &v.image_id] {
            table.add(s);
        }
        if let Some(g) = &v.scale_group {
            table.add(g);
        }
        for b in &v.boot_config {
            table.add(b);
        }
        tags(&mut table, &v.tags);
    }
    let mut buf = Vec::with_capacity(1 << 20);
    buf.extend_from_slice(MAGIC);
    let head = serde_json::to_vec(&header).map_err(io::Error::other)?;
    varint(&mut buf, head.len() as u64);
    buf.extend_from_slice(&head);
    varint(&mut buf, table.order.len() as u64);
    for s in &table.order {
        text(&mut buf, s);
        if buf.len() > 1 << 20 {
            w.write_all(&buf)?;
            buf.clear();
        }
    }
    varint(&mut buf, inv.images.len() as u64);
    for i in &inv.images {
        text(&mut buf, &i.id);
        text(&mut buf, &i.name);
        buf.push(cloud_code(i.cloud));
        varint(&mut buf, table.of(&i.account));
        varint(&mut buf, table.of(&i.region));
        time(&mut buf, i.created);
        buf.push(IMAGE_STATES.iter().position(|s| *s == i.state).unwrap_or(0) as u8);
        opt_time(&mut buf, i.deprecation_time);
        opt_time(&mut buf, i.end_of_life);
        varint(&mut buf, table.of(&i.owner));
        varint(
            &mut buf,
            i.newer_base.as_deref().map_or(0, |n| table.of(n) + 1),
        );
        buf.push(u8::from(i.vendor));
        put_tags(&mut buf, &table, &i.tags);
        if buf.len() > 1 << 20 {
            w.write_all(&buf)?;
            buf.clear();
        }
    }
    varint(&mut buf, inv.vms.len() as u64);
    // VMs in blocks of `BLOCK`, each prefixed by its length and count: a reader decodes
    // the blocks on every core.
    let mut block = Vec::with_capacity(1 << 20);
    for chunk in inv.vms.chunks(BLOCK) {
        block.clear();
        for v in chunk {
            vm(&mut block, &table, v);
        }
        varint(&mut buf, block.len() as u64);
        varint(&mut buf, chunk.len() as u64);
        buf.extend_from_slice(&block);
        w.write_all(&buf)?;
        buf.clear();
    }
    w.write_all(&buf)
}

/// VMs per block.
const BLOCK: usize = 16_384;

fn vm(buf: &mut Vec<u8>, table: &Table<'_>, v: &Vm) {
    text(buf, &v.id);
    text(buf, &v.name);
    buf.push(cloud_code(v.cloud));
    varint(buf, table.of(&v.account));
    varint(buf, table.of(&v.region));
    buf.push(VM_STATES.iter().position(|s| *s == v.state).unwrap_or(5) as u8);
    varint(buf, table.of(&v.size));
    time(buf, v.launched_at);
    varint(buf, table.of(&v.image_id));
    put_tags(buf, table, &v.tags);
    varint(buf, v.scale_group.as_deref().map_or(0, |g| table.of(g) + 1));
    varint(buf, v.boot_config.len() as u64);
    for b in &v.boot_config {
        varint(buf, table.of(b));
    }
}

/// Reads a packed snapshot; `schema` must match the header's.
pub fn read(bytes: &[u8], schema: &str) -> Result<Inventory, PackedError> {
    let mut r = Reader { bytes, at: 0 };
    if r.take(MAGIC.len(), "the magic")? != MAGIC {
        return Err(r.error(0, "not a packed drydock snapshot (bad magic)"));
    }
    let n = r.len("the header length")?;
    let at = r.at;
    let head: Header = serde_json::from_slice(r.take(n, "the header")?)
        .map_err(|e| r.error(at, &format!("the header is not valid: {e}")))?;
    if head.schema != schema {
        return Err(r.error(at, &format!("schema `{}`, not `{schema}`", head.schema)));
    }
    let n = r.len("the string count")?;
    let mut strings = Vec::with_capacity(n);
    for k in 0..n {
        strings.push(r.str(Item("string", k))?.to_string());
    }
    let n = r.len("the image count")?;
    let mut images = Vec::with_capacity(n);
    for k in 0..n {
        images.push(r.image(&strings, k)?);
    }
    let n = r.len("the VM count")?;
    // The blocks are found first, then decoded two at a time (one per core here).
    let mut blocks = Vec::new();
    let mut first = 0usize;
    while first < n {
        let len = r.len("a VM block's length")?;
        let at = r.at;
        let count = r.varint("a VM block's count")?;
        let count = usize::try_from(count)
            .ok()
            .filter(|c| *c > 0 && *c <= n - first)
            .ok_or_else(|| {
                r.error(
                    at,
                    &format!("a VM block of {count} VMs after {first} of {n}"),
                )
            })?;
        let start = r.at;
        r.take(len, "a VM block")?;
        blocks.push((start, len, first, count));
        first += count;
    }
    let decode = |blocks: &[(usize, usize, usize, usize)], out: &mut Vec<Vm>| {
        for &(start, len, first, count) in blocks {
            let mut b = Reader {
                bytes: &bytes[..start + len],
                at: start,
            };
            for k in first..first + count {
                out.push(b.vm(&strings, k)?);
            }
            if b.at != start + len {
                return Err(b.error(b.at, &format!("bytes left in the block of VMs {first}..")));
            }
        }
        Ok(())
    };
    // The front half is decoded into the inventory's own vector, the back half beside it
    // and appended: never a second copy of every VM.
    let half = blocks.len().div_ceil(2);
    let (front, back) = blocks.split_at(half);
    let back_count = back.iter().map(|b| b.3).sum();
    let mut vms = Vec::with_capacity(n);
    let (mine, other) = std::thread::scope(|s| {
        let other = s.spawn(|| {
            let mut out = Vec::with_capacity(back_count);
            decode(back, &mut out).map(|()| out)
        });
        (decode(front, &mut vms), other.join())
    });
    mine?;
    let mut rest = other.map_err(|_| r.error(0, "a decoding thread stopped"))??;
    vms.append(&mut rest);
    drop(rest);
    if r.at != bytes.len() {
        return Err(r.error(r.at, "bytes after the last VM"));
    }
    Ok(Inventory {
        scanned_at: head.scanned_at,
        sources: head.sources,
        vms,
        images,
        scale_groups: head.scale_groups,
        launch_templates: head.launch_templates,
        problems: head.problems,
        accounts: head.accounts,
        outcomes: head.outcomes,
    })
}

/// What is being read, for an error: a kind and its index (formatted only on error).
#[derive(Clone, Copy)]
struct Item(&'static str, usize);

impl fmt::Display for Item {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.0, self.1)
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn error(&self, offset: usize, what: &str) -> PackedError {
        PackedError {
            offset,
            what: what.to_string(),
        }
    }

    fn take(&mut self, n: usize, what: impl fmt::Display + Copy) -> Result<&'a [u8], PackedError> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or_else(|| self.error(self.at, &format!("{what} runs past the end")))?;
        let s = &self.bytes[self.at..end];
        self.at = end;
        Ok(s)
    }

    fn u8(&mut self, what: impl fmt::Display + Copy) -> Result<u8, PackedError> {
        Ok(self.take(1, what)?[0])
    }

    fn varint(&mut self, what: impl fmt::Display + Copy) -> Result<u64, PackedError> {
        let start = self.at;
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = self.u8(what)?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(self.error(start, &format!("{what}: a number longer than 64 bits")))
    }

    /// A count or length: never more than the bytes left (each item takes one at least).
    fn len(&mut self, what: impl fmt::Display + Copy) -> Result<usize, PackedError> {
        let at = self.at;
        let n = self.varint(what)?;
        let left = (self.bytes.len() - self.at) as u64;
        if n > left {
            return Err(self.error(at, &format!("{what} {n} exceeds the {left} bytes left")));
        }
        Ok(n as usize)
    }

    fn str(&mut self, what: impl fmt::Display + Copy) -> Result<&'a str, PackedError> {
        let n = self.len(what)?;
        let at = self.at;
        std::str::from_utf8(self.take(n, what)?)
            .map_err(|_| self.error(at, &format!("{what} is not UTF-8")))
    }

    fn shared<'s>(
        &mut self,
        strings: &'s [String],
        what: impl fmt::Display + Copy,
    ) -> Result<&'s str, PackedError> {
        let at = self.at;
        let i = self.varint(what)?;
        strings
            .get(usize::try_from(i).unwrap_or(usize::MAX))
            .map(String::as_str)
            .ok_or_else(|| self.error(at, &format!("{what}: string {i} is not in the table")))
    }

    fn opt_shared<'s>(
        &mut self,
        strings: &'s [String],
        what: impl fmt::Display + Copy,
    ) -> Result<Option<&'s str>, PackedError> {
        let at = self.at;
        match self.varint(what)? {
            0 => Ok(None),
            i => strings
                .get(usize::try_from(i - 1).unwrap_or(usize::MAX))
                .map(|s| Some(s.as_str()))
                .ok_or_else(|| {
                    self.error(at, &format!("{what}: string {} is not in the table", i - 1))
                }),
        }
    }

    fn time(&mut self, what: impl fmt::Display + Copy) -> Result<DateTime<Utc>, PackedError> {
        let at = self.at;
        let z = self.varint(what)?;
        let secs = ((z >> 1) as i64) ^ -((z & 1) as i64);
        let nanos = self.varint(what)?;
        Some(secs)
            .zip(u32::try_from(nanos).ok())
            .and_then(|(s, n)| Utc.timestamp_opt(s, n).single())
            .ok_or_else(|| self.error(at, &format!("{what}: not a time")))
    }

    fn opt_time(
        &mut self,
        what: impl fmt::Display + Copy,
    ) -> Result<Option<DateTime<Utc>>, PackedError> {
        match self.u8(what)? {
            0 => Ok(None),
            1 => self.time(what).map(Some),
            b => Err(self.error(self.at - 1, &format!("{what}: flag {b} is neither 0 nor 1"))),
        }
    }

    fn cloud(&mut self, what: impl fmt::Display + Copy) -> Result<Cloud, PackedError> {
        match self.u8(what)? {
            0 => Ok(Cloud::Aws),
            1 => Ok(Cloud::Azure),
            2 => Ok(Cloud::OpenStack),
            b => Err(self.error(self.at - 1, &format!("{what}: cloud {b} is unknown"))),
        }
    }

    fn tags(
        &mut self,
        strings: &[String],
        what: impl fmt::Display + Copy,
    ) -> Result<Tags, PackedError> {
        let n = self.len(what)?;
        let mut tags = Tags::with_capacity(n);
        for _ in 0..n {
            let k = self.shared(strings, what)?;
            let v = self.shared(strings, what)?;
            tags.insert(k, v);
        }
        Ok(tags)
    }

    fn image(&mut self, strings: &[String], k: usize) -> Result<Image, PackedError> {
        let what = Item("image", k);
        Ok(Image {
            id: self.str(what)?.to_string(),
            name: self.str(what)?.to_string(),
            cloud: self.cloud(what)?,
            account: self.shared(strings, what)?.to_string(),
            region: self.shared(strings, what)?.to_string(),
            created: self.time(what)?,
            state: {
                let b = self.u8(what)?;
                *IMAGE_STATES.get(b as usize).ok_or_else(|| {
                    self.error(self.at - 1, &format!("{what}: state {b} is unknown"))
                })?
            },
            deprecation_time: self.opt_time(what)?,
            end_of_life: self.opt_time(what)?,
            owner: self.shared(strings, what)?.to_string(),
            newer_base: self.opt_shared(strings, what)?.map(String::from),
            vendor: self.u8(what)? != 0,
            tags: self.tags(strings, what)?,
        })
    }

    fn vm(&mut self, strings: &[String], k: usize) -> Result<Vm, PackedError> {
        let what = Item("VM", k);
        let id = self.str(what)?.into();
        let name = self.str(what)?.into();
        let cloud = self.cloud(what)?;
        let account = self.shared(strings, what)?.into();
        let region = self.shared(strings, what)?.into();
        let b = self.u8(what)?;
        let state = *VM_STATES
            .get(b as usize)
            .ok_or_else(|| self.error(self.at - 1, &format!("{what}: state {b} is unknown")))?;
        let size = self.shared(strings, what)?.into();
        let launched_at = self.time(what)?;
        let image_id = self.shared(strings, what)?.into();
        let tags = self.tags(strings, what)?;
        let scale_group = self.opt_shared(strings, what)?;
        let n = self.len(what)?;
        let mut boot_config = Vec::with_capacity(n);
        for _ in 0..n {
            boot_config.push(self.shared(strings, what)?.to_string());
        }
        Ok(Vm {
            id,
            name,
            cloud,
            account,
            region,
            state,
            size,
            launched_at,
            image_id,
            tags,
            scale_group: scale_group.map(Into::into),
            boot_config,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_fleet_round_trips_and_every_cut_is_an_error() {
        let now = Utc.with_ymd_and_hms(2026, 11, 23, 0, 0, 0).unwrap();
        let clouds = drydock_sim::demo_clouds(now, Default::default());
        let mut scan = drydock_api::ScanResult::default();
        for c in &clouds {
            scan.merge(c.inventory());
        }
        let mut inv = Inventory::from_scan(now, vec!["demo".into()], scan);
        inv.vms[0].boot_config = vec!["user data".into()];
        inv.vms[1].scale_group = Some("sg-1".into());
        let mut bytes = Vec::new();
        write(&mut bytes, &inv, "s").unwrap();
        assert_eq!(read(&bytes, "s").unwrap(), inv);
        assert!(read(&bytes, "other").unwrap_err().what.contains("schema"));
        for cut in (0..bytes.len()).step_by(97) {
            assert!(read(&bytes[..cut], "s").is_err(), "cut at {cut}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(read(&longer, "s")
            .unwrap_err()
            .what
            .contains("after the last VM"));
    }
}
