//! Report mode: filters, groups and sorts the assessed inventory, renders it as a table,
//! JSON, CSV or Markdown, and decides the exit code. Writes data only to the writer given.

pub mod diff;
pub mod filter;
mod json;
pub mod rows;
pub mod text;

pub use filter::{Filter, FilterError};
pub use rows::{ImageRow, VmRow};

use crate::drift::{Assessment, Verdict};
use crate::model::Inventory;
use std::collections::BTreeMap;
use std::io::{self, Write};

/// The versioned JSON report schema; see the README.
pub const REPORT_SCHEMA: &str = "drydock.report/v1";

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Csv,
    Markdown,
}

impl Format {
    /// Every format with the name the command line gives it.
    pub const NAMED: [(&'static str, Format); 4] = [
        ("table", Format::Table),
        ("json", Format::Json),
        ("csv", Format::Csv),
        ("markdown", Format::Markdown),
    ];
}

/// What VMs are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    Family,
    Account,
    Region,
    Class,
}

impl GroupBy {
    /// Every grouping with the name the command line gives it.
    pub const NAMED: [(&'static str, GroupBy); 4] = [
        ("family", GroupBy::Family),
        ("account", GroupBy::Account),
        ("region", GroupBy::Region),
        ("class", GroupBy::Class),
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            GroupBy::Family => "family",
            GroupBy::Account => "account",
            GroupBy::Region => "region",
            GroupBy::Class => "class",
        }
    }

    fn key<'a>(self, row: &VmRow<'a>) -> &'a str {
        match self {
            GroupBy::Family => row.family.unwrap_or(match row.verdict {
                Verdict::Unknown => "(unresolved image)",
                _ => "(no family)",
            }),
            GroupBy::Account => row.account,
            GroupBy::Region => row.region,
            GroupBy::Class => row.class,
        }
    }
}

/// How to render a report.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    pub format: Format,
    pub group_by: Option<GroupBy>,
    pub filter: Filter,
    pub fail_on: Option<Verdict>,
    /// Colour and box drawing for terminals; off for pipes and NO_COLOR.
    pub color: bool,
    /// List images instead of VMs (table, csv, markdown; JSON always has both).
    pub images: bool,
}

/// VM counts per verdict.
pub type Counts = BTreeMap<Verdict, usize>;

/// One group's VM counts.
#[derive(Debug, Clone)]
pub struct Group {
    pub key: String,
    pub counts: Counts,
    pub total: usize,
}

/// A filtered, sorted view of an assessed inventory, ready to render. The VMs are kept
/// as indices and their rows made as they are written: a report over a million VMs holds
/// no second copy of the fleet.
pub struct Report<'a> {
    pub inventory: &'a Inventory,
    pub assessment: &'a Assessment,
    /// The listed VMs (indices into the inventory), in report order.
    pub vms: Vec<u32>,
    pub images: Vec<ImageRow<'a>>,
    pub counts: Counts,
    pub groups: Vec<Group>,
    /// VMs at or above `fail_on`.
    pub failing: usize,
}

/// The order of VM rows: group, most severe first, name, id. The sort works on compact
/// keys (group rank, verdict, a name prefix) and only looks at the VMs to break a tie.
fn sort_order<'a>(
    inv: &'a Inventory,
    keep: Vec<u32>,
    row: &dyn Fn(u32) -> VmRow<'a>,
    verdict: &dyn Fn(u32) -> Verdict,
    group_by: Option<GroupBy>,
) -> Vec<u32> {
    const PREFIX: usize = 16;
    let mut groups: Vec<&str> = match group_by {
        Some(g) => keep.iter().map(|&i| g.key(&row(i))).collect(),
        None => Vec::new(),
    };
    groups.sort_unstable();
    groups.dedup();
    // (group rank and severity, the name's first 16 bytes big-endian, index): integer
    // comparisons, the same order as comparing the bytes.
    let mut keys: Vec<(u64, u128, u32)> = keep
        .into_iter()
        .map(|i| {
            // A row only when grouped: the name and verdict are read where they are.
            let rank =
                group_by.map_or(0, |g| groups.binary_search(&g.key(&row(i))).unwrap_or(0)) as u64;
            let mut prefix = [0u8; PREFIX];
            let name = inv.vms[i as usize].name.as_bytes();
            let n = name.len().min(PREFIX);
            prefix[..n].copy_from_slice(&name[..n]);
            let head = rank << 8 | u64::from(u8::MAX - verdict(i) as u8);
            (head, u128::from_be_bytes(prefix), i)
        })
        .collect();
    let cmp = |a: &(u64, u128, u32), b: &(u64, u128, u32)| {
        (a.0, a.1).cmp(&(b.0, b.1)).then_with(|| {
            let (x, y) = (&inv.vms[a.2 as usize], &inv.vms[b.2 as usize]);
            x.name.cmp(&y.name).then(x.id.cmp(&y.id))
        })
    };
    // Each half sorted on its own thread, then merged (the first half first on ties).
    let n = keys.len();
    let (front, back) = keys.split_at_mut(n / 2);
    std::thread::scope(|s| {
        s.spawn(|| back.sort_unstable_by(cmp));
        front.sort_unstable_by(cmp);
    });
    let mut order = Vec::with_capacity(n);
    let (mut i, mut j) = (0, 0);
    while i < front.len() && j < back.len() {
        if cmp(&back[j], &front[i]).is_lt() {
            order.push(back[j].2);
            j += 1;
        } else {
            order.push(front[i].2);
            i += 1;
        }
    }
    order.extend(front[i..].iter().chain(&back[j..]).map(|k| k.2));
    order
}

/// Renders a range of rows into a buffer.
pub(crate) type Render<'r> =
    dyn Fn(std::ops::Range<usize>, &mut Vec<u8>) -> io::Result<()> + Sync + 'r;

/// Rows per chunk rendered by one thread.
const CHUNK: usize = 32_768;

/// Renders `n` rows in chunks, two at a time on two threads, and writes the chunks in
/// order: a million rows are written at twice the speed, holding two chunks at most.
pub(crate) fn in_parallel(n: usize, render: &Render<'_>, out: &mut dyn Write) -> io::Result<()> {
    let mut start = 0;
    let (mut a, mut b) = (Vec::new(), Vec::new());
    while start < n {
        let mid = (start + CHUNK).min(n);
        let end = (mid + CHUNK).min(n);
        a.clear();
        b.clear();
        let (ra, rb) = std::thread::scope(|s| {
            let other = s.spawn(|| render(mid..end, &mut b));
            (render(start..mid, &mut a), other.join())
        });
        ra?;
        rb.map_err(|_| io::Error::other("a rendering thread stopped"))??;
        out.write_all(&a)?;
        out.write_all(&b)?;
        start = end;
    }
    Ok(())
}

fn count<'r>(verdicts: impl Iterator<Item = &'r Verdict>) -> Counts {
    let mut counts: Counts = Verdict::ALL.iter().map(|&v| (v, 0)).collect();
    for v in verdicts {
        *counts.entry(*v).or_default() += 1;
    }
    counts
}

impl<'a> Report<'a> {
    /// The builds of the images the report lists (a filter narrows them too).
    pub fn builds(&self) -> Vec<crate::drift::builds::Build> {
        let inv = self.inventory;
        let all = crate::drift::builds::builds(inv, self.assessment);
        // One row per image: as many rows as images is every image.
        if self.images.len() == inv.images.len() {
            return all;
        }
        let listed: std::collections::HashSet<&str> = self.images.iter().map(|i| i.id).collect();
        all.into_iter()
            .filter_map(|b| b.retain(inv, |i| listed.contains(inv.images[i].id.as_str())))
            .collect()
    }

    /// The listed VMs' rows, in report order, made as they are read.
    pub fn vm_rows(&self) -> impl ExactSizeIterator<Item = VmRow<'a>> + '_ {
        let (inv, a) = (self.inventory, self.assessment);
        self.vms
            .iter()
            .map(move |&i| rows::vm_row(inv, a, i as usize))
    }

    /// Filters, groups and sorts (group, then most severe first, then name).
    pub fn build(inv: &'a Inventory, a: &'a Assessment, opts: &ReportOptions) -> Report<'a> {
        let row = |i: u32| rows::vm_row(inv, a, i as usize);
        let all = 0..inv.vms.len().min(u32::MAX as usize) as u32;
        let keep: Vec<u32> = if opts.filter.is_empty() {
            all.collect()
        } else {
            all.filter(|&i| opts.filter.matches(&row(i))).collect()
        };
        let vms = sort_order(
            inv,
            keep,
            &row,
            &|i| a.vms[i as usize].verdict,
            opts.group_by,
        );
        let mut images: Vec<ImageRow<'a>> = rows::image_rows(inv, a)
            .into_iter()
            .filter(|r| opts.filter.matches(r))
            .collect();
        images.sort_by(|x, y| {
            y.verdict
                .cmp(&x.verdict)
                .then(x.family.cmp(&y.family))
                .then(x.name.cmp(y.name))
                .then(x.id.cmp(y.id))
        });
        let mut groups: Vec<Group> = Vec::new();
        if let Some(g) = opts.group_by {
            for &i in &vms {
                let row = row(i);
                let key = g.key(&row);
                if groups.last().is_none_or(|last| last.key != key) {
                    groups.push(Group {
                        key: key.to_string(),
                        counts: count(std::iter::empty()),
                        total: 0,
                    });
                }
                let last = groups.last_mut().expect("pushed above");
                *last.counts.entry(row.verdict).or_default() += 1;
                last.total += 1;
            }
        }
        let verdict = |i: &u32| &a.vms[*i as usize].verdict;
        let failing = opts.fail_on.map_or(0, |level| {
            vms.iter().filter(|i| *verdict(i) >= level).count()
        });
        Report {
            inventory: inv,
            assessment: a,
            counts: count(vms.iter().map(verdict)),
            vms,
            images,
            groups,
            failing,
        }
    }

    /// Whether VMs at or above `--fail-on` are listed (the CLI exits 1 then).
    pub fn over_threshold(&self, opts: &ReportOptions) -> bool {
        opts.fail_on.is_some() && self.failing > 0
    }

    /// Renders the report in `opts.format`.
    pub fn write(&self, opts: &ReportOptions, out: &mut dyn Write) -> io::Result<()> {
        match opts.format {
            Format::Json => json::write(self, opts, out),
            Format::Csv => text::csv(self, opts, out),
            Format::Table | Format::Markdown => text::tables(self, opts, out),
        }
    }
}
