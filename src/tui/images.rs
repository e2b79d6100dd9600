//! The Images view's model: the catalog grouped by family (unmanaged images last), newest
//! version first within a family, filtered by the report's filter language.

use super::data::Data;
use super::rows::Rows;
use crate::drift::version;

/// Rows of the Images view.
#[derive(Debug, Clone, Default)]
pub struct ImagesState {
    pub rows: Rows,
}

impl ImagesState {
    /// Groups the catalog by family.
    pub fn regroup(&mut self, data: &Data) {
        let mut order: Vec<u32> = (0..data.inv.images.len() as u32).collect();
        let key = |i: u32| {
            let ia = &data.a.images[i as usize];
            (ia.family.is_none(), ia.family.as_deref().unwrap_or(""))
        };
        order.sort_by(|&a, &b| {
            let (ia, ib) = (&data.a.images[a as usize], &data.a.images[b as usize]);
            let (ma, mb) = (&data.inv.images[a as usize], &data.inv.images[b as usize]);
            key(a)
                .cmp(&key(b))
                .then_with(|| {
                    version::compare(
                        ib.version.as_deref().unwrap_or(""),
                        ia.version.as_deref().unwrap_or(""),
                    )
                })
                .then_with(|| mb.created.cmp(&ma.created))
                .then_with(|| ma.region.cmp(&mb.region))
                .then_with(|| ma.id.cmp(&mb.id))
        });
        self.rows.ordered = order;
        self.refilter(data);
    }

    pub fn refilter(&mut self, data: &Data) {
        self.rows.refilter(|f, i| f.matches(&data.image(i)));
    }

    /// Sets the filter, narrowing the rows shown when it can.
    pub fn set_filter(&mut self, filter: crate::report::Filter, data: &Data) {
        self.rows
            .set_filter(filter, |f, i| f.matches(&data.image(i)));
    }
}
