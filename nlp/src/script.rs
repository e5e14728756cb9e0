//! Which script a message is written in.
//!
//! Most characters are shared between Simplified and Traditional Chinese,
//! so the decision rests on the characters that exist in only one of them
//! (們 vs 们, see `traditional.rs`), plus Cantonese-only characters, which
//! Hong Kong writers use with Traditional script. A message is `mixed` when
//! English is a real part of it, not just a brand name or "app".

use crate::analysis::Script;
#[cfg(test)]
use crate::english::count_words;
use crate::text::HanClass;
#[cfg(test)]
use crate::text::{han_info, is_han};

/// Written Cantonese (some, like 唔, also appear in Simplified chat, so they
/// only add weight).
pub(crate) fn is_cantonese(c: char) -> bool {
    matches!(
        c,
        '嘅' | '咗'
            | '冇'
            | '啲'
            | '佢'
            | '唔'
            | '嘢'
            | '喺'
            | '嚟'
            | '囉'
            | '咁'
            | '噉'
            | '哋'
            | '嗰'
            | '乜'
            | '咩'
            | '攞'
            | '睇'
            | '諗'
            | '嬲'
            | '嘥'
            | '攰'
    )
}

/// Share of the message (in words) that must be English for `mixed`.
const MIXED_SHARE: f64 = 0.25;
/// Chinese averages about 1.5 characters a word.
const CHARS_PER_ZH_WORD: f64 = 1.5;

/// Han characters of a message by script. Counted while the message is
/// normalised (see `text.rs`), which looks every character up anyway.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct HanCounts {
    han: usize,
    traditional: usize,
    simplified: usize,
}

impl HanCounts {
    /// Counts the Han character `c` of class `class`.
    #[inline]
    pub fn add(&mut self, c: char, class: HanClass) {
        let (traditional, simplified) = HanCounts::weighs(class, is_cantonese(c));
        self.add_counted(traditional, simplified);
    }

    /// Whether a character of `class` counts towards Traditional and
    /// towards Simplified script: written Cantonese (冇, 咗) is Traditional
    /// usage even where the character is shared.
    pub fn weighs(class: HanClass, cantonese: bool) -> (bool, bool) {
        match class {
            HanClass::TraditionalOnly => (true, false),
            HanClass::SimplifiedOnly => (false, true),
            HanClass::Shared => (cantonese, false),
        }
    }

    /// [`add`](Self::add) with the character already weighed, as
    /// `text.rs`'s per-character table stores it.
    #[inline]
    pub fn add_counted(&mut self, traditional: bool, simplified: bool) {
        self.han += 1;
        self.traditional += usize::from(traditional);
        self.simplified += usize::from(simplified);
    }

    /// Counts `han` characters of which `traditional` count towards
    /// Traditional and `simplified` towards Simplified script.
    #[inline]
    pub fn add_many(&mut self, han: usize, traditional: usize, simplified: usize) {
        self.han += han;
        self.traditional += traditional;
        self.simplified += simplified;
    }

    #[cfg(test)]
    pub fn of(original: &[char]) -> HanCounts {
        let mut counts = HanCounts::default();
        for &c in original.iter().filter(|&&c| is_han(c)) {
            counts.add(c, han_info(c).1);
        }
        counts
    }
}

#[cfg(test)]
pub(crate) fn detect(original: &[char]) -> Script {
    detect_counted(HanCounts::of(original), count_words(original))
}

/// The script of a message whose Han characters are `counts` and whose
/// Latin words and letters are `latin` (see `english::count_words`).
pub(crate) fn detect_counted(counts: HanCounts, latin: (usize, usize)) -> Script {
    let HanCounts {
        han,
        traditional,
        simplified,
    } = counts;
    let (latin_words, latin_letters) = latin;
    if han == 0 {
        return if latin_letters > 0 {
            Script::En
        } else {
            Script::Hans
        };
    }
    let zh_words = han as f64 / CHARS_PER_ZH_WORD;
    let share = latin_words as f64 / (latin_words as f64 + zh_words);
    if latin_words >= 2 && share >= MIXED_SHARE {
        return Script::Mixed;
    }
    if traditional > simplified {
        Script::Hant
    } else {
        Script::Hans
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn script(s: &str) -> Script {
        detect(&s.chars().collect::<Vec<_>>())
    }

    #[test]
    fn simplified_and_traditional() {
        assert_eq!(script("这个手机一点也不好用"), Script::Hans);
        assert_eq!(script("請問這款有現貨嗎？"), Script::Hant);
        assert_eq!(script("客服態度好差，等咗成個鐘"), Script::Hant);
        // Only shared characters: default to Simplified.
        assert_eq!(script("好好吃"), Script::Hans);
    }

    #[test]
    fn cantonese_without_traditional_only_characters_is_hant() {
        assert_eq!(script("佢哋啲嘢好正"), Script::Hant);
    }

    #[test]
    fn english_and_mixed() {
        assert_eq!(script("The app keeps crashing"), Script::En);
        assert_eq!(script("物流好慢 so disappointed"), Script::Mixed);
        assert_eq!(script("The app keeps crashing，客服也不回"), Script::Mixed);
        // A brand name or two does not make Chinese text mixed.
        assert_eq!(
            script("我买的iPhone和AirPods都有问题，客服也不管"),
            Script::Hans
        );
        assert_eq!(script("app闪退了"), Script::Hans);
    }

    #[test]
    fn no_letters_at_all() {
        assert_eq!(script("👍👍👍"), Script::Hans);
        assert_eq!(script(""), Script::Hans);
        assert_eq!(script("12315"), Script::Hans);
    }
}
