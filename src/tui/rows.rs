//! The rows of a list view: their order, the ones the filter lets through, the cursor and
//! the marks. Shared by the Fleet and Images views.

use super::list::ListState;
use crate::report::Filter;
use std::collections::BTreeSet;

#[derive(Debug, Clone, Default)]
pub struct Rows {
    /// Every row, in the view's order.
    pub ordered: Vec<u32>,
    /// The rows the filter lets through, in order.
    pub shown: Vec<u32>,
    pub filter: Filter,
    pub list: ListState,
    pub marked: BTreeSet<u32>,
}

impl Rows {
    /// Re-applies the filter to the ordered rows; `matches` tests one row against it.
    pub fn refilter(&mut self, matches: impl Fn(&Filter, u32) -> bool + Sync) {
        self.shown = if self.filter.is_empty() {
            self.ordered.clone()
        } else {
            keep(&self.ordered, &self.filter, &matches)
        };
        self.list.clamp(self.shown.len());
    }

    /// Sets the filter. One that only narrows the last (a character typed at the end of a
    /// search word, a term added) tests just the rows shown, in the same order.
    pub fn set_filter(&mut self, filter: Filter, matches: impl Fn(&Filter, u32) -> bool + Sync) {
        let narrows = filter.narrows(&self.filter);
        self.filter = filter;
        if narrows {
            self.shown = keep(&self.shown, &self.filter, &matches);
            self.list.clamp(self.shown.len());
        } else {
            self.refilter(matches);
        }
    }

    /// The row under the cursor.
    pub fn selected(&self) -> Option<u32> {
        self.shown.get(self.list.selected).copied()
    }

    /// Marked rows, or the selected one when none is marked.
    pub fn targets(&self) -> Vec<u32> {
        if self.marked.is_empty() {
            self.selected().into_iter().collect()
        } else {
            self.marked.iter().copied().collect()
        }
    }

    /// Marks or unmarks the selected row and moves down.
    pub fn toggle_mark(&mut self) {
        if let Some(i) = self.selected() {
            if !self.marked.remove(&i) {
                self.marked.insert(i);
            }
            self.list.down(1, self.shown.len());
        }
    }
}

/// The rows of `rows` `filter` lets through, in order; a long list is tested on two threads.
fn keep(
    rows: &[u32],
    filter: &Filter,
    matches: &(impl Fn(&Filter, u32) -> bool + Sync),
) -> Vec<u32> {
    let test = |part: &[u32]| -> Vec<u32> {
        part.iter()
            .copied()
            .filter(|&i| matches(filter, i))
            .collect()
    };
    if rows.len() < 20_000 {
        return test(rows);
    }
    let (front, back) = rows.split_at(rows.len() / 2);
    let (mut kept, rest) = std::thread::scope(|s| {
        let other = s.spawn(|| test(back));
        (test(front), other.join())
    });
    kept.extend(rest.unwrap_or_else(|_| test(back)));
    kept
}
