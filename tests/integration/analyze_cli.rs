//! `tongdian analyze`: the JSONL contract of the command.

use std::io::Write;
use std::process::{Output, Stdio};

use serde_json::Value;

use crate::support::tongdian;

fn analyze(args: &[&str], input: &str) -> Output {
    let mut child = tongdian()
        .arg("analyze")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn lines(out: &Output) -> Vec<Value> {
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

const INPUT: &str = r#"{"id":"a","kind":"review","created_at":"2026-11-03T10:00:00+08:00","source":"jd","text":"快递太慢了，等了一个星期，客服也一直不回复，太失望了"}
{"id":"b","kind":"review","created_at":"2026-11-03T10:00:00+08:00","source":"jd","rating":9,"text":"好"}
not json at all

{"id":"c","kind":"survey","created_at":"2026-11-03T10:00:00Z","source":"wechat_survey","survey":{"nps":10}}
{"id":"d","kind":"social","created_at":"2026-11-03T10:00:00Z","source":"x","text":"The app keeps crashing after the update"}
"#;

#[test]
fn one_result_per_line_in_order_with_errors_naming_the_line() {
    let out = analyze(&[], INPUT);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = lines(&out);
    assert_eq!(lines.len(), 5, "blank lines carry no message");

    assert_eq!(lines[0]["id"], "a");
    assert_eq!(lines[0]["script"], "hans");
    assert_eq!(lines[0]["sentiment"]["label"], "negative");
    let score = lines[0]["sentiment"]["score"].as_f64().unwrap();
    assert!((-1.0..0.0).contains(&score), "{score}");
    let themes: Vec<&str> = lines[0]["themes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert!(themes.contains(&"delivery"), "{themes:?}");
    let delivery = lines[0]["themes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == "delivery")
        .unwrap();
    assert_eq!(delivery["stage"], "purchase");
    assert_eq!(delivery["category"], "process");
    assert_eq!(delivery["polarity"], "negative");
    let evidence = &delivery["evidence"][0];
    let text: Vec<char> = "快递太慢了，等了一个星期，客服也一直不回复，太失望了"
        .chars()
        .collect();
    let (start, end) = (
        evidence["start"].as_u64().unwrap() as usize,
        evidence["end"].as_u64().unwrap() as usize,
    );
    assert_eq!(
        text[start..end].iter().collect::<String>(),
        evidence["text"].as_str().unwrap()
    );

    assert_eq!(lines[1]["line"], 2);
    assert_eq!(lines[1]["error"]["code"], "bad_value");
    assert!(lines[1]["error"]["message"]
        .as_str()
        .unwrap()
        .contains("rating"));
    assert_eq!(lines[2]["line"], 3);
    assert_eq!(lines[2]["error"]["code"], "invalid_json");

    assert_eq!(lines[3]["id"], "c");
    assert_eq!(
        lines[3]["sentiment"],
        Value::Null,
        "scores only: nothing to analyse"
    );

    assert_eq!(lines[4]["id"], "d");
    assert_eq!(lines[4]["script"], "en");
    assert_eq!(lines[4]["sentiment"]["label"], "negative");
}

/// A review is a verdict and a ticket is not: the same plain statement
/// takes the learned model's lean in one and stays neutral in the other.
#[test]
fn the_kind_decides_how_a_statement_without_opinion_words_is_read() {
    let line = |id: &str, kind: &str| {
        format!(
            r#"{{"id":"{id}","kind":"{kind}","created_at":"2026-11-03T10:00:00+08:00","source":"jd","text":"快递员把包裹放在了门卫室"}}"#
        )
    };
    let input = [
        line("r", "review"),
        line("t", "ticket"),
        line("s", "social"),
    ]
    .join("\n");
    let out = analyze(&[], &input);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = lines(&out);
    let label = |i: usize| lines[i]["sentiment"]["label"].as_str().unwrap().to_owned();
    assert_eq!(label(0), "negative");
    assert_eq!(label(1), "neutral");
    assert_eq!(label(2), "negative");
}

#[test]
fn strict_stops_at_the_first_invalid_line() {
    let out = analyze(&["--strict"], INPUT);
    assert_eq!(out.status.code(), Some(1));
    let lines = lines(&out);
    assert_eq!(lines.len(), 2, "the first result, then the error");
    assert_eq!(lines[1]["line"], 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 2"));
}

#[test]
fn a_user_taxonomy_changes_what_is_tagged() {
    let dir = tempfile::tempdir().unwrap();
    let default =
        std::fs::read_to_string(crate::support::repo_root().join("nlp/taxonomy/default.toml"))
            .unwrap();
    // The default taxonomy does not know this word; the user's file teaches it.
    let input = r#"{"id":"x","kind":"review","created_at":"2026-11-03T10:00:00Z","source":"jd","text":"咖啡机的奶泡棒坏了"}"#;
    let before = lines(&analyze(&[], input));
    let before: Vec<&str> = before[0]["themes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert!(!before.contains(&"milk_frother"));

    let custom = format!(
        "{default}\n\n[[theme]]\nid = \"milk_frother\"\nname_zh = \"奶泡棒\"\ncategory = \"product\"\nstage = \"usage\"\neffort = 2\nkeywords = [\"奶泡棒\"]\nkeywords_en = [\"milk frother\"]\ndictionary = [\"奶泡棒\"]\n"
    );
    let path = dir.path().join("taxonomy.toml");
    std::fs::write(&path, custom).unwrap();
    let after = lines(&analyze(&["--taxonomy", path.to_str().unwrap()], input));
    let after: Vec<&str> = after[0]["themes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert!(after.contains(&"milk_frother"), "{after:?}");
}

#[test]
fn a_broken_taxonomy_is_refused_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.toml");
    let default =
        std::fs::read_to_string(crate::support::repo_root().join("nlp/taxonomy/default.toml"))
            .unwrap();
    // A valid file with one theme pointing at a category nobody declared.
    let broken = format!("{default}\n[[theme]]\nid = \"x\"\nname_zh = \"x\"\ncategory = \"nonsense\"\nstage = \"usage\"\neffort = 2\nkeywords = [\"x\"]\n");
    std::fs::write(&path, broken).unwrap();
    let out = analyze(&["--taxonomy", path.to_str().unwrap()], "");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("broken.toml"), "{err}");
    assert!(err.contains("nonsense"), "{err}");
}
