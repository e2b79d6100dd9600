//! Keys and the mouse: which mode has the keyboard, the key map's commands, the filter
//! prompt, marks and the Back key. Commands that only move a list go to that view's list.

use super::app::App;
use super::keymap::{input_request, key_name, Command, View};
use super::messages::{Effect, ExportFormat, Mode, PlanAction};
use crate::report::Filter;
use crossterm::event::{KeyCode, KeyEvent, MouseEvent, MouseEventKind};
use tui_input::Input;

impl App {
    pub(super) fn on_mouse(&mut self, m: MouseEvent) {
        match m.kind {
            MouseEventKind::ScrollDown => self.command(Command::Down),
            MouseEventKind::ScrollUp => self.command(Command::Up),
            MouseEventKind::Down(_) if m.row >= self.rows_top => {
                let row = (m.row - self.rows_top) as usize;
                let (list, len) = match self.view {
                    View::Fleet => (&mut self.fleet.rows.list, self.fleet.rows.shown.len()),
                    View::Images => (&mut self.images.rows.list, self.images.rows.shown.len()),
                    _ => return,
                };
                if list.offset + row < len {
                    list.selected = list.offset + row;
                }
            }
            _ => {}
        };
    }

    pub(super) fn on_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        self.status = None;
        match std::mem::replace(&mut self.mode, Mode::Normal) {
            Mode::Normal => self.on_normal_key(key),
            Mode::Filter(input) => self.on_filter_key(key, input),
            Mode::Palette(input) => self.on_palette_key(key, input),
            Mode::NewConversion(prompt) => {
                let reply = self.conversions.on_prompt_key(key, prompt, &self.gate);
                self.apply(reply)
            }
            // ctrl-c and q quit from the help as the key table says; ctrl-c from JSON too.
            Mode::Help { .. } if matches!(key_name(&key).as_deref(), Some("ctrl-c" | "q")) => {
                self.run(Command::Quit)
            }
            Mode::Json { .. } if key_name(&key).as_deref() == Some("ctrl-c") => {
                self.run(Command::Quit)
            }
            Mode::Messages { scroll } => {
                let last = self.messages.len().saturating_sub(1);
                match overlay_scroll(&key, scroll, last) {
                    Some(scroll) => self.mode = Mode::Messages { scroll },
                    None if key_name(&key).as_deref() == Some("q") => {
                        return self.run(Command::Quit)
                    }
                    None => {}
                }
                vec![]
            }
            Mode::NewPlan(st) => {
                let Some(d) = &self.data else {
                    return vec![];
                };
                let reply = st.on_key(key, d, self.now);
                self.apply(reply)
            }
            Mode::Users(mut st) => {
                let len = st.items.len();
                match key_name(&key).as_deref() {
                    Some("q" | "ctrl-c") => return self.run(Command::Quit),
                    Some("esc") => return vec![],
                    Some("j" | "down") => st.list.down(1, len),
                    Some("k" | "up") => st.list.up(1),
                    Some("G" | "end") => st.list.bottom(len),
                    Some("g" | "home") => st.list.top(),
                    Some("enter") => {
                        self.open_user(&st);
                        return vec![];
                    }
                    _ => {}
                }
                self.mode = Mode::Users(st);
                vec![]
            }
            Mode::Help { scroll } => {
                let last = self.help_lines().saturating_sub(1);
                if let Some(scroll) = overlay_scroll(&key, scroll, last) {
                    self.mode = Mode::Help { scroll };
                }
                vec![]
            }
            Mode::Json { text, scroll } => {
                let scroll = match key_name(&key).as_deref() {
                    Some("esc" | "q" | "y" | "enter") => return vec![],
                    Some("j" | "down") => scroll + 1,
                    Some("k" | "up") => scroll.saturating_sub(1),
                    Some("pgdn") => scroll + 20,
                    Some("pgup") => scroll.saturating_sub(20),
                    _ => scroll,
                };
                self.mode = Mode::Json { text, scroll };
                vec![]
            }
            Mode::Confirm(c) => self.on_confirm_key(key, *c),
        }
    }

    fn on_normal_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let Some(name) = key_name(&key) else {
            return vec![];
        };
        let command = self.keymap.lookup(self.view, &name);
        if command != Some(Command::GotoPrefix) {
            self.pending_g = false;
        }
        match command {
            Some(Command::GotoPrefix) => {
                if std::mem::take(&mut self.pending_g) {
                    self.command(Command::GotoPrefix);
                } else {
                    self.pending_g = true;
                }
                vec![]
            }
            Some(c) => self.run(c),
            None => vec![],
        }
    }

    /// Runs a command (from a key or the palette).
    pub fn run(&mut self, c: Command) -> Vec<Effect> {
        match c {
            Command::Quit => {
                self.quit = true;
                return vec![Effect::Quit];
            }
            Command::Refresh => {
                if !self.refresh.running {
                    self.refresh.running = true;
                    return vec![Effect::Scan];
                }
            }
            Command::Export => return vec![Effect::Export(ExportFormat::Csv)],
            Command::TagRetire | Command::Deprecate => self.open_confirm(c),
            Command::PlanApprove => return self.plan_action(PlanAction::Approve),
            Command::PlanPause => {
                let reply = self.plans.pause();
                return self.apply(reply);
            }
            Command::PlanAbort => return self.plan_action(PlanAction::Abort),
            Command::PlanNew => match &self.data {
                Some(d) => self.mode = Mode::NewPlan(Box::new(super::new_plan::NewPlan::start(d))),
                None => self.status = Some("no data yet: wait for the scan".into()),
            },
            Command::PlanRollback => return self.plan_action(PlanAction::Rollback),
            Command::PlanTakeOver => return self.plan_action(PlanAction::TakeOver),
            Command::Audit => {
                if self.log.audit.take().is_some() {
                    self.status = Some("the log".into());
                } else {
                    return vec![Effect::LoadAudit];
                }
            }
            Command::ConvertNew => self.mode = Mode::NewConversion(Default::default()),
            Command::ConvertCancel => self.status = self.conversions.cancel_selected(),
            Command::Show(View::Plans) => {
                self.view = View::Plans;
                return vec![Effect::LoadPlans];
            }
            other => self.command(other),
        }
        vec![]
    }

    /// Opens the Plans view's confirm dialog for `action` (the gate says what it needs).
    fn plan_action(&mut self, action: PlanAction) -> Vec<Effect> {
        let reply = self.plans.confirm(action, &self.gate);
        self.apply(reply)
    }

    /// Commands that only change the view state.
    fn command(&mut self, c: Command) {
        let page = self.page.max(1);
        // The pane shows the selection from its top again when the selection moves.
        if matches!(
            c,
            Command::Up
                | Command::Down
                | Command::GotoPrefix
                | Command::Bottom
                | Command::PageUp
                | Command::PageDown
        ) {
            self.pane_scroll = 0;
        }
        {
            let (list, len) = self.list_mut();
            match c {
                Command::Up => list.up(1),
                Command::Down => list.down(1, len),
                Command::GotoPrefix => list.top(),
                Command::Bottom => list.bottom(len),
                Command::PageUp => list.up(page),
                Command::PageDown => list.down(page, len),
                _ => {}
            }
            if self.view == View::Log
                && matches!(c, Command::Up | Command::PageUp | Command::GotoPrefix)
            {
                self.log.follow = false;
            }
        }
        match c {
            Command::Help => self.mode = Mode::Help { scroll: 0 },
            Command::Messages => self.mode = Mode::Messages { scroll: 0 },
            Command::Back => self.back(),
            Command::Palette => self.mode = Mode::Palette(Input::default()),
            Command::Filter => {
                let current = match self.view {
                    View::Fleet => self.fleet.rows.filter.to_string(),
                    View::Images => self.images.rows.filter.to_string(),
                    View::Log => self.log.filter.clone(),
                    View::Drift | View::Plans | View::Conversions | View::Contexts => return,
                };
                self.mode = Mode::Filter(Input::new(current));
            }
            Command::Show(v) => self.view = v,
            Command::Detail if self.view == View::Images => self.open_users(),
            Command::Detail if self.view == View::Drift => self.open_drift_cell(),
            Command::Detail if self.view == View::Contexts => self.open_context(),
            Command::Detail | Command::DetailPane => self.detail = !self.detail,
            Command::Json => self.open_json(),
            Command::PaneDown => self.pane_scroll = self.pane_scroll.saturating_add(1),
            Command::PaneUp => self.pane_scroll = self.pane_scroll.saturating_sub(1),
            Command::Mark => self.toggle_mark(),
            Command::SortNext => {
                if let Some(d) = &self.data {
                    self.fleet.sort_next(d);
                }
            }
            Command::SortReverse => {
                if let Some(d) = &self.data {
                    self.fleet.reverse(d);
                }
            }
            Command::ToggleGrouping => {
                self.drift_by_region = !self.drift_by_region;
                self.rebuild_matrix();
            }
            Command::Follow => self.log.follow = !self.log.follow,
            _ => {}
        }
    }

    fn back(&mut self) {
        if self.detail {
            self.detail = false;
            return;
        }
        match self.view {
            View::Fleet if !self.fleet.rows.filter.is_empty() => _ = self.set_filter(""),
            View::Images if !self.images.rows.filter.is_empty() => _ = self.set_filter(""),
            View::Log if !self.log.filter.is_empty() => _ = self.set_filter(""),
            View::Fleet if !self.fleet.rows.marked.is_empty() => self.fleet.rows.marked.clear(),
            View::Images if !self.images.rows.marked.is_empty() => self.images.rows.marked.clear(),
            View::Fleet => {}
            _ => self.view = View::Fleet,
        }
    }

    fn toggle_mark(&mut self) {
        match self.view {
            View::Fleet => self.fleet.rows.toggle_mark(),
            View::Images => self.images.rows.toggle_mark(),
            _ => {}
        }
    }

    /// Applies a filter expression to the current view; a bad term leaves the old filter
    /// in place, records why in `filter_error` and returns false.
    pub fn set_filter(&mut self, text: &str) -> bool {
        self.set_filter_on(self.view, text)
    }

    /// The same for `view`.
    pub fn set_filter_on(&mut self, view: View, text: &str) -> bool {
        self.filter_error = None;
        let parsed = match view {
            View::Log => {
                self.log.filter = text.trim().to_string();
                return true;
            }
            View::Drift | View::Plans | View::Conversions | View::Contexts => return true,
            _ => Filter::parse(text),
        };
        let filter = match parsed {
            Ok(f) => f,
            Err(e) => {
                self.filter_error = Some(e.to_string());
                return false;
            }
        };
        let Some(d) = &self.data else { return true };
        match view {
            View::Fleet => {
                self.fleet.set_filter(filter, d);
            }
            View::Images => {
                self.images.set_filter(filter, d);
            }
            _ => {}
        }
        true
    }

    fn on_filter_key(&mut self, key: KeyEvent, mut input: Input) -> Vec<Effect> {
        match key.code {
            KeyCode::Enter => {
                // An invalid filter keeps the prompt open with its error: never a silent
                // filter that matches nothing or the last valid prefix.
                if !self.set_filter(input.value()) {
                    self.mode = Mode::Filter(input);
                }
                return vec![];
            }
            KeyCode::Esc => {
                self.set_filter("");
                return vec![];
            }
            _ => {}
        }
        if let Some(req) = input_request(&key) {
            input.handle(req);
            // Live: every keystroke re-filters, so the list follows the typing.
            let value = input.value().to_string();
            self.set_filter(&value);
        }
        self.mode = Mode::Filter(input);
        vec![]
    }
}

/// A scrolling overlay's next position for `key` (`None`: the key closes it).
fn overlay_scroll(key: &KeyEvent, scroll: usize, last: usize) -> Option<usize> {
    let next = match key_name(key).as_deref() {
        Some("esc" | "enter" | "q" | "M" | "?") => return None,
        Some("j" | "down") => scroll + 1,
        Some("k" | "up") => scroll.saturating_sub(1),
        Some("pgdn" | "space") => scroll + 10,
        Some("pgup") => scroll.saturating_sub(10),
        Some("g" | "home") => 0,
        Some("G" | "end") => last,
        _ => scroll,
    };
    Some(next.min(last))
}
