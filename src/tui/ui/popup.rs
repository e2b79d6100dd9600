//! Popups drawn over the views: help generated from the keymap, raw JSON, and the confirm
//! dialog of the mutation gate.

use super::centered;
use crate::tui::app::{App, Mode};
use crate::tui::theme::Theme;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};
use ratatui::Frame;

pub fn popups(f: &mut Frame<'_>, area: Rect, app: &App, theme: Theme) {
    match &app.mode {
        Mode::Help { scroll } => help(f, area, app, *scroll, theme),
        Mode::Messages { scroll } => messages(f, area, app, *scroll, theme),
        Mode::Users(st) => users(f, area, app, st, theme),
        Mode::NewPlan(st) => super::new_plan::new_plan(f, area, st, theme),
        Mode::Json { text, scroll } => {
            let rect = centered(
                area,
                area.width.saturating_sub(10),
                area.height.saturating_sub(6),
            );
            f.render_widget(Clear, rect);
            let block = Block::bordered().title(Span::styled(
                " raw JSON (j/k scroll, esc close) ",
                theme.title(),
            ));
            // Long values wrap at words under their key's indent: nothing is cut.
            let width = rect.width.saturating_sub(2) as usize;
            let lines: Vec<Line> = text
                .lines()
                .flat_map(|l| crate::tui::text::wrap_line(l, width))
                .map(Line::raw)
                .collect();
            f.render_widget(
                Paragraph::new(lines)
                    .block(block)
                    .scroll((*scroll as u16, 0)),
                rect,
            );
        }
        Mode::Confirm(c) => {
            let mut lines: Vec<Line> = c.lines.iter().map(|l| Line::raw(l.clone())).collect();
            if c.expected.is_some() {
                lines.push(Line::from(vec![
                    Span::styled(" > ", theme.danger()),
                    Span::raw(c.typed.value().to_string()),
                    Span::styled("█", theme.dim()),
                ]));
            }
            let w = 90.min(area.width);
            // Height after wrapping, so the prompt line is never cut off.
            let inner = w.saturating_sub(2).max(1) as usize;
            let rows: usize = lines.iter().map(|l| l.width().div_ceil(inner).max(1)).sum();
            let h = (rows as u16 + 2).min(area.height);
            let rect = centered(area, w, h);
            f.render_widget(Clear, rect);
            let style = if c.expected.is_some() {
                theme.danger()
            } else {
                theme.warn()
            };
            let block = Block::bordered()
                .border_style(style)
                .title(Span::styled(format!(" {} ", c.title), style));
            f.render_widget(
                Paragraph::new(lines)
                    .block(block)
                    .wrap(Wrap { trim: false }),
                rect,
            );
        }
        _ => {}
    }
}

fn help(f: &mut Frame<'_>, area: Rect, app: &App, scroll: usize, theme: Theme) {
    let mut lines = vec![Line::styled(
        format!("Keys in the {} view", app.view.name()),
        theme.title(),
    )];
    // Each key's text wraps under its own column rather than being cut.
    let width = 96.min(area.width).saturating_sub(2) as usize;
    for (keys, what) in app.keymap.help(app.view) {
        let lead = format!("  {keys:<14}");
        for (i, l) in crate::tui::text::wrap(&lead, what, width)
            .into_iter()
            .enumerate()
        {
            match l.strip_prefix(lead.as_str()) {
                Some(rest) if i == 0 => lines.push(Line::from(vec![
                    Span::styled(lead.clone(), theme.title()),
                    Span::raw(rest.to_string()),
                ])),
                _ => lines.push(Line::raw(l)),
            }
        }
    }
    if app.view == crate::tui::keymap::View::Conversions {
        lines.push(Line::raw(""));
        let syntax = crate::tui::conversions::PROMPT_HELP;
        for l in crate::tui::text::wrap("  n prompt: ", syntax, width) {
            lines.push(Line::raw(l));
        }
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        "Filter: text  field:glob  a,b  tag:key=value  !negate",
        theme.title(),
    ));
    // The fields come from the filter itself, wrapped to the dialog (never cut).
    let fields: Vec<&str> = crate::report::filter::field_names().collect();
    for l in crate::tui::text::wrap("  fields: ", &fields.join(" "), width) {
        lines.push(Line::raw(l));
    }
    if app.readonly {
        lines.push(Line::styled(
            "read-only: mutating keys are disabled",
            theme.warn(),
        ));
    }
    let h = (lines.len() as u16 + 2).min(area.height);
    let rect = centered(area, 96.min(area.width), h);
    f.render_widget(Clear, rect);
    let visible = rect.height.saturating_sub(2) as usize;
    let title = if lines.len() > visible {
        let last = (scroll + visible).min(lines.len());
        format!(
            " help {}–{} of {} (j/k pgup/pgdn scroll, esc closes) ",
            scroll + 1,
            last,
            lines.len()
        )
    } else {
        " help (esc closes) ".to_string()
    };
    let block = Block::bordered().title(Span::styled(title, theme.title()));
    f.render_widget(
        Paragraph::new(lines)
            .block(block)
            .scroll((scroll as u16, 0)),
        rect,
    );
}

/// Every status line and failure cause in full, newest first, wrapped.
fn messages(f: &mut Frame<'_>, area: Rect, app: &App, scroll: usize, theme: Theme) {
    let rect = centered(
        area,
        area.width.saturating_sub(4),
        area.height.saturating_sub(4),
    );
    f.render_widget(Clear, rect);
    let lines: Vec<Line> = if app.messages.is_empty() {
        vec![Line::raw("no messages yet")]
    } else {
        app.messages
            .iter()
            .rev()
            .skip(scroll)
            .map(|(t, m)| {
                Line::from(vec![
                    Span::styled(format!("{} ", t.format("%H:%M:%S")), theme.dim()),
                    Span::raw(m.clone()),
                ])
            })
            .collect()
    };
    let title = format!(
        " messages {}/{} (newest first; j/k scroll, esc closes) ",
        (scroll + 1).min(app.messages.len()),
        app.messages.len()
    );
    f.render_widget(
        Paragraph::new(lines)
            .block(Block::bordered().title(Span::styled(title, theme.title())))
            .wrap(Wrap { trim: false }),
        rect,
    );
}

/// What uses an image: VMs, scale groups and launch templates, one selectable line each.
fn users(
    f: &mut Frame<'_>,
    area: Rect,
    app: &App,
    st: &crate::tui::messages::UsersState,
    theme: Theme,
) {
    use crate::tui::messages::UserItem;
    use crate::tui::text::{ellipsize, short_id};
    let Some(d) = &app.data else { return };
    let img = &d.inv.images[st.image as usize];
    let (rect, width, height) = super::overlay(f, area);
    let window = st.list.window(height, st.items.len());
    let lines: Vec<Line> = if st.items.is_empty() {
        vec![Line::raw("nothing uses this image: it can be retired")]
    } else {
        st.items[window.clone()]
            .iter()
            .enumerate()
            .map(|(k, item)| {
                let text = match *item {
                    UserItem::Vm(v) => {
                        let r = d.vm(v);
                        let vm = r.vm();
                        let verdict = r.verdict();
                        format!(
                            "{} {:<10} VM {:<22} {:<14} {}",
                            verdict.symbol(),
                            verdict.as_str(),
                            vm.name,
                            vm.region,
                            short_id(&vm.id),
                        )
                    }
                    UserItem::ScaleGroup(g) => {
                        let sg = &d.inv.scale_groups[g];
                        format!(
                            "             scale group {:<22} {} members, {}",
                            sg.name,
                            sg.members.len(),
                            sg.region
                        )
                    }
                    UserItem::LaunchTemplate(t) => {
                        let lt = &d.inv.launch_templates[t];
                        format!(
                            "             launch template {:<18} v{}{}, {}",
                            lt.name,
                            lt.version,
                            if lt.default_version { " (default)" } else { "" },
                            lt.region
                        )
                    }
                };
                let line = Line::raw(ellipsize(&text, width));
                if window.start + k == st.list.selected {
                    line.style(theme.selected())
                } else {
                    line
                }
            })
            .collect()
    };
    let title = format!(
        " used by: {} ({} items; enter opens, esc closes) ",
        img.name,
        st.items.len()
    );
    f.render_widget(
        Paragraph::new(lines)
            .block(Block::bordered().title(Span::styled(ellipsize(&title, width), theme.title()))),
        rect,
    );
}
