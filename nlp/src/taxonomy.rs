//! The pain-point taxonomy: categories, journey stages, themes with their
//! keywords, flags and emotions, loaded from TOML.
//!
//! The default (`nlp/taxonomy/default.toml`) is compiled in; deployments can
//! load their own file with the same layout. Files are checked completely at
//! load time, and every problem is reported with the file name and line, so
//! a bad edit fails at startup with a message that points at the fix rather
//! than silently tagging nothing.

use std::collections::HashSet;
use std::path::Path;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::error::{NlpError, TaxonomyIssue};

const DEFAULT_V1: &str = include_str!("../taxonomy/default.toml");

/// A validated taxonomy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Taxonomy {
    name: String,
    version: String,
    learned_themes: bool,
    categories: Vec<Category>,
    stages: Vec<Stage>,
    themes: Vec<Theme>,
    flags: Vec<Marker>,
    emotions: Vec<Marker>,
}

/// A pain-point category (process, product …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Category {
    pub id: String,
    pub name_zh: String,
}

/// A customer-journey stage (awareness … advocacy).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stage {
    pub id: String,
    pub name_zh: String,
}

/// A theme customers talk about, and the words that reveal it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Theme {
    pub id: String,
    pub name_zh: String,
    pub description: String,
    pub category: String,
    pub stage: String,
    /// How hard the pain point is to fix, 1 (quick win) to 5 (structural).
    pub effort: u8,
    /// Simplified Chinese.
    pub keywords: Vec<String>,
    /// Traditional Chinese as written in Taiwan and Hong Kong (vocabulary
    /// differs, not just characters: 宅配, 當機, 黑口黑面).
    pub keywords_hant: Vec<String>,
    /// English, matched case-insensitively on word boundaries.
    pub keywords_en: Vec<String>,
    /// Words naming who or what the theme is about (a courier, a nurse,
    /// staff), any script or language: they tag the theme only in a clause
    /// that voices an opinion (司机大哥开车很稳), since on their own they
    /// name no pain point (司机到了打电话).
    pub subjects: Vec<String>,
    /// Words that veto this theme in the clause they appear in.
    pub exclude: Vec<String>,
    /// Extra words for the Chinese segmenter, so domain terms stay whole.
    pub dictionary: Vec<String>,
}

/// A flag (churn_risk …) or emotion (anger …): found by keywords, reported
/// per message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Marker {
    pub id: String,
    pub name_zh: String,
    pub description: String,
    pub keywords: Vec<String>,
    pub keywords_hant: Vec<String>,
    pub keywords_en: Vec<String>,
    /// Words that count only in a message whose verdict is negative or
    /// mixed, any script or language: 详情页 or advertised raise
    /// expectation_gap in a complaint (广告说持妆12小时，中午就斑驳了), and
    /// nothing in praise (详情页写得很清楚).
    pub cues: Vec<String>,
    pub exclude: Vec<String>,
    /// Emotions only: flag ids and analyzer signals (`unfinished_wait`, a
    /// wait that has not ended) that imply the emotion without a keyword.
    /// Escalating to 12315 is an angry act whatever the words.
    pub implied_by: Vec<String>,
}

/// What the analyzer notices besides keywords and can imply an emotion:
/// `unfinished_wait` is a wait that has not ended (快递三天都没到).
pub const SIGNALS: &[&str] = &["unfinished_wait"];

impl Theme {
    /// All keyword lists, Chinese and English.
    pub fn all_keywords(&self) -> impl Iterator<Item = &str> {
        self.keywords
            .iter()
            .chain(&self.keywords_hant)
            .chain(&self.keywords_en)
            .map(String::as_str)
    }
}

impl Marker {
    pub fn all_keywords(&self) -> impl Iterator<Item = &str> {
        self.keywords
            .iter()
            .chain(&self.keywords_hant)
            .chain(&self.keywords_en)
            .map(String::as_str)
    }
}

impl Taxonomy {
    /// The built-in taxonomy (`nlp/taxonomy/default.toml`, version 1).
    pub fn default_v1() -> Taxonomy {
        Taxonomy::from_toml_str(DEFAULT_V1, "default.toml")
            .expect("the embedded default taxonomy is valid; the crate's tests load it")
    }

    /// Parses and validates a taxonomy. `origin` names the source in error
    /// messages (usually the file name).
    pub fn from_toml_str(src: &str, origin: &str) -> Result<Taxonomy, NlpError> {
        let fail = |offset: usize, issue: TaxonomyIssue| NlpError::Taxonomy {
            origin: origin.to_string(),
            line: line_at(src, offset),
            issue,
        };
        let raw: RawTaxonomy = toml::from_str(src).map_err(|e| {
            fail(
                e.span().map_or(0, |s| s.start),
                TaxonomyIssue::Syntax {
                    message: e.message().trim().to_string(),
                },
            )
        })?;
        raw.validate()
            .map_err(|(offset, issue)| fail(offset, issue))
    }

    /// Reads and validates a taxonomy file; errors name the file.
    pub fn from_path(path: &Path) -> Result<Taxonomy, NlpError> {
        let src = std::fs::read_to_string(path).map_err(|source| NlpError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let origin = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        Taxonomy::from_toml_str(&src, &origin)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn version(&self) -> &str {
        &self.version
    }

    /// Whether the learned theme model tags this taxonomy's themes of the
    /// ids it knows besides their keywords (`learned_themes`, default
    /// true).
    pub fn learned_themes(&self) -> bool {
        self.learned_themes
    }

    pub fn categories(&self) -> &[Category] {
        &self.categories
    }

    pub fn stages(&self) -> &[Stage] {
        &self.stages
    }

    pub fn themes(&self) -> &[Theme] {
        &self.themes
    }

    pub fn theme(&self, id: &str) -> Option<&Theme> {
        self.themes.iter().find(|t| t.id == id)
    }

    pub fn flags(&self) -> &[Marker] {
        &self.flags
    }

    pub fn emotions(&self) -> &[Marker] {
        &self.emotions
    }
}

/// 1-based line of a byte offset.
pub(crate) fn line_at(src: &str, offset: usize) -> usize {
    let offset = offset.min(src.len());
    src.as_bytes()[..offset]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

type Words = Vec<Spanned<String>>;

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTaxonomy {
    name: String,
    version: String,
    #[serde(default = "yes")]
    learned_themes: bool,
    #[serde(default)]
    category: Vec<RawNamed>,
    #[serde(default)]
    stage: Vec<RawNamed>,
    #[serde(default)]
    theme: Vec<RawTheme>,
    #[serde(default)]
    flag: Vec<RawMarker>,
    #[serde(default)]
    emotion: Vec<RawMarker>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNamed {
    id: Spanned<String>,
    name_zh: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTheme {
    id: Spanned<String>,
    name_zh: String,
    #[serde(default)]
    description: String,
    category: Spanned<String>,
    stage: Spanned<String>,
    effort: Spanned<i64>,
    #[serde(default)]
    keywords: Words,
    #[serde(default)]
    keywords_hant: Words,
    #[serde(default)]
    keywords_en: Words,
    #[serde(default)]
    subjects: Words,
    #[serde(default)]
    exclude: Words,
    #[serde(default)]
    dictionary: Words,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMarker {
    id: Spanned<String>,
    name_zh: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    keywords: Words,
    #[serde(default)]
    keywords_hant: Words,
    #[serde(default)]
    keywords_en: Words,
    #[serde(default)]
    cues: Words,
    #[serde(default)]
    exclude: Words,
    #[serde(default)]
    implied_by: Words,
}

type Invalid = (usize, TaxonomyIssue);

fn check_id(
    kind: &str,
    id: &Spanned<String>,
    seen: &mut HashSet<String>,
) -> Result<String, Invalid> {
    let value = id.get_ref();
    let at = id.span().start;
    let valid = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !valid {
        return Err((
            at,
            TaxonomyIssue::InvalidId {
                kind: kind.into(),
                id: value.clone(),
            },
        ));
    }
    if !seen.insert(value.clone()) {
        return Err((
            at,
            TaxonomyIssue::DuplicateId {
                kind: kind.into(),
                id: value.clone(),
            },
        ));
    }
    Ok(value.clone())
}

fn check_words(kind: &str, id: &str, field: &str, words: Words) -> Result<Vec<String>, Invalid> {
    words
        .into_iter()
        .map(|w| {
            if w.get_ref().trim().is_empty() {
                Err((
                    w.span().start,
                    TaxonomyIssue::BlankEntry {
                        kind: kind.into(),
                        id: id.into(),
                        field: field.into(),
                    },
                ))
            } else {
                Ok(w.into_inner().trim().to_string())
            }
        })
        .collect()
}

fn check_named(kind: &str, raw: Vec<RawNamed>) -> Result<Vec<(String, String)>, Invalid> {
    let mut seen = HashSet::new();
    raw.into_iter()
        .map(|r| Ok((check_id(kind, &r.id, &mut seen)?, r.name_zh)))
        .collect()
}

impl RawMarker {
    /// `causes`: for an emotion, the flags it may be implied by; `None`
    /// for a flag, which nothing implies.
    fn validate(
        self,
        kind: &str,
        seen: &mut HashSet<String>,
        causes: Option<&[Marker]>,
    ) -> Result<Marker, Invalid> {
        let id = check_id(kind, &self.id, seen)?;
        let mut implied_by = Vec::with_capacity(self.implied_by.len());
        for cause in self.implied_by {
            let name = cause.get_ref();
            let known = causes.is_some_and(|flags| {
                flags.iter().any(|f| &f.id == name) || SIGNALS.contains(&name.as_str())
            });
            if !known {
                return Err((
                    cause.span().start,
                    TaxonomyIssue::UnknownCause {
                        kind: kind.into(),
                        id,
                        cause: cause.into_inner(),
                    },
                ));
            }
            implied_by.push(cause.into_inner());
        }
        let keywords = check_words(kind, &id, "keywords", self.keywords)?;
        let keywords_hant = check_words(kind, &id, "keywords_hant", self.keywords_hant)?;
        let keywords_en = check_words(kind, &id, "keywords_en", self.keywords_en)?;
        if keywords.is_empty() && keywords_hant.is_empty() && keywords_en.is_empty() {
            return Err((
                self.id.span().start,
                TaxonomyIssue::NoKeywords {
                    kind: kind.into(),
                    id,
                },
            ));
        }
        Ok(Marker {
            cues: check_words(kind, &id, "cues", self.cues)?,
            exclude: check_words(kind, &id, "exclude", self.exclude)?,
            id,
            name_zh: self.name_zh,
            description: self.description,
            keywords,
            keywords_hant,
            keywords_en,
            implied_by,
        })
    }
}

impl RawTaxonomy {
    fn validate(self) -> Result<Taxonomy, Invalid> {
        let categories = check_named("category", self.category)?;
        let stages = check_named("stage", self.stage)?;
        if self.theme.is_empty() {
            return Err((0, TaxonomyIssue::NoThemes));
        }
        let mut seen = HashSet::new();
        let mut themes = Vec::with_capacity(self.theme.len());
        for t in self.theme {
            let id = check_id("theme", &t.id, &mut seen)?;
            let category = t.category.get_ref();
            if !categories.iter().any(|(c, _)| c == category) {
                return Err((
                    t.category.span().start,
                    TaxonomyIssue::UnknownCategory {
                        theme: id,
                        category: category.clone(),
                    },
                ));
            }
            let stage = t.stage.get_ref();
            if !stages.iter().any(|(s, _)| s == stage) {
                return Err((
                    t.stage.span().start,
                    TaxonomyIssue::UnknownStage {
                        theme: id,
                        stage: stage.clone(),
                    },
                ));
            }
            let effort = *t.effort.get_ref();
            if !(1..=5).contains(&effort) {
                return Err((
                    t.effort.span().start,
                    TaxonomyIssue::EffortOutOfRange { theme: id, effort },
                ));
            }
            let keywords = check_words("theme", &id, "keywords", t.keywords)?;
            let keywords_hant = check_words("theme", &id, "keywords_hant", t.keywords_hant)?;
            let keywords_en = check_words("theme", &id, "keywords_en", t.keywords_en)?;
            if keywords.is_empty() && keywords_hant.is_empty() && keywords_en.is_empty() {
                return Err((
                    t.id.span().start,
                    TaxonomyIssue::NoKeywords {
                        kind: "theme".into(),
                        id,
                    },
                ));
            }
            themes.push(Theme {
                subjects: check_words("theme", &id, "subjects", t.subjects)?,
                exclude: check_words("theme", &id, "exclude", t.exclude)?,
                dictionary: check_words("theme", &id, "dictionary", t.dictionary)?,
                category: t.category.into_inner(),
                stage: t.stage.into_inner(),
                effort: effort as u8,
                id,
                name_zh: t.name_zh,
                description: t.description,
                keywords,
                keywords_hant,
                keywords_en,
            });
        }
        let mut seen = HashSet::new();
        let flags: Vec<Marker> = self
            .flag
            .into_iter()
            .map(|f| f.validate("flag", &mut seen, None))
            .collect::<Result<_, _>>()?;
        let mut seen = HashSet::new();
        let emotions = self
            .emotion
            .into_iter()
            .map(|e| e.validate("emotion", &mut seen, Some(&flags)))
            .collect::<Result<_, _>>()?;
        Ok(Taxonomy {
            name: self.name,
            version: self.version,
            learned_themes: self.learned_themes,
            categories: categories
                .into_iter()
                .map(|(id, name_zh)| Category { id, name_zh })
                .collect(),
            stages: stages
                .into_iter()
                .map(|(id, name_zh)| Stage { id, name_zh })
                .collect(),
            themes,
            flags,
            emotions,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"name = "t"
version = "1"

[[category]]
id = "process"
name_zh = "流程"

[[stage]]
id = "purchase"
name_zh = "购买"

[[theme]]
id = "delivery"
name_zh = "物流"
category = "process"
stage = "purchase"
effort = 3
keywords = ["物流"]
"#;

    fn error(src: &str) -> (usize, TaxonomyIssue, String) {
        match Taxonomy::from_toml_str(src, "taxonomy.toml").unwrap_err() {
            e @ NlpError::Taxonomy { .. } => {
                let msg = e.to_string();
                let NlpError::Taxonomy { line, issue, .. } = e else {
                    unreachable!()
                };
                (line, issue, msg)
            }
            other => panic!("unexpected {other}"),
        }
    }

    #[test]
    fn minimal_taxonomy_loads() {
        let t = Taxonomy::from_toml_str(MINIMAL, "taxonomy.toml").unwrap();
        assert_eq!(t.themes().len(), 1);
        assert_eq!(t.theme("delivery").unwrap().effort, 3);
        assert!(t.theme("nope").is_none());
    }

    #[test]
    fn the_learned_theme_model_is_on_unless_turned_off() {
        let t = Taxonomy::from_toml_str(MINIMAL, "taxonomy.toml").unwrap();
        assert!(t.learned_themes());
        assert!(Taxonomy::default_v1().learned_themes());
        let off = MINIMAL.replace(
            "version = \"1\"\n",
            "version = \"1\"\nlearned_themes = false\n",
        );
        let t = Taxonomy::from_toml_str(&off, "taxonomy.toml").unwrap();
        assert!(!t.learned_themes());
        let bad = MINIMAL.replace(
            "version = \"1\"\n",
            "version = \"1\"\nlearned_themes = \"no\"\n",
        );
        let (line, _, msg) = error(&bad);
        assert_eq!(line, 3, "{msg}");
        assert!(msg.contains("bool"), "{msg}");
    }

    #[test]
    fn unknown_category_names_file_line_and_theme() {
        let src = MINIMAL.replace("category = \"process\"", "category = \"foo\"");
        let (line, issue, msg) = error(&src);
        assert_eq!(line, 15);
        assert_eq!(
            issue,
            TaxonomyIssue::UnknownCategory {
                theme: "delivery".into(),
                category: "foo".into()
            }
        );
        assert_eq!(
            msg,
            "taxonomy.toml:15: theme `delivery`: unknown category `foo`"
        );
    }

    #[test]
    fn unknown_stage_effort_and_empty_keywords() {
        let (line, issue, _) = error(&MINIMAL.replace("stage = \"purchase\"", "stage = \"later\""));
        assert_eq!(
            (line, matches!(issue, TaxonomyIssue::UnknownStage { .. })),
            (16, true)
        );
        let (line, issue, _) = error(&MINIMAL.replace("effort = 3", "effort = 9"));
        assert_eq!(
            (line, issue),
            (
                17,
                TaxonomyIssue::EffortOutOfRange {
                    theme: "delivery".into(),
                    effort: 9
                }
            )
        );
        let (line, issue, _) = error(&MINIMAL.replace("keywords = [\"物流\"]", "keywords = []"));
        assert_eq!(line, 13);
        assert!(matches!(issue, TaxonomyIssue::NoKeywords { .. }));
        let (line, issue, _) = error(&MINIMAL.replace("[\"物流\"]", "[\"物流\", \"  \"]"));
        assert_eq!(line, 18);
        assert!(matches!(issue, TaxonomyIssue::BlankEntry { .. }));
    }

    #[test]
    fn duplicate_and_invalid_ids() {
        let dup = format!("{MINIMAL}\n[[theme]]\nid = \"delivery\"\nname_zh = \"x\"\ncategory = \"process\"\nstage = \"purchase\"\neffort = 1\nkeywords = [\"快递\"]\n");
        let (line, issue, _) = error(&dup);
        assert_eq!(line, 21);
        assert_eq!(
            issue,
            TaxonomyIssue::DuplicateId {
                kind: "theme".into(),
                id: "delivery".into()
            }
        );
        let (_, issue, _) = error(&MINIMAL.replace("id = \"delivery\"", "id = \"Delivery\""));
        assert!(matches!(issue, TaxonomyIssue::InvalidId { .. }));
    }

    #[test]
    fn implied_by_names_flags_or_signals_and_flags_are_never_implied() {
        let flag = "\n[[flag]]\nid = \"escalation\"\nname_zh = \"升级\"\nkeywords = [\"12315\"]\n";
        let emotion = |implied: &str| {
            format!("{MINIMAL}{flag}\n[[emotion]]\nid = \"anger\"\nname_zh = \"愤怒\"\nkeywords = [\"气死\"]\nimplied_by = [{implied}]\n")
        };
        let t = Taxonomy::from_toml_str(&emotion("\"escalation\", \"unfinished_wait\""), "t.toml")
            .unwrap();
        assert_eq!(
            t.emotions()[0].implied_by,
            ["escalation", "unfinished_wait"]
        );
        let (line, issue, msg) = error(&emotion("\"lawsuit\""));
        assert_eq!(line, 29);
        assert!(matches!(issue, TaxonomyIssue::UnknownCause { .. }), "{msg}");
        let (_, issue, _) = error(&format!(
            "{MINIMAL}{flag}implied_by = [\"unfinished_wait\"]\n"
        ));
        assert!(matches!(issue, TaxonomyIssue::UnknownCause { .. }));
    }

    #[test]
    fn unknown_keys_and_bad_toml_are_syntax_errors_with_lines() {
        let (line, issue, msg) =
            error(&MINIMAL.replace("effort = 3", "effort = 3\nkeyword = [\"typo\"]"));
        assert_eq!(line, 18);
        assert!(matches!(issue, TaxonomyIssue::Syntax { .. }), "{issue:?}");
        assert!(msg.contains("keyword"), "{msg}");
        let (line, _, _) = error(&MINIMAL.replace("effort = 3", "effort = \"three\""));
        assert_eq!(line, 17);
        let (line, _, _) = error(&MINIMAL.replace("name_zh = \"物流\"", "name_zh = \"物流"));
        assert_eq!(line, 14);
    }

    #[test]
    fn no_themes_is_an_error() {
        let (_, issue, _) = error("name = \"t\"\nversion = \"1\"\n");
        assert_eq!(issue, TaxonomyIssue::NoThemes);
    }

    #[test]
    fn from_path_names_the_file() {
        let err = Taxonomy::from_path(Path::new("/nonexistent/custom.toml")).unwrap_err();
        assert!(matches!(err, NlpError::Io { .. }));
        assert!(err.to_string().contains("custom.toml"));
    }

    #[test]
    fn default_taxonomy_is_valid_and_rich() {
        let t = Taxonomy::default_v1();
        assert_eq!(t.themes().len(), 17);
        for theme in t.themes() {
            assert!(
                theme.keywords.len() >= 25,
                "{} has {} keywords",
                theme.id,
                theme.keywords.len()
            );
            assert!(theme.keywords_hant.len() >= 12, "{} hant", theme.id);
            assert!(theme.keywords_en.len() >= 12, "{} en", theme.id);
        }
        for m in t.flags().iter().chain(t.emotions()) {
            assert!(
                m.keywords.len() >= 10 && !m.keywords_hant.is_empty() && !m.keywords_en.is_empty(),
                "{}",
                m.id
            );
        }
    }
}
