//! Detail panes: a VM with its image and lineage; an image with its lineage chain
//! (base → golden → app) and blast radius (VMs, scale groups, launch templates). The
//! verdict and its reason come first; every value wraps under its own column (nothing is
//! cut, no continuation starts at column 0), and a pane taller than its area scrolls
//! (`J`/`K`) and says which lines it shows.

use crate::tui::data::Data;
use crate::tui::text::wrap;
use crate::tui::theme::Theme;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use ratatui::Frame;

/// The width of a field's name (`   verdict`), right-aligned before `: `.
const KEY: usize = 10;

/// A field and its value, the value wrapped under its own column.
fn kv(theme: Theme, width: usize, k: &str, v: impl Into<String>) -> Vec<Line<'static>> {
    kv_styled(theme, width, k, v.into(), Style::default())
}

fn kv_styled(theme: Theme, width: usize, k: &str, v: String, style: Style) -> Vec<Line<'static>> {
    let lead = format!("{k:>KEY$}: ");
    let indent = lead.chars().count();
    wrap(&lead, &v, width)
        .into_iter()
        .enumerate()
        .map(|(i, l)| {
            let body = l.chars().skip(indent).collect::<String>();
            let head = if i == 0 {
                Span::styled(lead.clone(), theme.title())
            } else {
                Span::raw(" ".repeat(indent))
            };
            Line::from(vec![head, Span::styled(body, style)])
        })
        .collect()
}

/// `line` as is when it fits `width`, else its text wrapped under its own indent (plus
/// two), in its first span's style.
fn fit_line(line: Line<'static>, width: usize) -> Vec<Line<'static>> {
    if line.width() <= width {
        return vec![line];
    }
    let style = line.spans.first().map_or(line.style, |s| s.style);
    let text: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
    crate::tui::text::wrap_line(&text, width)
        .into_iter()
        .map(|l| Line::styled(l, style))
        .collect()
}

/// Draws a pane: `lines` from `scroll` (kept within them), and in the title which lines
/// show when they do not all fit.
pub fn pane(
    f: &mut Frame<'_>,
    area: Rect,
    name: &str,
    lines: Vec<Line<'static>>,
    scroll: usize,
    theme: Theme,
) {
    let width = area.width.saturating_sub(2) as usize;
    let lines: Vec<Line> = lines
        .into_iter()
        .flat_map(|l| fit_line(l, width.max(1)))
        .collect();
    let visible = area.height.saturating_sub(2) as usize;
    let top = scroll.min(lines.len().saturating_sub(visible));
    let title = if lines.len() > visible {
        format!(
            " {name} {}–{} of {} (J/K scroll) ",
            top + 1,
            (top + visible).min(lines.len()),
            lines.len()
        )
    } else {
        format!(" {name} ")
    };
    let title = crate::tui::text::ellipsize(&title, width);
    let block = Block::bordered().title(Span::styled(title, theme.title()));
    f.render_widget(
        Paragraph::new(lines)
            .block(block)
            .scroll((top.min(u16::MAX as usize) as u16, 0)),
        area,
    );
}

/// The build image `i` belongs to, when it has artifacts elsewhere (other clouds or
/// regions): one line per other artifact, and whether they hold the same content.
fn build(d: &Data, i: usize, theme: Theme) -> Vec<Line<'static>> {
    let Some(b) = crate::drift::builds::build_of(&d.inv, &d.a, i) else {
        return Vec::new();
    };
    if b.images.len() < 2 {
        return Vec::new();
    }
    let mut out = vec![Line::styled(
        format!("build: {}", b.summary(&d.inv)),
        theme.title(),
    )];
    for &k in b.images.iter().filter(|&&k| k != i) {
        let img = &d.inv.images[k];
        out.push(Line::raw(format!(
            "  {} {}/{} {} ({})",
            img.cloud,
            img.account,
            img.region,
            crate::tui::text::short_id(&img.id),
            d.a.images[k].verdict
        )));
    }
    out
}

/// The lineage chain of image `i`, oldest ancestor first, one line per image.
fn lineage(d: &Data, i: usize, theme: Theme) -> Vec<Line<'static>> {
    let ia = &d.a.images[i];
    let mut chain: Vec<usize> = ia.lineage.iter().rev().copied().collect();
    chain.push(i);
    let mut out = vec![Line::styled("lineage (base → … → this):", theme.title())];
    for (depth, &k) in chain.iter().enumerate() {
        let (img, a) = (&d.inv.images[k], &d.a.images[k]);
        let arrow = if depth == 0 {
            "  ".to_string()
        } else {
            format!("{}└→ ", "  ".repeat(depth))
        };
        out.push(Line::from(vec![
            Span::raw(arrow),
            Span::raw(img.name.clone()),
            Span::raw("  "),
            Span::styled(
                format!("{} {}", a.verdict.symbol(), a.verdict.as_str()),
                theme.verdict(a.verdict),
            ),
        ]));
    }
    out
}

pub fn vm(f: &mut Frame<'_>, area: Rect, d: &Data, i: usize, scroll: usize, theme: Theme) {
    let w = area.width.saturating_sub(2) as usize;
    let r = d.vm(i as u32);
    let vm = r.vm();
    let v = r.verdict();
    let lines = [
        kv(theme, w, "name", vm.name.clone()),
        kv_styled(
            theme,
            w,
            "verdict",
            format!("{} {}", v.symbol(), v.as_str()),
            theme.verdict(v),
        ),
        kv(theme, w, "reason", d.a.vm_reason(&d.inv, i).into_owned()),
        kv(theme, w, "id", vm.id.clone()),
        kv(
            theme,
            w,
            "where",
            format!("{} / {} / {}", vm.cloud, vm.account, vm.region),
        ),
        kv(
            theme,
            w,
            "state",
            format!("{} ({})", vm.state.as_str(), vm.size),
        ),
        kv(
            theme,
            w,
            "launched",
            vm.launched_at.format("%Y-%m-%d %H:%M UTC").to_string(),
        ),
        kv(
            theme,
            w,
            "group",
            vm.scale_group.clone().unwrap_or_else(|| "-".into()),
        ),
        kv(
            theme,
            w,
            "image",
            r.image_name().unwrap_or(&vm.image_id).to_string(),
        ),
        kv(
            theme,
            w,
            "family",
            format!(
                "{} {}",
                r.family().unwrap_or("-"),
                r.version().unwrap_or("")
            ),
        ),
        kv(
            theme,
            w,
            "class",
            format!(
                "{}: {}",
                d.a.vm_classes[i].class,
                d.a.vm_class_reason(&d.inv, i)
            ),
        ),
    ];
    let mut lines: Vec<Line<'static>> = lines.into_iter().flatten().collect();
    if !vm.tags.is_empty() {
        let tags: Vec<String> = vm.tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
        lines.extend(kv(theme, w, "tags", tags.join(" ")));
    }
    if let Some(k) = r.image_index() {
        lines.push(Line::raw(""));
        lines.extend(lineage(d, k, theme));
    }
    pane(f, area, "VM", lines, scroll, theme);
}

pub fn image(f: &mut Frame<'_>, area: Rect, d: &Data, i: usize, scroll: usize, theme: Theme) {
    let w = area.width.saturating_sub(2) as usize;
    let (img, ia) = (&d.inv.images[i], &d.a.images[i]);
    let usage = d.usage.of(&img.id);
    let lines = [
        kv(theme, w, "image", img.name.clone()),
        kv_styled(
            theme,
            w,
            "verdict",
            format!("{} {}", ia.verdict.symbol(), ia.verdict.as_str()),
            theme.verdict(ia.verdict),
        ),
        kv(theme, w, "reason", ia.reason.clone()),
        kv(theme, w, "id", img.id.clone()),
        kv(
            theme,
            w,
            "family",
            format!(
                "{} {}  latest {}",
                ia.family.as_deref().unwrap_or("-"),
                ia.version.as_deref().unwrap_or(""),
                ia.latest.as_deref().unwrap_or("-")
            ),
        ),
        kv(
            theme,
            w,
            "class",
            format!("{}: {}", ia.class.class, ia.class.reason),
        ),
        kv(
            theme,
            w,
            "state",
            format!(
                "{}, created {} ({} days), owner {}",
                img.state.as_str(),
                img.created.format("%Y-%m-%d"),
                ia.age_days,
                img.owner
            ),
        ),
    ];
    let mut lines: Vec<Line<'static>> = lines.into_iter().flatten().collect();
    let groups: Vec<&str> = usage
        .scale_groups
        .iter()
        .map(|&k| d.inv.scale_groups[k].name.as_str())
        .collect();
    let templates: Vec<String> = usage
        .launch_templates
        .iter()
        .map(|&k| {
            format!(
                "{} v{}",
                d.inv.launch_templates[k].name, d.inv.launch_templates[k].version
            )
        })
        .collect();
    let n = |count: usize, word: &str| crate::words::count(count as u64, word);
    lines.push(Line::styled(
        format!(
            "blast radius: {}, {}, {}",
            n(usage.vms.len(), "VM"),
            n(groups.len(), "scale group"),
            n(templates.len(), "launch template")
        ),
        theme.title(),
    ));
    if !groups.is_empty() {
        lines.extend(kv(theme, w, "groups", groups.join(", ")));
    }
    if !templates.is_empty() {
        lines.extend(kv(theme, w, "templates", templates.join(", ")));
    }
    lines.extend(build(d, i, theme));
    lines.extend(super::components::lines(d, i, theme));
    lines.extend(lineage(d, i, theme));
    pane(f, area, "Image", lines, scroll, theme);
}
