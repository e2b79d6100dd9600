//! Detail panes: a VM with its image and lineage; an image with its lineage chain
//! (base → golden → app) and blast radius (VMs, scale groups, launch templates).

use crate::tui::data::Data;
use crate::tui::theme::Theme;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};
use ratatui::Frame;

fn kv(theme: Theme, k: &str, v: impl Into<String>) -> Line<'static> {
    Line::from(vec![
        Span::styled(format!("{k:>10}: "), theme.title()),
        Span::raw(v.into()),
    ])
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

pub fn vm(f: &mut Frame<'_>, area: Rect, d: &Data, i: usize, theme: Theme) {
    let r = d.vm(i as u32);
    let vm = r.vm();
    let v = r.verdict();
    let mut lines = vec![
        kv(theme, "name", vm.name.clone()),
        kv(theme, "id", vm.id.clone()),
        kv(
            theme,
            "where",
            format!("{} / {} / {}", vm.cloud, vm.account, vm.region),
        ),
        kv(
            theme,
            "state",
            format!("{} ({})", vm.state.as_str(), vm.size),
        ),
        kv(
            theme,
            "launched",
            vm.launched_at.format("%Y-%m-%d %H:%M UTC").to_string(),
        ),
        kv(
            theme,
            "group",
            vm.scale_group.clone().unwrap_or_else(|| "-".into()),
        ),
        kv(
            theme,
            "image",
            r.image_name().unwrap_or(&vm.image_id).to_string(),
        ),
        kv(
            theme,
            "family",
            format!(
                "{} {}",
                r.family().unwrap_or("-"),
                r.version().unwrap_or("")
            ),
        ),
        kv(
            theme,
            "class",
            format!("{}: {}", d.a.vm_classes[i].class, d.a.vm_classes[i].reason),
        ),
        Line::from(vec![
            Span::styled(format!("{:>10}: ", "verdict"), theme.title()),
            Span::styled(format!("{} {}", v.symbol(), v.as_str()), theme.verdict(v)),
        ]),
        kv(theme, "reason", d.a.vm_reason(&d.inv, i).into_owned()),
    ];
    if !vm.tags.is_empty() {
        let tags: Vec<String> = vm.tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
        lines.push(kv(theme, "tags", tags.join(" ")));
    }
    if let Some(k) = r.image_index() {
        lines.push(Line::raw(""));
        lines.extend(lineage(d, k, theme));
    }
    let block = Block::bordered().title(Span::styled(" VM ", theme.title()));
    f.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        area,
    );
}

pub fn image(f: &mut Frame<'_>, area: Rect, d: &Data, i: usize, theme: Theme) {
    let (img, ia) = (&d.inv.images[i], &d.a.images[i]);
    let usage = d.usage.of(&img.id);
    let mut lines = vec![
        kv(theme, "image", format!("{} ({})", img.name, img.id)),
        kv(
            theme,
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
            "class",
            format!("{}: {}", ia.class.class, ia.class.reason),
        ),
        kv(
            theme,
            "state",
            format!(
                "{}, created {} ({} days), owner {}",
                img.state.as_str(),
                img.created.format("%Y-%m-%d"),
                ia.age_days,
                img.owner
            ),
        ),
        Line::from(vec![
            Span::styled(format!("{:>10}: ", "verdict"), theme.title()),
            Span::styled(
                format!("{} {}", ia.verdict.symbol(), ia.verdict.as_str()),
                theme.verdict(ia.verdict),
            ),
            Span::raw(format!("  {}", ia.reason)),
        ]),
    ];
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
    let n =
        |count: usize, word: &str| format!("{count} {word}{}", if count == 1 { "" } else { "s" });
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
        lines.push(kv(theme, "groups", groups.join(", ")));
    }
    if !templates.is_empty() {
        lines.push(kv(theme, "templates", templates.join(", ")));
    }
    lines.extend(build(d, i, theme));
    lines.extend(super::components::lines(d, i, theme));
    lines.extend(lineage(d, i, theme));
    let block = Block::bordered().title(Span::styled(" Image ", theme.title()));
    f.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        area,
    );
}
