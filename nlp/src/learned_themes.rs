//! The learned half of theme tagging: one logistic regression per theme
//! over hashed Han character uni- and bigrams and the segmenter's words of
//! a whole message, trained on the customer messages written and labelled
//! for the project ([`THEME_SETS`]).
//!
//! Keywords find what a customer names; a reader also takes a theme from
//! what a whole sentence describes (安装师傅把门框磕掉一块漆 is the fitter's
//! conduct, not a repair), and no word list holds that. The analyser keeps
//! the keywords and lets the model do two things (see `Analyzer::themes`):
//! add a theme no keyword found where the model is sure of it, and drop a
//! keyword's theme the model finds implausible both for the message and
//! for the keyword's clause (never in a question). Exclusion words veto a
//! learned theme as they veto a keyword's.
//!
//! # Layout
//! - [`ThemeModel`]: the weights, their file format, training and reading.
//! - `each_feature`: what the model sees of a span of text.
//! - [`THEME_SETS`] and [`read_theme_sets`]: what it learns from.
//!
//! Weights ship in `nlp/model/themes.bin` (embedded at compile time) and
//! are rebuilt bit-for-bit by `cargo run --release -p tongdian-nlp
//! --example train_themes`: single-threaded, a fixed seed and order, and
//! `f32` arithmetic. `exp` comes from the platform's maths library, so the
//! bytes are the same on the same platform (the test that checks them runs
//! where the shipped file was built, x86-64 Linux). The
//! held-out customer sets (`cxfresh2.jsonl`, `cxfresh6.jsonl`) stay out of
//! training, so they still measure it.

use std::path::Path;

use crate::chinese::Segmenter;
use crate::error::NlpError;
use crate::model::{quantisation_scale, shuffle, sigmoid, Rng};
use crate::text::{is_han, Text};

/// Hash buckets: 16 bits. Each bucket holds one weight per theme, so the
/// file holds `BUCKETS × themes` 16-bit weights (2.2 MB for the default
/// taxonomy's 17 themes; 3.1 MB in memory, rows padded to 24).
const BITS: u32 = 16;
const BUCKETS: usize = 1 << BITS;
const MAGIC: &[u8; 4] = b"TDTM";
/// The most themes a model file may hold: a guard against a corrupt count.
const MOST_THEMES: usize = 1024;
const FORMAT: u32 = 1;

const SHIPPED: &[u8] = include_bytes!("../model/themes.bin");

/// The most characters of a span the model reads: each gives at most three
/// features, so the 16-bit weights of a span's features add up in an
/// `i32` without overflow (three times this, times 2^15, is below 2^31).
/// Pipeline messages are far shorter (64 KiB of UTF-8 at most).
const MOST_CHARS: usize = 20_000;

const CHAR1: u32 = 1;
const CHAR2: u32 = 2;
const WORD: u32 = 3;

/// Training: AdaGrad on each theme's logistic loss, all themes in one pass
/// over the examples. Chosen by leaving each writer's set out in turn (see
/// the `train_themes` example's `--cv`).
const EPOCHS: usize = 12;
const LEARNING_RATE: f32 = 0.2;
const L2: f32 = 1e-5;
const SEED: u64 = 0x7464_7468_656d_0001;

/// The customer sets of `nlp/eval/`, each one writer's messages labelled
/// with their themes. `cxfresh2.jsonl` and `cxfresh6.jsonl` are left out to
/// measure the model on writers it never learned from, and
/// `labelled.jsonl` so that its test still checks the analyser on messages
/// the model never saw (leaving it out costs 0.001 of cross-validated F1);
/// the second labellings (`*.relabel.jsonl`) repeat texts. `cxgen19` …
/// `cxgen24` were written after the model was first built and `cxgen25` …
/// `cxgen32` at the start of the fifteenth round, `cxgen33` … `cxgen40` at
/// its end; each was scored once as writers the model never saw before it
/// learned from them.
pub const THEME_SETS: &[&str] = &[
    "cxfresh1.jsonl",
    "cxfresh3.jsonl",
    "cxfresh4.jsonl",
    "cxfresh5.jsonl",
    "cxgen1.jsonl",
    "cxgen2.jsonl",
    "cxgen3.jsonl",
    "cxgen4.jsonl",
    "cxgen5.jsonl",
    "cxgen6.jsonl",
    "cxgen7.jsonl",
    "cxgen8.jsonl",
    "cxgen9.jsonl",
    "cxgen10.jsonl",
    "cxgen11.jsonl",
    "cxgen12.jsonl",
    "cxgen13.jsonl",
    "cxgen14.jsonl",
    "cxgen15.jsonl",
    "cxgen16.jsonl",
    "cxgen17.jsonl",
    "cxgen18.jsonl",
    "cxgen19.jsonl",
    "cxgen20.jsonl",
    "cxgen21.jsonl",
    "cxgen22.jsonl",
    "cxgen23.jsonl",
    "cxgen24.jsonl",
    "cxgen25.jsonl",
    "cxgen26.jsonl",
    "cxgen27.jsonl",
    "cxgen28.jsonl",
    "cxgen29.jsonl",
    "cxgen30.jsonl",
    "cxgen31.jsonl",
    "cxgen32.jsonl",
    "cxgen33.jsonl",
    "cxgen34.jsonl",
    "cxgen35.jsonl",
    "cxgen36.jsonl",
    "cxgen37.jsonl",
    "cxgen38.jsonl",
    "cxgen39.jsonl",
    "cxgen40.jsonl",
];

/// One message with the themes its writer labelled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThemeExample {
    pub text: String,
    pub themes: Vec<String>,
    /// Which set it came from (an index into the list it was read with),
    /// so that cross-validation can leave a writer out.
    pub set: usize,
}

/// Per theme, a weight for every bucket, quantised to 16 bits with one
/// scale, and a bias.
#[derive(Clone, PartialEq)]
pub struct ThemeModel {
    ids: Vec<String>,
    /// `weights[bucket * width + theme]`: a feature reads every theme's
    /// weight from one place, in rows padded with zeros to a multiple of
    /// [`LANES`] so that they add up in whole vectors.
    weights: Vec<i16>,
    width: usize,
    scale: f32,
    bias: Vec<f32>,
}

/// Weights added at a time.
const LANES: usize = 8;

impl std::fmt::Debug for ThemeModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ThemeModel")
            .field("themes", &self.ids)
            .finish_non_exhaustive()
    }
}

impl ThemeModel {
    /// The model compiled into the crate (`nlp/model/themes.bin`).
    pub fn shipped() -> Result<ThemeModel, NlpError> {
        ThemeModel::from_bytes(SHIPPED)
    }

    /// The theme ids the model knows, in the order of its outputs.
    pub fn ids(&self) -> &[String] {
        &self.ids
    }

    /// Reads the format [`to_bytes`](Self::to_bytes) writes.
    pub fn from_bytes(bytes: &[u8]) -> Result<ThemeModel, NlpError> {
        let bad = |reason: &str| NlpError::ThemeModel {
            reason: reason.to_string(),
        };
        let mut at = 0usize;
        let mut take = |n: usize| -> Result<&[u8], NlpError> {
            let piece = at
                .checked_add(n)
                .and_then(|end| bytes.get(at..end))
                .ok_or_else(|| bad("truncated or corrupt weights"))?;
            at += n;
            Ok(piece)
        };
        let word = |b: &[u8]| u32::from_le_bytes(b.try_into().unwrap_or([0; 4]));
        if take(4)? != MAGIC {
            return Err(bad("not a tongdian theme model"));
        }
        if word(take(4)?) != FORMAT {
            return Err(bad("unsupported format version"));
        }
        if word(take(4)?) != BITS {
            return Err(bad("unexpected number of hash buckets"));
        }
        let themes = word(take(4)?) as usize;
        if themes == 0 || themes > MOST_THEMES {
            return Err(bad("implausible number of themes"));
        }
        let mut ids = Vec::with_capacity(themes);
        for _ in 0..themes {
            let len = word(take(4)?) as usize;
            let id = std::str::from_utf8(take(len)?).map_err(|_| bad("theme id is not UTF-8"))?;
            ids.push(id.to_string());
        }
        let scale = f32::from_bits(word(take(4)?));
        let mut bias = Vec::with_capacity(themes);
        for _ in 0..themes {
            bias.push(f32::from_bits(word(take(4)?)));
        }
        if !scale.is_finite() || bias.iter().any(|b| !b.is_finite()) {
            return Err(bad("truncated or corrupt weights"));
        }
        let body = take(BUCKETS * themes * 2)?;
        if at != bytes.len() {
            return Err(bad("trailing bytes after the weights"));
        }
        let width = themes.div_ceil(LANES) * LANES;
        let mut weights = vec![0i16; BUCKETS * width];
        for (row, stored) in weights
            .chunks_exact_mut(width)
            .zip(body.chunks_exact(themes * 2))
        {
            for (w, q) in row.iter_mut().zip(stored.chunks_exact(2)) {
                *w = i16::from_le_bytes([q[0], q[1]]);
            }
        }
        Ok(ThemeModel {
            ids,
            weights,
            width,
            scale,
            bias,
        })
    }

    /// The format [`from_bytes`](Self::from_bytes) reads.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + self.weights.len() * 2);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT.to_le_bytes());
        out.extend_from_slice(&BITS.to_le_bytes());
        out.extend_from_slice(&(self.ids.len() as u32).to_le_bytes());
        for id in &self.ids {
            out.extend_from_slice(&(id.len() as u32).to_le_bytes());
            out.extend_from_slice(id.as_bytes());
        }
        out.extend_from_slice(&self.scale.to_bits().to_le_bytes());
        for b in &self.bias {
            out.extend_from_slice(&b.to_bits().to_le_bytes());
        }
        for row in self.weights.chunks_exact(self.width) {
            for q in &row[..self.ids.len()] {
                out.extend_from_slice(&q.to_le_bytes());
            }
        }
        out
    }

    /// Each output's log-odds for the span `start..end` of `text`, written
    /// into `out` in the order of [`ids`](Self::ids); returns how many
    /// features the span has. `rows` and `sums` are buffers.
    pub(crate) fn read_span(
        &self,
        text: &Text,
        start: usize,
        end: usize,
        rows: &mut Vec<u32>,
        sums: &mut Vec<i32>,
        out: &mut Vec<f32>,
    ) -> usize {
        rows.clear();
        each_feature(text, start, end, |f| rows.push(f));
        sums.clear();
        // The feature hashes are all known before any row is read, so the
        // rows' loads overlap; and a fixed width lets the lanes add up in
        // registers.
        match self.width {
            8 => sums.extend(sum_rows::<8>(&self.weights, rows)),
            16 => sums.extend(sum_rows::<16>(&self.weights, rows)),
            24 => sums.extend(sum_rows::<24>(&self.weights, rows)),
            32 => sums.extend(sum_rows::<32>(&self.weights, rows)),
            width => {
                sums.resize(width, 0);
                for &f in rows.iter() {
                    let row = &self.weights[f as usize * width..][..width];
                    for (a, &w) in sums.iter_mut().zip(row) {
                        *a += i32::from(w);
                    }
                }
            }
        }
        let value = self.scale * unit_value(rows.len());
        out.clear();
        out.extend(
            sums.iter()
                .zip(&self.bias)
                .map(|(&s, &b)| b + s as f32 * value),
        );
        rows.len()
    }

    /// Output `k`'s log-odds for the span `start..end` of `text` and how
    /// many features it has.
    pub(crate) fn span_logit(
        &self,
        text: &Text,
        start: usize,
        end: usize,
        k: usize,
    ) -> (f32, usize) {
        let (sum, count) = self.span_weight(text, start, end, k);
        (self.bias[k] + self.share(sum, count), count)
    }

    /// Output `k`'s unscaled weights of the span's features, summed, and
    /// how many there are: for ranking where in a message the model found
    /// a theme.
    pub(crate) fn span_weight(
        &self,
        text: &Text,
        start: usize,
        end: usize,
        k: usize,
    ) -> (i32, usize) {
        let (mut sum, mut count) = (0i32, 0);
        each_feature(text, start, end, |f| {
            count += 1;
            sum += i32::from(self.weights[f as usize * self.width + k]);
        });
        (sum, count)
    }

    /// What unscaled weights summing to `sum` add to the log-odds of a
    /// span with `features` features.
    pub(crate) fn share(&self, sum: i32, features: usize) -> f32 {
        sum as f32 * self.scale * unit_value(features)
    }

    /// Trains a model on `examples`, one output per id of `ids` (1 to
    /// 1,024 of them). Deterministic: the same examples in the same order
    /// give the same bytes on the same platform.
    pub fn train(ids: &[String], examples: &[ThemeExample]) -> Result<ThemeModel, NlpError> {
        if ids.is_empty() || ids.len() > MOST_THEMES {
            return Err(NlpError::ThemeModel {
                reason: format!(
                    "{} theme ids to learn; a model has 1 to {MOST_THEMES}",
                    ids.len()
                ),
            });
        }
        let segmenter = default_segmenter();
        let data: Vec<(Vec<u32>, Vec<usize>)> = examples
            .iter()
            .map(|ex| {
                let text = Text::new(&ex.text, &segmenter);
                let mut f = Vec::new();
                each_feature(&text, 0, text.len(), |b| f.push(b));
                let themes = ex
                    .themes
                    .iter()
                    .filter_map(|t| ids.iter().position(|id| id == t))
                    .collect();
                (f, themes)
            })
            .collect();
        Ok(fit(ids, &data))
    }

    /// The log-odds of each theme for `text` read on its own, for tests
    /// and the training example.
    pub fn read(&self, text: &str) -> Vec<(String, f32)> {
        let segmenter = default_segmenter();
        let text = Text::new(text, &segmenter);
        let (mut rows, mut sums, mut out) = (Vec::new(), Vec::new(), Vec::new());
        self.read_span(&text, 0, text.len(), &mut rows, &mut sums, &mut out);
        self.ids.iter().cloned().zip(out).collect()
    }
}

/// The segmenter of an analyser with the default taxonomy, whose words
/// are the ones the shipped model reads.
fn default_segmenter() -> Segmenter {
    let taxonomy = crate::taxonomy::Taxonomy::default_v1();
    Segmenter::new(
        taxonomy
            .themes()
            .iter()
            .flat_map(|t| t.dictionary.iter().map(String::as_str)),
    )
}

/// The rows `rows` of a weight table `W` wide, added up.
#[inline(always)]
fn sum_rows<const W: usize>(weights: &[i16], rows: &[u32]) -> [i32; W] {
    let mut acc = [0i32; W];
    for &f in rows {
        let Some(row) = weights.get(f as usize * W..(f as usize + 1) * W) else {
            continue;
        };
        for (a, &w) in acc.iter_mut().zip(row) {
            *a += i32::from(w);
        }
    }
    acc
}

/// Each of a text's `n` features weighs `1/sqrt(n)` (a feature found
/// twice, twice that), so long texts do not outweigh short ones.
fn unit_value(n: usize) -> f32 {
    if n == 0 {
        0.0
    } else {
        1.0 / (n as f32).sqrt()
    }
}

/// Hands `feature` each feature of `text.norm[start..end]`: Han character
/// unigrams and bigrams within runs of Han characters, and every segmenter
/// word of two or more Han characters, or of letters or digits (digits
/// folded together), that lies wholly inside the span. Latin words count,
/// so that an English message is read as well. A feature found twice is
/// handed over twice: keeping them apart would cost a sort or a set per
/// message, and repeats are rare in the short texts the model reads.
#[inline(always)]
pub(crate) fn each_feature(text: &Text, start: usize, end: usize, mut feature: impl FnMut(u32)) {
    let end = end.min(start + MOST_CHARS);
    let norm = &text.norm;
    let mut prev: Option<char> = None;
    for &c in &norm[start..end] {
        if is_han(c) {
            feature(bucket(CHAR1, &[c]));
            if let Some(p) = prev {
                feature(bucket(CHAR2, &[p, c]));
            }
            prev = Some(c);
        } else {
            prev = None;
        }
    }
    for &(s, e) in &text.tokens {
        if s < start || e > end {
            continue;
        }
        let word = &norm[s..e];
        let han = word.iter().all(|&c| is_han(c));
        // One Han character is already its unigram.
        if (han && e - s >= 2) || (!han && word.iter().all(|c| c.is_ascii_alphanumeric())) {
            feature(bucket(WORD, word));
        }
    }
}

/// A 32-bit multiply-rotate hash of the kind and characters, avalanched,
/// whose top bits are the bucket.
fn bucket(kind: u32, chars: &[char]) -> u32 {
    let mut h = kind.wrapping_mul(0x9e37_79b1);
    for &c in chars {
        let c = if c.is_ascii_digit() { '0' } else { c };
        h = (h ^ c as u32).wrapping_mul(0x0100_0193).rotate_left(13);
    }
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^= h >> 16;
    h >> (32 - BITS)
}

/// AdaGrad on every theme's logistic loss, with L2 shrinkage of the
/// weights an example touches (a feature an example holds twice is
/// updated twice, as it counts twice when read).
fn fit(ids: &[String], data: &[(Vec<u32>, Vec<usize>)]) -> ThemeModel {
    let n = ids.len();
    let mut w = vec![0.0f32; BUCKETS * n];
    let mut g2 = vec![0.0f32; BUCKETS * n];
    let mut bias = vec![0.0f32; n];
    let mut bias_g2 = vec![0.0f32; n];
    let mut order: Vec<usize> = (0..data.len()).collect();
    let mut rng = Rng(SEED);
    let mut z = vec![0.0f32; n];
    for _ in 0..EPOCHS {
        shuffle(&mut order, &mut rng);
        for &i in &order {
            let (x, themes) = &data[i];
            let value = unit_value(x.len());
            z.copy_from_slice(&bias);
            for &f in x {
                let row = &w[f as usize * n..(f as usize + 1) * n];
                for (z, &w) in z.iter_mut().zip(row) {
                    *z += w * value;
                }
            }
            for t in 0..n {
                let y = if themes.contains(&t) { 1.0 } else { 0.0 };
                let err = sigmoid(z[t]) - y;
                for &f in x {
                    let k = f as usize * n + t;
                    let g = err * value + L2 * w[k];
                    g2[k] += g * g;
                    w[k] -= LEARNING_RATE * g / (g2[k].sqrt() + 1e-6);
                }
                bias_g2[t] += err * err;
                bias[t] -= LEARNING_RATE * err / (bias_g2[t].sqrt() + 1e-6);
            }
        }
    }
    // Quantise now, so that what cross-validation measures is what ships.
    let scale = quantisation_scale(&w);
    let width = n.div_ceil(LANES) * LANES;
    let mut weights = vec![0i16; BUCKETS * width];
    for (row, trained) in weights.chunks_exact_mut(width).zip(w.chunks_exact(n)) {
        for (q, w) in row.iter_mut().zip(trained) {
            *q = (w / scale).round() as i16;
        }
    }
    ThemeModel {
        ids: ids.to_vec(),
        weights,
        width,
        scale,
        bias,
    }
}

/// The labelled messages of each of `names` in `dir` (the crate's `eval/`)
/// that carry theme labels, in that order, each tagged with its set's
/// index in `names`.
pub fn read_theme_sets(dir: &Path, names: &[&str]) -> Result<Vec<ThemeExample>, NlpError> {
    let mut all = Vec::new();
    for (set, name) in names.iter().enumerate() {
        for e in crate::eval::read_labelled_set(&dir.join(name))? {
            if let Some(themes) = e.expected.themes {
                all.push(ThemeExample {
                    text: e.text,
                    themes: themes.into_iter().map(|(id, _)| id).collect(),
                    set,
                });
            }
        }
    }
    Ok(all)
}

/// The shipped model, parsed once per process.
pub(crate) fn shipped() -> Result<&'static ThemeModel, NlpError> {
    static MODEL: std::sync::OnceLock<Result<ThemeModel, String>> = std::sync::OnceLock::new();
    MODEL
        .get_or_init(|| ThemeModel::shipped().map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|reason| NlpError::ThemeModel {
            reason: reason.clone(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy() -> ThemeModel {
        let ids = vec!["delivery".to_string(), "pricing".to_string()];
        let mut examples = Vec::new();
        for (text, theme) in [
            ("快递三天才到", "delivery"),
            ("物流太慢了", "delivery"),
            ("送货师傅很快", "delivery"),
            ("价格太贵了", "pricing"),
            ("这个价钱不值", "pricing"),
            ("比别家贵很多", "pricing"),
        ] {
            for _ in 0..5 {
                examples.push(ThemeExample {
                    text: text.to_string(),
                    themes: vec![theme.to_string()],
                    set: 0,
                });
            }
        }
        ThemeModel::train(&ids, &examples).unwrap()
    }

    #[test]
    fn training_needs_some_ids() {
        let err = ThemeModel::train(&[], &[]).unwrap_err().to_string();
        assert!(err.contains("0 theme ids"), "{err}");
    }

    #[test]
    fn training_learns_a_toy_problem() {
        let model = toy();
        let read = model.read("物流慢");
        assert!(read[0].1 > 0.0 && read[1].1 < 0.0, "{read:?}");
        let read = model.read("太贵");
        assert!(read[1].1 > 0.0 && read[0].1 < 0.0, "{read:?}");
    }

    #[test]
    fn format_round_trips_and_rejects_garbage() {
        let model = toy();
        let bytes = model.to_bytes();
        assert_eq!(ThemeModel::from_bytes(&bytes).unwrap(), model);
        for (bad, why) in [
            (&b"nope"[..], "not a tongdian theme model"),
            (&bytes[..bytes.len() - 1], "truncated"),
            (&bytes[..20], "truncated"),
        ] {
            let err = ThemeModel::from_bytes(bad).unwrap_err().to_string();
            assert!(err.contains(why), "{err}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        let err = ThemeModel::from_bytes(&longer).unwrap_err().to_string();
        assert!(err.contains("trailing"), "{err}");
    }

    #[test]
    fn features_cover_han_grams_and_words_of_the_span_only() {
        let segmenter = Segmenter::new(std::iter::empty());
        let text = Text::new("物流很快, refund 123", &segmenter);
        let collect = |start, end| {
            let mut f = Vec::new();
            each_feature(&text, start, end, |b| f.push(b));
            f
        };
        let all = collect(0, text.len());
        let first = collect(0, 4);
        assert!(first.iter().all(|f| all.contains(f)));
        assert!(first.contains(&bucket(CHAR2, &['物', '流'])));
        assert!(first.contains(&bucket(WORD, &['物', '流'])));
        assert!(!first.contains(&bucket(WORD, &['r', 'e', 'f', 'u', 'n', 'd'])));
        assert!(all.contains(&bucket(WORD, &['r', 'e', 'f', 'u', 'n', 'd'])));
        // Digits fold together.
        assert!(all.contains(&bucket(WORD, &['9', '9', '9'])));
        // Four unigrams, three bigrams, and the words 物流 and 很快.
        assert_eq!(first.len(), 9, "{first:?}");
    }

    #[test]
    fn shipped_model_loads_and_reads_obvious_cases() {
        let model = ThemeModel::shipped().unwrap();
        let p = |text: &str, id: &str| {
            model
                .read(text)
                .into_iter()
                .find(|(t, _)| t == id)
                .map(|(_, z)| z)
                .unwrap()
        };
        assert!(p("快递员把包裹扔在门口就走了", "delivery") > 0.0);
        assert!(p("快递员把包裹扔在门口就走了", "pricing") < 0.0);
    }
}
