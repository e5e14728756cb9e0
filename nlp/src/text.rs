//! A message prepared for matching: its original characters, a normalised
//! copy of exactly the same length, and jieba's word boundaries.
//!
//! Normalisation is strictly one character to one character (Traditional →
//! Simplified, full-width → ASCII, lowercase), so an index into the
//! normalised text is also an index into the original. That is what lets
//! every matcher work on clean text while evidence still quotes the
//! customer's own words.

use std::sync::OnceLock;

use crate::chinese::Segmenter;
use crate::traditional;

/// Characters that, next to a one-character keyword inside a jieba word, do
/// not change what the keyword means: degree adverbs, negation and sentence
/// particles. jieba's dictionary holds many such fused forms (太贵, 真差,
/// 很快), and without this a one-character keyword could only ever match as
/// a whole word.
fn is_modifier(c: char) -> bool {
    matches!(
        c,
        '太' | '很'
            | '真'
            | '超'
            | '挺'
            | '蛮'
            | '巨'
            | '贼'
            | '忒'
            | '好'
            | '不'
            | '没'
            | '了'
            | '啊'
            | '呀'
            | '吧'
            | '哦'
            | '的'
            | '得'
            | '地'
            | '也'
            | '都'
            | '还'
            | '更'
            | '最'
            | '较'
            | '有'
            | '点'
            | '些'
            | '死'
            | '爆'
            | '老'
            | '又'
            | '就'
            | '这'
            | '那'
            | '么'
            | '啦'
            | '嘛'
            | '咯'
            | '喔'
            | '哈'
            | '呢'
            | '吗'
    )
}

/// Which script a Han character belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HanClass {
    Shared,
    TraditionalOnly,
    SimplifiedOnly,
}

const BASIC_START: u32 = 0x4E00;
const BASIC_END: u32 = 0xA000;

/// Dense per-character table for the basic CJK block (where all of
/// `traditional.rs` lives): simplified form in the low bits, class above.
/// Built once; turns two binary searches per character into one load,
/// which matters because every character of every message goes through it.
fn basic_table() -> &'static [u32] {
    static TABLE: OnceLock<Vec<u32>> = OnceLock::new();
    TABLE.get_or_init(|| {
        (BASIC_START..BASIC_END)
            .map(|cp| {
                let c = char::from_u32(cp).unwrap_or(' ');
                let class = if traditional::is_traditional_only(c) {
                    HanClass::TraditionalOnly
                } else if traditional::is_simplified_only(c) {
                    HanClass::SimplifiedOnly
                } else {
                    HanClass::Shared
                };
                traditional::to_simplified(c) as u32 | (class as u32) << 24
            })
            .collect()
    })
}

/// Simplified form and script class of a Han character.
pub(crate) fn han_info(c: char) -> (char, HanClass) {
    let cp = c as u32;
    if !(BASIC_START..BASIC_END).contains(&cp) {
        return (c, HanClass::Shared);
    }
    let entry = basic_table()[(cp - BASIC_START) as usize];
    let class = match entry >> 24 {
        1 => HanClass::TraditionalOnly,
        2 => HanClass::SimplifiedOnly,
        _ => HanClass::Shared,
    };
    (char::from_u32(entry & 0x00FF_FFFF).unwrap_or(c), class)
}

pub(crate) struct Text {
    pub original: Vec<char>,
    pub norm: Vec<char>,
    /// `boundary[i]`: a jieba token starts at `i` (or `i` is the end).
    pub boundary: Vec<bool>,
    /// `single_ok[i]`: a one-character pattern may match at `i` even though
    /// it sits inside a longer token, because the rest of that token is
    /// made of modifier characters.
    pub single_ok: Vec<bool>,
    /// Token spans `(start, end)` in characters, in order.
    pub tokens: Vec<(usize, usize)>,
}

impl Text {
    pub fn new(input: &str, segmenter: &Segmenter) -> Text {
        let mut original = Vec::with_capacity(input.len());
        let mut norm = Vec::with_capacity(input.len());
        let mut changed = false;
        for c in input.chars() {
            let n = normalize_char(c);
            changed |= n != c;
            original.push(c);
            norm.push(n);
        }
        // Most messages are already in normal form; only build a normalised
        // copy for jieba when something changed.
        let tokens = if changed {
            segmenter.tokens(&norm.iter().collect::<String>())
        } else {
            segmenter.tokens(input)
        };
        let n = norm.len();
        let mut boundary = vec![false; n + 1];
        boundary[n] = true;
        for &(s, _) in &tokens {
            boundary[s] = true;
        }
        let mut single_ok = vec![false; n];
        for &(s, e) in &tokens {
            if e - s < 2 {
                continue;
            }
            let modifiers = norm[s..e].iter().filter(|&&c| is_modifier(c)).count();
            for (i, &c) in norm[s..e].iter().enumerate() {
                // Every character other than this one must be a modifier.
                let others = modifiers - usize::from(is_modifier(c));
                if others == e - s - 1 {
                    single_ok[s + i] = true;
                }
            }
        }
        Text {
            original,
            norm,
            boundary,
            single_ok,
            tokens,
        }
    }

    pub fn len(&self) -> usize {
        self.norm.len()
    }

    /// The normalised characters in `start..end`.
    pub fn norm_slice(&self, start: usize, end: usize) -> String {
        self.norm[start..end].iter().collect()
    }

    /// The original characters in `start..end`.
    pub fn original_slice(&self, start: usize, end: usize) -> String {
        self.original[start..end].iter().collect()
    }
}

/// The normal form of one character. Must never change the character
/// count, see the module docs.
pub(crate) fn normalize_char(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_lowercase();
    }
    let c = match c {
        // Full-width ASCII block (Ａ, ！, ？, ，…) to plain ASCII.
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        '\u{2018}' | '\u{2019}' | '\u{2032}' => '\'',
        '\u{201C}' | '\u{201D}' => '"',
        _ => c,
    };
    if c.is_ascii() {
        return c.to_ascii_lowercase();
    }
    if is_han(c) {
        return han_info(c).0;
    }
    if c.is_uppercase() {
        let mut lower = c.to_lowercase();
        if let (Some(l), None) = (lower.next(), lower.next()) {
            return l;
        }
    }
    c
}

/// Normal form of a keyword or lexicon entry: the same per-character
/// mapping as the text it will be matched against.
pub(crate) fn normalize_pattern(s: &str) -> String {
    s.trim().chars().map(normalize_char).collect()
}

/// CJK ideographs, including the extension blocks Hong Kong text uses.
pub(crate) fn is_han(c: char) -> bool {
    matches!(c as u32,
        0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x3134F)
}

/// Letters and digits that make up Latin-script words. CJK characters are
/// alphanumeric to Unicode too, hence the explicit range check.
pub(crate) fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || (!c.is_ascii() && (c as u32) < 0x2E80 && c.is_alphanumeric())
}

/// Pictographs people use as sentiment or as clause breaks (😡, 👍, ❤).
pub(crate) fn is_emoji(c: char) -> bool {
    matches!(c as u32,
        0x1F300..=0x1FAFF | 0x2600..=0x27BF | 0x2B50 | 0x2B55 | 0x1F000..=0x1F2FF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation_keeps_length_and_folds_variants() {
        let s = "請問這款ＡＰＰ有現貨嗎？Don’t";
        let n = normalize_pattern(s);
        assert_eq!(n.chars().count(), s.chars().count());
        assert_eq!(n, "请问这款app有现货吗?don't");
    }

    #[test]
    fn length_is_preserved_for_characters_with_multi_char_lowercase() {
        // 'İ' lowercases to two characters; it must be left alone.
        assert_eq!(normalize_char('İ'), 'İ');
        assert_eq!(normalize_char('Ä'), 'ä');
    }

    #[test]
    fn dense_table_agrees_with_the_generated_one() {
        for cp in BASIC_START..BASIC_END {
            let c = char::from_u32(cp).unwrap();
            let (simp, class) = han_info(c);
            assert_eq!(simp, traditional::to_simplified(c));
            assert_eq!(
                class == HanClass::TraditionalOnly,
                traditional::is_traditional_only(c)
            );
            assert_eq!(
                class == HanClass::SimplifiedOnly,
                traditional::is_simplified_only(c)
            );
        }
    }

    #[test]
    fn character_classes() {
        assert!(is_han('們') && is_han('们') && is_han('𠮶'));
        assert!(!is_han('a') && !is_han('，'));
        assert!(is_word_char('a') && is_word_char('9') && is_word_char('é'));
        assert!(!is_word_char('好') && !is_word_char('\'') && !is_word_char(' '));
        assert!(is_emoji('😡') && is_emoji('👍') && is_emoji('❤'));
        assert!(!is_emoji('好'));
    }

    #[test]
    fn modifier_rule_allows_fused_degree_words_only() {
        let seg = Segmenter::new(std::iter::empty());
        // jieba keeps 太贵 as one word; 贵 is still usable on its own.
        let t = Text::new("太贵", &seg);
        assert_eq!(t.tokens, vec![(0, 2)]);
        assert!(t.single_ok[1]);
        // 贵 inside 贵州 is not.
        let t = Text::new("贵州", &seg);
        assert!(!t.single_ok[0]);
    }
}
