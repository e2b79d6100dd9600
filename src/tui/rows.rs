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
    /// The rows of a filter of fewer terms (its terms as written, then its rows in order):
    /// while the last term of a longer one is typed or edited, only these are tested.
    base: Option<(String, Vec<u32>)>,
}

impl Rows {
    /// Re-applies the filter to the ordered rows; `matches` tests one row against it.
    pub fn refilter(&mut self, matches: impl Fn(&Filter, u32) -> bool + Sync) {
        // The order may have changed: rows kept for a shorter filter are out of it.
        self.base = None;
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
        let head = filter.head();
        // A term begun after the last filter: that filter's rows are the new one's base.
        let before = self.filter.terms_text();
        if head.as_ref() == Some(&before) {
            self.base = Some((before, self.shown.clone()));
        }
        self.filter = filter;
        let from = if narrows {
            Some(&self.shown)
        } else {
            self.base
                .as_ref()
                .filter(|(text, _)| Some(text) == head.as_ref())
                .map(|(_, rows)| rows)
        };
        match from {
            Some(rows) => {
                self.shown = keep(rows, &self.filter, &matches);
                self.list.clamp(self.shown.len());
            }
            None => {
                let base = self.base.take();
                self.refilter(matches);
                self.base = base;
            }
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

/// The rows of `rows` `filter` lets through, in order. A long list is tested in the order
/// its records lie in memory (a sorted view visits them at random, a cache miss each), on
/// two threads, and then picked out in the list's order.
fn keep(
    rows: &[u32],
    filter: &Filter,
    matches: &(impl Fn(&Filter, u32) -> bool + Sync),
) -> Vec<u32> {
    if rows.len() < 20_000 {
        return rows
            .iter()
            .copied()
            .filter(|&i| matches(filter, i))
            .collect();
    }
    // Rows are distinct: as many as the highest index + 1 means every index is one.
    let total = rows.iter().max().map_or(0, |&m| m as usize + 1);
    let every = rows.len() == total;
    let mut passes = vec![every; total];
    if !every {
        for &i in rows {
            passes[i as usize] = true;
        }
    }
    let half = total / 2;
    let test = |part: &mut [bool], first: usize| {
        for (k, pass) in part.iter_mut().enumerate() {
            if *pass {
                *pass = matches(filter, (first + k) as u32);
            }
        }
    };
    let (front, back) = passes.split_at_mut(half);
    std::thread::scope(|s| {
        s.spawn(|| test(back, half));
        test(front, 0);
    });
    rows.iter()
        .copied()
        .filter(|&i| passes[i as usize])
        .collect()
}
