//! Key bindings: one table that drives key handling and the generated help. Read-only mode
//! removes every mutating binding here, in one place, so neither the keys nor their help
//! exist when nothing may change.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tui_input::InputRequest;

/// The dashboard's views, in digit-key order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum View {
    Fleet,
    Images,
    Drift,
    Log,
    Plans,
    Conversions,
    Contexts,
}

impl View {
    pub const ALL: [View; 7] = [
        View::Fleet,
        View::Images,
        View::Drift,
        View::Log,
        View::Plans,
        View::Conversions,
        View::Contexts,
    ];

    pub fn name(self) -> &'static str {
        match self {
            View::Fleet => "fleet",
            View::Images => "images",
            View::Drift => "drift",
            View::Log => "log",
            View::Plans => "plans",
            View::Conversions => "conversions",
            View::Contexts => "contexts",
        }
    }

    /// The name abbreviated for narrow terminals.
    pub fn short_name(self) -> &'static str {
        match self {
            View::Fleet => "fleet",
            View::Images => "imgs",
            View::Drift => "drift",
            View::Log => "log",
            View::Plans => "plans",
            View::Conversions => "conv",
            View::Contexts => "ctx",
        }
    }
}

/// What a key does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Quit,
    Help,
    Back,
    Up,
    Down,
    /// First `g` of `gg`.
    GotoPrefix,
    Bottom,
    PageUp,
    PageDown,
    Filter,
    Palette,
    Detail,
    Json,
    Mark,
    Export,
    Refresh,
    SortNext,
    SortReverse,
    Show(View),
    ToggleGrouping,
    Follow,
    Audit,
    /// Tag the selected or marked VMs or images `drydock:retire`.
    TagRetire,
    /// Deprecate the selected or marked images.
    Deprecate,
    /// Plans view: approve and run the next wave, pause, abort, roll back the current wave.
    PlanApprove,
    PlanPause,
    PlanAbort,
    PlanRollback,
    PlanTakeOver,
    /// Conversions view: start a disk-image conversion, cancel the selected one.
    ConvertNew,
    ConvertCancel,
    /// Every status line and failure cause in full.
    Messages,
    /// Toggle the detail pane (Fleet, Images).
    DetailPane,
    /// Scroll the detail pane (Fleet, Images) or the selected plan's pane (Plans).
    PaneDown,
    PaneUp,
    /// Plans view: make a plan (family → settings → review → write).
    PlanNew,
}

/// One binding.
#[derive(Debug, Clone, Copy)]
pub struct Binding {
    /// Key names as `key_name` spells them; the first is shown in help.
    pub keys: &'static [&'static str],
    pub command: Command,
    /// Views the binding works in; empty means every view.
    pub views: &'static [View],
    pub help: &'static str,
    /// Changes a cloud: removed in read-only mode.
    pub mutating: bool,
}

const LISTS: &[View] = &[View::Fleet, View::Images, View::Log];
/// Views with a list to move through.
const NAV: &[View] = &[
    View::Fleet,
    View::Images,
    View::Drift,
    View::Log,
    View::Plans,
    View::Conversions,
    View::Contexts,
];
const TABLES: &[View] = &[View::Fleet, View::Images];
/// Views with a pane that scrolls on its own.
const PANES: &[View] = &[View::Fleet, View::Images, View::Plans];

const fn b(
    keys: &'static [&'static str],
    command: Command,
    views: &'static [View],
    help: &'static str,
) -> Binding {
    Binding {
        keys,
        command,
        views,
        help,
        mutating: false,
    }
}

/// Every binding, in help order.
pub const BINDINGS: &[Binding] = &[
    b(&["?"], Command::Help, &[], "help for this view"),
    b(&["q", "ctrl-c"], Command::Quit, &[], "quit"),
    b(
        &["esc"],
        Command::Back,
        &[],
        "back: close pane, clear filter",
    ),
    b(
        &[":"],
        Command::Palette,
        &[],
        "command palette (tab completes)",
    ),
    b(&["1"], Command::Show(View::Fleet), &[], "fleet view"),
    b(&["2"], Command::Show(View::Images), &[], "images view"),
    b(&["3"], Command::Show(View::Drift), &[], "drift view"),
    b(&["4"], Command::Show(View::Log), &[], "log view"),
    b(&["5"], Command::Show(View::Plans), &[], "plans view"),
    b(
        &["6"],
        Command::Show(View::Conversions),
        &[],
        "conversions view",
    ),
    b(
        &["7"],
        Command::Show(View::Contexts),
        &[],
        "contexts view (:ctx): each context's scan outcome",
    ),
    b(
        &["n"],
        Command::ConvertNew,
        &[View::Conversions],
        "convert a disk image (IN OUT [--to F])",
    ),
    b(
        &["x"],
        Command::ConvertCancel,
        &[View::Conversions],
        "cancel the selected conversion",
    ),
    b(&["r"], Command::Refresh, &[], "refresh (rescan)"),
    b(
        &["M"],
        Command::Messages,
        &[],
        "messages: every status and failure in full",
    ),
    b(&["j", "down"], Command::Down, NAV, "down"),
    b(&["k", "up"], Command::Up, NAV, "up"),
    b(&["g"], Command::GotoPrefix, NAV, "gg: top"),
    b(&["G", "end"], Command::Bottom, NAV, "bottom"),
    b(&["pgdn", "ctrl-f"], Command::PageDown, NAV, "page down"),
    b(&["pgup", "ctrl-b"], Command::PageUp, NAV, "page up"),
    b(
        &["/"],
        Command::Filter,
        LISTS,
        "filter: text, field:value, !negate",
    ),
    b(
        &["s"],
        Command::SortNext,
        &[View::Fleet],
        "sort by next column",
    ),
    b(
        &["S"],
        Command::SortReverse,
        &[View::Fleet],
        "reverse sort order",
    ),
    b(&["enter"], Command::Detail, &[View::Fleet], "detail pane"),
    b(
        &["enter"],
        Command::Detail,
        &[View::Images],
        "what uses the image (VMs, scale groups, templates)",
    ),
    b(
        &["enter"],
        Command::Detail,
        &[View::Drift],
        "open the fleet on this family and account/region",
    ),
    b(
        &["enter"],
        Command::Detail,
        &[View::Contexts],
        "show this context's fleet",
    ),
    b(&["d"], Command::DetailPane, TABLES, "detail pane"),
    b(
        &["J", "ctrl-d"],
        Command::PaneDown,
        PANES,
        "scroll the detail pane down",
    ),
    b(
        &["K", "ctrl-u"],
        Command::PaneUp,
        PANES,
        "scroll the detail pane up",
    ),
    b(&["y"], Command::Json, LISTS, "raw JSON of the selection"),
    b(&["space"], Command::Mark, TABLES, "mark for bulk actions"),
    b(
        &["ctrl-s"],
        Command::Export,
        &[],
        "export this view (CSV; :export json)",
    ),
    b(
        &["a"],
        Command::ToggleGrouping,
        &[View::Drift],
        "rows by account / region",
    ),
    b(&["f"], Command::Follow, &[View::Log], "follow the tail"),
    b(
        &["A"],
        Command::Audit,
        &[View::Log],
        "the audit log (every gated change, by whom) / back to the log",
    ),
    Binding {
        keys: &["t"],
        command: Command::TagRetire,
        views: TABLES,
        help: "tag marked/selected for retirement",
        mutating: true,
    },
    Binding {
        keys: &["D"],
        command: Command::Deprecate,
        views: &[View::Images],
        help: "deprecate marked/selected images",
        mutating: true,
    },
    Binding {
        keys: &["a"],
        command: Command::PlanApprove,
        views: &[View::Plans],
        help: "approve the next wave and run it",
        mutating: true,
    },
    // Pausing and making plans write the journal: read-only mode hides them too.
    Binding {
        keys: &["p"],
        command: Command::PlanPause,
        views: &[View::Plans],
        help: "pause the plan (at once)",
        mutating: true,
    },
    Binding {
        keys: &["n"],
        command: Command::PlanNew,
        views: &[View::Plans],
        help: "new plan: family → settings → review → write",
        mutating: true,
    },
    Binding {
        keys: &["T"],
        command: Command::PlanTakeOver,
        views: &[View::Plans],
        help: "take over a plan whose runner stopped (its holder is named first)",
        mutating: true,
    },
    Binding {
        keys: &["X"],
        command: Command::PlanAbort,
        views: &[View::Plans],
        help: "abort the plan",
        mutating: true,
    },
    Binding {
        keys: &["R"],
        command: Command::PlanRollback,
        views: &[View::Plans],
        help: "roll back the current wave",
        mutating: true,
    },
];

/// The bindings in force.
#[derive(Debug, Clone)]
pub struct Keymap {
    bindings: Vec<Binding>,
}

impl Keymap {
    /// All bindings, less the mutating ones in read-only mode.
    pub fn new(readonly: bool) -> Keymap {
        Keymap {
            bindings: BINDINGS
                .iter()
                .filter(|b| !(readonly && b.mutating))
                .copied()
                .collect(),
        }
    }

    fn active(&self, view: View) -> impl Iterator<Item = &Binding> {
        self.bindings
            .iter()
            .filter(move |b| b.views.is_empty() || b.views.contains(&view))
    }

    /// The command `key` runs in `view`.
    pub fn lookup(&self, view: View, key: &str) -> Option<Command> {
        self.active(view)
            .find(|b| b.keys.contains(&key))
            .map(|b| b.command)
    }

    /// Help lines for `view`: (keys, what they do).
    pub fn help(&self, view: View) -> Vec<(String, &'static str)> {
        self.active(view)
            .map(|b| (b.keys.join(" "), b.help))
            .collect()
    }
}

/// A key's name as bindings spell it: `j`, `G`, `ctrl-s`, `enter`, `space`, `pgdn`.
pub fn key_name(key: &KeyEvent) -> Option<String> {
    let base = match key.code {
        KeyCode::Char(' ') => "space".to_string(),
        KeyCode::Char(c) => c.to_string(),
        KeyCode::Enter => "enter".into(),
        KeyCode::Esc => "esc".into(),
        KeyCode::Up => "up".into(),
        KeyCode::Down => "down".into(),
        KeyCode::Left => "left".into(),
        KeyCode::Right => "right".into(),
        KeyCode::PageUp => "pgup".into(),
        KeyCode::PageDown => "pgdn".into(),
        KeyCode::Home => "home".into(),
        KeyCode::End => "end".into(),
        KeyCode::Tab => "tab".into(),
        KeyCode::BackTab => "backtab".into(),
        KeyCode::Backspace => "backspace".into(),
        KeyCode::Delete => "delete".into(),
        KeyCode::F(n) => format!("f{n}"),
        _ => return None,
    };
    if key.modifiers.contains(KeyModifiers::CONTROL) {
        Some(format!("ctrl-{base}"))
    } else {
        Some(base)
    }
}

/// Maps a key to a text-field edit.
pub fn input_request(key: &KeyEvent) -> Option<InputRequest> {
    use crossterm::event::KeyModifiers as M;
    let ctrl = key.modifiers.contains(M::CONTROL);
    Some(match key.code {
        KeyCode::Char('w') if ctrl => InputRequest::DeletePrevWord,
        KeyCode::Char('u') if ctrl => InputRequest::DeleteFromStart,
        KeyCode::Char('a') if ctrl => InputRequest::GoToStart,
        KeyCode::Char('e') if ctrl => InputRequest::GoToEnd,
        KeyCode::Char(c) if !ctrl => InputRequest::InsertChar(c),
        KeyCode::Backspace => InputRequest::DeletePrevChar,
        KeyCode::Delete => InputRequest::DeleteNextChar,
        KeyCode::Left => InputRequest::GoToPrevChar,
        KeyCode::Right => InputRequest::GoToNextChar,
        KeyCode::Home => InputRequest::GoToStart,
        KeyCode::End => InputRequest::GoToEnd,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readonly_removes_mutating_keys_and_their_help() {
        let rw = Keymap::new(false);
        let ro = Keymap::new(true);
        assert_eq!(rw.lookup(View::Images, "D"), Some(Command::Deprecate));
        assert_eq!(ro.lookup(View::Images, "D"), None);
        assert_eq!(ro.lookup(View::Fleet, "t"), None);
        assert!(rw.help(View::Images).iter().any(|(k, _)| k == "D"));
        assert!(!ro
            .help(View::Images)
            .iter()
            .any(|(k, _)| k == "D" || k == "t"));
    }

    #[test]
    fn help_lists_only_keys_valid_in_the_view() {
        let km = Keymap::new(false);
        let drift: Vec<_> = km.help(View::Drift).into_iter().map(|(k, _)| k).collect();
        assert!(drift.contains(&"a".to_string()));
        assert!(
            !drift.contains(&"s".to_string()),
            "no sorting in the drift view"
        );
        assert!(!drift.contains(&"D".to_string()));
        assert_eq!(km.lookup(View::Drift, "s"), None);
    }

    #[test]
    fn key_names() {
        let k = |code, m| key_name(&KeyEvent::new(code, m)).unwrap();
        assert_eq!(k(KeyCode::Char('s'), KeyModifiers::CONTROL), "ctrl-s");
        assert_eq!(k(KeyCode::Char('G'), KeyModifiers::SHIFT), "G");
        assert_eq!(k(KeyCode::Char(' '), KeyModifiers::NONE), "space");
        assert_eq!(k(KeyCode::PageDown, KeyModifiers::NONE), "pgdn");
    }
}
