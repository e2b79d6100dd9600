//! The Conversions view: one row per conversion job with a gauge, its rate and state; the
//! selected job's details (digest, warnings, error) below.

use crate::convert::human_bytes as human;
use crate::tui::app::App;
use crate::tui::conversions::{JobState, PROMPT_HELP};
use crate::tui::theme::Theme;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, LineGauge, Paragraph};
use ratatui::Frame;

pub fn conversions(f: &mut Frame<'_>, area: Rect, app: &App, theme: Theme) {
    let st = &app.conversions;
    let title = format!(" conversions {} ", st.jobs.len());
    let block = Block::bordered().title(Span::styled(title, theme.title()));
    if st.jobs.is_empty() {
        // The syntax wraps under its label: read whole at any width.
        let width = area.width.saturating_sub(2) as usize;
        let mut text = vec![Line::from(" no conversions yet")];
        for (lead, what) in [
            (" n: convert a disk image — ", PROMPT_HELP),
            (
                " formats: ",
                "raw qcow2 vhd vhd-dynamic vmdk vmdk-sparse ova (vhdx: read)",
            ),
        ] {
            text.extend(
                crate::tui::text::wrap(lead, what, width)
                    .into_iter()
                    .map(Line::from),
            );
        }
        f.render_widget(Paragraph::new(text).block(block), area);
        return;
    }
    let [list, detail] = crate::tui::layout::conversions(area);
    let inner = block.inner(list);
    f.render_widget(block, list);
    // Two lines per job: a description and a gauge.
    let per_page = (inner.height / 2).max(1) as usize;
    let window = st.list.window(per_page, st.jobs.len());
    for (row, i) in window.enumerate() {
        let job = &st.jobs[i];
        let y = inner.y + row as u16 * 2;
        if y + 1 >= inner.y + inner.height {
            break;
        }
        let (state, style) = match &job.state {
            JobState::Running => ("running", theme.warn()),
            JobState::Done { .. } => ("done", ratatui::style::Style::default()),
            JobState::Failed(_) => ("failed", theme.danger()),
            JobState::Cancelled => ("cancelled", theme.danger()),
        };
        let what = format!(
            "{} → {} ({})",
            job.input.display(),
            job.output.display(),
            if job.transfer {
                "transfer".to_string()
            } else {
                job.to.to_string()
            }
        );
        let tail = match &job.state {
            // A failed row keeps its reason on the row itself (in full in the details).
            JobState::Failed(e) => format!("  {e}"),
            JobState::Done { .. } => format!(
                "  {} ({} of data) in {:.1} s",
                human(job.progress.total),
                human(job.progress.data),
                job.seconds
            ),
            _ => format!(
                "  {} of {}  {:.0} MiB/s",
                human(job.progress.done),
                human(job.progress.total),
                job.rate()
            ),
        };
        let width = inner.width.saturating_sub(11) as usize;
        let mut head = Line::from(vec![
            Span::styled(format!(" {state:<9} "), style),
            Span::raw(crate::tui::text::ellipsize(&format!("{what}{tail}"), width)),
        ]);
        if i == st.list.selected {
            head = head.style(theme.selected());
        }
        f.render_widget(Paragraph::new(head), Rect::new(inner.x, y, inner.width, 1));
        let ratio = match &job.state {
            // Done is whole, whatever the size (an empty disk reads 0 of 0 bytes).
            JobState::Done { .. } => 1.0,
            _ if job.progress.total == 0 => 0.0,
            _ => (job.progress.done as f64 / job.progress.total as f64).clamp(0.0, 1.0),
        };
        let filled = match &job.state {
            JobState::Done { .. } => theme.ok(),
            _ => style,
        };
        // Thick for done, thin for to do: the bar reads without colour too.
        let gauge = LineGauge::default()
            .ratio(ratio)
            .label(format!(" {:5.1}%", ratio * 100.0))
            .filled_symbol(ratatui::symbols::line::THICK_HORIZONTAL)
            .unfilled_symbol(ratatui::symbols::line::HORIZONTAL)
            .filled_style(filled)
            .unfilled_style(theme.dim());
        f.render_widget(
            gauge,
            Rect::new(inner.x + 1, y + 1, inner.width.saturating_sub(2), 1),
        );
    }
    let lines: Vec<Line> = match st.jobs.get(st.list.selected) {
        Some(job) => match &job.state {
            JobState::Done {
                created,
                sha256,
                size,
                warnings,
            } => {
                let mut l: Vec<Line> = created
                    .iter()
                    .map(|c| Line::from(format!(" created {c}")))
                    .collect();
                l.extend([
                    Line::from(format!(" {} bytes written in {:.2} s", size, job.seconds)),
                    Line::from(format!(" sha256 {}", sha256.as_deref().unwrap_or("-"))),
                ]);
                l.extend(
                    warnings
                        .iter()
                        .map(|w| Line::styled(format!(" warning: {w}"), theme.warn())),
                );
                l
            }
            JobState::Failed(e) => vec![Line::styled(format!(" {e}"), theme.danger())],
            JobState::Cancelled => vec![Line::from(
                " cancelled: nothing was written at the destination",
            )],
            JobState::Running => vec![Line::from(format!(
                " {} of data so far; x cancels (the destination is left untouched)",
                human(job.progress.data)
            ))],
        },
        None => vec![],
    };
    let block = Block::bordered().title(" details ");
    f.render_widget(
        Paragraph::new(lines)
            .wrap(ratatui::widgets::Wrap { trim: false })
            .block(block),
        detail,
    );
}
