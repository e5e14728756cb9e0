//! Chinese word segmentation: the only file that knows about jieba.
//!
//! Everything else sees a pure, infallible function from text to word
//! boundaries, so the segmenter could be swapped without touching the
//! analysis. The built-in customer-experience dictionary
//! (`nlp/lexicon/dictionary.txt`) and each theme's `dictionary` words are
//! added on top of jieba's general dictionary, so that words like 闪退 or
//! 货不对板 come out as single tokens instead of fragments.

use jieba_rs::Jieba;

use crate::text::normalize_pattern;

const CX_DICTIONARY: &str = include_str!("../lexicon/dictionary.txt");

#[derive(Clone)]
pub(crate) struct Segmenter {
    jieba: Jieba,
}

impl std::fmt::Debug for Segmenter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Segmenter(jieba)")
    }
}

impl Segmenter {
    /// jieba's dictionary plus the built-in customer-experience words plus
    /// `extra_words`. Words are normalised (Traditional → Simplified) the
    /// same way messages are before they are cut.
    pub fn new<'a>(extra_words: impl IntoIterator<Item = &'a str>) -> Segmenter {
        let mut jieba = Jieba::new();
        let builtin = CX_DICTIONARY
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'));
        for word in builtin.chain(extra_words) {
            let word = normalize_pattern(word);
            // A word jieba already knows keeps its tuned frequency; forcing a
            // new one could split neighbouring words differently.
            if word.chars().count() >= 2 && !jieba.has_word(&word) {
                // No explicit frequency: jieba picks the smallest one that
                // keeps the word together.
                jieba.add_word(&word, None, None);
            }
        }
        Segmenter { jieba }
    }

    /// Token spans in characters, covering the whole text. HMM guessing of
    /// unknown words is off: it glues adjacent single characters (很+差)
    /// into pseudo-words, which hides sentiment words from the lexicon.
    #[cfg(test)]
    pub fn tokens(&self, text: &str) -> Vec<(usize, usize)> {
        let mut tokens = Vec::new();
        self.tokens_into(text, &mut tokens);
        tokens
    }

    /// [`tokens`](Self::tokens) into a reused buffer.
    pub fn tokens_into(&self, text: &str, tokens: &mut Vec<(usize, usize)>) {
        tokens.clear();
        tokens.extend(self.jieba.cut(text, false).iter().map(|t| (t.start, t.end)));
    }
}

/// Characters jieba always cuts out as a token of their own (punctuation,
/// spaces, symbols): swapping one for another such character cannot change
/// how the rest of a text is segmented. This is jieba's own test for the
/// runs it segments, negated.
pub(crate) fn stands_alone(c: char) -> bool {
    let joins = if c.is_ascii() {
        c.is_ascii_alphanumeric() || matches!(c, '+' | '#' | '&' | '.' | '_' | '%' | '-')
    } else {
        crate::text::is_han(c)
    };
    !joins && c != '\r' && c != '\n'
}

/// jieba-rs on its own: its default dictionary and a plain `cut` without
/// HMM, returning the number of tokens. The yardstick the benchmark
/// (`benches/analyze.rs`) measures full analysis against; kept here so
/// that jieba stays imported in one file.
pub struct BareJieba {
    jieba: Jieba,
}

impl BareJieba {
    #[allow(clippy::new_without_default)]
    pub fn new() -> BareJieba {
        BareJieba {
            jieba: Jieba::new(),
        }
    }

    pub fn cut(&self, text: &str) -> usize {
        self.jieba.cut(text, false).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(seg: &Segmenter, text: &str) -> Vec<String> {
        let chars: Vec<char> = text.chars().collect();
        seg.tokens(text)
            .into_iter()
            .map(|(s, e)| chars[s..e].iter().collect())
            .collect()
    }

    #[test]
    fn tokens_cover_the_text_in_character_offsets() {
        let seg = Segmenter::new(std::iter::empty());
        let text = "app一直闪退😡，客服不理人";
        let tokens = seg.tokens(text);
        assert_eq!(tokens.first().unwrap().0, 0);
        assert_eq!(tokens.last().unwrap().1, text.chars().count());
        assert!(tokens.windows(2).all(|w| w[0].1 == w[1].0));
    }

    #[test]
    fn customer_experience_words_are_single_tokens() {
        let seg = Segmenter::new(std::iter::empty());
        let w = words(&seg, "一直闪退，货不对板");
        assert!(w.contains(&"闪退".to_string()), "{w:?}");
        assert!(w.contains(&"货不对板".to_string()), "{w:?}");
    }

    #[test]
    fn extra_words_are_normalised_and_added() {
        let without = Segmenter::new(std::iter::empty());
        let with = Segmenter::new(["蒜鸟蒜鸟"]);
        assert_ne!(words(&without, "蒜鸟蒜鸟"), vec!["蒜鸟蒜鸟"]);
        assert_eq!(words(&with, "蒜鸟蒜鸟"), vec!["蒜鸟蒜鸟"]);
        // Traditional form of a dictionary word is found after conversion.
        let hant = Segmenter::new(["貨不對辦"]);
        assert_eq!(words(&hant, "货不对办"), vec!["货不对办"]);
    }
}
