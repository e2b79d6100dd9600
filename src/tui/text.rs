//! Text that must fit a width without lying about it, for every view and dialog: a cut
//! value ends with `…` ([`ellipsize`]), a long cloud id keeps its distinguishing tail (for
//! Azure, `resource-group/name`; [`id_cell`]), and a value in a pane or dialog wraps at
//! words under a hanging indent ([`wrap`]) instead of being cut. No view slices text
//! itself.

use std::cell::RefCell;

thread_local! {
    /// What the fit functions produced on this thread, while recording (tests).
    static FITTED: RefCell<Option<Vec<Fitted>>> = const { RefCell::new(None) };
    /// Whether what is being fitted now is drawn over the views (a popup or dialog).
    static OVERLAY: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// A value and the text a view shows for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fitted {
    pub full: String,
    pub shown: String,
    /// Drawn over the views (a popup or dialog), which it may cover.
    pub overlay: bool,
}

/// From here to the end of the frame, texts are drawn over the views.
pub fn begin_overlay() {
    OVERLAY.with(|o| o.set(true));
}

/// Starts recording every value this thread's fit functions fit (for the tests that check
/// each visible cell against its full value), forgetting what was recorded before.
pub fn record_fitted() {
    FITTED.with(|f| *f.borrow_mut() = Some(Vec::new()));
    OVERLAY.with(|o| o.set(false));
}

/// What was recorded since [`record_fitted`] (recording goes on, under the views again).
pub fn take_fitted() -> Vec<Fitted> {
    OVERLAY.with(|o| o.set(false));
    FITTED.with(|f| {
        f.borrow_mut()
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    })
}

fn note(full: &str, shown: &str) {
    FITTED.with(|f| {
        if let Some(v) = f.borrow_mut().as_mut() {
            v.push(Fitted {
                full: full.to_string(),
                shown: shown.to_string(),
                overlay: OVERLAY.with(|o| o.get()),
            });
        }
    });
}

/// `s` in at most `max` characters; a cut ends with `…`.
pub fn ellipsize(s: &str, max: usize) -> String {
    let out = if s.chars().count() <= max {
        s.to_string()
    } else if max == 0 {
        String::new()
    } else {
        let mut out: String = s.chars().take(max - 1).collect();
        out.push('…');
        out
    };
    note(s, &out);
    out
}

/// The part of a cloud id that tells it apart from its neighbours: an Azure resource id
/// (`/subscriptions/…/resourceGroups/RG/providers/…/NAME`) becomes `RG/NAME` (a gallery image
/// version `RG/gallery/definition/version`); other ids are kept whole.
pub fn short_id(id: &str) -> String {
    if !id.starts_with("/subscriptions/") {
        return id.to_string();
    }
    let parts: Vec<&str> = id.split('/').filter(|p| !p.is_empty()).collect();
    let rg = parts
        .iter()
        .position(|p| p.eq_ignore_ascii_case("resourceGroups"))
        .and_then(|i| parts.get(i + 1));
    let provider = parts
        .iter()
        .position(|p| p.eq_ignore_ascii_case("providers"));
    // After `providers/Namespace`, names alternate type/name: keep the names.
    let names: Vec<&str> = match provider {
        Some(i) => parts[i + 2..].iter().skip(1).step_by(2).copied().collect(),
        None => parts.last().into_iter().copied().collect(),
    };
    match (rg, names.is_empty()) {
        (Some(rg), false) => format!("{rg}/{}", names.join("/")),
        (None, false) => names.join("/"),
        (_, true) => id.to_string(),
    }
}

/// `text` wrapped into lines of at most `width` characters: the first line starts with
/// `first` (e.g. `"  reason: "`), the others with as many spaces, so a continuation never
/// looks like a new field. Breaks at spaces; a word longer than a line (an id, a URL) is
/// broken where it must, and nothing is dropped.
pub fn wrap(first: &str, text: &str, width: usize) -> Vec<String> {
    let indent = first.chars().count();
    let room = width.saturating_sub(indent).max(1);
    let pad = " ".repeat(indent);
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    let mut used = 0;
    let push = |line: &mut String, lines: &mut Vec<String>| {
        note(text, line);
        let lead = if lines.is_empty() {
            first
        } else {
            pad.as_str()
        };
        lines.push(format!("{lead}{line}"));
        line.clear();
    };
    for word in text.split_whitespace() {
        let mut rest: Vec<char> = word.chars().collect();
        if used > 0 && used + 1 + rest.len() <= room {
            line.push(' ');
            line.extend(&rest);
            used += 1 + rest.len();
            continue;
        }
        if used > 0 {
            push(&mut line, &mut lines);
        }
        while rest.len() > room {
            let tail = rest.split_off(room);
            line.extend(&rest);
            push(&mut line, &mut lines);
            rest = tail;
        }
        line.extend(&rest);
        used = rest.len();
    }
    if used > 0 || lines.is_empty() {
        push(&mut line, &mut lines);
    }
    lines
}

/// A line of text that was made for a terminal of any width, in `width`: its indent kept,
/// continuation lines two deeper, nothing cut.
pub fn wrap_line(line: &str, width: usize) -> Vec<String> {
    let body = line.trim_start();
    let lead: String = line.chars().take_while(|c| c.is_whitespace()).collect();
    let deeper = format!("{lead}  ");
    let mut out = wrap(&deeper, body, width);
    if let Some(first) = out.first_mut() {
        *first = format!("{lead}{}", first.get(deeper.len()..).unwrap_or(""));
    }
    out
}

/// `line` with every Azure resource id in it (`/subscriptions/…`) shortened by
/// [`short_id`], for dialogs that show text made for a terminal of any width.
pub fn shorten_ids(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(at) = rest.find("/subscriptions/") {
        out.push_str(&rest[..at]);
        let id = &rest[at..];
        let end = id
            .find(|c: char| c.is_whitespace() || matches!(c, ')' | ',' | ';' | '\'' | '"'))
            .unwrap_or(id.len());
        out.push_str(&short_id(&id[..end]));
        rest = &id[end..];
    }
    out.push_str(rest);
    out
}

/// `short_id`, then cut from the left (`…` first) to `max` characters: the end of an id is
/// what differs.
pub fn id_cell(id: &str, max: usize) -> String {
    let s = short_id(id);
    let n = s.chars().count();
    let out = if n <= max || max < 2 {
        s.clone()
    } else {
        let skip = n - (max - 1);
        format!("…{}", s.chars().skip(skip).collect::<String>())
    };
    note(&s, &out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_values_end_with_an_ellipsis() {
        assert_eq!(ellipsize("2026.11.1", 9), "2026.11.1");
        assert_eq!(ellipsize("2026.11.10", 9), "2026.11.…");
        assert_eq!(ellipsize("abc", 0), "");
    }

    #[test]
    fn wrapped_values_keep_every_word_under_a_hanging_indent() {
        let lines = wrap(
            "  fields: ",
            "name id cloud account region state size image",
            30,
        );
        assert_eq!(
            lines,
            vec![
                "  fields: name id cloud",
                "          account region state",
                "          size image",
            ]
        );
        for l in &lines {
            assert!(l.chars().count() <= 30, "{l:?}");
        }
        // A word longer than the room is broken, not dropped.
        let id = "/subscriptions/6b1f/resourceGroups/rg/providers/x/y";
        let lines = wrap("id: ", id, 20);
        assert!(lines.iter().all(|l| l.chars().count() <= 20), "{lines:?}");
        let joined: String = lines
            .iter()
            .map(|l| l.trim_start_matches("id: ").trim())
            .collect();
        assert_eq!(joined, id);
        assert_eq!(wrap("x: ", "", 10), vec!["x: "]);
    }

    #[test]
    fn azure_ids_keep_their_distinguishing_tail() {
        let vm = "/subscriptions/6b1f3c00-0000-0000-0000-000000000000/resourceGroups/rg-pay/providers/Microsoft.Compute/virtualMachines/ledger-001";
        assert_eq!(short_id(vm), "rg-pay/ledger-001");
        let ver = "/subscriptions/6b1f3c/resourceGroups/rg-img/providers/Microsoft.Compute/galleries/golden/images/payment/versions/2026.11.1";
        assert_eq!(short_id(ver), "rg-img/golden/payment/2026.11.1");
        assert_eq!(short_id("ami-0abc"), "ami-0abc");
        assert_eq!(id_cell(vm, 12), "…/ledger-001");
        assert_eq!(id_cell("i-0123456789abcdef0", 21), "i-0123456789abcdef0");
    }
}
