//! Splitting a message into clauses, the unit that carries one opinion.
//!
//! "物流很快，但是客服态度很差" holds two opinions about two themes; scoring
//! the message as a whole would average them into nothing. Clauses end at
//! sentence punctuation, line breaks, emoji (chat messages use them as full
//! stops), spaces between Chinese phrases, and before contrast words.

use crate::lexicon::Unit;
use crate::matcher::Hit;
use crate::sentiment::{bits_in, first_bits, BASIC_HAN};
use crate::text::{is_emoji, is_han, Text};

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Clause {
    pub start: usize,
    pub end: usize,
    /// Introduced by a contrast word: the opinion the writer lands on.
    pub contrast: bool,
    /// Introduced by a caveat (就是, 只是, 不过: "only that"): a contrast
    /// that adds a reservation to what came before. After praise, the
    /// training file's reviewers mostly gave a positive verdict to these
    /// (就是 464 to 154, 不过 70 to 22) and a negative one after 但是
    /// (74 to 136) or 可是 (4 to 25), so a caveat weighs as much as the
    /// clauses before it, not more.
    pub caveat: bool,
    /// Introduced by a summing-up (整体, 其他都, overall): the verdict on
    /// the whole message, after the details before it.
    pub summary: bool,
    /// A concession (虽然…, although…): weighs less.
    pub concessive: bool,
    pub question: bool,
    pub rhetorical: bool,
    /// Its lexicon units: `units[units.0..units.1]` of the message's.
    pub units: (usize, usize),
    /// The sentiment rule bits of its characters (see
    /// `sentiment::bits_in`), gathered while the text is split.
    pub bits: u16,
    /// The rule bits of the clauses before it in its sentence (which ends
    /// at 。！？ or a line break), and where that sentence starts: a wait
    /// said earlier in the sentence is looked for only where one can be.
    pub before: u16,
    pub sentence_start: usize,
}

impl Clause {
    /// A genuine question (什么时候发货？), not a complaint asked as one
    /// (为什么还没发货？): it asks rather than judges.
    pub fn asks(&self) -> bool {
        self.question && !self.rhetorical
    }
}

fn is_delimiter(c: char) -> bool {
    matches!(
        c,
        ',' | '，'
            | '。'
            | '!'
            | '！'
            | '?'
            | '？'
            | ';'
            | '；'
            | '、'
            | '\n'
            | '\r'
            | '…'
            | '~'
            | '～'
            | '|'
            | '｡'
    )
}

/// Emoji modifiers that belong to the emoji before them.
fn is_emoji_tail(c: char) -> bool {
    matches!(c as u32, 0xFE0F | 0x200D | 0x1F3FB..=0x1F3FF)
}

/// [`char::is_whitespace`], with everything above U+3000 (the last white
/// space character, the ideographic space), Chinese included, settled by
/// one comparison.
#[inline]
fn blank(c: char) -> bool {
    (c as u32) <= 0x3000 && c.is_whitespace()
}

/// A space between two Chinese phrases works as a comma ("物流很快 客服很差");
/// between English words it is just a space.
fn is_phrase_gap(norm: &[char], i: usize) -> bool {
    if !blank(norm[i]) {
        return false;
    }
    let before = norm[..i].iter().rev().find(|&&c| !blank(c));
    let after = norm[i + 1..].iter().find(|&&c| !blank(c));
    let cjkish = |c: &&char| is_han(**c) || is_emoji(**c);
    before.is_some_and(|c| cjkish(&c)) && after.is_some_and(|c| cjkish(&c))
}

/// A full stop with no space around it is a decimal point or part of a
/// name (3.5折, v2.1, taobao.com), not the end of a sentence.
fn is_decimal_point(norm: &[char], i: usize) -> bool {
    norm[i] == '.'
        && i > 0
        && norm[i - 1].is_ascii_alphanumeric()
        && norm.get(i + 1).is_some_and(|c| c.is_ascii_alphanumeric())
}

/// What the question and exclamation marks closing a segment say.
#[derive(Clone, Copy, Default)]
struct Marks {
    /// A question mark that asks. In Chinese text an ASCII `?` asks only
    /// with a word that does (see [`Segment::asks`]): without one it
    /// mostly stands for an emoji lost on the way (挺好的?, 很喜欢?, 失望?),
    /// as in the training file's reviews, and the clause says what it says.
    question: bool,
    /// ASCII question marks only, in Chinese text.
    bare_question: bool,
    /// More than one question mark, or one with an exclamation mark
    /// (退款只退了一半？？, 还要我自己补差价？？？, 凭什么？!): indignation asked
    /// as a question, not a question. In Chinese text the marks must
    /// include a full-width one: where emoji were lost on the way, ASCII
    /// `?` stands in for them (棒棒哒???, 很不错??), and in the training
    /// file's reviews ASCII `??` is more often praise than not, full-width
    /// `？？` a complaint fifteen times in sixteen.
    indignant: bool,
}

struct Segment {
    start: usize,
    end: usize,
    marks: Marks,
    /// The rule bits of its characters.
    bits: u16,
    /// The first segment after a sentence's end.
    starts_sentence: bool,
}

impl Segment {
    /// Whether the segment's marks make `clause`, the text of its last
    /// clause, a question (`rhetorical`: the clause's words say it is a
    /// complaint asked as one).
    fn asks(&self, clause: &[char], rhetorical: bool) -> bool {
        self.marks.question || (self.marks.bare_question && (rhetorical || asks_in_words(clause)))
    }
}

/// Whether a Chinese clause holds a word that asks (什么时候发货, 在哪,
/// 几天到, 是否): what makes a bare ASCII `?` after it a question.
fn asks_in_words(clause: &[char]) -> bool {
    clause.iter().enumerate().any(|(i, &c)| {
        let next = clause.get(i + 1).copied();
        match c {
            '吗' | '呢' | '谁' | '哪' | '几' | '啥' | '咋' | '怎' => true,
            '什' => next == Some('么'),
            '多' => matches!(next, Some('少' | '久')),
            '是' => next == Some('否'),
            '难' => next == Some('道'),
            '为' => matches!(next, Some('何' | '啥')),
            _ => false,
        }
    })
}

/// 不是…吗 (不是说送膜吗, 这不是坑人吗): a question that asks nothing but
/// holds up what was promised or what is plain. In the training file's
/// reviews it is a complaint 109 times in 118.
fn denied_question(clause: &[char]) -> bool {
    let Some(ma) = clause.iter().rposition(|&c| c == '吗') else {
        return false;
    };
    clause[..ma].windows(2).any(|w| w == ['不', '是'])
}

/// Ends a sentence (see `Clause::before`).
fn ends_sentence(c: char) -> bool {
    matches!(c, '。' | '！' | '？' | '!' | '?' | '\n')
}

/// Calls `out` with each segment in text order (a callback, so that no
/// list is built per message). The rule bits are gathered here, where
/// every character is in hand anyway, rather than in a pass of their own
/// per clause.
fn segments(norm: &[char], original: &[char], mut out: impl FnMut(Segment)) {
    let mut start = 0;
    let mut i = 0;
    let mut bits = 0;
    let mut starts_sentence = true;
    let mut push = |start: usize, end: usize, marks: Marks, bits: u16, stop: bool| {
        let s = (start..end).find(|&k| !blank(norm[k]));
        if let Some(s) = s {
            let e = (s..end).rev().find(|&k| !blank(norm[k])).unwrap() + 1;
            out(Segment {
                start: s,
                end: e,
                marks,
                bits,
                starts_sentence,
            });
            starts_sentence = false;
        }
        starts_sentence |= stop;
    };
    while i < norm.len() {
        let c = norm[i];
        // Delimiters, spaces and emoji have no bits: only the characters
        // of a segment add any.
        let first = first_bits(c);
        bits |= first;
        // Most characters are Chinese, which neither end a clause nor are
        // emoji: settled by the bits just loaded, which mark the basic
        // block (the rest of the Han blocks takes the longer way to the
        // same answer). So are Latin letters and digits, the bulk of the
        // rest.
        if first & BASIC_HAN != 0 || c.is_ascii_alphanumeric() {
            i += 1;
            continue;
        }
        let delimiter =
            ((is_delimiter(c) || c == '.') && !is_decimal_point(norm, i)) || is_phrase_gap(norm, i);
        if delimiter {
            let seg_end = i;
            let (mut questions, mut exclaimed, mut wide) = (0, false, false);
            let mut stop = false;
            while i < norm.len()
                && ((is_delimiter(norm[i]) || norm[i] == '.' || blank(norm[i]))
                    && !is_decimal_point(norm, i))
            {
                questions += usize::from(norm[i] == '?');
                wide |= original[i] == '？';
                exclaimed |= norm[i] == '!';
                stop |= ends_sentence(norm[i]);
                i += 1;
            }
            let own = wide || bits & BASIC_HAN == 0;
            let marks = Marks {
                question: questions > 0 && own,
                bare_question: questions > 0 && !own,
                indignant: (questions > 1 || (questions > 0 && exclaimed)) && own,
            };
            push(start, seg_end, marks, bits, stop);
            bits = 0;
            start = i;
        } else if is_emoji(c) {
            i += 1;
            while i < norm.len() && (is_emoji(norm[i]) || is_emoji_tail(norm[i])) {
                i += 1;
            }
            push(start, i, Marks::default(), bits, false);
            bits = 0;
            start = i;
        } else {
            i += 1;
        }
    }
    push(start, norm.len(), Marks::default(), bits, false);
}

/// Clauses in text order. `units` are the lexicon hits of the whole text,
/// in text order.
pub(crate) fn split(text: &Text, units: &[Hit<Unit>]) -> Vec<Clause> {
    let mut clauses = Vec::new();
    split_into(text, units, &mut Vec::new(), &mut clauses);
    clauses
}

/// [`split`] into `clauses`, with `cuts` as room for a segment's cut
/// points: both buffers are reused between messages.
pub(crate) fn split_into(
    text: &Text,
    units: &[Hit<Unit>],
    cuts: &mut Vec<usize>,
    clauses: &mut Vec<Clause>,
) {
    clauses.clear();
    let norm = &text.norm[..];
    // Segments, and the clauses within each, come in text order, as do the
    // units: cursors that only move forward find each one's units, where
    // binary searches would start over every time.
    let mut next = 0;
    let (mut sentence_start, mut sentence_bits) = (0, 0);
    // A contrast word standing alone between commas (但是，东西真的很好;
    // 总体来说，…) is no clause of its own: it introduces the next one,
    // which takes its kind (contrast, summary, caveat) as if it began it.
    let mut carried: Option<(bool, bool)> = None;
    segments(norm, &text.original, |seg| {
        if seg.starts_sentence {
            // The characters between the sentence's end and here are
            // delimiters and spaces: no wait is found among them.
            sentence_start = seg.start;
            sentence_bits = 0;
        }
        let mut from = next;
        while units.get(from).is_some_and(|h| h.start < seg.start) {
            from += 1;
        }
        next = from;
        while units.get(next).is_some_and(|h| h.start < seg.end) {
            next += 1;
        }
        let inside = &units[from..next];
        // Whether a contrast word cuts the segment, read in the same pass
        // as the kinds of clause it would be whole.
        let mut contrast_at_start = false;
        let mut caveat_at_start = false;
        let mut summary_at_start = false;
        let mut cut = false;
        let (mut concessive, mut question, mut rhetorical) = (false, false, false);
        if let [h] = inside {
            if let Unit::Contrast {
                summary, caveat, ..
            } = h.payload
            {
                if h.start == seg.start && h.end == seg.end && !seg.marks.question {
                    carried = Some((summary, caveat));
                    return;
                }
            }
        }
        if let Some((summary, caveat)) = carried.take() {
            contrast_at_start = true;
            summary_at_start = summary;
            caveat_at_start = caveat;
        }
        for h in inside {
            match h.payload {
                Unit::Contrast {
                    initial_only,
                    summary,
                    caveat,
                } => {
                    if h.start == seg.start {
                        contrast_at_start = true;
                        summary_at_start |= summary;
                        caveat_at_start |= caveat;
                    } else {
                        cut |= !initial_only;
                    }
                }
                Unit::Concessive => concessive = true,
                Unit::Question => question = true,
                Unit::Rhetorical => rhetorical = true,
                _ => {}
            }
        }
        // Most segments are one clause: its units are the segment's, and
        // the segment is trimmed already.
        if !cut {
            clauses.push(Clause {
                start: seg.start,
                end: seg.end,
                contrast: contrast_at_start,
                caveat: caveat_at_start,
                summary: summary_at_start,
                concessive,
                question: seg.asks(&norm[seg.start..seg.end], rhetorical)
                    || norm[seg.end - 1] == '吗'
                    || question,
                rhetorical: rhetorical
                    || seg.marks.indignant
                    || denied_question(&norm[seg.start..seg.end]),
                units: (from, next),
                bits: seg.bits,
                before: sentence_bits,
                sentence_start,
            });
            sentence_bits |= seg.bits;
            return;
        }
        cuts.clear();
        cuts.push(seg.start);
        for h in inside {
            if let Unit::Contrast {
                initial_only: false,
                ..
            } = h.payload
            {
                if h.start != seg.start && cuts.last() != Some(&h.start) {
                    cuts.push(h.start);
                }
            }
        }
        cuts.push(seg.end);
        let mut u = 0;
        for (k, w) in cuts.windows(2).enumerate() {
            let (start, end) = (w[0], w[1]);
            let end = (start..end)
                .rev()
                .find(|&i| !blank(norm[i]))
                .map_or(start, |i| i + 1);
            if end == start {
                continue;
            }
            let last = k == cuts.len() - 2;
            while inside.get(u).is_some_and(|h| h.start < start) {
                u += 1;
            }
            let first = u;
            while inside.get(u).is_some_and(|h| h.start < end) {
                u += 1;
            }
            let (concessive, question, rhetorical) = kinds(&inside[first..u]);
            let bits = bits_in(norm, start, end);
            clauses.push(Clause {
                start,
                end,
                contrast: if k == 0 { contrast_at_start } else { true },
                caveat: k == 0 && caveat_at_start,
                summary: k == 0 && summary_at_start,
                concessive,
                question: (last && seg.asks(&norm[start..end], rhetorical))
                    || norm[end - 1] == '吗'
                    || question,
                rhetorical: rhetorical
                    || (last && seg.marks.indignant)
                    || denied_question(&norm[start..end]),
                units: (from + first, from + u),
                bits,
                before: sentence_bits,
                sentence_start,
            });
            sentence_bits |= bits;
        }
    });
}

/// Whether `units` hold a concession, a question and a rhetorical
/// question, in one pass for all three (for the clauses of a segment that
/// contrast words cut).
fn kinds(units: &[Hit<Unit>]) -> (bool, bool, bool) {
    let (mut concessive, mut question, mut rhetorical) = (false, false, false);
    for h in units {
        match h.payload {
            Unit::Concessive => concessive = true,
            Unit::Question => question = true,
            Unit::Rhetorical => rhetorical = true,
            _ => {}
        }
    }
    (concessive, question, rhetorical)
}

/// Index of the clause containing character `pos`, if any (delimiters
/// belong to none).
pub(crate) fn clause_of(clauses: &[Clause], pos: usize) -> Option<usize> {
    // Most messages have a few clauses: the first that ends after `pos`
    // is found in fewer steps than a binary search takes, which long
    // messages keep.
    let i = if clauses.len() <= 8 {
        clauses.iter().position(|c| pos < c.end)?
    } else {
        clauses.partition_point(|c| c.end <= pos)
    };
    clauses.get(i).filter(|c| c.start <= pos).map(|_| i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chinese::Segmenter;
    use crate::lexicon::Lexicon;

    fn clauses(text: &str) -> Vec<(String, bool, bool)> {
        let seg = Segmenter::new(std::iter::empty());
        let lex = Lexicon::builtin().unwrap();
        let t = Text::new(text, &seg);
        split(&t, &lex.scan(&t))
            .into_iter()
            .map(|c| (t.original_slice(c.start, c.end), c.contrast, c.question))
            .collect()
    }

    fn texts(text: &str) -> Vec<String> {
        clauses(text).into_iter().map(|c| c.0).collect()
    }

    #[test]
    fn splits_on_punctuation_and_contrast_words() {
        assert_eq!(
            clauses("物流很快，但是客服态度很差"),
            vec![
                ("物流很快".into(), false, false),
                ("但是客服态度很差".into(), true, false)
            ]
        );
        assert_eq!(
            texts("物流很快但是客服很差"),
            vec!["物流很快", "但是客服很差"]
        );
        // A contrast word alone between commas introduces the next clause.
        assert_eq!(
            clauses("物流很慢，但是，东西真的很好"),
            vec![
                ("物流很慢".into(), false, false),
                ("东西真的很好".into(), true, false)
            ]
        );
        assert_eq!(
            texts("Great food but the delivery was late."),
            vec!["Great food", "but the delivery was late"]
        );
    }

    #[test]
    fn initial_only_contrast_words_do_not_split_mid_clause() {
        // 不过 starts a clause after a comma, but is not split out of 再好不过.
        assert_eq!(
            clauses("挺好的，不过有点贵")[1],
            ("不过有点贵".into(), true, false)
        );
        assert_eq!(texts("这家店再好不过了"), vec!["这家店再好不过了"]);
    }

    #[test]
    fn questions_are_marked() {
        assert!(clauses("請問這款有現貨嗎？")[0].2);
        assert!(clauses("有没有优惠")[0].2);
        assert!(clauses("Is this available? Thanks")[0].2);
        assert!(!clauses("Is this available? Thanks")[1].2);
    }

    #[test]
    fn more_than_one_question_mark_is_indignation() {
        let rhetorical = |text: &str| {
            let seg = Segmenter::new(std::iter::empty());
            let lex = Lexicon::builtin().unwrap();
            let t = Text::new(text, &seg);
            split(&t, &lex.scan(&t))
                .iter()
                .map(|c| (c.question, c.rhetorical))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            rhetorical("退款只退了一半？？离谱"),
            [(true, true), (false, false)]
        );
        assert_eq!(rhetorical("还要我自己补差价？!"), [(true, true)]);
        assert_eq!(rhetorical("什么时候发货？"), [(true, false)]);
        // ASCII marks in Chinese text are as often lost emoji as anger,
        // and ask only with a word that asks; in English they are the
        // writer's own.
        assert_eq!(
            rhetorical("很不错，会继续支持的???"),
            [(false, false), (false, false)]
        );
        assert_eq!(rhetorical("有一个已经烂掉了?"), [(false, false)]);
        assert_eq!(rhetorical("什么时候发货?"), [(true, false)]);
        assert_eq!(rhetorical("凭什么不给退?"), [(true, true)]);
        assert_eq!(rhetorical("Still no refund??"), [(true, true)]);
        // 不是…吗 holds up a promise: no question.
        assert_eq!(rhetorical("不是说送膜吗"), [(true, true)]);
        assert_eq!(rhetorical("这个是正品吗"), [(true, false)]);
    }

    #[test]
    fn emoji_spaces_and_decimals() {
        assert_eq!(
            texts("物流很快👍🏻客服很差😡"),
            vec!["物流很快👍🏻", "客服很差😡"]
        );
        assert_eq!(texts("物流很快 客服很差"), vec!["物流很快", "客服很差"]);
        assert_eq!(texts("打了3.5折. nice"), vec!["打了3.5折", "nice"]);
        assert_eq!(texts("the app is slow"), vec!["the app is slow"]);
    }

    #[test]
    fn blank_is_white_space() {
        for c in (0..0x11_0000).filter_map(char::from_u32) {
            assert_eq!(blank(c), c.is_whitespace(), "{c:?}");
        }
    }

    #[test]
    fn clause_lookup() {
        let c = |start, end| Clause {
            start,
            end,
            contrast: false,
            caveat: false,
            summary: false,
            concessive: false,
            question: false,
            rhetorical: false,
            units: (0, 0),
            bits: 0,
            before: 0,
            sentence_start: 0,
        };
        let cs = vec![c(0, 4), c(5, 9)];
        assert_eq!(clause_of(&cs, 0), Some(0));
        assert_eq!(clause_of(&cs, 4), None);
        assert_eq!(clause_of(&cs, 8), Some(1));
        assert_eq!(clause_of(&cs, 9), None);
    }
}
