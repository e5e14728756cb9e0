//! Multi-pattern keyword matching over a [`Text`].
//!
//! A character trie finds every keyword starting at every position in one
//! pass. The interesting part is which raw occurrences count:
//!
//! * Chinese keywords must respect jieba's words. A keyword may be a whole
//!   word, a run of whole words, or sit inside one word (快递 in 快递员); it
//!   may not straddle two words half-way (客服 in 顾客|服务). A
//!   one-character keyword inside a longer word only counts when the rest of
//!   the word is modifiers (贵 in 太贵) or the caller says so.
//! * Latin keywords must start and end on word boundaries, allowing an
//!   inflection ending (see `english.rs`).
//! * Anything else (emoji, emoticons) matches anywhere.

use crate::english;
use crate::text::{is_han, is_word_char, normalize_pattern, Text};

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Hit<P> {
    pub start: usize,
    pub end: usize,
    pub payload: P,
}

/// The word boundaries a match must respect: jieba's, or a refinement of
/// them (see `Lexicon::scan`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Words<'a> {
    /// `boundary[i]`: a word starts at `i` (or `i` is the end).
    pub boundary: &'a [bool],
    /// `single_ok[i]`: a one-character pattern may match at `i` inside a
    /// longer word.
    pub single_ok: &'a [bool],
}

impl<'a> Words<'a> {
    pub fn of(text: &'a Text) -> Words<'a> {
        Words {
            boundary: &text.boundary,
            single_ok: &text.single_ok,
        }
    }
}

#[derive(Debug, Clone)]
struct Pattern {
    chars: Vec<char>,
    has_han: bool,
    starts_with_word_char: bool,
    ends_with_word_char: bool,
}

#[derive(Debug, Clone, Default)]
struct Node {
    /// Sorted by character for binary search.
    children: Vec<(char, u32)>,
    pattern: Option<u32>,
}

/// Root children for ASCII and the basic CJK block are found by direct
/// index: almost every text position starts a walk at the root, whose
/// thousands of children would otherwise cost a binary search each.
const DENSE_ASCII: usize = 128;
const DENSE_CJK_START: u32 = 0x4E00;
const DENSE_CJK_END: u32 = 0xA000;
const DENSE_LEN: usize = DENSE_ASCII + (DENSE_CJK_END - DENSE_CJK_START) as usize;

/// Up to this many children a node's are scanned rather than searched.
const LINEAR_CHILDREN: usize = 8;

fn dense_slot(c: char) -> Option<usize> {
    let cp = c as u32;
    if (cp as usize) < DENSE_ASCII {
        Some(cp as usize)
    } else if (DENSE_CJK_START..DENSE_CJK_END).contains(&cp) {
        Some(DENSE_ASCII + (cp - DENSE_CJK_START) as usize)
    } else {
        None
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Matcher<P> {
    nodes: Vec<Node>,
    /// Node id + 1 of the root's child for a dense character, 0 for none.
    root_dense: Vec<u32>,
    patterns: Vec<Pattern>,
    /// Per pattern: everything it stands for (a lexicon word can be both a
    /// contrast marker and an opinion, a keyword can serve two themes).
    payloads: Vec<Vec<P>>,
}

impl<P: Copy + PartialEq> Matcher<P> {
    pub fn new() -> Matcher<P> {
        Matcher {
            nodes: vec![Node::default()],
            root_dense: vec![0; DENSE_LEN],
            patterns: Vec::new(),
            payloads: Vec::new(),
        }
    }

    /// Adds a pattern (normalised here, like the text will be).
    pub fn insert(&mut self, pattern: &str, payload: P) {
        let chars: Vec<char> = normalize_pattern(pattern).chars().collect();
        if chars.is_empty() {
            return;
        }
        let mut node = 0usize;
        for &c in &chars {
            node = match self.nodes[node]
                .children
                .binary_search_by_key(&c, |&(k, _)| k)
            {
                Ok(i) => self.nodes[node].children[i].1 as usize,
                Err(i) => {
                    let id = self.nodes.len();
                    self.nodes.push(Node::default());
                    self.nodes[node].children.insert(i, (c, id as u32));
                    if node == 0 {
                        if let Some(slot) = dense_slot(c) {
                            self.root_dense[slot] = id as u32 + 1;
                        }
                    }
                    id
                }
            };
        }
        let id = match self.nodes[node].pattern {
            Some(id) => id as usize,
            None => {
                let id = self.patterns.len();
                self.nodes[node].pattern = Some(id as u32);
                self.patterns.push(Pattern {
                    has_han: chars.iter().any(|&c| is_han(c)),
                    starts_with_word_char: is_word_char(chars[0]),
                    ends_with_word_char: is_word_char(chars[chars.len() - 1]),
                    chars,
                });
                self.payloads.push(Vec::new());
                id
            }
        };
        if !self.payloads[id].contains(&payload) {
            self.payloads[id].push(payload);
        }
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.patterns.len()
    }

    /// Every pattern with its payloads.
    #[cfg(test)]
    pub fn entries(&self) -> impl Iterator<Item = (String, &[P])> {
        self.patterns
            .iter()
            .zip(&self.payloads)
            .map(|(p, payloads)| (p.chars.iter().collect(), payloads.as_slice()))
    }

    #[inline]
    fn child(&self, node: usize, c: char) -> Option<usize> {
        if node == 0 {
            if let Some(slot) = dense_slot(c) {
                let id = self.root_dense[slot];
                return (id != 0).then(|| id as usize - 1);
            }
        }
        self.sparse_child(node, c)
    }

    /// A child found in the node's own list.
    #[inline]
    fn sparse_child(&self, node: usize, c: char) -> Option<usize> {
        let children = &self.nodes[node].children;
        // Below the root most nodes have a handful of children, where a
        // scan beats the branching of a binary search.
        if children.len() <= LINEAR_CHILDREN {
            return children
                .iter()
                .find(|&&(k, _)| k == c)
                .map(|&(_, id)| id as usize);
        }
        children
            .binary_search_by_key(&c, |&(k, _)| k)
            .ok()
            .map(|i| children[i].1 as usize)
    }

    /// Calls `f(pattern, end)` for every acceptable pattern starting at
    /// `start`, shortest first. `end` includes any inflection ending.
    fn walk(&self, text: &Text, start: usize, words: Words, mut f: impl FnMut(usize, usize)) {
        self.walk_raw(text, start, |p, e| {
            if let Some(end) = self.accept(&self.patterns[p], text, start, e, words) {
                f(p, end);
            }
        });
    }

    /// Calls `f(pattern, end)` for every pattern spelled out from `start`,
    /// shortest first, before any word-boundary rule is applied.
    #[inline]
    fn walk_raw(&self, text: &Text, start: usize, mut f: impl FnMut(usize, usize)) {
        let norm = &text.norm;
        let first = norm[start];
        // The root step first: one load, and the end of the walk wherever
        // no pattern starts with the character.
        let mut node = self.child(0, first);
        // Mid-word in Latin text nothing can match: a pattern starting with
        // a letter needs a word boundary before it.
        if start > 0 && is_word_char(first) && is_word_char(norm[start - 1]) {
            return;
        }
        let mut j = start;
        while let Some(id) = node {
            j += 1;
            if let Some(p) = self.nodes[id].pattern {
                f(p as usize, j);
            }
            node = match norm.get(j) {
                Some(&c) => self.sparse_child(id, c),
                None => None,
            };
        }
    }

    /// Where an occurrence of `p` at `s..e` ends once Latin word rules are
    /// applied (an inflection ending may lengthen it), or `None` when they
    /// reject it. These rules do not depend on the word boundaries.
    #[inline(always)]
    fn latin_end(p: &Pattern, norm: &[char], s: usize, e: usize) -> Option<usize> {
        if p.starts_with_word_char && s > 0 && is_word_char(norm[s - 1]) {
            return None;
        }
        if p.ends_with_word_char && e < norm.len() && is_word_char(norm[e]) {
            return english::inflected_end(norm, e, &p.chars);
        }
        Some(e)
    }

    /// Whether an occurrence of `p` at `s..e` respects `words`.
    #[inline(always)]
    fn fits_words(p: &Pattern, s: usize, e: usize, words: Words) -> bool {
        if !p.has_han {
            return true;
        }
        let aligned = words.boundary[s] && words.boundary[e];
        if e - s == 1 {
            aligned || words.single_ok[s]
        } else {
            let inside_one_word = !words.boundary[s + 1..e].iter().any(|&b| b);
            inside_one_word || aligned
        }
    }

    fn accept(&self, p: &Pattern, text: &Text, s: usize, e: usize, words: Words) -> Option<usize> {
        let end = Self::latin_end(p, &text.norm, s, e)?;
        Self::fits_words(p, s, e, words).then_some(end)
    }

    #[cfg(test)]
    pub fn find_all(&self, text: &Text) -> Vec<Hit<P>> {
        let mut hits = Vec::new();
        self.each(text, |h| hits.push(h));
        hits
    }

    /// Calls `f` with every acceptable occurrence of every pattern,
    /// overlaps included, ordered by start then end. A callback rather than
    /// a list: the caller sorts the hits into lists of its own.
    #[cfg(test)]
    pub fn each(&self, text: &Text, mut f: impl FnMut(Hit<P>)) {
        for start in 0..text.len() {
            self.walk(text, start, Words::of(text), |p, end| {
                for &payload in &self.payloads[p] {
                    f(Hit {
                        start,
                        end,
                        payload,
                    });
                }
            });
        }
    }

    /// Non-overlapping occurrences, scanning left to right and taking the
    /// longest acceptable pattern at each position. This is how a lexicon
    /// reads 不好用 as one negative word rather than 不 + 好用.
    pub fn leftmost_longest(&self, text: &Text, words: Words, hits: &mut Vec<Hit<P>>) {
        let mut start = 0;
        while start < text.len() {
            let mut best: Option<(usize, usize)> = None;
            self.walk(text, start, words, |p, end| {
                if best.is_none_or(|(_, e)| end >= e) {
                    best = Some((p, end));
                }
            });
            match best {
                Some((p, end)) => {
                    for &payload in &self.payloads[p] {
                        hits.push(Hit {
                            start,
                            end,
                            payload,
                        });
                    }
                    start = end;
                }
                None => start += 1,
            }
        }
    }

    /// [`each`](Self::each) and [`leftmost_longest`](Self::leftmost_longest)
    /// in one walk per position, for a trie holding two kinds of patterns
    /// (theme keywords and lexicon words): payloads for which `longest` is
    /// true are read leftmost-longest under `longest_words` and go to
    /// `on_longest`, the others are all found under jieba's words and go to
    /// `on_each`. Each kind sees exactly what a trie of its own would give:
    /// a pattern of the other kind only lengthens a walk.
    pub fn each_and_leftmost_longest(
        &self,
        text: &Text,
        longest_words: Words,
        longest: impl Fn(&P) -> bool,
        mut on_each: impl FnMut(Hit<P>),
        mut on_longest: impl FnMut(Hit<P>),
    ) {
        let words = Words::of(text);
        // Where the leftmost-longest reading goes on: positions inside a
        // word it has read are only walked for the other kind.
        let mut next = 0;
        for start in 0..text.len() {
            let read_longest = start == next;
            let mut found: Option<(usize, usize)> = None;
            self.walk_raw(text, start, |p, e| {
                let pattern = &self.patterns[p];
                let payloads = &self.payloads[p];
                let each = !payloads.iter().all(&longest);
                let read = read_longest && payloads.iter().any(&longest);
                if !(each || read) {
                    return;
                }
                // The Latin rules are the same for both kinds: ask once.
                let Some(end) = Self::latin_end(pattern, &text.norm, start, e) else {
                    return;
                };
                if each && Self::fits_words(pattern, start, e, words) {
                    for &payload in payloads.iter().filter(|x| !longest(x)) {
                        on_each(Hit {
                            start,
                            end,
                            payload,
                        });
                    }
                }
                if read
                    && Self::fits_words(pattern, start, e, longest_words)
                    && found.is_none_or(|(_, longest_end)| end >= longest_end)
                {
                    found = Some((p, end));
                }
            });
            if !read_longest {
                continue;
            }
            match found {
                Some((p, end)) => {
                    for &payload in self.payloads[p].iter().filter(|x| longest(x)) {
                        on_longest(Hit {
                            start,
                            end,
                            payload,
                        });
                    }
                    next = end;
                }
                None => next = start + 1,
            }
        }
    }

    /// True if `chars` can be split entirely into patterns (greedy, longest
    /// first). Used to decide whether a jieba word like 太慢 is really two
    /// lexicon words, 太 + 慢.
    pub fn covers(&self, chars: &[char]) -> bool {
        self.covers_where(chars, |_| true)
    }

    /// [`covers`](Self::covers) counting only patterns with a payload for
    /// which `counts` is true.
    pub fn covers_where(&self, chars: &[char], counts: impl Fn(&P) -> bool) -> bool {
        let mut pos = 0;
        while pos < chars.len() {
            let mut longest = 0;
            let mut node = self.child(0, chars[pos]);
            let mut k = 1;
            while let Some(id) = node {
                if let Some(p) = self.nodes[id].pattern {
                    if self.payloads[p as usize].iter().any(&counts) {
                        longest = k;
                    }
                }
                node = chars.get(pos + k).and_then(|&c| self.sparse_child(id, c));
                k += 1;
            }
            if longest == 0 {
                return false;
            }
            pos += longest;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chinese::Segmenter;
    use std::sync::OnceLock;

    fn seg() -> &'static Segmenter {
        static SEG: OnceLock<Segmenter> = OnceLock::new();
        SEG.get_or_init(|| Segmenter::new(std::iter::empty()))
    }

    fn found(m: &Matcher<u8>, text: &str) -> Vec<String> {
        let t = Text::new(text, seg());
        m.find_all(&t)
            .into_iter()
            .map(|h| t.original_slice(h.start, h.end))
            .collect()
    }

    fn matcher(words: &[&str]) -> Matcher<u8> {
        let mut m = Matcher::new();
        for w in words {
            m.insert(w, 0);
        }
        m
    }

    #[test]
    fn chinese_keywords_respect_word_boundaries() {
        let m = matcher(&["客服", "快递", "贵"]);
        assert_eq!(found(&m, "找客服"), vec!["客服"]);
        // 顾客|服务: 客服 would straddle two words.
        assert!(found(&m, "顾客服务很好").is_empty());
        // Inside one word is fine for two characters or more.
        assert_eq!(found(&m, "快递员"), vec!["快递"]);
        // One character: alone, or fused with modifiers only.
        assert_eq!(found(&m, "太贵了"), vec!["贵"]);
        assert!(found(&m, "贵州茅台").is_empty());
    }

    #[test]
    fn traditional_text_matches_simplified_keywords_with_original_evidence() {
        let m = matcher(&["客服", "态度"]);
        assert_eq!(found(&m, "客服態度很差"), vec!["客服", "態度"]);
    }

    #[test]
    fn english_keywords_need_word_boundaries_and_keep_inflections() {
        let m = matcher(&["app", "crash", "never answer"]);
        assert_eq!(found(&m, "The App keeps crashing"), vec!["App", "crashing"]);
        assert!(found(&m, "apple crashpad").is_empty());
        assert_eq!(found(&m, "support never answers."), vec!["never answers"]);
        assert_eq!(found(&m, "app闪退"), vec!["app"]);
    }

    #[test]
    fn symbols_match_anywhere() {
        let m = matcher(&["😡", ":)"]);
        assert_eq!(found(&m, "差评😡😡"), vec!["😡", "😡"]);
        assert_eq!(found(&m, "ok:)"), vec![":)"]);
    }

    #[test]
    fn leftmost_longest_prefers_longer_patterns() {
        let mut m: Matcher<u8> = Matcher::new();
        m.insert("not", 1);
        m.insert("bad", 2);
        m.insert("not bad", 3);
        m.insert("不", 4);
        m.insert("好用", 5);
        m.insert("不好用", 6);
        let t = Text::new("not bad, not that bad, 真的不好用", seg());
        let mut found = Vec::new();
        m.leftmost_longest(&t, Words::of(&t), &mut found);
        let hits: Vec<u8> = found.iter().map(|h| h.payload).collect();
        assert_eq!(hits, vec![3, 1, 2, 6]);
    }

    #[test]
    fn cover_splits_fused_words() {
        let m = matcher(&["太", "慢", "很"]);
        assert!(m.covers(&['太', '慢']));
        assert!(!m.covers(&['太', '阳']));
    }
}
