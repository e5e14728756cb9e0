//! Plugs the `nlp` analyzer into the ingest worker and the `analyze`
//! command: its types → the table contract's types.

use std::path::Path;

use anyhow::{Context, Result};
use tongdian_ingest::Enricher;
use tongdian_nlp::{Analyzer, Purpose, Taxonomy};
use tongdian_schemas::{Analysis, Evidence, Feedback, Kind, ThemeMention};

pub struct NlpEnricher {
    analyzer: Analyzer,
}

impl NlpEnricher {
    /// The built-in taxonomy, or the user's file.
    pub fn new(taxonomy: Option<&Path>) -> Result<NlpEnricher> {
        let taxonomy = match taxonomy {
            Some(path) => Taxonomy::from_path(path)?,
            None => Taxonomy::default_v1(),
        };
        let analyzer = Analyzer::new(taxonomy).context("building the analyzer")?;
        Ok(NlpEnricher { analyzer })
    }

    pub fn analyzer(&self) -> &Analyzer {
        &self.analyzer
    }

    /// A ticket is written to get something done, not to judge: its plain
    /// statements stay neutral. Every other kind is read as a verdict.
    pub fn analyze_text(&self, text: &str, kind: Kind) -> Analysis {
        let purpose = match kind {
            Kind::Ticket => Purpose::Request,
            Kind::Review | Kind::Survey | Kind::Social => Purpose::Verdict,
        };
        to_contract(self.analyzer.analyze_as(text, purpose))
    }
}

impl Enricher for NlpEnricher {
    fn enrich(&self, feedback: &Feedback) -> Option<Analysis> {
        feedback
            .text
            .as_deref()
            .map(|t| self.analyze_text(t, feedback.kind))
    }
}

fn to_contract(a: tongdian_nlp::Analysis) -> Analysis {
    Analysis {
        script: a.script.as_str().to_owned(),
        sentiment_label: a.sentiment.label.as_str().to_owned(),
        sentiment_score: a.sentiment.score,
        themes: a
            .themes
            .into_iter()
            .map(|t| ThemeMention {
                id: t.id.to_owned(),
                category: t.category.to_owned(),
                stage: t.stage.to_owned(),
                polarity: t.polarity.as_str().to_owned(),
                evidence: t
                    .evidence
                    .into_iter()
                    .map(|e| Evidence {
                        text: e.text.into_owned(),
                        start: e.start as u32,
                        end: e.end as u32,
                    })
                    .collect(),
            })
            .collect(),
        flags: a.flags.iter().map(|&f| f.to_owned()).collect(),
        emotions: a.emotions.iter().map(|&e| e.to_owned()).collect(),
    }
}
