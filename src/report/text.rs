//! Human-readable renderings: comfy-table tables (coloured on a terminal, plain ASCII in a
//! pipe or with NO_COLOR), Markdown tables, and CSV.

use super::{Format, ImageRow, Report, ReportOptions, VmRow};
use crate::drift::Verdict;
use comfy_table::presets::{ASCII_MARKDOWN, UTF8_FULL_CONDENSED};
use comfy_table::{Attribute, Cell, Color, ContentArrangement, Table};
use std::borrow::Cow;
use std::io::{self, Write};

/// Plain output for pipes and NO_COLOR: aligned columns, a dashed rule under the header,
/// no box drawing and no escape codes.
pub const PLAIN: &str = "     -             ";

/// The colour a verdict is drawn in (always next to its symbol and name).
pub fn verdict_color(v: Verdict) -> Color {
    match v {
        Verdict::Current => Color::Green,
        Verdict::Unmanaged => Color::Grey,
        Verdict::Behind => Color::Cyan,
        Verdict::Unknown => Color::Magenta,
        Verdict::Outdated => Color::Yellow,
        Verdict::Eol => Color::Red,
        Verdict::Revoked => Color::DarkRed,
    }
}

fn verdict_cell(v: Verdict, color: bool) -> Cell {
    let cell = Cell::new(format!("{} {}", v.symbol(), v.as_str()));
    if color {
        let cell = cell.fg(verdict_color(v));
        if v >= Verdict::Eol {
            return cell.add_attribute(Attribute::Bold);
        }
        cell
    } else {
        cell
    }
}

fn new_table(opts: &ReportOptions, header: &[&str]) -> Table {
    let mut t = Table::new();
    match opts.format {
        Format::Markdown => {
            t.load_preset(ASCII_MARKDOWN);
        }
        _ if opts.color => {
            t.load_preset(UTF8_FULL_CONDENSED);
            t.set_content_arrangement(ContentArrangement::Dynamic);
            // The caller decided on colour (terminal, NO_COLOR, --color); don't re-probe.
            t.enforce_styling();
        }
        _ => {
            t.load_preset(PLAIN);
        }
    }
    t.set_header(header.iter().map(|h| {
        let c = Cell::new(h);
        if opts.color {
            c.add_attribute(Attribute::Bold)
        } else {
            c
        }
    }));
    t
}

/// Azure resource ids run to 150 characters; a table shows their last four segments.
fn short_id(id: &str) -> &str {
    if !id.starts_with("/subscriptions/") {
        return id;
    }
    match id.rmatch_indices('/').nth(3) {
        Some((i, _)) => &id[i + 1..],
        None => id,
    }
}

/// Tables longer than this are written row by row on a terminal too (no box drawing, no
/// wrapping to the terminal's width): comfy-table holds every cell of a table in memory.
const COMFY_ROWS: usize = 20_000;

/// A table written row by row as comfy-table's `PLAIN` preset lays it out (a blank
/// before and after each cell, a dashed rule under the header, no trailing blanks): the
/// column widths come from a first pass over the rows, which are made again for the
/// second; nothing holds the whole table. With `color` the verdict column is coloured.
fn stream_table<'a, const N: usize>(
    out: &mut dyn Write,
    header: &[&str; N],
    n: usize,
    row: &(dyn Fn(usize) -> (Verdict, [Cow<'a, str>; N]) + Sync),
    color: bool,
) -> io::Result<()> {
    let widest = |range: std::ops::Range<usize>| {
        let mut widths = [0usize; N];
        for k in range {
            for (w, c) in widths.iter_mut().zip(&row(k).1) {
                *w = (*w).max(width(c));
            }
        }
        widths
    };
    let (front, back) = std::thread::scope(|s| {
        let other = s.spawn(|| widest(n / 2..n));
        (widest(0..n / 2), other.join().unwrap_or([usize::MAX; N]))
    });
    let widths: [usize; N] = std::array::from_fn(|i| width(header[i]).max(front[i]).max(back[i]));
    // Written into the chunk's buffer in place, then cut to the line's trimmed end.
    let put_line = |buf: &mut Vec<u8>, cells: &[&str], first: Option<Verdict>| {
        let start = buf.len();
        for (i, (c, w)) in cells.iter().zip(&widths).enumerate() {
            buf.push(b' ');
            match first.filter(|_| i == 0 && color) {
                Some(v) => {
                    let code = ansi(verdict_color(v));
                    buf.extend_from_slice(format!("\x1b[{code}m{c}\x1b[39m").as_bytes());
                }
                None => buf.extend_from_slice(c.as_bytes()),
            }
            let pad = w.saturating_sub(width(c)) + 1;
            buf.resize(buf.len() + pad, b' ');
        }
        let line = std::str::from_utf8(&buf[start..]).map_or(0, |l| l.trim_end().len());
        buf.truncate(start + line);
        buf.push(b'\n');
    };
    let mut head = Vec::new();
    put_line(&mut head, header, None);
    out.write_all(&head)?;
    let rule: usize = widths.iter().map(|w| w + 2).sum();
    writeln!(out, "{}", "-".repeat(rule))?;
    super::in_parallel(
        n,
        &|range, buf| {
            for k in range {
                let (v, cells) = row(k);
                let refs: [&str; N] = std::array::from_fn(|i| cells[i].as_ref());
                put_line(buf, &refs, Some(v));
            }
            Ok(())
        },
        out,
    )
}

/// The columns a cell takes: its length for printable ASCII (almost every cell, checked
/// in one pass), else its Unicode width.
fn width(s: &str) -> usize {
    use unicode_width::UnicodeWidthStr;
    if s.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        s.len()
    } else {
        s.width()
    }
}

/// The SGR foreground code of a comfy-table colour.
fn ansi(c: Color) -> &'static str {
    match c {
        Color::Green => "32",
        Color::Grey => "37",
        Color::Cyan => "36",
        Color::Magenta => "35",
        Color::Yellow => "33",
        Color::Red => "91",
        Color::DarkRed => "31",
        _ => "39",
    }
}

/// Writes a table without the trailing blanks comfy-table pads lines with.
pub(super) fn put(out: &mut dyn Write, t: &Table) -> io::Result<()> {
    for line in t.to_string().lines() {
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

fn age(days: Option<i64>) -> String {
    days.map_or_else(|| "-".into(), |d| format!("{d}d"))
}

fn summary_line(r: &Report<'_>, opts: &ReportOptions) -> String {
    let parts: Vec<String> = r
        .counts
        .iter()
        .filter(|(_, &n)| n > 0)
        .map(|(v, n)| format!("{n} {v}"))
        .collect();
    let mut line = format!(
        "{}, {} ({}); scanned {}",
        crate::words::count(r.vms.len() as u64, "VM"),
        crate::words::count(r.images.len() as u64, "image"),
        if parts.is_empty() {
            "none".into()
        } else {
            parts.join(", ")
        },
        r.inventory.scanned_at.format("%Y-%m-%d %H:%M UTC")
    );
    if let Some(level) = opts.fail_on {
        line.push_str(&format!("; {} at or above {level}", r.failing));
    }
    line
}

pub(super) fn tables<'a>(
    r: &Report<'a>,
    opts: &ReportOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    let md = opts.format == Format::Markdown;
    if md {
        writeln!(out, "# drydock report\n\n{}\n", summary_line(r, opts))?;
    }
    if !r.groups.is_empty() {
        let by = opts.group_by.map_or("group", |g| g.as_str());
        let mut header = vec![by, "vms"];
        header.extend(Verdict::ALL.iter().map(|v| v.as_str()));
        let mut t = new_table(opts, &header);
        for g in &r.groups {
            let mut row = vec![Cell::new(&g.key), Cell::new(g.total)];
            row.extend(g.counts.values().map(Cell::new));
            t.add_row(row);
        }
        if md {
            writeln!(out, "## By {by}\n")?;
        }
        put(out, &t)?;
        writeln!(out)?;
    }
    if opts.images {
        let mut t = new_table(
            opts,
            &[
                "verdict", "image", "id", "class", "cloud", "account", "region", "family",
                "version", "age", "state", "vms", "reason",
            ],
        );
        for i in &r.images {
            t.add_row(vec![
                verdict_cell(i.verdict, opts.color),
                Cell::new(i.name),
                Cell::new(short_id(i.id)),
                Cell::new(i.class),
                Cell::new(i.cloud),
                Cell::new(i.account),
                Cell::new(i.region),
                Cell::new(i.family.unwrap_or("-")),
                Cell::new(i.version.unwrap_or("-")),
                Cell::new(age(Some(i.age_days))),
                Cell::new(i.state),
                Cell::new(i.vm_count),
                Cell::new(i.reason),
            ]);
        }
        if md {
            writeln!(out, "## Images\n")?;
        }
        put(out, &t)?;
        builds_table(r, opts, md, out)?;
    } else {
        // Grouped rows are sorted by group; the group is one of the columns already.
        let header = [
            "verdict", "vm", "id", "class", "cloud", "account", "region", "image", "image id",
            "family", "version", "age", "reason",
        ];
        let cells = |v: VmRow<'a>| -> [Cow<'a, str>; 13] {
            [
                format!("{} {}", v.verdict.symbol(), v.verdict.as_str()).into(),
                v.name.into(),
                short_id(v.id).into(),
                v.class.into(),
                v.cloud.into(),
                v.account.into(),
                v.region.into(),
                v.image_name.unwrap_or("-").into(),
                short_id(v.image_id).into(),
                v.family.unwrap_or("-").into(),
                v.version.unwrap_or("-").into(),
                age(v.image_age_days).into(),
                v.reason,
            ]
        };
        if md || (opts.color && r.vms.len() <= COMFY_ROWS) {
            let mut t = new_table(opts, &header);
            for v in r.vm_rows() {
                let verdict = v.verdict;
                let [_, rest @ ..] = cells(v);
                let mut row = vec![verdict_cell(verdict, opts.color)];
                row.extend(rest.into_iter().map(Cell::new));
                t.add_row(row);
            }
            if md {
                writeln!(out, "## VMs\n")?;
            }
            put(out, &t)?;
        } else {
            let (inv, a) = (r.inventory, r.assessment);
            let row = |k: usize| {
                super::rows::ahead(inv, a, &r.vms, k, r.vms.len());
                let v = super::rows::vm_row(inv, a, r.vms[k] as usize);
                (v.verdict, cells(v))
            };
            stream_table(out, &header, r.vms.len(), &row, opts.color)?;
        }
    }
    if !md {
        writeln!(out, "\n{}", summary_line(r, opts))?;
    }
    for line in gap_lines(r.inventory) {
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// What the scan could not read, one line per context with a gap (or per problem, for a
/// snapshot written before outcomes were recorded), after a heading line.
pub fn gap_lines(inv: &crate::model::Inventory) -> Vec<String> {
    if inv.outcomes.is_empty() {
        return inv
            .problems
            .iter()
            .map(|p| format!("warning: {} {}: {}", p.provider, p.scope, p.message))
            .collect();
    }
    let gaps = inv.gaps();
    if gaps.is_empty() {
        return Vec::new();
    }
    let contexts = drydock_api::outcome::by_context(&inv.outcomes).len();
    let mut lines = vec![format!(
        "incomplete scan: {} of {contexts} contexts not fully read",
        gaps.len()
    )];
    for c in gaps {
        let scopes: Vec<&str> = c
            .scopes
            .iter()
            .filter(|s| s.state.is_gap())
            .map(|s| s.scope.as_str())
            .collect();
        lines.push(format!(
            "  {} {} ({}): {}",
            c.context,
            c.state,
            scopes.join(", "),
            c.reason().unwrap_or("no reason recorded")
        ));
    }
    lines
}

pub(super) fn csv(r: &Report<'_>, opts: &ReportOptions, out: &mut dyn Write) -> io::Result<()> {
    if opts.images {
        images_csv(r.images.iter(), out)
    } else {
        // The header, then the rows rendered in chunks on two threads.
        vms_csv(std::iter::empty(), opts.group_by, &mut *out)?;
        let (inv, a) = (r.inventory, r.assessment);
        super::in_parallel(
            r.vms.len(),
            &|range, buf| {
                let end = range.end;
                let rows = range.map(|k| {
                    super::rows::ahead(inv, a, &r.vms, k, end);
                    super::rows::vm_row(inv, a, r.vms[k] as usize)
                });
                vm_records(rows, opts.group_by, buf)
            },
            out,
        )
    }
}

/// Image rows as CSV (the report's `--images --format csv` and the dashboard's export).
pub fn images_csv<'r, 'a: 'r>(
    rows: impl Iterator<Item = &'r ImageRow<'a>>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "verdict", "id", "name", "class", "cloud", "account", "region", "family", "version",
        "age_days", "state", "vm_count", "reason",
    ])?;
    for i in rows {
        w.write_record([
            i.verdict.as_str(),
            i.id,
            i.name,
            i.class,
            i.cloud,
            i.account,
            i.region,
            i.family.unwrap_or(""),
            i.version.unwrap_or(""),
            &i.age_days.to_string(),
            i.state,
            &i.vm_count.to_string(),
            i.reason,
        ])?;
    }
    w.flush()
}

/// VM rows as CSV, with a leading group column when grouped.
pub fn vms_csv<'a>(
    rows: impl Iterator<Item = VmRow<'a>>,
    group: Option<super::GroupBy>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(&mut *out);
    let mut header = vec![
        "verdict",
        "id",
        "name",
        "class",
        "cloud",
        "account",
        "region",
        "state",
        "size",
        "image_id",
        "image_name",
        "family",
        "version",
        "image_age_days",
        "reason",
    ];
    if let Some(g) = group {
        header.insert(0, g.as_str());
    }
    w.write_record(&header)?;
    w.flush()?;
    drop(w);
    vm_records(rows, group, out)
}

/// VM rows as CSV records, without the header.
fn vm_records<'a>(
    rows: impl Iterator<Item = VmRow<'a>>,
    group: Option<super::GroupBy>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    for v in rows {
        let age = v.image_age_days.map(|d| d.to_string()).unwrap_or_default();
        let mut rec = vec![
            v.verdict.as_str(),
            v.id,
            v.name,
            v.class,
            v.cloud,
            v.account,
            v.region,
            v.state,
            v.size,
            v.image_id,
            v.image_name.unwrap_or(""),
            v.family.unwrap_or(""),
            v.version.unwrap_or(""),
            &age,
            &v.reason,
        ];
        if let Some(g) = group {
            rec.insert(0, g.key(&v));
        }
        w.write_record(&rec)?;
    }
    w.flush()
}

/// Builds found in more than one place: each with where its artifacts are and whether they
/// hold the same content.
fn builds_table(
    r: &Report<'_>,
    opts: &ReportOptions,
    md: bool,
    out: &mut dyn Write,
) -> io::Result<()> {
    let inv = r.inventory;
    let shared: Vec<_> = r
        .builds()
        .into_iter()
        .filter(|b| b.images.len() > 1)
        .collect();
    if shared.is_empty() {
        return Ok(());
    }
    let mut t = new_table(opts, &["family", "version", "artifacts", "content"]);
    for b in &shared {
        let places: Vec<String> = b
            .images
            .iter()
            .map(|&i| {
                let img = &inv.images[i];
                format!(
                    "{} {}/{} {}",
                    img.cloud,
                    img.account,
                    img.region,
                    short_id(&img.id)
                )
            })
            .collect();
        let content = match b.digests.len() {
            0 => "not recorded".to_string(),
            1 => format!(
                "same sha256 {}",
                &b.digests[0][..12.min(b.digests[0].len())]
            ),
            n => format!("{n} DIFFERENT"),
        };
        t.add_row(vec![
            Cell::new(&b.family),
            Cell::new(&b.version),
            Cell::new(places.join("\n")),
            Cell::new(content),
        ]);
    }
    writeln!(out)?;
    if md {
        writeln!(out, "## Builds in several places\n")?;
    } else {
        writeln!(out, "builds in several places:")?;
    }
    put(out, &t)
}
