//! The dashboard's messages: what happened (`Action`: keys, ticks, task results), what the
//! reducer asks the runtime to do (`Effect`), and what has the keyboard (`Mode`). Plain
//! data, shared by the reducer, the views' states, the renderer and the runtime.

use super::list::ListState;
use crate::gate::{Confirmation, MutationRequest};
use crate::history::HistoryPoint;
use crate::model::Inventory;
use crate::plan::show::Progress;
use crate::plan::{Plan, PlanRow, StepRow};
use chrono::{DateTime, Utc};
use crossterm::event::{KeyEvent, MouseEvent};
use serde::Serialize;
use std::path::PathBuf;
use tui_input::Input;

/// The outcome of one gated change of a bulk action: which resource, through which
/// context, and what happened or why it failed.
#[derive(Debug, Clone, PartialEq)]
pub struct MutationResult {
    pub provider: String,
    /// The resource the change targeted (a VM or image id).
    pub target: String,
    pub result: Result<String, String>,
}

/// Something that happened: a key, a tick, a result from a task.
#[derive(Debug)]
pub enum Action {
    Key(KeyEvent),
    Mouse(MouseEvent),
    /// The terminal's new size (columns, rows).
    Resize(u16, u16),
    Tick(DateTime<Utc>),
    ScanProgress {
        provider: String,
        done: usize,
        total: usize,
    },
    ScanFinished(Box<Inventory>),
    ScanFailed(String),
    MutationsFinished(Vec<MutationResult>),
    /// The plans read from the journal.
    PlansLoaded(Result<Vec<PlanView>, String>),
    /// Something in the store changed (another process or operator): reload plans.
    PlansChanged,
    /// The audit log, as log lines (or why it could not be read).
    AuditLoaded(Result<Vec<crate::tui::logbuf::LogLine>, String>),
    /// A plan made in the dashboard was written (where), or why not.
    PlanSaved(Result<String, String>),
    /// A plan action finished: what happened, or why it failed.
    PlanActionDone(Result<String, String>),
    Exported(Result<PathBuf, String>),
    /// A conversion's progress and elapsed seconds.
    ConversionProgress {
        id: usize,
        progress: crate::convert::Progress,
        seconds: f64,
    },
    ConversionDone {
        id: usize,
        result: Result<Finished, String>,
    },
    /// An SBOM named by URL (`drydock:sbom`) was fetched, or why not.
    SbomFetched {
        url: String,
        result: Result<crate::inspect::diff::Components, String>,
    },
    /// A task died (e.g. panicked): leave the dashboard with this error.
    Fatal(String),
}

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Json,
}

/// Work for the runtime.
#[derive(Debug)]
pub enum Effect {
    Scan,
    /// Fetch SBOMs that images name by URL, off the UI thread.
    FetchSboms(Vec<String>),
    Apply {
        requests: Vec<MutationRequest>,
        confirmation: Confirmation,
    },
    Export(ExportFormat),
    RecordHistory(HistoryPoint),
    /// Read the plans from the journal.
    LoadPlans,
    /// Read the audit log from the store.
    LoadAudit,
    /// Act on a plan (through the executor and the mutation gate).
    PlanAction {
        plan: String,
        action: PlanAction,
        confirmation: Confirmation,
    },
    /// Write a plan made in the dashboard (plan file + journal), as `plan new` does.
    SavePlan(Box<Plan>),
    /// Convert a disk image on a thread (local files only: no mutation gate).
    Convert {
        id: usize,
        input: PathBuf,
        output: PathBuf,
        opts: Box<crate::convert::Options>,
        cancel: std::sync::Arc<std::sync::atomic::AtomicBool>,
    },
    /// Transfer an image between local disks and clouds on a thread, through the gate
    /// with the confirmation given at the prompt.
    Transfer {
        id: usize,
        request: Box<crate::transfer::Request>,
        confirmation: Confirmation,
        cancel: std::sync::Arc<std::sync::atomic::AtomicBool>,
    },
    Quit,
}

/// A pending change awaiting confirmation.
#[derive(Debug, Clone)]
pub struct ConfirmState {
    pub title: String,
    pub lines: Vec<String>,
    pub requests: Vec<MutationRequest>,
    /// For production contexts: the text to type.
    pub expected: Option<String>,
    pub typed: Input,
    /// A plan action instead of `requests`.
    pub plan: Option<(String, PlanAction)>,
}

/// What has the keyboard.
#[derive(Debug, Clone)]
pub enum Mode {
    Normal,
    Filter(Input),
    Palette(Input),
    /// The help overlay, scrolled by `scroll` lines.
    Help {
        scroll: usize,
    },
    /// The messages overlay (every status line in full, newest first), scrolled.
    Messages {
        scroll: usize,
    },
    Json {
        text: String,
        scroll: usize,
    },
    Confirm(Box<ConfirmState>),
    /// The new-conversion prompt.
    NewConversion(ConversionPrompt),
    /// What uses an image (from `enter` in the Images view).
    Users(Box<UsersState>),
    /// Making a plan (`n` in the Plans view).
    NewPlan(Box<NewPlan>),
}

/// One thing that uses an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserItem {
    /// A VM (index into the shown inventory's VMs).
    Vm(u32),
    ScaleGroup(usize),
    LaunchTemplate(usize),
}

/// The list of what uses an image, with its cursor.
#[derive(Debug, Clone)]
pub struct UsersState {
    /// The image (index into the shown inventory's images).
    pub image: u32,
    pub items: Vec<UserItem>,
    pub list: crate::tui::list::ListState,
}

/// What a person can do to a plan from the dashboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanAction {
    /// Approve the next wave (or the finish) and run it.
    Approve,
    Pause,
    Abort,
    /// Remove the current wave's replacements, keep the old VMs.
    Rollback,
    /// Take the run over from a holder that stopped beating, then run as `Approve` does.
    TakeOver,
}

impl PlanAction {
    pub fn verb(self) -> &'static str {
        match self {
            PlanAction::Approve => "Approve and run",
            PlanAction::Pause => "Pause",
            PlanAction::Abort => "Abort",
            PlanAction::Rollback => "Roll back the current wave of",
            PlanAction::TakeOver => "Take over and run",
        }
    }
}

/// One plan as the view shows it.
#[derive(Debug, Clone)]
pub struct PlanView {
    pub row: PlanRow,
    pub plan: Plan,
    pub waves: Vec<Progress>,
    pub steps: Vec<StepRow>,
}

impl PlanView {
    /// The wave a person acts on: the one approved last.
    pub fn current_wave(&self) -> usize {
        (self.row.approved.max(0) as usize).min(self.plan.waves.len().saturating_sub(1))
    }
}

/// A finished job's outcome, sent back by the runtime.
#[derive(Debug, Clone)]
pub struct Finished {
    /// What a transfer created (an image id, or the local file).
    pub created: Option<String>,
    pub sha256: Option<String>,
    pub size: u64,
    pub warnings: Vec<String>,
    pub seconds: f64,
    /// The input's virtual size and bytes of data (an empty disk has none: it is still
    /// 100 % of its size done).
    pub virtual_size: u64,
    pub data: u64,
}

/// The new-conversion prompt: what is typed, the error of the last attempt, and an
/// existing output waiting for `y` before it is replaced.
#[derive(Debug, Clone, Default)]
pub struct ConversionPrompt {
    pub input: Input,
    pub error: Option<String>,
    pub overwrite: Option<PathBuf>,
    /// A transfer into a cloud waiting for its confirmation.
    pub pending: Option<PendingTransfer>,
}

/// A transfer the prompt holds until it is confirmed: `y`, or the production context's
/// name typed into the prompt and Enter.
#[derive(Debug, Clone)]
pub struct PendingTransfer {
    /// The request line as typed.
    pub line: String,
    pub context: String,
    pub typed: bool,
}

/// What a view's own key handling asks of the dashboard: effects to run, a status line,
/// and the mode that has the keyboard next (`None`: leave it as it is).
#[derive(Debug, Default)]
pub struct Reply {
    pub effects: Vec<Effect>,
    pub status: Option<String>,
    pub mode: Option<Mode>,
}

impl Reply {
    pub fn status(text: impl Into<String>) -> Reply {
        Reply {
            status: Some(text.into()),
            ..Reply::default()
        }
    }

    pub fn mode(mode: Mode) -> Reply {
        Reply {
            mode: Some(mode),
            ..Reply::default()
        }
    }
}

/// A family to plan for, with how many of its VMs are not current.
#[derive(Debug, Clone, PartialEq)]
pub struct FamilyChoice {
    pub family: String,
    pub vms: usize,
    pub drifting: usize,
}

/// The settings form's fields, in order.
pub const FIELDS: [(&str, &str); 5] = [
    ("to version", ""),
    ("waves", "1,10%,50%,100%"),
    ("max unavailable", "25%"),
    ("grace", "7d"),
    ("health cmd", ""),
];

/// Where the new-plan dialog is.
#[derive(Debug, Clone)]
pub enum NewPlan {
    Family {
        families: Vec<FamilyChoice>,
        list: ListState,
    },
    Settings {
        family: String,
        fields: Vec<Input>,
        focus: usize,
        error: Option<String>,
    },
    Review {
        family: String,
        fields: Vec<Input>,
        plan: Box<Plan>,
        lines: Vec<String>,
        scroll: usize,
    },
}
