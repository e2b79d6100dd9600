//! The Fleet, Images and Log lists: virtualised tables drawing only the visible window.

use super::detail;
use crate::tui::app::App;
use crate::tui::fleet::Column;
use crate::tui::layout;
use crate::tui::rows::Rows;
use crate::tui::text::ellipsize;
use crate::tui::theme::Theme;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table};
use ratatui::Frame;

/// The bordered block of a table view, titled "Name shown / total", the filter and the
/// marks; with its inner area and the number of rows under the header.
fn table_block(
    name: &str,
    rows: &Rows,
    total: usize,
    area: Rect,
    app: &App,
    theme: Theme,
) -> (Block<'static>, Rect, usize) {
    let mut title = format!(" {name} {} / {total} ", rows.shown.len());
    if typed_invalid(app) {
        // The rows are those of the last valid filter: say so, never pass them off as
        // the typed one's.
        let last = if rows.filter.is_empty() {
            "none".to_string()
        } else {
            rows.filter.to_string()
        };
        title.push_str(&format!("─ typed filter invalid; showing filter: {last} "));
    } else if !rows.filter.is_empty() {
        title.push_str(&format!("─ filter: {} ", rows.filter));
    }
    if !rows.marked.is_empty() {
        title.push_str(&format!("─ {} marked ", rows.marked.len()));
    }
    let title = ellipsize(&title, area.width.saturating_sub(2) as usize);
    let block = Block::bordered().title(Span::styled(title, theme.title()));
    let inner = block.inner(area);
    (block, inner, inner.height.saturating_sub(1) as usize)
}

/// A filter is being typed and is invalid: the rows shown are the last valid filter's.
fn typed_invalid(app: &App) -> bool {
    app.filter_error.is_some() && matches!(app.mode, crate::tui::app::Mode::Filter(_))
}

pub fn fleet(f: &mut Frame<'_>, area: Rect, app: &App, theme: Theme) {
    // Side by side only where both keep names readable; below the table otherwise.
    let (table_area, detail_area) = layout::fleet(app.detail, area);
    let Some(d) = &app.data else {
        super::scanning(f, area, "Fleet");
        return;
    };
    let st = &app.fleet;
    let (block, inner, height) =
        table_block("Fleet", &st.rows, d.inv.vms.len(), table_area, app, theme);
    let window = st.rows.list.window(height, st.rows.shown.len());
    // Columns and widths come from the whole filtered set (measured by the reducer), so
    // paging never changes them; only the visible rows' texts are made.
    let sort_col = Column::ALL.iter().position(|&c| c == st.sort).unwrap_or(0);
    let columns = fit_columns(&st.widths, inner.width, sort_col);
    let cells: Vec<[String; 12]> = st.rows.shown[window.clone()]
        .iter()
        .map(|&i| {
            let texts = crate::tui::fleet::cells(d, i, st.rows.marked.contains(&i));
            let mut out: [String; 12] = Default::default();
            for &(c, w) in &columns {
                out[c] = ellipsize(&texts[c], w as usize);
            }
            out
        })
        .collect();
    let header = Row::new(columns.iter().map(|&(c, _)| {
        let col = Column::ALL[c];
        let mark = if col == st.sort {
            if st.ascending {
                " ▲"
            } else {
                " ▼"
            }
        } else {
            ""
        };
        Cell::from(format!("{}{mark}", col.title()))
    }))
    .style(theme.title());
    let rows: Vec<Row> = cells
        .into_iter()
        .enumerate()
        .map(|(k, texts)| {
            let verdict = d.vm(st.rows.shown[window.start + k]).verdict();
            let row = Row::new(columns.iter().map(|&(c, _)| {
                let cell = Cell::from(texts[c].clone());
                if c == 0 {
                    cell.style(theme.verdict(verdict))
                } else {
                    cell
                }
            }));
            if window.start + k == st.rows.list.selected {
                row.style(theme.selected())
            } else {
                row
            }
        })
        .collect();
    let widths: Vec<Constraint> = columns
        .iter()
        .map(|&(c, w)| {
            if c == REASON {
                Constraint::Min(w)
            } else {
                Constraint::Length(w)
            }
        })
        .collect();
    f.render_widget(
        Table::new(rows, widths)
            .header(header)
            .block(block)
            .column_spacing(1),
        table_area,
    );
    if let (Some(area), Some(i)) = (detail_area, st.rows.selected()) {
        detail::vm(f, area, d, i as usize, app.pane_scroll, theme);
    }
}

/// The Images table's columns that fit `width`, each as wide as its longest value (a few
/// capped): family, version, verdict and name always; then class, state, age, vms and
/// region while the name keeps 16 columns. The name takes the rest; where even the kept
/// columns do not fit, family and name give way, cut with `…`. Returns (column, width).
fn fit_image_columns(titles: &[&str; 9], texts: &[[String; 9]], width: u16) -> Vec<(usize, u16)> {
    const CAPS: [usize; 9] = [24, 18, 11, 8, 6, 12, 6, 14, usize::MAX];
    const NAME: usize = 8;
    const NAME_MIN: usize = 16;
    let need: Vec<usize> = (0..9)
        .map(|c| {
            texts
                .iter()
                .map(|t| t[c].chars().count())
                .chain([titles[c].chars().count()])
                .max()
                .unwrap_or(0)
                .min(CAPS[c])
        })
        .collect();
    let width = width as usize;
    let used = |cols: &[usize]| cols.iter().map(|&c| need[c] + 1).sum::<usize>();
    let mut shown = vec![0, 1, 2];
    for c in [3, 5, 4, 6, 7] {
        if used(&shown) + need[c] + 1 + NAME_MIN <= width {
            shown.push(c);
        }
    }
    shown.sort_unstable();
    let mut widths: Vec<(usize, usize)> = shown.iter().map(|&c| (c, need[c])).collect();
    // Too narrow even for the kept columns: the family gives way first (to 8).
    let fixed = |w: &[(usize, usize)]| w.iter().map(|&(_, n)| n + 1).sum::<usize>();
    if fixed(&widths) + NAME_MIN > width {
        let over = fixed(&widths) + NAME_MIN - width;
        widths[0].1 = widths[0].1.saturating_sub(over).max(8.min(need[0]));
    }
    let name_w = width.saturating_sub(fixed(&widths)).min(need[NAME].max(4));
    widths.push((NAME, name_w));
    widths
        .into_iter()
        .map(|(c, w)| (c, w.min(u16::MAX as usize) as u16))
        .collect()
}

/// The reason column: last, taking what the others leave.
const REASON: usize = 11;

/// Optional columns, most wanted first; they are shown while the reason keeps room.
const OPTIONAL: [usize; 6] = [10, 5, 6, 4, 3, 2];
/// Room the reason column keeps before optional columns are dropped.
const REASON_MIN: u16 = 32;

/// Picks the columns that fit `width` from their measured widths: verdict, name, family,
/// version, age and the reason always, optional ones while they fit, and the sorted column
/// whatever it costs (its marker stays visible). Returns (column, width) in display order.
fn fit_columns(widths: &[u16; 12], width: u16, sort: usize) -> Vec<(usize, u16)> {
    let used = |cols: &[usize]| -> u16 { cols.iter().map(|&c| widths[c] + 1).sum() };
    let mut shown: Vec<usize> = vec![0, 1, 7, 8, 9];
    if !shown.contains(&sort) && sort != REASON {
        shown.push(sort);
    }
    for &c in &OPTIONAL {
        let mut trial = shown.clone();
        if trial.contains(&c) {
            continue;
        }
        trial.push(c);
        if used(&trial) + REASON_MIN <= width {
            shown = trial;
        }
    }
    // Too narrow even for those: give up age, version, family (never the sorted column)
    // rather than squeeze names.
    for drop in [9, 8, 7] {
        if used(&shown) + 10 <= width {
            break;
        }
        if drop != sort {
            shown.retain(|&c| c != drop);
        }
    }
    shown.push(REASON);
    shown.sort_unstable();
    let fixed = used(&shown[..shown.len() - 1]);
    shown
        .into_iter()
        .map(|c| {
            if c == REASON {
                (c, width.saturating_sub(fixed).max(10))
            } else {
                (c, widths[c])
            }
        })
        .collect()
}

pub fn images(f: &mut Frame<'_>, area: Rect, app: &App, theme: Theme) {
    let (table_area, detail_area) = layout::images(app.detail, area);
    let Some(d) = &app.data else {
        super::scanning(f, area, "Images");
        return;
    };
    let st = &app.images;
    let (block, inner, height) = table_block(
        "Images by family",
        &st.rows,
        d.inv.images.len(),
        table_area,
        app,
        theme,
    );
    let window = st.rows.list.window(height, st.rows.shown.len());
    // Every cell's full text first; then the columns that fit, each as wide as its values.
    let texts: Vec<[String; 9]> = st.rows.shown[window.clone()]
        .iter()
        .enumerate()
        .map(|(k, &i)| {
            let (img, ia) = (&d.inv.images[i as usize], &d.a.images[i as usize]);
            let pos = window.start + k;
            // The family is written on the first row of its group only.
            let prev_family = pos
                .checked_sub(1)
                .and_then(|p| st.rows.shown.get(p))
                .map(|&p| d.a.images[p as usize].family.as_deref());
            let family = match (prev_family, ia.family.as_deref()) {
                (Some(prev), fam) if pos > window.start && prev == fam => String::new(),
                (_, Some(fam)) => fam.to_string(),
                (_, None) => "(unmanaged)".into(),
            };
            let marked = if st.rows.marked.contains(&i) {
                "● "
            } else {
                ""
            };
            [
                family,
                format!("{marked}{}", ia.version.as_deref().unwrap_or("-")),
                format!("{} {}", ia.verdict.symbol(), ia.verdict.as_str()),
                ia.class.class.as_str().to_string(),
                format!("{}d", ia.age_days),
                img.state.as_str().to_string(),
                ia.vm_count.to_string(),
                img.region.clone(),
                img.name.clone(),
            ]
        })
        .collect();
    const TITLES: [&str; 9] = [
        "family", "version", "verdict", "class", "age", "state", "vms", "region", "name",
    ];
    let columns = fit_image_columns(&TITLES, &texts, inner.width);
    let header = Row::new(
        columns
            .iter()
            .map(|&(c, w)| ellipsize(TITLES[c], w as usize)),
    )
    .style(theme.title());
    let rows: Vec<Row> = texts
        .iter()
        .enumerate()
        .map(|(k, t)| {
            let i = st.rows.shown[window.start + k] as usize;
            let verdict = d.a.images[i].verdict;
            let row = Row::new(columns.iter().map(|&(c, w)| {
                let cell = Cell::from(ellipsize(&t[c], w as usize));
                match c {
                    0 => cell.style(theme.title()),
                    2 => cell.style(theme.verdict(verdict)),
                    _ => cell,
                }
            }));
            if window.start + k == st.rows.list.selected {
                row.style(theme.selected())
            } else {
                row
            }
        })
        .collect();
    let widths: Vec<Constraint> = columns
        .iter()
        .map(|&(_, w)| Constraint::Length(w))
        .collect();
    f.render_widget(
        Table::new(rows, widths)
            .header(header)
            .block(block)
            .column_spacing(1),
        table_area,
    );
    if let (Some(area), Some(i)) = (detail_area, st.rows.selected()) {
        detail::image(f, area, d, i as usize, app.pane_scroll, theme);
    }
}

pub fn log(f: &mut Frame<'_>, area: Rect, app: &App, theme: Theme) {
    let lines = app.log_lines();
    let follow = if app.log.follow { " ─ following" } else { "" };
    let filter = if app.log.filter.is_empty() {
        String::new()
    } else {
        format!(" ─ filter: {}", app.log.filter)
    };
    let what = if app.log.audit.is_some() {
        "Audit log, records"
    } else {
        "Log"
    };
    let title = format!(
        " {what} {} lines{filter}{follow} (y: a line whole) ",
        lines.len()
    );
    let title = ellipsize(&title, area.width.saturating_sub(2) as usize);
    let block = Block::bordered()
        .title(Span::styled(title, theme.title()))
        .borders(Borders::ALL);
    let inner = block.inner(area);
    let height = inner.height as usize;
    let window = if app.log.follow {
        lines.len().saturating_sub(height)..lines.len()
    } else {
        app.log.list.window(height, lines.len())
    };
    let selected = app.log.list.selected;
    let text: Vec<Line> = lines[window.clone()]
        .iter()
        .enumerate()
        .map(|(k, l)| {
            let style = match l.level {
                tracing::Level::ERROR => theme.danger(),
                tracing::Level::WARN => theme.warn(),
                _ => Style::default(),
            };
            // A line longer than the pane ends with `…`; `y` shows it whole.
            let line = Line::styled(ellipsize(&l.render(), inner.width as usize), style);
            if window.start + k == selected && !app.log.follow {
                line.style(theme.selected())
            } else {
                line
            }
        })
        .collect();
    f.render_widget(Paragraph::new(text).block(block), area);
}
