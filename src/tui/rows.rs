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
    pub fn refilter(&mut self, matches: impl Fn(&Filter, u32) -> bool) {
        let filter = &self.filter;
        self.shown = if filter.is_empty() {
            self.ordered.clone()
        } else {
            self.ordered
                .iter()
                .copied()
                .filter(|&i| matches(filter, i))
                .collect()
        };
        self.list.clamp(self.shown.len());
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
