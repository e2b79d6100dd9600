//! Golden outputs of every report format on the demo fleet at a fixed clock (insta).
//! Review changes with `cargo insta review` or `INSTA_UPDATE=always cargo test --test golden`.

mod common;

use common::{drydock, run};

fn report(args: &[&str]) -> String {
    let home = tempfile::tempdir().unwrap();
    let (code, out, err) = run(drydock(home.path()).arg("report").arg("--demo").args(args));
    assert!(code == 0 || code == 1, "exit {code}: {err}");
    out
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
