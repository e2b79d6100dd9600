//! The JSON report (`drydock.report/v1`, documented in the README).

use super::{Counts, Report, ReportOptions, REPORT_SCHEMA};
use crate::drift::Verdict;
use serde::Serialize;
use std::io::{self, Write};

#[derive(Serialize)]
struct Summary<'a> {
    vms: usize,
    images: usize,
    verdicts: &'a Counts,
    failing: usize,
}

#[derive(Serialize)]
struct GroupOut<'a> {
    key: &'a str,
    vms: usize,
    verdicts: &'a Counts,
}

#[derive(Serialize)]
struct ArtifactOut<'a> {
    id: &'a str,
    cloud: &'a str,
    account: &'a str,
    region: &'a str,
    verdict: Verdict,
    #[serde(skip_serializing_if = "Option::is_none")]
    sha256: Option<&'a str>,
}

/// One build (family × version) with its artifacts per cloud and region.
#[derive(Serialize)]
struct BuildOut<'a> {
    family: String,
    version: String,
    clouds: Vec<&'a str>,
    /// Every artifact that names a content digest names the same one.
    consistent: bool,
    artifacts: Vec<ArtifactOut<'a>>,
}

/// The fields before `vms`.
#[derive(Serialize)]
struct Head<'a> {
    schema: &'static str,
    generated_at: String,
    scanned_at: String,
    sources: &'a [String],
    filter: Option<String>,
    fail_on: Option<Verdict>,
    group_by: Option<&'static str>,
    summary: Summary<'a>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    groups: Vec<GroupOut<'a>>,
}

/// The fields after `vms`, `images` and `builds`.
#[derive(Serialize)]
struct Tail<'a> {
    problems: &'a [crate::model::ScanProblem],
    /// Whether every context and region was read in full.
    complete: bool,
    /// Each context's scan outcome (ok, partial, denied, unreachable, skipped) and scopes.
    contexts: Vec<drydock_api::outcome::ContextOutcome<'a>>,
}

pub(super) fn write(r: &Report<'_>, opts: &ReportOptions, out: &mut dyn Write) -> io::Result<()> {
    let head = Head {
        schema: REPORT_SCHEMA,
        generated_at: r.assessment.now.to_rfc3339(),
        scanned_at: r.inventory.scanned_at.to_rfc3339(),
        sources: &r.inventory.sources,
        filter: (!opts.filter.is_empty()).then(|| opts.filter.to_string()),
        fail_on: opts.fail_on,
        group_by: opts.group_by.map(|g| g.as_str()),
        summary: Summary {
            vms: r.vms.len(),
            images: r.images.len(),
            verdicts: &r.counts,
            failing: r.failing,
        },
        groups: r
            .groups
            .iter()
            .map(|g| GroupOut {
                key: &g.key,
                vms: g.total,
                verdicts: &g.counts,
            })
            .collect(),
    };
    let tail = Tail {
        problems: &r.inventory.problems,
        complete: !r.inventory.incomplete(),
        contexts: drydock_api::outcome::by_context(&r.inventory.outcomes),
    };
    // One document: the head's fields, the VMs, images and builds (each on its line,
    // written in chunks on two threads), the tail's fields.
    let shallow = |v: &dyn erased::Ser| -> io::Result<Vec<u8>> {
        let mut b = Vec::new();
        v.to(&mut serde_json::Serializer::with_formatter(
            &mut b,
            Shallow::default(),
        ))?;
        Ok(b)
    };
    let h = shallow(&head)?;
    out.write_all(h.strip_suffix(b"\n}").unwrap_or(&h))?;
    let (inv, a) = (r.inventory, r.assessment);
    list(out, "vms", r.vms.len(), &|range, buf| {
        let mut scratch = String::new();
        for k in range.clone() {
            super::rows::ahead(inv, a, &r.vms, k, range.end);
            item(buf, k);
            let row = super::rows::vm_row(inv, a, r.vms[k] as usize);
            write_vm_row(buf, &row, &mut scratch);
        }
        Ok(())
    })?;
    list(out, "images", r.images.len(), &|range, buf| {
        for k in range {
            item(buf, k);
            serde_json::to_writer(&mut *buf, &r.images[k]).map_err(io::Error::other)?;
        }
        Ok(())
    })?;
    let builds = builds(r);
    list(out, "builds", builds.len(), &|range, buf| {
        for k in range {
            item(buf, k);
            serde_json::to_writer(&mut *buf, &builds[k]).map_err(io::Error::other)?;
        }
        Ok(())
    })?;
    let t = shallow(&tail)?;
    out.write_all(b",")?;
    out.write_all(t.strip_prefix(b"{").unwrap_or(&t))?;
    out.write_all(b"\n")
}

/// A list field of the top-level object: `,` and its name, its items (each on its line,
/// rendered in chunks on two threads by `render`, which starts each with [`item`]), `]`.
fn list(out: &mut dyn Write, name: &str, n: usize, render: &super::Render<'_>) -> io::Result<()> {
    write!(out, ",\n  \"{name}\": [")?;
    super::in_parallel(n, render, out)?;
    out.write_all(if n == 0 { b"]" } else { b"\n  ]" })
}

/// What goes before item `k` of a list.
fn item(buf: &mut Vec<u8>, k: usize) {
    if k > 0 {
        buf.push(b',');
    }
    buf.extend_from_slice(b"\n    ");
}

/// One VM row as serde_json writes it (byte for byte: a test holds them equal), by hand:
/// the keys are constants and a string with nothing to escape is copied whole, where
/// serde_json looks each byte up in its escape table (a fifth of the report's time at a
/// million VMs).
fn write_vm_row(buf: &mut Vec<u8>, row: &super::rows::VmRow<'_>, scratch: &mut String) {
    let key = |buf: &mut Vec<u8>, k: &str| {
        buf.extend_from_slice(b",\"");
        buf.extend_from_slice(k.as_bytes());
        buf.extend_from_slice(b"\":");
    };
    let texts = |buf: &mut Vec<u8>, fields: &[(&str, Option<&str>)]| {
        for (k, v) in fields {
            key(buf, k);
            match v {
                Some(v) => string(buf, v),
                None => buf.extend_from_slice(b"null"),
            }
        }
    };
    buf.extend_from_slice(b"{\"id\":");
    string(buf, row.id);
    texts(
        buf,
        &[
            ("name", Some(row.name)),
            ("cloud", Some(row.cloud)),
            ("account", Some(row.account)),
            ("region", Some(row.region)),
            ("state", Some(row.state)),
            ("size", Some(row.size)),
        ],
    );
    key(buf, "launched_at");
    time(buf, row.launched_at);
    texts(
        buf,
        &[
            ("image_id", Some(row.image_id)),
            ("image_name", row.image_name),
            ("family", row.family),
            ("version", row.version),
        ],
    );
    key(buf, "image_age_days");
    match row.image_age_days {
        Some(d) => buf.extend_from_slice(itoa::Buffer::new().format(d).as_bytes()),
        None => buf.extend_from_slice(b"null"),
    }
    texts(
        buf,
        &[
            ("verdict", Some(row.verdict.as_str())),
            ("reason", Some(&row.reason)),
            ("class", Some(row.class)),
            ("class_reason", {
                row.class_reason.write_into(scratch);
                Some(scratch)
            }),
            ("scale_group", row.scale_group),
        ],
    );
    key(buf, "tags");
    buf.push(b'{');
    for (i, (k, v)) in row.tags.iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        string(buf, k);
        buf.push(b':');
        string(buf, v);
    }
    buf.extend_from_slice(b"}}");
}

/// A time as chrono serialises it (RFC 3339 in UTC with `Z`, the fraction in 3, 6 or 9
/// digits as it needs, none when whole), without the formatting machinery; years outside
/// 0–9999 and leap seconds through chrono itself.
fn time(buf: &mut Vec<u8>, t: chrono::DateTime<chrono::Utc>) {
    use chrono::{Datelike, Timelike};
    let (year, nanos) = (t.year(), t.nanosecond());
    if !(0..=9999).contains(&year) || nanos >= 1_000_000_000 {
        let _ = serde_json::to_writer(&mut *buf, &t);
        return;
    }
    let digits = |buf: &mut Vec<u8>, v: u32, n: usize| {
        let mut d = [b'0'; 9];
        let mut v = v;
        for k in (0..n).rev() {
            d[k] = b'0' + (v % 10) as u8;
            v /= 10;
        }
        buf.extend_from_slice(&d[..n]);
    };
    buf.push(b'"');
    digits(buf, year as u32, 4);
    for (sep, v) in [
        (b'-', t.month()),
        (b'-', t.day()),
        (b'T', t.hour()),
        (b':', t.minute()),
        (b':', t.second()),
    ] {
        buf.push(sep);
        digits(buf, v, 2);
    }
    if nanos != 0 {
        buf.push(b'.');
        match (nanos % 1_000_000, nanos % 1_000) {
            (0, _) => digits(buf, nanos / 1_000_000, 3),
            (_, 0) => digits(buf, nanos / 1_000, 6),
            _ => digits(buf, nanos, 9),
        }
    }
    buf.extend_from_slice(b"Z\"");
}

/// A JSON string: copied whole when no byte needs escaping (the test of every byte is one
/// pass the compiler vectorises), else through serde_json.
fn string(buf: &mut Vec<u8>, s: &str) {
    if needs_escape(s.as_bytes()) {
        let _ = serde_json::to_writer(&mut *buf, s);
    } else {
        buf.reserve(s.len() + 2);
        buf.push(b'"');
        buf.extend_from_slice(s.as_bytes());
        buf.push(b'"');
    }
}

/// Whether any byte is a control character, `"` or `\\`: eight bytes at a time (the
/// exact zero-byte and less-than tests on a 64-bit word), the tail byte by byte.
fn needs_escape(b: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGH != 0;
    let mut words = b.chunks_exact(8);
    for w in &mut words {
        let x = u64::from_le_bytes(w.try_into().unwrap_or([0; 8]));
        let below_space = x.wrapping_sub(ONES * 0x20) & !x & HIGH != 0;
        if below_space || zero(x ^ (ONES * u64::from(b'"'))) || zero(x ^ (ONES * u64::from(b'\\')))
        {
            return true;
        }
    }
    words
        .remainder()
        .iter()
        .any(|&c| c < 0x20 || c == b'"' || c == b'\\')
}

/// Serialising the head and the tail through one helper.
mod erased {
    use std::io;

    pub trait Ser {
        fn to(
            &self,
            s: &mut serde_json::Serializer<&mut Vec<u8>, super::Shallow>,
        ) -> io::Result<()>;
    }

    impl<T: serde::Serialize> Ser for T {
        fn to(
            &self,
            s: &mut serde_json::Serializer<&mut Vec<u8>, super::Shallow>,
        ) -> io::Result<()> {
            self.serialize(s).map_err(io::Error::other)
        }
    }
}

/// Indented down to the document's lists; each VM, image, build or context on one line
/// below that: readable, diffable line by line, and a third of the bytes of full
/// indentation at a million VMs.
#[derive(Default)]
struct Shallow {
    /// Whether each open container has a value yet.
    open: Vec<bool>,
}

/// Containers opened this deep or shallower are indented.
const INDENTED: usize = 2;

impl Shallow {
    fn pretty(&self) -> bool {
        self.open.len() <= INDENTED
    }

    fn indent<W: ?Sized + Write>(w: &mut W, n: usize) -> io::Result<()> {
        for _ in 0..n {
            w.write_all(b"  ")?;
        }
        Ok(())
    }

    fn begin<W: ?Sized + Write>(&mut self, w: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.open.push(false);
        w.write_all(bracket)
    }

    fn end<W: ?Sized + Write>(&mut self, w: &mut W, bracket: &[u8]) -> io::Result<()> {
        let pretty = self.pretty();
        let had = self.open.pop().unwrap_or(false);
        if pretty && had {
            w.write_all(b"\n")?;
            Self::indent(w, self.open.len())?;
        }
        w.write_all(bracket)
    }

    fn item<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        if self.pretty() {
            w.write_all(if first { b"\n" } else { b",\n" })?;
            Self::indent(w, self.open.len())
        } else if first {
            Ok(())
        } else {
            w.write_all(b",")
        }
    }

    fn had_value(&mut self) {
        if let Some(last) = self.open.last_mut() {
            *last = true;
        }
    }
}

impl serde_json::ser::Formatter for Shallow {
    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.begin(w, b"[")
    }

    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.end(w, b"]")
    }

    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.item(w, first)
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.had_value();
        Ok(())
    }

    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.begin(w, b"{")
    }

    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.end(w, b"}")
    }

    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.item(w, first)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(if self.pretty() { b": " } else { b":" })
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.had_value();
        Ok(())
    }
}

/// The builds of the images the report lists.
fn builds<'a>(r: &Report<'a>) -> Vec<BuildOut<'a>> {
    let inv = r.inventory;
    r.builds()
        .into_iter()
        .map(|b| BuildOut {
            clouds: b.clouds(inv),
            consistent: b.consistent(),
            artifacts: b
                .images
                .iter()
                .map(|&i| {
                    let img = &inv.images[i];
                    ArtifactOut {
                        id: &img.id,
                        cloud: img.cloud.as_str(),
                        account: &img.account,
                        region: &img.region,
                        verdict: r.assessment.images[i].verdict,
                        sha256: crate::drift::builds::digest(&img.tags),
                    }
                })
                .collect(),
            family: b.family,
            version: b.version,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Inventory;
    use chrono::TimeZone;

    #[test]
    fn the_word_at_a_time_escape_test_agrees_with_the_byte_test() {
        let naive = |b: &[u8]| b.iter().any(|&c| c < 0x20 || c == b'"' || c == b'\\');
        for len in 0..20 {
            for at in 0..len {
                for c in 0..=255u8 {
                    // Around the byte: ones that stress the borrows (0x80, 0xff, 0x21).
                    for fill in [b'a', 0x80, 0xff, 0x21, 0x5d] {
                        let mut b = vec![fill; len];
                        b[at] = c;
                        assert_eq!(needs_escape(&b), naive(&b), "{b:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn the_hand_written_time_is_chronos() {
        for (y, nanos) in [
            (2026, 0),
            (2026, 5_000_000),
            (2026, 120_000_000),
            (2026, 7_000),
            (2026, 123_456_789),
            (2026, 1),
            (1999, 999_999_999),
            (1, 40),
            (0, 0),
            (9999, 999_000),
            (10000, 5),
            (-3, 5),
        ] {
            let t = chrono::NaiveDate::from_ymd_opt(y, 3, 7)
                .and_then(|d| d.and_hms_nano_opt(4, 5, 6, nanos))
                .unwrap()
                .and_utc();
            let mut mine = Vec::new();
            time(&mut mine, t);
            assert_eq!(
                String::from_utf8(mine).unwrap(),
                serde_json::to_string(&t).unwrap(),
                "{t:?}"
            );
        }
    }

    #[test]
    fn the_hand_written_vm_row_is_serde_jsons_byte_for_byte() {
        let now = chrono::Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap();
        let spec = drydock_sim::GenerateSpec {
            vms: 400,
            images: 60,
            seed: 3,
        };
        let mut scan = drydock_sim::generate(spec, now);
        // Strings that need escaping, and ones that do not but look close.
        let odd = [
            "quote \" and backslash \\",
            "new\nline\ttab\r\u{1}\u{1f}",
            "naïve café ☕ \u{7f}",
            "",
            "/subscriptions/x/resourceGroups/y",
        ];
        for (k, vm) in scan.vms.iter_mut().take(odd.len()).enumerate() {
            vm.name = odd[k].into();
            vm.tags.insert(odd[k], odd[(k + 1) % odd.len()]);
            vm.scale_group = Some(odd[(k + 2) % odd.len()].into());
        }
        let inv = Inventory::from_scan(now, vec!["test".into()], scan);
        let (config, _) = crate::config::load(Some(std::path::Path::new("/dev/null")), &[])
            .expect("the default config");
        let a = crate::drift::evaluate(&inv, &config.policy, now);
        assert!(inv.vms.len() > 300);
        for k in 0..inv.vms.len() {
            let row = super::super::rows::vm_row(&inv, &a, k);
            let mut mine = Vec::new();
            write_vm_row(&mut mine, &row, &mut String::new());
            let theirs = serde_json::to_vec(&row).unwrap();
            assert_eq!(
                String::from_utf8_lossy(&mine),
                String::from_utf8_lossy(&theirs),
                "VM {k}"
            );
        }
    }
}
