//! A message prepared for matching: its original characters, a normalised
//! copy of exactly the same length, and jieba's word boundaries.
//!
//! Normalisation is strictly one character to one character (Traditional →
//! Simplified by phrase and by character, full-width → ASCII, lowercase),
//! so an index into the normalised text is also an index into the
//! original. That is what lets every matcher work on clean text while
//! evidence still quotes the customer's own words.

use std::sync::OnceLock;

use crate::chinese::{stands_alone, Segmenter};
use crate::phrases;
use crate::script::{is_cantonese, HanCounts};
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
const BLOCK_LEN: usize = (BASIC_END - BASIC_START) as usize;

/// Builds the character tables, so that the first message does not pay for
/// them.
pub(crate) fn build_tables() {
    basic_table();
    crate::phrases::build_table();
}

/// Dense per-character table for the basic CJK block (where all of
/// `traditional.rs` lives): the simplified form as an offset into the
/// block in the low bits, class and flags above. Built once; turns two
/// binary searches per character into one load, which matters because
/// every character of every message goes through it.
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
                let simplified = traditional::to_simplified(c);
                let offset = (simplified as u32).wrapping_sub(BASIC_START);
                assert!(offset <= OFFSET_MASK, "{c} simplifies out of the block");
                let (traditional, simplified_script) = HanCounts::weighs(class, is_cantonese(c));
                let bit = |on: bool, bit: u32| u32::from(on) << bit;
                offset
                    | (class as u32) << CLASS_SHIFT
                    | bit(phrases::starts_phrase(c), PHRASE_BIT)
                    | bit(phrases::is_witness(c), WITNESS_BIT)
                    | bit(is_modifier(simplified), SIMPLIFIED_MODIFIER_BIT)
                    | bit(is_modifier(c), MODIFIER_BIT)
                    | bit(traditional, TRADITIONAL_BIT)
                    | bit(simplified_script, SIMPLIFIED_BIT)
                    | bit(simplified != c, CHANGES_BIT)
            })
            .collect()
    })
}

/// The low bits of a `basic_table` entry: the simplified form's offset
/// from `BASIC_START`. Kept below 0x8000 so that the character it gives is
/// below the surrogates and needs no check at run time.
const OFFSET_MASK: u32 = 0x7FFF;
/// Where a `basic_table` entry keeps the character's `HanClass`.
const CLASS_SHIFT: u32 = 16;
/// Bit of a `basic_table` entry set when a phrase of `phrases.rs` starts
/// with the character.
const PHRASE_BIT: u32 = 18;
/// Bit of a `basic_table` entry set when the character's simplified form
/// is one `is_modifier` names, for the text as normalised.
const SIMPLIFIED_MODIFIER_BIT: u32 = 19;
/// Bit of a `basic_table` entry set for the characters `is_modifier` names.
const MODIFIER_BIT: u32 = 20;
/// Bit of a `basic_table` entry set when the character counts towards
/// Traditional script (see `HanCounts::weighs`).
const TRADITIONAL_BIT: u32 = 21;
/// Bit of a `basic_table` entry set when the character counts towards
/// Simplified script. Right above `TRADITIONAL_BIT`: `Text::fill` reads
/// the two with one shift.
const SIMPLIFIED_BIT: u32 = TRADITIONAL_BIT + 1;
/// Bit of a `basic_table` entry set when the simplified form differs.
const CHANGES_BIT: u32 = 23;
/// Bit of a `basic_table` entry set for a phrase's witness (see
/// `phrases::is_witness`): a text without one holds no phrase.
const WITNESS_BIT: u32 = 24;

/// [`is_modifier`] by table: every modifier is in the basic block.
#[inline]
fn is_modifier_in(table: &[u32], c: char) -> bool {
    let cp = c as u32;
    (BASIC_START..BASIC_END).contains(&cp)
        && table[(cp - BASIC_START) as usize] & (1 << MODIFIER_BIT) != 0
}

/// Whether a phrase of `phrases.rs` may start at `c`.
fn starts_phrase(c: char) -> bool {
    let cp = c as u32;
    (BASIC_START..BASIC_END).contains(&cp)
        && basic_table()[(cp - BASIC_START) as usize] & (1 << PHRASE_BIT) != 0
}

/// Simplified form and script class of a Han character.
pub(crate) fn han_info(c: char) -> (char, HanClass) {
    let cp = c as u32;
    if !(BASIC_START..BASIC_END).contains(&cp) {
        return (c, HanClass::Shared);
    }
    let entry = basic_table()[(cp - BASIC_START) as usize];
    (simplified_of(entry), class_of(entry))
}

fn class_of(entry: u32) -> HanClass {
    match (entry >> CLASS_SHIFT) & 3 {
        1 => HanClass::TraditionalOnly,
        2 => HanClass::SimplifiedOnly,
        _ => HanClass::Shared,
    }
}

#[inline]
fn simplified_of(entry: u32) -> char {
    // Below 0x4E00 + 0x8000, so never a surrogate: the fallback is dead.
    char::from_u32(BASIC_START + (entry & OFFSET_MASK)).unwrap_or(' ')
}

/// Every buffer is reused by [`Text::fill`], so that a thread analysing
/// message after message allocates none of them again.
#[derive(Default)]
pub(crate) struct Text {
    pub original: Vec<char>,
    pub norm: Vec<char>,
    /// `boundary[i]`: a jieba token starts at `i` (or `i` is the end).
    pub boundary: Vec<bool>,
    /// `modifier[i]`: `norm[i]` is a modifier character (see
    /// [`single_ok`]).
    pub modifier: Vec<bool>,
    /// Token spans `(start, end)` in characters, in order.
    pub tokens: Vec<(usize, usize)>,
    /// The Han characters of `original` by script.
    pub han: HanCounts,
    /// Latin words of two or more letters in `original`, and their letters
    /// (see `english::count_words`), counted in the same pass.
    pub latin: (usize, usize),
    /// The normalised text as a string, for jieba, when it differs.
    normalised: String,
}

impl Text {
    pub fn new(input: &str, segmenter: &Segmenter) -> Text {
        let mut text = Text::default();
        text.fill(input, segmenter);
        text
    }

    /// Makes `self` the prepared form of `input`, reusing its buffers.
    pub fn fill(&mut self, input: &str, segmenter: &Segmenter) {
        let Text {
            original,
            norm,
            boundary,
            modifier,
            tokens,
            han: han_counts,
            latin,
            normalised,
        } = self;
        // The characters first, in a loop of their own that only decodes;
        // the pass below then reads them with no byte bookkeeping, which
        // leaves it registers for everything else.
        decode_into(input, original);
        let len = original.len();
        norm.clear();
        norm.resize(len, '\0');
        // Whether `norm[i]` is a modifier, taken from the same table load.
        modifier.clear();
        modifier.resize(len, false);
        // Whether the text segments differently once normalised.
        let mut changed = false;
        // The table entries of the basic-block characters ORed together:
        // whether any changes, and whether any is a phrase's witness.
        let mut seen = 0u32;
        // Counted in locals, not through `han`, which the compiler would
        // otherwise store back at every character.
        let mut counts = HanCounts::default();
        // The basic block's characters are counted apart, in two registers:
        // the compiler keeps `counts` in memory, and adding to a counter
        // there at every character chains each character's iteration to
        // the last one's through a store. `weighed` holds those counting
        // towards Traditional in its low half, Simplified in its high one.
        let (mut basic, mut weighed) = (0usize, 0u64);
        let (mut words, mut letters, mut run) = (0, 0, 0);
        let table = basic_table();
        // With its length in the type, the block's index needs no check.
        let block: &[u32; BLOCK_LEN] = table.try_into().expect("one entry per character");
        let slots = original
            .iter()
            .zip(norm.iter_mut())
            .zip(modifier.iter_mut());
        for ((&c, slot), modifier) in slots {
            let cp = c as u32;
            // The basic CJK block, nearly every character of nearly every
            // message, settled by one table load. No such character is a
            // letter.
            let k = cp.wrapping_sub(BASIC_START) as usize;
            if k < BLOCK_LEN {
                let entry = block[k];
                seen |= entry;
                basic += 1;
                let weighs = u64::from(entry >> TRADITIONAL_BIT);
                weighed += (weighs & 1) | (weighs >> 1 & 1) << 32;
                if run != 0 {
                    if run >= 2 {
                        words += 1;
                        letters += run;
                    }
                    run = 0;
                }
                *slot = simplified_of(entry);
                *modifier = entry & (1 << SIMPLIFIED_MODIFIER_BIT) != 0;
                continue;
            }
            let (n, letter) = if cp < 0x80 {
                let n = c.to_ascii_lowercase();
                // Only capitals change, and a capital joins its neighbours.
                changed |= n != c;
                (n, c.is_ascii_alphabetic())
            } else if let Some((n, changes)) = punctuation(c) {
                changed |= changes;
                (n, false)
            } else if is_han(c) {
                let (n, class) = han_info(c);
                counts.add(c, class);
                *modifier = is_modifier_in(table, n);
                changed |= n != c;
                (n, false)
            } else {
                let n = normalize_char(c);
                // Full-width commas and curly quotes change in nearly every
                // message but are cut out alone either way.
                changed |= n != c && !(stands_alone(c) && stands_alone(n));
                *modifier = is_modifier_in(table, n);
                (n, is_word_char(c) && c.is_alphabetic())
            };
            if letter {
                run += 1;
            } else {
                if run >= 2 {
                    words += 1;
                    letters += run;
                }
                run = 0;
            }
            *slot = n;
        }
        if run >= 2 {
            words += 1;
            letters += run;
        }
        counts.add_many(
            basic,
            (weighed & 0xFFFF_FFFF) as usize,
            (weighed >> 32) as usize,
        );
        *han_counts = counts;
        *latin = (words, letters);
        changed |= seen & (1 << CHANGES_BIT) != 0;
        if seen & (1 << WITNESS_BIT) != 0 && phrases::apply(original, norm, starts_phrase) {
            changed = true;
            // A phrase may have turned a character into a modifier or one
            // out of being one.
            for (m, &c) in modifier.iter_mut().zip(norm.iter()) {
                *m = is_modifier_in(table, c);
            }
        }
        // Only build a normalised copy for jieba when the segmentation
        // could differ (Traditional characters, capitals, full-width
        // letters).
        let segmented: &str = if changed {
            normalised.clear();
            normalised.extend(norm.iter());
            normalised
        } else {
            input
        };
        boundary.clear();
        boundary.resize(len + 1, false);
        boundary[len] = true;
        // Which one-character patterns may match inside a token is asked
        // of the few that occur there (see `single_ok`), not settled here
        // for every token: the branch on a token's length there was among
        // the most mispredicted of the analysis.
        let boundary = &mut boundary[..];
        segmenter.tokens_into(segmented, tokens);
        for &(s, _) in tokens.iter() {
            boundary[s] = true;
        }
    }

    pub fn len(&self) -> usize {
        self.norm.len()
    }

    /// The normalised characters in `start..end`.
    pub fn norm_slice(&self, start: usize, end: usize) -> String {
        collect(&self.norm[start..end])
    }

    /// The original characters in `start..end`.
    pub fn original_slice(&self, start: usize, end: usize) -> String {
        collect(&self.original[start..end])
    }
}

/// The characters of `input` into `out`. `Vec::extend` over `chars()`
/// checks the vector's room at every character: written into room made
/// first (never more characters than bytes), they need no check.
fn decode_into(input: &str, out: &mut Vec<char>) {
    out.clear();
    out.resize(input.len(), '\0');
    let mut n = 0;
    for (slot, c) in out.iter_mut().zip(input.chars()) {
        *slot = c;
        n += 1;
    }
    out.truncate(n);
}

/// Whether a one-character pattern may match at `i` even though it sits
/// inside a longer token, given jieba's `boundary` and the `modifier`
/// flags of a [`Text`]: it may if the rest of that token is made of
/// modifier characters.
#[inline]
pub(crate) fn single_ok(boundary: &[bool], modifier: &[bool], i: usize) -> bool {
    // The token around `i`: words are short, and `boundary` is true at 0
    // (where the first token starts) and at the end.
    let mut start = i;
    while start > 0 && !boundary[start] {
        start -= 1;
    }
    let mut end = i + 1;
    while !boundary[end] {
        end += 1;
    }
    end - start >= 2 && (start..end).all(|j| j == i || modifier[j])
}

/// The punctuation of Chinese text (，。？、「」 and the full-width forms,
/// curly quotes), settled without the general path's tests: its normal
/// form (as `normalize_char`) and whether the change can move a
/// segmentation boundary (see `stands_alone`). None of these is a letter,
/// a Han character or a modifier.
#[inline]
fn punctuation(c: char) -> Option<(char, bool)> {
    match c as u32 {
        // CJK symbols and punctuation: only the ideographic space changes,
        // to a space, which stands alone as it did.
        0x3000 => Some((' ', false)),
        0x3001..=0x303F => Some((c, false)),
        // Dashes, quotes and ellipses; curly quotes become straight ones,
        // which stand alone as they did.
        0x2010..=0x2027 => Some((normalize_char(c), false)),
        // Full-width ASCII: what becomes a letter, a digit or a joining
        // symbol can join its neighbours in a word.
        cp @ 0xFF01..=0xFF5E => {
            let n = char::from((cp - 0xFEE0) as u8).to_ascii_lowercase();
            Some((n, !stands_alone(n)))
        }
        _ => None,
    }
}

/// Characters to a string with one allocation (collecting grows it char by
/// char).
fn collect(chars: &[char]) -> String {
    let mut s = String::with_capacity(chars.iter().map(|c| c.len_utf8()).sum());
    s.extend(chars);
    s
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
    let original: Vec<char> = s.trim().chars().collect();
    let mut norm: Vec<char> = original.iter().map(|&c| normalize_char(c)).collect();
    phrases::apply(&original, &mut norm, starts_phrase);
    norm.into_iter().collect()
}

/// CJK ideographs, including the extension blocks Hong Kong text uses.
#[inline]
pub(crate) fn is_han(c: char) -> bool {
    let cp = c as u32;
    // Nearly every character asked about is ASCII, punctuation or in the
    // basic block: settle those with one comparison each.
    if cp < 0x3400 {
        return false;
    }
    if (0x4E00..=0x9FFF).contains(&cp) {
        return true;
    }
    matches!(cp, 0x3400..=0x4DBF | 0xF900..=0xFAFF | 0x20000..=0x3134F)
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
    fn phrases_convert_in_place_and_offsets_stay_exact() {
        let seg = Segmenter::new(std::iter::empty());
        let s = "乾隆年間的蘋果軟體，等著回覆";
        let t = Text::new(s, &seg);
        assert_eq!(t.norm_slice(0, t.len()), "乾隆年间的苹果软件,等着回复");
        assert_eq!(t.original_slice(0, t.len()), s);
        assert_eq!(t.original_slice(5, 9), "蘋果軟體");
        assert_eq!(normalize_pattern("應用程式"), "应用程序");
        // Simplified text is left alone.
        assert_eq!(normalize_pattern("着急看着"), "着急看着");
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
            assert_eq!(is_modifier_in(basic_table(), c), is_modifier(c));
            let entry = basic_table()[(cp - BASIC_START) as usize];
            let mut by_class = HanCounts::default();
            by_class.add(c, class_of(entry));
            let mut by_bits = HanCounts::default();
            by_bits.add_counted(
                entry & (1 << TRADITIONAL_BIT) != 0,
                entry & (1 << SIMPLIFIED_BIT) != 0,
            );
            assert_eq!(by_class, by_bits);
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
        assert!(single_ok(&t.boundary, &t.modifier, 1));
        // 贵 inside 贵州 is not.
        let t = Text::new("贵州", &seg);
        assert!(!single_ok(&t.boundary, &t.modifier, 0));
    }
}
