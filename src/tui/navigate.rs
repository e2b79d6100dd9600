//! k9s-style drill-down: `enter` on an image lists what uses it (VMs, scale groups, launch
//! templates), each leading to its detail; `enter` on a Drift-matrix row opens the Fleet
//! filtered to that family and account (or region).

use super::app::{App, Mode};
use super::keymap::View;
use super::list::ListState;
use super::messages::{UserItem, UsersState};
use crate::drift::Verdict;

impl App {
    /// `enter` on the selected image: the list of what uses it.
    pub(super) fn open_users(&mut self) {
        let (Some(d), Some(i)) = (&self.data, self.images.rows.selected()) else {
            self.status = Some("nothing selected".into());
            return;
        };
        let img = &d.inv.images[i as usize];
        let usage = d.usage.of(&img.id);
        let items: Vec<UserItem> = usage
            .vms
            .iter()
            .map(|&v| UserItem::Vm(v as u32))
            .chain(usage.scale_groups.iter().map(|&g| UserItem::ScaleGroup(g)))
            .chain(
                usage
                    .launch_templates
                    .iter()
                    .map(|&t| UserItem::LaunchTemplate(t)),
            )
            .collect();
        self.mode = Mode::Users(Box::new(UsersState {
            image: i,
            items,
            list: ListState::default(),
        }));
    }

    /// `enter` in the users list: a VM opens in the Fleet with its detail pane; a scale
    /// group or launch template shows its record.
    pub(super) fn open_user(&mut self, st: &UsersState) {
        let (Some(d), Some(item)) = (&self.data, st.items.get(st.list.selected)) else {
            return;
        };
        match *item {
            UserItem::Vm(v) => {
                if !self.fleet.rows.shown.contains(&v) {
                    let _ = self.set_filter_on(View::Fleet, "");
                }
                self.view = View::Fleet;
                if let Some(pos) = self.fleet.rows.shown.iter().position(|&x| x == v) {
                    self.fleet.rows.list.selected = pos;
                }
                self.detail = true;
            }
            UserItem::ScaleGroup(g) => {
                let text = serde_json::to_string_pretty(&d.inv.scale_groups[g]);
                self.mode = Mode::Json {
                    text: text.unwrap_or_default(),
                    scroll: 0,
                };
            }
            UserItem::LaunchTemplate(t) => {
                let text = serde_json::to_string_pretty(&d.inv.launch_templates[t]);
                self.mode = Mode::Json {
                    text: text.unwrap_or_default(),
                    scroll: 0,
                };
            }
        }
    }

    /// `enter` on a Drift-matrix row: the Fleet filtered to its family and account (or
    /// region).
    pub(super) fn open_drift_cell(&mut self) {
        let Some(row) = self.drift_matrix.get(self.drift.selected).cloned() else {
            return;
        };
        let by = if self.drift_by_region {
            "region"
        } else {
            "account"
        };
        let family = match row.family.as_str() {
            "(no family)" => format!("!family:* !verdict:{}", Verdict::Unknown.as_str()),
            "(unresolved image)" => format!("!family:* verdict:{}", Verdict::Unknown.as_str()),
            f => format!("family:{}", glob_literal(f)),
        };
        let expr = format!("{family} {by}:{}", glob_literal(&row.key));
        self.view = View::Fleet;
        if self.set_filter_on(View::Fleet, &expr) {
            self.fleet.rows.list.selected = 0;
            self.status = Some(format!(
                "{} of {} in {}",
                crate::words::count(self.fleet.rows.shown.len() as u64, "VM"),
                row.family,
                row.key
            ));
        } else {
            self.status = self.filter_error.take();
        }
    }
}

/// `s` as a glob that matches only itself (`[`, `*` and `?` escaped).
fn glob_literal(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '*' | '?' | '[' | ']' => format!("[{c}]"),
            c => c.to_string(),
        })
        .collect()
}
