//! Header (context, verdict counts, refresh state, read-only badge, view tabs) and footer
//! (filter or palette input, status, key hints).

use crate::drift::Verdict;
use crate::tui::app::{App, Mode};
use crate::tui::keymap::View;
use crate::tui::theme::{accent_color, Theme};
use ratatui::layout::Rect;
use ratatui::style::Color;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
const PALETTE: [Color; 4] = [Color::Cyan, Color::Blue, Color::Magenta, Color::Green];

/// The accent colour of the current context, and whether it is production.
pub fn accent(app: &App) -> (Color, bool) {
    let production = match &app.context {
        Some(c) => app.is_production(c),
        None => app
            .full
            .as_ref()
            .is_some_and(|f| f.sources.iter().any(|s| app.is_production(s))),
    };
    if production {
        return (Color::Red, true);
    }
    let configured = app
        .context
        .as_deref()
        .and_then(|c| app.context_config(c))
        .and_then(|c| c.accent);
    let by_index = app.context.as_ref().and_then(|c| {
        app.full
            .as_ref()
            .and_then(|f| f.sources.iter().position(|s| s == c))
            .map(|i| PALETTE[(i + 1) % PALETTE.len()])
    });
    (
        configured
            .map(accent_color)
            .or(by_index)
            .unwrap_or(PALETTE[0]),
        false,
    )
}

fn ago(secs: i64) -> String {
    match secs {
        s if s < 60 => format!("{s} s ago"),
        s if s < 3600 => format!("{} min ago", s / 60),
        s => format!("{} h ago", s / 3600),
    }
}

pub fn header(f: &mut Frame<'_>, area: Rect, app: &App, theme: Theme) {
    let (accent, production) = accent(app);
    let accent_style = theme.accent(accent);
    let mut top = vec![
        Span::styled(
            " drydock ",
            accent_style.add_modifier(ratatui::style::Modifier::REVERSED),
        ),
        Span::raw(" context: "),
        Span::styled(
            app.context.clone().unwrap_or_else(|| "all".into()),
            accent_style,
        ),
    ];
    if app.demo {
        // The demo's contexts may be marked production to show the typed confirmations;
        // the header still says that nothing here is a real cloud.
        top.push(Span::styled(" [DEMO: simulated clouds]", theme.warn()));
    }
    if production {
        top.push(Span::styled(" [PRODUCTION]", theme.danger()));
    }
    if app.readonly {
        top.push(Span::styled(" [RO]", theme.warn()));
    }
    if app.dry_run {
        top.push(Span::styled(" [DRY-RUN]", theme.warn()));
    }
    top.push(Span::raw("  "));
    if app.refresh.running {
        let spin = SPINNER[app.spinner % SPINNER.len()];
        let (done, total) = app
            .refresh
            .progress
            .values()
            .fold((0, 0), |(d, t), (pd, pt)| (d + pd, t + pt));
        let progress = if total > 0 {
            format!(" {done}/{total} scopes")
        } else {
            String::new()
        };
        top.push(Span::styled(
            format!("{spin} refreshing{progress}"),
            theme.warn(),
        ));
        top.push(Span::raw("  "));
    }
    match app.refresh.last {
        Some(t) => top.push(Span::styled(
            format!("updated {}", ago((app.now - t).num_seconds().max(0))),
            theme.dim(),
        )),
        None => top.push(Span::styled("no data yet", theme.dim())),
    }
    if app.refresh.error.is_some() {
        top.push(Span::styled("  refresh failed", theme.danger()));
    }
    // An inventory with gaps says so on every view: its counts are a lower bound. The
    // long form on the first line where it fits, else a short one beside the VM count.
    let mut short_gap = None;
    if let Some(full) = app.full.as_ref().filter(|f| f.incomplete()) {
        let all = app.context_outcomes();
        let gaps = all.iter().filter(|c| c.state.is_gap()).count();
        let (long, short) = if all.is_empty() {
            // A snapshot from before outcomes were recorded: its scan problems.
            let n = crate::words::count(full.problems.len() as u64, "scan problem");
            (
                format!("  ⚠ incomplete: {n} (M)"),
                "⚠ incomplete  ".to_string(),
            )
        } else {
            (
                format!(
                    "  ⚠ incomplete: {gaps} of {} contexts not read (:ctx)",
                    all.len()
                ),
                format!("⚠ incomplete {gaps}/{}  ", all.len()),
            )
        };
        let used: usize = top.iter().map(|s| s.content.chars().count()).sum();
        if used + long.chars().count() <= area.width as usize {
            top.push(Span::styled(long, theme.danger()));
        } else {
            short_gap = Some(short);
        }
    }
    let mut counts = vec![Span::raw(" ")];
    if let Some(d) = &app.data {
        let c = d.a.vm_counts();
        counts.push(Span::styled(
            format!("{}  ", crate::words::count(d.inv.vms.len() as u64, "VM")),
            theme.title(),
        ));
        if let Some(gap) = &short_gap {
            counts.push(Span::styled(gap.clone(), theme.danger()));
        }
        // Short terminals get "⊘ 34" instead of "⊘ revoked 34".
        let full: usize = Verdict::ALL
            .iter()
            .map(|v| v.as_str().len() + c[*v as usize].to_string().len() + 5)
            .sum::<usize>()
            + 12
            + short_gap.as_ref().map_or(0, |g| g.chars().count());
        let short = full > area.width as usize;
        for v in Verdict::ALL.iter().rev() {
            let text = if short {
                format!("{} {}", v.symbol(), c[*v as usize])
            } else {
                format!("{} {} {}", v.symbol(), v.as_str(), c[*v as usize])
            };
            counts.push(Span::styled(text, theme.verdict(*v)));
            counts.push(Span::raw("  "));
        }
    }
    let tabs = Line::from(tabs(app, area.width, theme));
    f.render_widget(
        Paragraph::new(vec![Line::from(top), Line::from(counts), tabs]),
        area,
    );
}

/// The view tabs, each with its key and name; names are abbreviated only when the full
/// ones do not fit, so every view stays reachable and named at 80 columns.
fn tabs(app: &App, width: u16, theme: Theme) -> Vec<Span<'static>> {
    let full: usize = View::ALL
        .iter()
        .enumerate()
        .map(|(i, v)| format!(" {} {} ", i + 1, v.name()).chars().count() + 1)
        .sum();
    let short = full + 1 > width as usize;
    let mut spans = vec![Span::raw(" ")];
    for (i, v) in View::ALL.iter().enumerate() {
        let name = if short { v.short_name() } else { v.name() };
        let style = if *v == app.view {
            theme.selected()
        } else {
            theme.dim()
        };
        spans.push(Span::styled(format!(" {} {} ", i + 1, name), style));
        spans.push(Span::raw(" "));
    }
    spans
}

pub fn footer(f: &mut Frame<'_>, area: Rect, app: &App, theme: Theme) {
    let line = match &app.mode {
        Mode::Filter(input) => {
            let width = area.width.saturating_sub(3) as usize;
            let scroll = input.visual_scroll(width);
            let cursor = (input.visual_cursor().max(scroll) - scroll) as u16;
            f.set_cursor_position((area.x + 1 + cursor, area.y));
            let prompt = Line::from(vec![
                Span::styled("/", theme.title()),
                Span::raw(input.value().chars().skip(scroll).collect::<String>()),
            ]);
            if let Some(error) = app.footer_error() {
                let mut lines = vec![prompt];
                lines.extend(
                    error
                        .into_iter()
                        .map(|l| Line::from(Span::styled(l, theme.danger()))),
                );
                f.render_widget(Paragraph::new(lines), area);
                return;
            }
            prompt
        }
        Mode::Palette(input) => {
            let cands = app.palette_candidates(input.value());
            let hint = cands.iter().take(6).cloned().collect::<Vec<_>>().join("  ");
            f.set_cursor_position((area.x + 1 + input.visual_cursor() as u16, area.y));
            let room = (area.width as usize).saturating_sub(1 + input.value().chars().count());
            Line::from(vec![
                Span::styled(":", theme.title()),
                Span::raw(input.value().to_string()),
                Span::styled(
                    crate::tui::text::ellipsize(&format!("   {hint}"), room),
                    theme.dim(),
                ),
            ])
        }
        Mode::NewConversion(p) => {
            let input = &p.input;
            let prompt = "convert: ";
            f.set_cursor_position((
                area.x + prompt.len() as u16 + input.visual_cursor() as u16,
                area.y,
            ));
            // The syntax hint gives way to the line typed; where cut, it says so (`…`) and
            // `?` shows it whole.
            let room =
                (area.width as usize).saturating_sub(prompt.len() + input.value().chars().count());
            let line = Line::from(vec![
                Span::styled(prompt, theme.title()),
                Span::raw(input.value().to_string()),
                Span::styled(
                    crate::tui::text::ellipsize(
                        &format!("   {}", crate::tui::conversions::PROMPT_HELP),
                        room,
                    ),
                    theme.dim(),
                ),
            ]);
            if let Some(error) = app.footer_error() {
                let style = if p.overwrite.is_some() {
                    theme.warn()
                } else {
                    theme.danger()
                };
                let mut lines = vec![line];
                lines.extend(
                    error
                        .into_iter()
                        .map(|l| Line::from(Span::styled(l, style))),
                );
                f.render_widget(Paragraph::new(lines), area);
                return;
            }
            line
        }
        _ => match &app.status {
            // A status that does not fit says where the whole of it is.
            Some(s) if s.chars().count() + 1 > area.width as usize => {
                let more = "  (M: in full)";
                let room = (area.width as usize).saturating_sub(1 + more.len());
                Line::from(vec![
                    Span::styled(
                        format!(" {}", crate::tui::text::ellipsize(s, room)),
                        theme.warn(),
                    ),
                    Span::styled(more, theme.dim()),
                ])
            }
            Some(s) => Line::from(Span::styled(format!(" {s}"), theme.warn())),
            None => Line::from(Span::styled(
                " ? help  / filter  : command  enter detail  1-7 views  r refresh  q quit",
                theme.dim(),
            )),
        },
    };
    f.render_widget(Paragraph::new(line), area);
}
