//! The Fleet, Images and Log lists: virtualised tables drawing only the visible window.

use super::detail;
use crate::drift::Verdict;
use crate::tui::app::App;
use crate::tui::fleet::Column;
use crate::tui::rows::Rows;
use crate::tui::theme::Theme;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table};
use ratatui::Frame;

fn verdict_cell(v: Verdict, theme: Theme) -> Cell<'static> {
    Cell::from(format!("{} {}", v.symbol(), v.as_str())).style(theme.verdict(v))
}

/// Shortens long resource ids (Azure) to their tail for a narrow column.
fn tail(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max || max < 2 {
        return s.to_string();
    }
    let skip = n - (max - 1);
    format!("…{}", s.chars().skip(skip).collect::<String>())
}

fn split_detail(area: Rect, detail: bool, vertical: bool) -> (Rect, Option<Rect>) {
    if !detail {
        return (area, None);
    }
    let [a, b] = if vertical {
        Layout::vertical([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(area)
    } else {
        Layout::horizontal([Constraint::Percentage(58), Constraint::Percentage(42)]).areas(area)
    };
    (a, Some(b))
}

/// The bordered block of a table view, titled "Name shown / total", the filter and the
/// marks; with its inner area and the number of rows under the header.
fn table_block(
    name: &str,
    rows: &Rows,
    total: usize,
    area: Rect,
    typed_invalid: bool,
    theme: Theme,
) -> (Block<'static>, Rect, usize) {
    let mut title = format!(" {name} {} / {total} ", rows.shown.len());
    if typed_invalid {
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
    let block = Block::bordered().title(Span::styled(title, theme.title()));
    let inner = block.inner(area);
    (block, inner, inner.height.saturating_sub(1) as usize)
}

/// A filter is being typed and is invalid: the rows shown are the last valid filter's.
fn typed_invalid(app: &App) -> bool {
    app.filter_error.is_some() && matches!(app.mode, crate::tui::app::Mode::Filter(_))
}

pub fn fleet(f: &mut Frame<'_>, area: Rect, app: &mut App, theme: Theme) {
    let typed_invalid = typed_invalid(app);
    let (table_area, detail_area) = split_detail(area, app.detail, false);
    let Some(d) = &app.data else {
        super::scanning(f, area, "Fleet");
        return;
    };
    let st = &mut app.fleet;
    let (block, inner, height) = table_block(
        "Fleet",
        &st.rows,
        d.inv.vms.len(),
        table_area,
        typed_invalid,
        theme,
    );
    (app.page, app.rows_top) = (height, inner.y + 1);
    let window = st.rows.list.window(height, st.rows.shown.len());
    // Cell texts of the visible rows only.
    let cells: Vec<[String; 11]> = st.rows.shown[window.clone()]
        .iter()
        .map(|&i| {
            let r = d.vm(i);
            let vm = r.vm();
            let v = r.verdict();
            let marked = if st.rows.marked.contains(&i) {
                "● "
            } else {
                ""
            };
            [
                format!("{} {}", v.symbol(), v.as_str()),
                format!("{marked}{}", vm.name),
                tail(&vm.id, 21),
                vm.cloud.as_str().to_string(),
                tail(&vm.account, 14),
                vm.region.clone(),
                r.image_name()
                    .map_or_else(|| tail(&vm.image_id, 30), |n| tail(n, 30)),
                r.family().unwrap_or("-").to_string(),
                r.version().unwrap_or("-").to_string(),
                r.age_days().map_or("-".into(), |a| format!("{a}d")),
                d.a.vm_reason(&d.inv, i as usize).into_owned(),
            ]
        })
        .collect();
    let columns = fit_columns(&cells, inner.width);
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
            if c == 10 {
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
        detail::vm(f, area, d, i as usize, theme);
    }
}

/// Column caps (characters), in `Column::ALL` order.
const CAPS: [u16; 11] = [11, 24, 21, 5, 14, 14, 30, 20, 16, 5, 200];
/// Optional columns, most wanted first; they are shown while the reason keeps room.
const OPTIONAL: [usize; 5] = [5, 6, 4, 3, 2];
/// Room the reason column keeps before optional columns are dropped.
const REASON_MIN: u16 = 32;

/// Picks the columns that fit `width` and their widths from the visible rows' content.
/// Returns (column index, width), in display order.
fn fit_columns(cells: &[[String; 11]], width: u16) -> Vec<(usize, u16)> {
    let want = |c: usize| -> u16 {
        let content = cells
            .iter()
            .map(|r| r[c].chars().count())
            .max()
            .unwrap_or(0);
        let title = Column::ALL[c].title().len() + 2;
        (content.max(title) as u16).min(CAPS[c])
    };
    let mut shown: Vec<usize> = vec![0, 1, 7, 8, 9];
    let used = |cols: &[usize]| -> u16 { cols.iter().map(|&c| want(c) + 1).sum() };
    for &c in &OPTIONAL {
        let mut trial = shown.clone();
        trial.push(c);
        if used(&trial) + REASON_MIN <= width {
            shown = trial;
        }
    }
    shown.push(10);
    shown.sort_unstable();
    let fixed = used(&shown[..shown.len() - 1]);
    shown
        .into_iter()
        .map(|c| {
            if c == 10 {
                (c, width.saturating_sub(fixed).max(10))
            } else {
                (c, want(c))
            }
        })
        .collect()
}

pub fn images(f: &mut Frame<'_>, area: Rect, app: &mut App, theme: Theme) {
    let typed_invalid = typed_invalid(app);
    let (table_area, detail_area) = split_detail(area, app.detail, true);
    let Some(d) = &app.data else {
        super::scanning(f, area, "Images");
        return;
    };
    let st = &mut app.images;
    let (block, inner, height) = table_block(
        "Images by family",
        &st.rows,
        d.inv.images.len(),
        table_area,
        typed_invalid,
        theme,
    );
    (app.page, app.rows_top) = (height, inner.y + 1);
    let window = st.rows.list.window(height, st.rows.shown.len());
    let header = Row::new([
        "family", "version", "verdict", "age", "state", "vms", "region", "name",
    ])
    .style(theme.title());
    let rows: Vec<Row> = st.rows.shown[window.clone()]
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
            let row = Row::new(vec![
                Cell::from(family).style(theme.title()),
                Cell::from(format!("{marked}{}", ia.version.as_deref().unwrap_or("-"))),
                verdict_cell(ia.verdict, theme),
                Cell::from(format!("{}d", ia.age_days)),
                Cell::from(img.state.as_str()),
                Cell::from(ia.vm_count.to_string()),
                Cell::from(img.region.clone()),
                Cell::from(img.name.clone()),
            ]);
            if pos == st.rows.list.selected {
                row.style(theme.selected())
            } else {
                row
            }
        })
        .collect();
    let widths = [
        Constraint::Length(20),
        Constraint::Length(16),
        Constraint::Length(11),
        Constraint::Length(5),
        Constraint::Length(12),
        Constraint::Length(5),
        Constraint::Length(12),
        Constraint::Min(20),
    ];
    f.render_widget(
        Table::new(rows, widths)
            .header(header)
            .block(block)
            .column_spacing(1),
        table_area,
    );
    if let (Some(area), Some(i)) = (detail_area, st.rows.selected()) {
        detail::image(f, area, d, i as usize, theme);
    }
}

pub fn log(f: &mut Frame<'_>, area: Rect, app: &mut App, theme: Theme) {
    let lines = app.log_lines();
    let follow = if app.log.follow { " ─ following" } else { "" };
    let filter = if app.log.filter.is_empty() {
        String::new()
    } else {
        format!(" ─ filter: {}", app.log.filter)
    };
    let title = format!(" Log {} lines{filter}{follow} ", lines.len());
    let block = Block::bordered()
        .title(Span::styled(title, theme.title()))
        .borders(Borders::ALL);
    let inner = block.inner(area);
    let height = inner.height as usize;
    app.page = height;
    if app.log.follow {
        app.log.list.bottom(lines.len());
    }
    let window = app.log.list.window(height, lines.len());
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
            let line = Line::styled(l.render(), style);
            if window.start + k == selected && !app.log.follow {
                line.style(theme.selected())
            } else {
                line
            }
        })
        .collect();
    f.render_widget(Paragraph::new(text).block(block), area);
}
