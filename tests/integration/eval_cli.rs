//! `tongdian eval`: scoring the analysis against labelled messages.

use crate::support::{repo_root, stdout_of, tongdian};

fn metric(report: &str, name: &str) -> f64 {
    let line = report
        .lines()
        .find(|l| l.starts_with(name))
        .unwrap_or_else(|| panic!("no `{name}` in:\n{report}"));
    line[name.len()..]
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// `tongdian eval` over the shipped labelled set; its report.
fn eval_shipped_set(args: &[&str]) -> String {
    stdout_of(
        tongdian()
            .arg("eval")
            .args(args)
            .arg("--labels")
            .arg(repo_root().join("nlp/eval/labelled.jsonl")),
    )
}

#[test]
fn the_shipped_labelled_set_scores_above_the_bars() {
    let report = eval_shipped_set(&[]);
    assert!(metric(&report, "sentiment accuracy") >= 0.85, "{report}");
    assert!(metric(&report, "mention polarity") >= 0.85, "{report}");
    assert!(
        report.contains("themes (micro)") && report.contains("per theme:"),
        "{report}"
    );
}

#[test]
fn a_user_taxonomy_is_what_gets_scored() {
    // With a taxonomy that knows none of the expected themes, theme recall
    // collapses: the command really scores the taxonomy it was given.
    let dir = tempfile::tempdir().unwrap();
    let default = std::fs::read_to_string(repo_root().join("nlp/taxonomy/default.toml")).unwrap();
    let start = default.find("[[theme]]").unwrap();
    let end = default.find("[[flag]]").unwrap();
    let tiny = format!(
        "{}[[theme]]\nid = \"bubble_tea\"\nname_zh = \"奶茶\"\ncategory = \"product\"\nstage = \"usage\"\neffort = 1\nkeywords = [\"奶茶\"]\n\n{}",
        &default[..start],
        &default[end..]
    );
    let taxonomy = dir.path().join("tiny.toml");
    std::fs::write(&taxonomy, tiny).unwrap();
    let report = eval_shipped_set(&["--taxonomy", taxonomy.to_str().unwrap()]);
    let themes = report
        .lines()
        .find(|l| l.starts_with("themes (micro)"))
        .unwrap();
    assert!(themes.contains("R 0.000"), "{themes}");
}

#[test]
fn a_malformed_labels_file_names_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let labels = dir.path().join("labels.jsonl");
    std::fs::write(
        &labels,
        "{\"id\":\"1\",\"text\":\"好\",\"expected\":{\"sentiment\":\"positive\"}}\nnot json\n",
    )
    .unwrap();
    let out = tongdian()
        .args(["eval", "--labels"])
        .arg(&labels)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("labels.jsonl") && err.contains('2'), "{err}");
}
