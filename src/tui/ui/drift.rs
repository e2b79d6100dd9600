//! The Drift view: VM totals per verdict as a bar chart, the family × account (or region)
//! matrix with a bar per row, and the trend of recorded scans as a sparkline.

use crate::drift::Verdict;
use crate::tui::app::App;
use crate::tui::theme::Theme;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Bar, BarChart, BarGroup, Block, Cell, Paragraph, Row, Sparkline, Table};
use ratatui::Frame;

fn bar(part: usize, total: usize, width: usize) -> String {
    let filled = if total == 0 {
        0
    } else {
        (part * width).div_ceil(total)
    };
    format!("{}{}", "█".repeat(filled), "░".repeat(width - filled))
}

pub fn drift(f: &mut Frame<'_>, area: Rect, app: &App, theme: Theme) {
    let rows = &app.drift_matrix;
    let Some(d) = &app.data else {
        super::scanning(f, area, "Drift");
        return;
    };
    // On short terminals the matrix keeps the room: the bars go first, then the trend.
    let [chart_area, matrix_area, trend_area] = crate::tui::layout::drift(area);
    // Narrow terminals: shorter name columns and a shorter bar.
    let wide = matrix_area.width >= 110;
    let counts = d.a.vm_counts();
    let bars: Vec<Bar> = Verdict::ALL
        .iter()
        .map(|&v| {
            Bar::default()
                .value(counts[v as usize] as u64)
                .label(Line::from(format!("{} {}", v.symbol(), v.as_str())))
                .style(theme.verdict(v))
                .value_style(
                    theme
                        .verdict(v)
                        .add_modifier(ratatui::style::Modifier::REVERSED),
                )
        })
        .collect();
    let chart = BarChart::default()
        .block(Block::bordered().title(Span::styled(" VMs per verdict ", theme.title())))
        .data(BarGroup::default().bars(&bars))
        .bar_width(11)
        .bar_gap(2);
    f.render_widget(chart, chart_area);

    let by = if app.drift_by_region {
        "region"
    } else {
        "account"
    };
    let mut header = vec!["family".to_string(), by.to_string(), "vms".into()];
    header.extend(
        Verdict::ALL
            .iter()
            .map(|v| format!("{} {}", v.symbol(), &v.as_str()[..3])),
    );
    header.push(if wide { "outdated or worse" } else { "≥out" }.into());
    // Only the visible rows, with the cursor (enter opens the fleet on that row).
    let window = app
        .drift
        .window(matrix_area.height.saturating_sub(3) as usize, rows.len());
    let body: Vec<Row> = rows[window.clone()]
        .iter()
        .enumerate()
        .map(|(k, r)| {
            let mut cells = vec![
                Cell::from(crate::tui::text::ellipsize(
                    &r.family,
                    if wide { 22 } else { 13 },
                )),
                Cell::from(crate::tui::text::ellipsize(
                    &r.key,
                    if wide { 14 } else { 10 },
                )),
                Cell::from(r.total.to_string()),
            ];
            cells.extend(Verdict::ALL.iter().map(|&v| {
                let n = r.counts[v as usize];
                let c = Cell::from(if n == 0 {
                    "·".to_string()
                } else {
                    n.to_string()
                });
                if n > 0 {
                    c.style(theme.verdict(v))
                } else {
                    c.style(theme.dim())
                }
            }));
            cells.push(Cell::from(format!(
                "{} {}",
                bar(r.failing(), r.total, if wide { 10 } else { 3 }),
                r.failing()
            )));
            let row = Row::new(cells);
            if window.start + k == app.drift.selected {
                row.style(theme.selected())
            } else {
                row
            }
        })
        .collect();
    let mut widths = vec![
        Constraint::Length(if wide { 22 } else { 13 }),
        Constraint::Length(if wide { 14 } else { 10 }),
        Constraint::Length(4),
    ];
    widths.extend([Constraint::Length(5); 7]);
    widths.push(Constraint::Min(6));
    let title = if wide {
        format!(
            " Drift: family × {by} ({} rows; enter opens the fleet there, a toggles account/region) ",
            rows.len()
        )
    } else {
        format!(
            " Drift: family × {by} ({} rows; enter: fleet, a: toggle) ",
            rows.len()
        )
    };
    f.render_widget(
        Table::new(body, widths)
            .header(Row::new(header).style(theme.title()))
            .block(Block::bordered().title(Span::styled(title, theme.title()))),
        matrix_area,
    );

    // Only points of the context in view: the trend and the matrix count the same VMs.
    let points: Vec<u64> = app
        .history
        .iter()
        .filter(|p| p.is_of(app.context.as_deref()))
        .map(|p| p.at_or_above(Verdict::Outdated) as u64)
        .collect();
    let block = Block::bordered().title(Span::styled(
        " Trend: VMs outdated or worse per recorded scan ",
        theme.title(),
    ));
    if points.len() < 2 {
        let scope = app.context.as_deref().unwrap_or("all contexts");
        let msg = format!(
            " {} recorded for {scope}; the trend needs two (each refresh, r, records one)",
            crate::words::count(points.len() as u64, "scan"),
        );
        let msg = crate::tui::text::ellipsize(&msg, trend_area.width.saturating_sub(2) as usize);
        f.render_widget(
            Paragraph::new(msg).style(theme.dim()).block(block),
            trend_area,
        );
    } else {
        let last = points.last().copied().unwrap_or(0);
        let scope = app.context.as_deref().unwrap_or("all contexts");
        let block = block.title_bottom(format!(" {} scans of {scope}, now {last} ", points.len()));
        f.render_widget(
            Sparkline::default()
                .data(&points)
                .style(theme.verdict(Verdict::Outdated))
                .block(block),
            trend_area,
        );
    }
}
