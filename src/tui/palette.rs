//! The `:` command palette: views and their aliases (`:vm`, `:img`, `:drift`, `:plans`,
//! `:conv`), `:ctx NAME`, sorting, filters, exports; tab completes and tab again cycles
//! through the completions.

use super::app::{App, Effect, ExportFormat, Mode};
use super::fleet::Column;
use super::keymap::{input_request, Command, View};
use crossterm::event::{KeyCode, KeyEvent};
use tui_input::Input;

impl App {
    /// Palette commands matching what has been typed.
    pub fn palette_candidates(&self, typed: &str) -> Vec<String> {
        let mut all: Vec<String> = [
            "fleet",
            "images",
            "drift",
            "log",
            "plans",
            "conversions",
            "vm",
            "img",
            "conv",
            "help",
            "messages",
            "refresh",
            "quit",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        all.extend(["export csv", "export json"].map(String::from));
        all.extend(Column::ALL.iter().map(|c| format!("sort {}", c.title())));
        for word in ["context", "ctx"] {
            all.push(format!("{word} all"));
            if let Some(full) = &self.full {
                all.extend(full.sources.iter().map(|s| format!("{word} {s}")));
            }
        }
        all.push("filter ".into());
        let typed = typed.trim_start();
        all.into_iter().filter(|c| c.starts_with(typed)).collect()
    }

    pub(super) fn on_palette_key(&mut self, key: KeyEvent, mut input: Input) -> Vec<Effect> {
        match key.code {
            KeyCode::Esc => return vec![],
            // Tab completes; tab again cycles through the other completions of what was
            // typed.
            KeyCode::Tab => {
                let (prefix, next) = match self.palette_tab.take() {
                    Some((prefix, i))
                        if self.palette_candidates(&prefix).get(i).map(String::as_str)
                            == Some(input.value()) =>
                    {
                        (prefix, i + 1)
                    }
                    _ => (input.value().to_string(), 0),
                };
                let cands = self.palette_candidates(&prefix);
                if !cands.is_empty() {
                    let i = next % cands.len();
                    input = Input::new(cands[i].clone());
                    self.palette_tab = Some((prefix, i));
                }
                self.mode = Mode::Palette(input);
                return vec![];
            }
            KeyCode::Enter => {
                self.palette_tab = None;
                return self.execute(input.value());
            }
            _ => {
                self.palette_tab = None;
                if let Some(req) = input_request(&key) {
                    input.handle(req);
                }
            }
        }
        self.mode = Mode::Palette(input);
        vec![]
    }

    /// Runs a palette command line.
    pub fn execute(&mut self, line: &str) -> Vec<Effect> {
        let line = line.trim();
        let (word, rest) = line
            .split_once(' ')
            .map_or((line, ""), |(w, r)| (w, r.trim()));
        // Resource aliases, k9s style.
        let word = match word {
            "vm" | "vms" => "fleet",
            "img" | "image" => "images",
            "conv" => "conversions",
            "ctx" => "context",
            w => w,
        };
        let view = View::ALL.into_iter().find(|v| v.name() == word);
        match (word, rest) {
            _ if view.is_some() => self.run(Command::Show(view.expect("checked"))),
            ("help", _) => self.run(Command::Help),
            ("messages", _) => self.run(Command::Messages),
            ("refresh", _) => self.run(Command::Refresh),
            ("quit" | "q", _) => self.run(Command::Quit),
            ("export", "" | "csv") => vec![Effect::Export(ExportFormat::Csv)],
            ("export", "json") => vec![Effect::Export(ExportFormat::Json)],
            ("sort", "") => self.run(Command::SortNext),
            ("sort", col) => {
                match (Column::parse(col), &self.data) {
                    (Some(c), Some(d)) => {
                        self.view = View::Fleet;
                        self.fleet.sort_by(c, d);
                    }
                    (None, _) => {
                        let names: Vec<_> = Column::ALL.iter().map(|c| c.title()).collect();
                        self.status = Some(format!(
                            "unknown column `{col}`; columns: {}",
                            names.join(", ")
                        ));
                    }
                    _ => {}
                }
                vec![]
            }
            ("context", "") => self.run(Command::Show(View::Contexts)),
            ("context", name) => {
                self.switch_context(name);
                vec![]
            }
            ("filter", expr) => {
                if !self.set_filter(expr) {
                    self.status = self.filter_error.take();
                }
                vec![]
            }
            ("", _) => vec![],
            _ => {
                self.status = Some(format!(
                    "unknown command `{line}`; try vm, img, drift, log, plans, conv, sort COLUMN, ctx NAME, export json, filter EXPR, quit"
                ));
                vec![]
            }
        }
    }

    /// Enter on the Contexts view: that context's fleet.
    pub(super) fn open_context(&mut self) {
        let picked = self
            .context_outcomes()
            .get(self.ctx_list.selected)
            .map(|c| (c.context.to_string(), c.state, c.reason().map(String::from)));
        let Some((name, state, reason)) = picked else {
            return;
        };
        let scanned = self
            .full
            .as_ref()
            .is_some_and(|f| f.sources.contains(&name));
        if !scanned {
            // A skipped or undiscovered context has no fleet to show: say why.
            self.status = Some(format!(
                "{name} was not scanned ({state}): {}",
                reason.as_deref().unwrap_or("no reason recorded")
            ));
            return;
        }
        self.switch_context(&name);
        self.view = View::Fleet;
    }

    fn switch_context(&mut self, name: &str) {
        let known: Vec<String> = self
            .full
            .as_ref()
            .map(|f| f.sources.clone())
            .unwrap_or_default();
        let next = match name {
            "" | "all" => None,
            n if known.iter().any(|k| k == n) => Some(n.to_string()),
            n => {
                self.status = Some(format!(
                    "unknown context `{n}`; contexts: all, {}",
                    known.join(", ")
                ));
                return;
            }
        };
        self.context = next;
        self.rebuild();
        self.status = Some(format!(
            "context: {}",
            self.context.as_deref().unwrap_or("all")
        ));
    }
}
