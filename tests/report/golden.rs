//! Golden outputs of every report format on the demo fleet at a fixed clock (insta).
//! Review changes with `cargo insta review` or `INSTA_UPDATE=always cargo test --test golden`.

use crate::common;

use common::{drydock, run};

fn report(args: &[&str]) -> String {
    let home = tempfile::tempdir().unwrap();
    let (code, out, err) = run(drydock(home.path()).arg("report").arg("--demo").args(args));
    assert!(code == 0 || code == 1, "exit {code}: {err}");
    // How long each context's scan took is the one figure that changes between runs.
    const KEY: &str = "\"duration_ms\":";
    let mut stable = String::with_capacity(out.len());
    let mut rest = out.as_str();
    while let Some(at) = rest.find(KEY) {
        stable.push_str(&rest[..at + KEY.len()]);
        let after = rest[at + KEY.len()..].trim_start_matches(' ');
        let digits = after.len() - after.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        stable.push_str("\"(elapsed)\"");
        rest = &after[digits..];
    }
    stable.push_str(rest);
    stable
}

#[test]
fn table() {
    insta::assert_snapshot!(report(&["--format", "table"]));
}

#[test]
fn table_images() {
    insta::assert_snapshot!(report(&["--format", "table", "--images"]));
}

#[test]
fn json_staging_account() {
    insta::assert_snapshot!(report(&[
        "--format",
        "json",
        "--filter",
        "account:444455556666",
        "--fail-on",
        "outdated"
    ]));
}

#[test]
fn csv() {
    insta::assert_snapshot!(report(&["--format", "csv"]));
}

#[test]
fn markdown_grouped_by_family() {
    insta::assert_snapshot!(report(&[
        "--format",
        "markdown",
        "--group-by",
        "family",
        "--filter",
        "!verdict:current"
    ]));
}

#[test]
fn table_grouped_by_region() {
    insta::assert_snapshot!(report(&[
        "--group-by",
        "region",
        "--filter",
        "verdict:eol,revoked,unknown"
    ]));
}

#[test]
fn the_readme_schema_lists_every_group_by_value() {
    let readme = include_str!("../../README.md");
    let row = readme
        .lines()
        .find(|l| l.starts_with("| `group_by` |"))
        .expect("the schema's group_by row");
    for (name, g) in drydock::report::GroupBy::NAMED {
        assert_eq!(name, g.as_str());
        assert!(row.contains(&format!("`\"{name}\"`")), "{row}");
    }
}

#[test]
fn the_table_report_names_vm_and_image_ids() {
    let out = report(&["--format", "table"]);
    let header = out.lines().next().unwrap();
    for col in ["vm", "id", "image", "image id"] {
        assert!(header.contains(col), "{header}");
    }
    assert!(out.contains("i-"), "AWS VM ids are listed");
    assert!(out.contains("ami-"), "AWS image ids are listed");
    let out = report(&["--format", "table", "--images"]);
    assert!(out.lines().next().unwrap().contains(" id "), "{out}");
}
