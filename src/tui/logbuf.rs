//! A bounded ring buffer of tracing events, filled by a `tracing_subscriber` layer, that
//! the Log view reads. The TUI never prints logs to the terminal it draws on.

use chrono::{DateTime, Utc};
use std::collections::VecDeque;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer};

/// One captured event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub time: DateTime<Utc>,
    pub level: Level,
    pub target: String,
    pub message: String,
}

impl LogLine {
    /// An audit record as a line of the dashboard's Log view (refusals and failures warn).
    pub fn from_audit(r: &drydock_store::AuditRecord) -> LogLine {
        let level = match r.outcome.as_str() {
            "refused" | "failed" => tracing::Level::WARN,
            _ => tracing::Level::INFO,
        };
        let mut message = format!(
            "{} in {}: {} {} — {}",
            r.operator, r.context, r.operation, r.target, r.outcome
        );
        if r.dry_run {
            message.push_str(" (dry run)");
        }
        message.push_str(&format!(", confirmed: {}", r.confirmation));
        if let Some(p) = &r.plan {
            message.push_str(&format!(", plan {p}"));
        }
        if let Some(e) = &r.error {
            message.push_str(&format!(": {e}"));
        }
        LogLine {
            time: r.at,
            level,
            target: "audit".into(),
            message,
        }
    }

    pub fn render(&self) -> String {
        format!(
            "{} {:5} {}: {}",
            self.time.format("%H:%M:%S"),
            self.level,
            self.target,
            self.message
        )
    }
}

/// The shared buffer (cheap to clone).
#[derive(Debug, Clone)]
pub struct LogBuffer {
    lines: Arc<Mutex<VecDeque<LogLine>>>,
    capacity: usize,
}

impl LogBuffer {
    pub fn new(capacity: usize) -> LogBuffer {
        LogBuffer {
            lines: Arc::new(Mutex::new(VecDeque::with_capacity(capacity))),
            capacity: capacity.max(1),
        }
    }

    pub fn push(&self, line: LogLine) {
        let mut lines = self.lines.lock().unwrap_or_else(|e| e.into_inner());
        if lines.len() == self.capacity {
            lines.pop_front();
        }
        lines.push_back(line);
    }

    /// A copy of the buffered lines, oldest first.
    pub fn snapshot(&self) -> Vec<LogLine> {
        let lines = self.lines.lock().unwrap_or_else(|e| e.into_inner());
        lines.iter().cloned().collect()
    }

    pub fn len(&self) -> usize {
        self.lines.lock().map(|l| l.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

struct MessageVisitor(String);

impl Visit for MessageVisitor {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.0, "{value:?}");
        } else {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0.push_str(value);
        } else {
            let _ = write!(self.0, " {}={value}", field.name());
        }
    }
}

impl<S: Subscriber> Layer<S> for LogBuffer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut visitor = MessageVisitor(String::new());
        event.record(&mut visitor);
        let meta = event.metadata();
        self.push(LogLine {
            time: Utc::now(),
            level: *meta.level(),
            target: meta.target().to_string(),
            message: visitor.0.trim().to_string(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing_subscriber::layer::SubscriberExt;

    #[test]
    fn keeps_the_newest_lines_and_formats_fields() {
        let buf = LogBuffer::new(2);
        let subscriber = tracing_subscriber::registry().with(buf.clone());
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!("one");
            tracing::warn!(scope = "eu-west-1", "two");
            tracing::error!("three");
        });
        let lines = buf.snapshot();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].message, "two scope=eu-west-1");
        assert_eq!(lines[1].level, Level::ERROR);
        assert!(lines[1].render().contains("ERROR"));
    }
}
