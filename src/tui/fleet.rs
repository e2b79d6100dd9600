//! The Fleet view's model: every VM, sorted by any column and filtered by the report's
//! filter language. Sorting keeps a full sorted order; filtering only walks it, so a
//! keystroke in the filter costs one pass over the fleet and no sort.

use super::data::Data;
use super::rows::Rows;
use crate::tui::text::id_cell;
use std::cmp::Ordering;

/// The Fleet table's columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    Verdict,
    Name,
    Id,
    Cloud,
    Account,
    Region,
    Image,
    Family,
    Version,
    Age,
    Class,
    Reason,
}

impl Column {
    pub const ALL: [Column; 12] = [
        Column::Verdict,
        Column::Name,
        Column::Id,
        Column::Cloud,
        Column::Account,
        Column::Region,
        Column::Image,
        Column::Family,
        Column::Version,
        Column::Age,
        Column::Class,
        Column::Reason,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Column::Verdict => "verdict",
            Column::Name => "name",
            Column::Id => "id",
            Column::Cloud => "cloud",
            Column::Account => "account",
            Column::Region => "region",
            Column::Image => "image",
            Column::Family => "family",
            Column::Version => "version",
            Column::Age => "age",
            Column::Class => "class",
            Column::Reason => "reason",
        }
    }

    pub fn parse(s: &str) -> Option<Column> {
        Column::ALL
            .into_iter()
            .find(|c| c.title().eq_ignore_ascii_case(s))
    }

    fn next(self) -> Column {
        let i = Column::ALL.iter().position(|&c| c == self).unwrap_or(0);
        Column::ALL[(i + 1) % Column::ALL.len()]
    }
}

/// Column caps (characters), in `Column::ALL` order.
pub const CAPS: [u16; 12] = [11, 26, 24, 9, 14, 14, 30, 20, 16, 5, 7, 200];

/// Sort order and rows of the Fleet view, and the width each column needs.
#[derive(Debug, Clone)]
pub struct FleetState {
    pub sort: Column,
    pub ascending: bool,
    pub rows: Rows,
    /// Per VM, the length of each column's text (capped), measured once per data.
    lens: Vec<[u8; 12]>,
    /// Each column's width over the whole filtered set (not the visible page), so paging
    /// never changes the columns or their widths.
    pub widths: [u16; 12],
}

impl Default for FleetState {
    fn default() -> Self {
        FleetState {
            // Most severe first, as an operator triages.
            sort: Column::Verdict,
            ascending: false,
            rows: Rows::default(),
            lens: Vec::new(),
            widths: [0; 12],
        }
    }
}

/// The texts of VM `i`'s cells, in `Column::ALL` order (ids keep their distinguishing tail).
pub fn cells(data: &Data, i: u32, marked: bool) -> [String; 12] {
    let r = data.vm(i);
    let vm = r.vm();
    let v = r.verdict();
    let mark = if marked { "● " } else { "" };
    [
        format!("{} {}", v.symbol(), v.as_str()),
        format!("{mark}{}", vm.name),
        id_cell(&vm.id, CAPS[2] as usize),
        vm.cloud.as_str().to_string(),
        id_cell(&vm.account, CAPS[4] as usize),
        vm.region.to_string(),
        r.image_name().map_or_else(
            || id_cell(&vm.image_id, CAPS[6] as usize),
            |n| n.to_string(),
        ),
        r.family().unwrap_or("-").to_string(),
        r.version().unwrap_or("-").to_string(),
        r.age_days().map_or("-".into(), |a| format!("{a}d")),
        data.a.vm_classes[i as usize].class.to_string(),
        data.a.vm_reason(&data.inv, i as usize).into_owned(),
    ]
}

/// The lengths in characters of VM `i`'s cells as [`cells`] makes them (at most 255),
/// without making them: a million VMs are measured when the data arrives.
pub fn lens(data: &Data, i: u32) -> [u8; 12] {
    let r = data.vm(i);
    let vm = r.vm();
    let v = r.verdict();
    let n = |s: &str| {
        if s.is_ascii() {
            s.len()
        } else {
            s.chars().count()
        }
    };
    // An id not shortened is cut from the left to the cap, `…` included.
    let id = |s: &str, cap: u16| {
        let cap = cap as usize;
        if s.starts_with("/subscriptions/") {
            return n(&id_cell(s, cap));
        }
        let c = n(s);
        if c <= cap || cap < 2 {
            c
        } else {
            cap
        }
    };
    let age = r
        .age_days()
        .map_or(1, |a| itoa::Buffer::new().format(a).len() + 1);
    let c = [
        n(v.symbol()) + 1 + v.as_str().len(),
        n(&vm.name),
        id(&vm.id, CAPS[2]),
        vm.cloud.as_str().len(),
        id(&vm.account, CAPS[4]),
        n(&vm.region),
        r.image_name().map_or_else(|| id(&vm.image_id, CAPS[6]), n),
        n(r.family().unwrap_or("-")),
        n(r.version().unwrap_or("-")),
        age,
        data.a.vm_classes[i as usize].class.as_str().len(),
        n(&data.a.vm_reason(&data.inv, i as usize)),
    ];
    c.map(|l| l.min(255) as u8)
}

/// The Fleet view's order of VMs `a` and `b` sorted by `col`: by its value (ascending or
/// not), then by name, then by index (a total order). [`FleetState::resort`] sorts by keys
/// that give this order.
pub fn order(data: &Data, col: Column, ascending: bool, a: u32, b: u32) -> Ordering {
    let primary = match col {
        Column::Verdict => data.vm(a).verdict().cmp(&data.vm(b).verdict()),
        Column::Age => data.vm(a).age_days().cmp(&data.vm(b).age_days()),
        Column::Version => crate::drift::version::compare(text(data, a, col), text(data, b, col)),
        Column::Reason => data
            .a
            .vm_reason(&data.inv, a as usize)
            .cmp(&data.a.vm_reason(&data.inv, b as usize)),
        _ => text(data, a, col).cmp(text(data, b, col)),
    };
    let primary = if ascending {
        primary
    } else {
        primary.reverse()
    };
    let name = |i: u32| data.inv.vms[i as usize].name.as_str();
    primary.then_with(|| name(a).cmp(name(b))).then(a.cmp(&b))
}

/// The last byte of a [`text_key`] of a text longer than its first 15 bytes.
const INEXACT: u8 = 255;

/// A text's sort key: its first 15 bytes (big-endian, zero-padded) and its length, or
/// [`INEXACT`] when it is longer; keys order as the texts do, and equal keys short of
/// `INEXACT` are equal texts.
fn text_key(s: &str) -> u128 {
    let mut b = [0u8; 16];
    let n = s.len().min(15);
    b[..n].copy_from_slice(&s.as_bytes()[..n]);
    b[15] = if s.len() <= 15 {
        s.len() as u8
    } else {
        INEXACT
    };
    u128::from_be_bytes(b)
}

/// A sortable value of one VM in one column.
fn text(data: &Data, i: u32, col: Column) -> &str {
    let r = data.vm(i);
    let vm = r.vm();
    match col {
        Column::Name => &vm.name,
        Column::Id => &vm.id,
        Column::Cloud => vm.cloud.as_str(),
        Column::Account => &vm.account,
        Column::Region => &vm.region,
        Column::Image => r.image_name().unwrap_or(&vm.image_id),
        Column::Family => r.family().unwrap_or(""),
        Column::Version => r.version().unwrap_or(""),
        Column::Class => data.a.vm_classes[i as usize].class.as_str(),
        Column::Verdict | Column::Age | Column::Reason => "",
    }
}

impl FleetState {
    /// Measures every VM's cells (once per data: a scan or a context switch).
    pub fn measure(&mut self, data: &Data) {
        self.lens = crate::par::on_two_threads(data.inv.vms.len(), &|i| lens(data, i as u32));
    }

    /// The widths the filtered rows need: the longest text of each column (the name keeps
    /// room for a mark), at least the title and its sort marker, at most the cap.
    fn fit_widths(&mut self) {
        let title = |k: usize| Column::ALL[k].title().len() as u16 + 2;
        let mut w: [u16; 12] = [0; 12];
        for &i in &self.rows.shown {
            if let Some(l) = self.lens.get(i as usize) {
                for k in 0..12 {
                    w[k] = w[k].max(l[k] as u16);
                }
            }
        }
        w[1] += 2;
        // Never narrower than the title and its sort marker.
        self.widths = std::array::from_fn(|k| w[k].min(CAPS[k]).max(title(k)));
    }

    /// Re-sorts every VM by the current column, then re-applies the filter.
    pub fn resort(&mut self, data: &Data) {
        let (col, asc) = (self.sort, self.ascending);
        // Integer keys first (a million VMs: comparing records at random is slow); the
        // view's order itself only where keys tie and are not exact.
        let key = |i: u32| -> (u128, u128, u32) {
            let primary = match col {
                Column::Verdict => data.vm(i).verdict() as u128,
                Column::Age => data
                    .vm(i)
                    .age_days()
                    .map_or(0, |d| (i128::from(d) - i128::from(i64::MIN) + 1) as u128),
                Column::Version => 0,
                Column::Reason => text_key(&data.a.vm_reason(&data.inv, i as usize)),
                _ => text_key(text(data, i, col)),
            };
            let primary = if asc { primary } else { !primary };
            (primary, text_key(&data.inv.vms[i as usize].name), i)
        };
        let exact_primary = |k: u128| {
            let low = if asc { k as u8 } else { !(k as u8) };
            !matches!(col, Column::Version) && low != INEXACT
        };
        let mut keyed: Vec<(u128, u128, u32)> = (0..data.inv.vms.len() as u32).map(key).collect();
        keyed.sort_unstable_by(|x, y| {
            x.0.cmp(&y.0).then_with(|| {
                if !exact_primary(x.0) || x.1 as u8 == INEXACT {
                    order(data, col, asc, x.2, y.2)
                } else {
                    x.1.cmp(&y.1).then(x.2.cmp(&y.2))
                }
            })
        });
        self.rows.ordered = keyed.iter().map(|k| k.2).collect();
        self.refilter(data);
    }

    /// Applies the filter to the sorted order, and fits the columns to what it lets through
    /// (from the lengths `measure` took when the data arrived).
    pub fn refilter(&mut self, data: &Data) {
        self.rows.refilter(|f, i| f.matches(&data.vm(i)));
        self.fit_widths();
    }

    /// Sets the filter (narrowing the rows shown when it can) and fits the columns.
    pub fn set_filter(&mut self, filter: crate::report::Filter, data: &Data) {
        self.rows.set_filter(filter, |f, i| f.matches(&data.vm(i)));
        self.fit_widths();
    }

    /// `s`: sort by the next column (ascending, except verdict and age: worst first).
    pub fn sort_next(&mut self, data: &Data) {
        self.sort = self.sort.next();
        self.ascending = !matches!(self.sort, Column::Verdict | Column::Age);
        self.resort(data);
    }

    /// Sorts by `col`.
    pub fn sort_by(&mut self, col: Column, data: &Data) {
        self.sort = col;
        self.ascending = !matches!(col, Column::Verdict | Column::Age);
        self.resort(data);
    }

    /// `S`: reverse the order.
    pub fn reverse(&mut self, data: &Data) {
        self.ascending = !self.ascending;
        self.resort(data);
    }
}
