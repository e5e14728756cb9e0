//! Taxonomy files from the outside: the default carries every required id,
//! broken files are rejected with file and line, and a user taxonomy
//! changes what gets tagged.

use std::io::Write;

use tongdian_nlp::{Analyzer, NlpError, Polarity, Taxonomy, TaxonomyIssue};

/// The ids shared/TAXONOMY.md requires of the default taxonomy.
const CATEGORIES: &[&str] = &[
    "process",
    "product",
    "communication",
    "relationship",
    "emotional",
];
const STAGES: &[&str] = &[
    "awareness",
    "consideration",
    "purchase",
    "usage",
    "after_sales",
    "advocacy",
];
const THEMES: &[(&str, &str, &str)] = &[
    ("advertising", "communication", "awareness"),
    ("product_info", "communication", "consideration"),
    ("website_app", "process", "consideration"),
    ("customer_service", "process", "consideration"),
    ("staff_attitude", "relationship", "usage"),
    ("staff_competence", "relationship", "usage"),
    ("checkout_payment", "process", "purchase"),
    ("pricing", "product", "purchase"),
    ("delivery", "process", "purchase"),
    ("packaging", "product", "usage"),
    ("product_quality", "product", "usage"),
    ("usability", "product", "usage"),
    ("after_sales_repair", "process", "after_sales"),
    ("returns_refunds", "process", "after_sales"),
    ("membership", "relationship", "advocacy"),
    ("privacy_security", "communication", "usage"),
    ("store_environment", "product", "usage"),
];
const FLAGS: &[&str] = &["churn_risk", "escalation", "safety", "expectation_gap"];
const EMOTIONS: &[&str] = &[
    "anger",
    "frustration",
    "disappointment",
    "anxiety",
    "feeling_ignored",
    "delight",
];

#[test]
fn default_taxonomy_carries_every_required_id() {
    let t = Taxonomy::default_v1();
    let ids = |it: &mut dyn Iterator<Item = &str>| it.map(str::to_string).collect::<Vec<_>>();
    assert_eq!(
        ids(&mut t.categories().iter().map(|c| c.id.as_str())),
        CATEGORIES
    );
    assert_eq!(ids(&mut t.stages().iter().map(|s| s.id.as_str())), STAGES);
    for (id, category, stage) in THEMES {
        let theme = t.theme(id).unwrap_or_else(|| panic!("missing theme {id}"));
        assert_eq!(
            (theme.category.as_str(), theme.stage.as_str()),
            (*category, *stage),
            "{id}"
        );
        assert!((1..=5).contains(&theme.effort), "{id}");
        assert!(!theme.name_zh.is_empty(), "{id}");
    }
    assert_eq!(t.themes().len(), THEMES.len());
    assert_eq!(ids(&mut t.flags().iter().map(|f| f.id.as_str())), FLAGS);
    assert_eq!(
        ids(&mut t.emotions().iter().map(|e| e.id.as_str())),
        EMOTIONS
    );
}

const CUSTOM: &str = r#"
name = "bubble-tea"
version = "2024.1"

[[category]]
id = "product"
name_zh = "产品"

[[stage]]
id = "usage"
name_zh = "使用"

[[theme]]
id = "toppings"
name_zh = "小料"
category = "product"
stage = "usage"
effort = 2
keywords = ["珍珠", "椰果", "芋圆"]
keywords_hant = ["粉圓"]
keywords_en = ["boba", "tapioca"]
exclude = ["珍珠项链"]
dictionary = ["芋圆"]

[[flag]]
id = "sugar_complaint"
name_zh = "糖度"
keywords = ["太甜"]
"#;

#[test]
fn a_custom_taxonomy_changes_tagging() {
    let text = "珍珠太硬了，而且太甜";
    let default = Analyzer::with_default_taxonomy().unwrap().analyze(text);
    assert!(default.themes.iter().all(|t| t.id != "toppings"));

    let custom = Analyzer::new(Taxonomy::from_toml_str(CUSTOM, "bubble.toml").unwrap()).unwrap();
    let a = custom.analyze(text);
    assert_eq!(a.themes.len(), 1, "{a:#?}");
    assert_eq!(a.themes[0].id, "toppings");
    assert_eq!(a.themes[0].polarity, Polarity::Negative);
    assert_eq!(a.flags, vec!["sugar_complaint"]);
    // Taiwan wording and English reach the same theme.
    assert_eq!(custom.analyze("粉圓很Q").themes[0].id, "toppings");
    assert_eq!(
        custom.analyze("The boba was great").themes[0].polarity,
        Polarity::Positive
    );
    // Exclusion works in user files too.
    assert!(custom.analyze("送了一条珍珠项链").themes.is_empty());
    assert_eq!(custom.taxonomy().version(), "2024.1");
}

/// Added to [`CUSTOM`]: a staff theme named by role nouns, `subjects`
/// that count only where an opinion is voiced, and a flag with a `cues`
/// word that counts only in a complaint.
const WITH_SUBJECTS_AND_CUES: &str = r#"
[[theme]]
id = "baristas"
name_zh = "店员"
category = "product"
stage = "usage"
effort = 2
keywords = ["拉花"]
subjects = ["店小二", "barista"]

[[flag]]
id = "broken_promise"
name_zh = "货不对板"
keywords = ["骗人"]
cues = ["菜单上"]
"#;

#[test]
fn subjects_and_cues_count_only_where_an_opinion_is_voiced() {
    let src = format!("{CUSTOM}{WITH_SUBJECTS_AND_CUES}");
    let analyzer = Analyzer::new(Taxonomy::from_toml_str(&src, "tea.toml").unwrap()).unwrap();
    let themes = |text: &str| -> Vec<(String, Polarity)> {
        let a = analyzer.analyze(text);
        a.themes
            .iter()
            .map(|t| (t.id.to_string(), t.polarity))
            .collect()
    };
    let baristas = |p| vec![("baristas".to_string(), p)];
    assert_eq!(themes("店小二态度特别好"), baristas(Polarity::Positive));
    assert_eq!(themes("The barista was rude"), baristas(Polarity::Negative));
    // Named without an opinion: no pain point, no praise.
    assert_eq!(themes("店小二说明天再来"), vec![]);
    // An opinion in a clause that names another theme is about that one.
    assert_eq!(
        themes("店小二推荐的珍珠太硬了"),
        vec![("toppings".to_string(), Polarity::Negative)]
    );
    // A cue raises its flag in a complaint only.
    let flags = |text: &str| analyzer.analyze(text).flags;
    assert_eq!(
        flags("菜单上写的是大杯，结果给了小杯，太坑了"),
        ["broken_promise"]
    );
    assert!(flags("菜单上写得很清楚，好评").is_empty());
    assert_eq!(flags("骗人的，好评"), ["broken_promise"]);
    // A blank subject is refused like any other blank entry, on its line.
    let blank = src.replace("\"barista\"]", "\"\"]");
    let line = 1 + src
        .lines()
        .position(|l| l.contains("\"barista\"]"))
        .unwrap();
    match Taxonomy::from_toml_str(&blank, "tea.toml") {
        Err(NlpError::Taxonomy {
            line: got,
            issue: TaxonomyIssue::BlankEntry { field, .. },
            ..
        }) if got == line => {
            assert_eq!(field, "subjects")
        }
        other => panic!("expected a blank subject to be refused, got {other:?}"),
    }
}

#[test]
fn taxonomy_files_load_from_disk_and_errors_name_the_file() {
    let dir = std::env::temp_dir().join(format!("tongdian-nlp-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("bubble.toml");
    std::fs::File::create(&good)
        .unwrap()
        .write_all(CUSTOM.as_bytes())
        .unwrap();
    assert_eq!(Taxonomy::from_path(&good).unwrap().themes().len(), 1);

    let bad = dir.join("broken.toml");
    let broken = CUSTOM.replace(
        "category = \"product\"\nstage",
        "category = \"drinks\"\nstage",
    );
    std::fs::File::create(&bad)
        .unwrap()
        .write_all(broken.as_bytes())
        .unwrap();
    let err = Taxonomy::from_path(&bad).unwrap_err();
    assert_eq!(
        err.to_string(),
        "broken.toml:16: theme `toppings`: unknown category `drinks`"
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// (text to replace, replacement, expected line, expected issue)
type BrokenCase = (
    &'static str,
    &'static str,
    usize,
    fn(&TaxonomyIssue) -> bool,
);

#[test]
fn broken_taxonomies_are_rejected_with_line_numbers() {
    let cases: &[BrokenCase] = &[
        ("effort = 2", "effort = 0", 18, |i| {
            matches!(i, TaxonomyIssue::EffortOutOfRange { effort: 0, .. })
        }),
        (
            "stage = \"usage\"\neffort",
            "stage = \"later\"\neffort",
            17,
            |i| matches!(i, TaxonomyIssue::UnknownStage { .. }),
        ),
        ("keywords = [\"太甜\"]", "keywords = []", 26, |i| {
            matches!(i, TaxonomyIssue::NoKeywords { .. })
        }),
        (
            "keywords_en = [\"boba\", \"tapioca\"]",
            "keywords_en = [\"boba\", \"\"]",
            21,
            |i| matches!(i, TaxonomyIssue::BlankEntry { .. }),
        ),
        ("exclude = [", "excludes = [", 22, |i| {
            matches!(i, TaxonomyIssue::Syntax { .. })
        }),
        (
            "id = \"sugar_complaint\"",
            "id = \"sugar complaint\"",
            26,
            |i| matches!(i, TaxonomyIssue::InvalidId { .. }),
        ),
        ("[[flag]]", "[[flag]\n", 25, |i| {
            matches!(i, TaxonomyIssue::Syntax { .. })
        }),
    ];
    for (from, to, line, is) in cases {
        assert!(CUSTOM.contains(from), "{from}");
        let src = CUSTOM.replacen(from, to, 1);
        match Taxonomy::from_toml_str(&src, "custom.toml") {
            Err(NlpError::Taxonomy {
                origin,
                line: got,
                issue,
            }) => {
                assert_eq!(origin, "custom.toml");
                assert_eq!(got, *line, "{to}: {issue}");
                assert!(is(&issue), "{to}: {issue:?}");
            }
            other => panic!("{to}: expected a taxonomy error, got {other:?}"),
        }
    }
}

/// The Helm chart embeds the default taxonomy in its ConfigMap byte for
/// byte, and the rendered YAML is linted there: a trailing space, harmless
/// in TOML, would fail that check far from the edit that made it.
#[test]
fn the_default_taxonomy_has_no_trailing_whitespace() {
    let src = include_str!("../taxonomy/default.toml");
    let bad: Vec<usize> = src
        .lines()
        .enumerate()
        .filter(|(_, l)| l.ends_with(' ') || l.ends_with('\t'))
        .map(|(i, _)| i + 1)
        .collect();
    assert!(bad.is_empty(), "trailing whitespace on lines {bad:?}");
}
