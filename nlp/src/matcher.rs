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
use crate::text::{is_han, is_word_char, normalize_pattern, single_ok, Text};

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
    /// jieba's boundaries and the modifier flags of the text: whether a
    /// one-character pattern may match inside a longer word (see
    /// [`single_ok`]).
    pub jieba: &'a [bool],
    pub modifier: &'a [bool],
}

impl<'a> Words<'a> {
    pub fn of(text: &'a Text) -> Words<'a> {
        Words {
            boundary: &text.boundary,
            jieba: &text.boundary,
            modifier: &text.modifier,
        }
    }

    /// See [`single_ok`].
    #[inline]
    fn single_ok(&self, i: usize) -> bool {
        single_ok(self.jieba, self.modifier, i)
    }
}

/// Where a node's payloads are in [`Matcher::payloads`]: those of the
/// leftmost-longest kind from `start` to `mid`, the others from there to
/// `end`.
#[derive(Debug, Clone, Copy, Default)]
struct Span {
    start: u32,
    mid: u32,
    end: u32,
}

/// A node as its parent reaches it: everything a walk needs to know about
/// it in the one load that found it.
#[derive(Debug, Clone, Copy, Default)]
struct Link {
    /// One bit per character its children start with (see [`bit`]): most
    /// characters that are not a child are turned away without a probe.
    filter: u32,
    /// The node's id in the low [`ID_BITS`], what it is above them; 0 (the
    /// root's id, which no link leads to) for no node.
    node: u32,
}

const ID_BITS: u32 = 20;
const ID_MASK: u32 = (1 << ID_BITS) - 1;
/// A pattern ends here with a payload of the leftmost-longest kind.
const LONGEST: u32 = 1 << 20;
/// A pattern ends here with a payload of the other kind.
const EACH: u32 = 1 << 21;
/// The pattern ending here holds a Han character.
const HAS_HAN: u32 = 1 << 22;
/// The pattern ending here ends with a word character.
const ENDS_WORD: u32 = 1 << 23;
/// Set on the root's links only: the character is a word character.
const FIRST_WORD: u32 = 1 << 24;

/// No pattern ends at the node.
const NO_PATTERN: u32 = u32::MAX;

/// Root children in the Basic Multilingual Plane are found by direct index:
/// almost every position starts a walk there.
const DENSE: u32 = 0x1_0000;

/// The bit a character sets in its parent's filter. Sibling characters
/// rarely share their low five bits (a–z never do).
#[inline(always)]
fn bit(c: char) -> u32 {
    1 << (c as u32 & 31)
}

/// The hash key of the transition from `parent` on `c`; never 0, as
/// transitions out of the root on BMP characters live in the dense table.
#[inline(always)]
fn key(parent: u32, c: char) -> u64 {
    (u64::from(parent) << 21) | u64::from(c)
}

/// A transition below the root (or out of it beyond the BMP), in an
/// open-addressed table: one probe per character instead of a search of
/// the parent's child list.
#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    /// 0 for an empty slot.
    key: u64,
    link: Link,
}

/// A pattern spelled out in the text, before any rule is applied: where
/// it starts and ends, and its node (with its flags). Positions fit in 32
/// bits: a text is far shorter than 4G characters.
#[derive(Debug, Clone, Copy, Default)]
struct Raw {
    start: u32,
    end: u32,
    node: u32,
}

/// How many [`Raw`] patterns are gathered before they are read.
const RAW_CHUNK: usize = 16;

/// Where the leftmost-longest reading of a text stands.
#[derive(Debug, Clone, Copy)]
struct Reading {
    /// Where it goes on: the end of the last pattern it read.
    next: usize,
    /// The position being read.
    start: usize,
    /// Whether the position is read for the leftmost-longest kind.
    read: bool,
    /// The longest pattern there so far: its node (0 for none) and end.
    found: u32,
    found_end: usize,
}

impl Reading {
    /// Hands on the longest pattern read at the position being read.
    #[inline(always)]
    fn end_position<P: Copy + PartialEq>(
        &mut self,
        matcher: &Matcher<P>,
        on_longest: &mut impl FnMut(Hit<P>),
    ) {
        if self.found == 0 {
            return;
        }
        for &payload in matcher.payloads_of_kind(self.found, true) {
            on_longest(Hit {
                start: self.start,
                end: self.found_end,
                payload,
            });
        }
        self.next = self.found_end;
        self.found = 0;
        self.found_end = 0;
    }
}

/// Where a node's link is stored, so that its filter and flags can change.
#[derive(Debug, Clone, Copy)]
enum Place {
    Dense(usize),
    Slot(usize),
}

#[derive(Debug, Clone)]
pub(crate) struct Matcher<P> {
    /// The root's links, by character; a fixed size, so that no index
    /// into it is checked.
    root: Box<[Link; DENSE as usize]>,
    /// The root's filter for characters beyond the dense table.
    root_filter: u32,
    slots: Vec<Slot>,
    /// Occupied slots.
    len: usize,
    /// `64 - log2(slots.len())`: a hash shifted right by it is an index.
    shift: u32,
    /// Per node id: the pattern ending there, or [`NO_PATTERN`].
    pattern_of: Vec<u32>,
    /// Per node id: its payloads.
    spans: Vec<Span>,
    /// Per pattern: its characters.
    patterns: Vec<Vec<char>>,
    /// Every pattern's payloads, everything it stands for (a lexicon word
    /// can be both a contrast marker and an opinion, a keyword can serve
    /// two themes), in one list so that a hit reads them with one load.
    payloads: Vec<P>,
    /// Which payloads are read leftmost-longest (see
    /// [`each_and_leftmost_longest`](Self::each_and_leftmost_longest)).
    kind: fn(&P) -> bool,
}

impl<P: Copy + PartialEq> Matcher<P> {
    /// A matcher whose payloads are all of the leftmost-longest kind.
    pub fn new() -> Matcher<P> {
        Matcher::with_kinds(|_| true)
    }

    /// A matcher for two kinds of patterns: payloads for which `longest`
    /// is true are read leftmost-longest. The kind is settled per payload
    /// as it is inserted, so that a walk reads it off the trie.
    pub fn with_kinds(longest: fn(&P) -> bool) -> Matcher<P> {
        // Room for the built-in taxonomy's trie (some 15,000 nodes, 5,500
        // patterns) from the start, whichever matcher this is: the buffers
        // a growing one frees while the analyzer is built left the heap
        // fragmented enough to slow later allocations (300,000 more
        // instructions in every 200 rounds of the benchmark).
        const SLOTS: usize = 1 << 15;
        const NODES: usize = 1 << 14;
        fn with_first<T>(capacity: usize, first: T) -> Vec<T> {
            let mut v = Vec::with_capacity(capacity);
            v.push(first);
            v
        }
        Matcher {
            root: vec![Link::default(); DENSE as usize]
                .into_boxed_slice()
                .try_into()
                .expect("the root table has DENSE links"),
            root_filter: 0,
            slots: vec![Slot::default(); SLOTS],
            len: 0,
            shift: 64 - SLOTS.trailing_zeros(),
            pattern_of: with_first(NODES, NO_PATTERN),
            spans: with_first(NODES, Span::default()),
            patterns: Vec::with_capacity(NODES / 2),
            payloads: Vec::with_capacity(NODES / 2),
            kind: longest,
        }
    }

    /// Adds a pattern (normalised here, like the text will be).
    pub fn insert(&mut self, pattern: &str, payload: P) {
        let chars: Vec<char> = normalize_pattern(pattern).chars().collect();
        let mut node = 0;
        let mut place = None;
        for &c in &chars {
            if node == 0 && (c as u32) < DENSE {
                let i = c as usize;
                if self.root[i].node == 0 {
                    let first_word = if is_word_char(c) { FIRST_WORD } else { 0 };
                    self.root[i].node = self.new_node() | first_word;
                }
                node = self.root[i].node & ID_MASK;
                place = Some(Place::Dense(i));
                continue;
            }
            match place {
                None => self.root_filter |= bit(c),
                Some(at) => self.link_mut(at).filter |= bit(c),
            }
            let key = key(node, c);
            let mut i = self.find(key);
            if self.slots[i].key == 0 {
                // At most half full, so that a probe seldom goes on.
                if (self.len + 1) * 2 > self.slots.len() {
                    self.grow();
                    i = self.find(key);
                }
                let id = self.new_node();
                self.slots[i] = Slot {
                    key,
                    link: Link {
                        filter: 0,
                        node: id,
                    },
                };
                self.len += 1;
            }
            node = self.slots[i].link.node & ID_MASK;
            place = Some(Place::Slot(i));
        }
        let Some(at) = place else {
            return;
        };
        if self.pattern_of[node as usize] == NO_PATTERN {
            self.pattern_of[node as usize] = self.patterns.len() as u32;
            let link = self.link_mut(at);
            if chars.iter().any(|&c| is_han(c)) {
                link.node |= HAS_HAN;
            }
            if is_word_char(chars[chars.len() - 1]) {
                link.node |= ENDS_WORD;
            }
            self.patterns.push(chars);
        }
        let mut span = self.spans[node as usize];
        let (start, end) = (span.start as usize, span.end as usize);
        if self.payloads[start..end].contains(&payload) {
            return;
        }
        // A list that is not the last one moves to the end to grow; its old
        // place is left unused.
        if end != self.payloads.len() {
            let moved = self.payloads.len() as u32;
            self.payloads.extend_from_within(start..end);
            span = Span {
                start: moved,
                mid: moved + span.mid - span.start,
                end: moved + span.end - span.start,
            };
        }
        self.payloads.push(payload);
        span.end += 1;
        // Each kind keeps its payloads in the order they came.
        if (self.kind)(&payload) {
            self.payloads[span.mid as usize..].rotate_right(1);
            span.mid += 1;
            self.link_mut(at).node |= LONGEST;
        } else {
            self.link_mut(at).node |= EACH;
        }
        self.spans[node as usize] = span;
    }

    fn new_node(&mut self) -> u32 {
        let id = self.pattern_of.len() as u32;
        assert!(id <= ID_MASK, "too many distinct pattern prefixes");
        self.pattern_of.push(NO_PATTERN);
        self.spans.push(Span::default());
        id
    }

    fn link_mut(&mut self, at: Place) -> &mut Link {
        match at {
            Place::Dense(i) => &mut self.root[i],
            Place::Slot(i) => &mut self.slots[i].link,
        }
    }

    #[inline(always)]
    fn index(&self, key: u64) -> usize {
        (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize
    }

    /// The slot holding `key`, or the empty one where it would go.
    #[inline(always)]
    fn find(&self, key: u64) -> usize {
        let mask = self.slots.len() - 1;
        let mut i = self.index(key);
        loop {
            let stored = self.slots[i].key;
            if stored == key || stored == 0 {
                return i;
            }
            i = (i + 1) & mask;
        }
    }

    fn grow(&mut self) {
        let bigger = vec![Slot::default(); self.slots.len() * 2];
        let old = std::mem::replace(&mut self.slots, bigger);
        self.shift -= 1;
        for slot in old.into_iter().filter(|s| s.key != 0) {
            let i = self.find(slot.key);
            self.slots[i] = slot;
        }
    }

    /// The root's link on `c` (node 0 for none).
    #[inline(always)]
    fn root_link(&self, c: char) -> Link {
        if (c as u32) < DENSE {
            return self.root[c as usize];
        }
        self.step(
            Link {
                filter: self.root_filter,
                node: 0,
            },
            c,
        )
    }

    /// The link from the node `from` leads to on `c` (node 0 for none).
    #[inline(always)]
    fn step(&self, from: Link, c: char) -> Link {
        if from.filter & bit(c) == 0 {
            return Link::default();
        }
        let slot = self.slots[self.find(key(from.node & ID_MASK, c))];
        slot.link
    }

    /// The characters of the pattern ending at `node`.
    fn chars(&self, node: u32) -> &[char] {
        &self.patterns[self.pattern_of[(node & ID_MASK) as usize] as usize]
    }

    /// The payloads of the pattern ending at `node`.
    #[inline(always)]
    fn payloads_of(&self, node: u32) -> &[P] {
        let span = self.spans[(node & ID_MASK) as usize];
        &self.payloads[span.start as usize..span.end as usize]
    }

    /// [`payloads_of`](Self::payloads_of), of one kind.
    #[inline(always)]
    fn payloads_of_kind(&self, node: u32, longest: bool) -> &[P] {
        let span = self.spans[(node & ID_MASK) as usize];
        let (from, to) = if longest {
            (span.start, span.mid)
        } else {
            (span.mid, span.end)
        };
        &self.payloads[from as usize..to as usize]
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.patterns.len()
    }

    /// Every pattern with its payloads.
    #[cfg(test)]
    pub fn entries(&self) -> impl Iterator<Item = (String, &[P])> {
        (0..self.pattern_of.len() as u32)
            .filter(|&node| self.pattern_of[node as usize] != NO_PATTERN)
            .map(|node| (self.chars(node).iter().collect(), self.payloads_of(node)))
    }

    /// Calls `f(node, end)` for every acceptable pattern starting at
    /// `start`, shortest first. `end` includes any inflection ending.
    fn walk(&self, text: &Text, start: usize, words: Words, mut f: impl FnMut(u32, usize)) {
        self.walk_raw(&text.norm, start, |node, e| {
            if let Some(end) = self.latin_end(node, &text.norm, e) {
                if Self::fits_words(node, start, e, words) {
                    f(node, end);
                }
            }
        });
    }

    /// Calls `f(node, end)` for every pattern spelled out from `start`,
    /// shortest first, before any word-boundary rule is applied. `node`
    /// carries the pattern's flags.
    #[inline(always)]
    fn walk_raw(&self, norm: &[char], start: usize, mut f: impl FnMut(u32, usize)) {
        let mut link = self.root_link(norm[start]);
        if link.node == 0 {
            return;
        }
        // Mid-word in Latin text nothing can match: a pattern starting with
        // a letter needs a word boundary before it.
        if link.node & FIRST_WORD != 0 && start > 0 && is_word_char(norm[start - 1]) {
            return;
        }
        let mut j = start + 1;
        loop {
            if link.node & (LONGEST | EACH) != 0 {
                f(link.node, j);
            }
            let Some(&c) = norm.get(j) else {
                return;
            };
            link = self.step(link, c);
            if link.node == 0 {
                return;
            }
            j += 1;
        }
    }

    /// Where an occurrence of the pattern at `node`, spelled out up to `e`,
    /// ends once Latin word rules are applied (an inflection ending may
    /// lengthen it), or `None` when they reject it. These rules do not
    /// depend on the word boundaries. The rule for its start is
    /// [`walk_raw`](Self::walk_raw)'s.
    #[inline(always)]
    fn latin_end(&self, node: u32, norm: &[char], e: usize) -> Option<usize> {
        if node & ENDS_WORD == 0 {
            return Some(e);
        }
        self.word_end(node, norm, e)
    }

    /// [`latin_end`](Self::latin_end) for a pattern ending with a word
    /// character, out of line: Latin patterns are the few.
    #[inline(never)]
    fn word_end(&self, node: u32, norm: &[char], e: usize) -> Option<usize> {
        if e < norm.len() && is_word_char(norm[e]) {
            return english::inflected_end(norm, e, self.chars(node));
        }
        Some(e)
    }

    /// Whether an occurrence of the pattern at `node` at `s..e` respects
    /// `words`.
    #[inline(always)]
    fn fits_words(node: u32, s: usize, e: usize, words: Words) -> bool {
        if node & HAS_HAN == 0 {
            return true;
        }
        let aligned = words.boundary[s] && words.boundary[e];
        if e - s == 1 {
            aligned || words.single_ok(s)
        } else {
            let inside_one_word = !words.boundary[s + 1..e].iter().any(|&b| b);
            inside_one_word || aligned
        }
    }

    #[cfg(test)]
    pub fn find_all(&self, text: &Text) -> Vec<Hit<P>> {
        let mut hits = Vec::new();
        self.each(text, |h| hits.push(h));
        hits
    }

    /// Calls `f` with every acceptable occurrence of every pattern,
    /// overlaps included, ordered by start then end: what
    /// [`each_and_leftmost_longest`](Self::each_and_leftmost_longest) must
    /// agree with, for the tests.
    #[cfg(test)]
    pub fn each(&self, text: &Text, mut f: impl FnMut(Hit<P>)) {
        for start in 0..text.len() {
            self.walk(text, start, Words::of(text), |node, end| {
                for &payload in self.payloads_of(node) {
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
            let mut best: Option<(u32, usize)> = None;
            self.walk(text, start, words, |node, end| {
                if best.is_none_or(|(_, e)| end >= e) {
                    best = Some((node, end));
                }
            });
            match best {
                Some((node, end)) => {
                    for &payload in self.payloads_of(node) {
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
    /// (theme keywords and lexicon words): payloads of the leftmost-longest
    /// kind (see [`with_kinds`](Self::with_kinds)) are read leftmost-longest
    /// under `longest_words` and go to `on_longest`, the others are all
    /// found under jieba's words and go to `on_each`. Each kind sees exactly
    /// what a trie of its own would give: a pattern of the other kind only
    /// lengthens a walk.
    pub fn each_and_leftmost_longest(
        &self,
        text: &Text,
        longest_words: Words,
        mut on_each: impl FnMut(Hit<P>),
        mut on_longest: impl FnMut(Hit<P>),
    ) {
        let norm = &text.norm[..];
        let mut reading = Reading {
            next: 0,
            start: usize::MAX,
            read: false,
            found: 0,
            found_end: 0,
        };
        // The walk only gathers patterns spelled out; reading them is a
        // second loop, so that neither holds the other's state in registers.
        let mut raw = [Raw::default(); RAW_CHUNK];
        let mut n = 0;
        for start in 0..norm.len() {
            self.walk_raw(norm, start, |node, end| {
                if n == RAW_CHUNK {
                    self.read(
                        text,
                        longest_words,
                        &raw,
                        &mut reading,
                        &mut on_each,
                        &mut on_longest,
                    );
                    n = 0;
                }
                raw[n] = Raw {
                    start: start as u32,
                    end: end as u32,
                    node,
                };
                n += 1;
            });
        }
        let raw = &raw[..n];
        self.read(
            text,
            longest_words,
            raw,
            &mut reading,
            &mut on_each,
            &mut on_longest,
        );
        reading.end_position(self, &mut on_longest);
    }

    /// Reads patterns spelled out (see
    /// [`each_and_leftmost_longest`](Self::each_and_leftmost_longest)), in
    /// order of start then end, going on from `reading`.
    fn read(
        &self,
        text: &Text,
        longest_words: Words,
        raw: &[Raw],
        reading: &mut Reading,
        on_each: &mut impl FnMut(Hit<P>),
        on_longest: &mut impl FnMut(Hit<P>),
    ) {
        let norm = &text.norm[..];
        // One kind, then the other: the two readings share nothing but the
        // Latin rules, and each loop keeps its own state in registers.
        let words = Words::of(text);
        for &Raw { start, end, node } in raw {
            if node & EACH == 0 {
                continue;
            }
            let (start, e) = (start as usize, end as usize);
            let Some(end) = self.latin_end(node, norm, e) else {
                continue;
            };
            if Self::fits_words(node, start, e, words) {
                for &payload in self.payloads_of_kind(node, false) {
                    on_each(Hit {
                        start,
                        end,
                        payload,
                    });
                }
            }
        }
        let mut r = *reading;
        for &Raw { start, end, node } in raw {
            let (start, e) = (start as usize, end as usize);
            if start != r.start {
                r.end_position(self, on_longest);
                r.start = start;
                // Where the leftmost-longest reading goes on: positions
                // inside a word it has read are only read for the other
                // kind.
                r.read = start >= r.next;
            }
            if !r.read || node & LONGEST == 0 {
                continue;
            }
            let Some(end) = self.latin_end(node, norm, e) else {
                continue;
            };
            if end >= r.found_end && Self::fits_words(node, start, e, longest_words) {
                r.found = node;
                r.found_end = end;
            }
        }
        *reading = r;
    }

    /// True if `chars` can be split entirely into patterns with a payload
    /// of the leftmost-longest kind (greedy, longest first). Used to decide
    /// whether a jieba word like 太慢 is really two lexicon words, 太 + 慢.
    pub fn covers(&self, chars: &[char]) -> bool {
        let mut pos = 0;
        while pos < chars.len() {
            let mut longest = 0;
            let mut link = self.root_link(chars[pos]);
            let mut k = 1;
            while link.node != 0 {
                if link.node & LONGEST != 0 {
                    longest = k;
                }
                let Some(&c) = chars.get(pos + k) else {
                    break;
                };
                link = self.step(link, c);
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

    #[test]
    fn each_kind_reads_as_a_trie_of_its_own() {
        // Payloads below 10 are read leftmost-longest, the others all.
        let words: &[(&str, u8)] = &[
            ("不", 1),
            ("好用", 2),
            ("不好用", 3),
            ("好用", 20),
            ("太", 4),
            ("慢", 5),
            ("太慢", 21),
            ("物流", 22),
            ("物流很快", 6),
            ("app", 23),
            ("crash", 7),
        ];
        let mut both: Matcher<u8> = Matcher::with_kinds(|&p| p < 10);
        let (mut each, mut longest): (Matcher<u8>, Matcher<u8>) = (Matcher::new(), Matcher::new());
        for &(w, p) in words {
            both.insert(w, p);
            if p < 10 {
                longest.insert(w, p)
            } else {
                each.insert(w, p)
            }
        }
        for text in [
            "真的不好用",
            "物流很快，太慢了",
            "The app keeps crashing",
            "太慢",
        ] {
            let t = Text::new(text, seg());
            let (mut got_each, mut got_longest) = (Vec::new(), Vec::new());
            both.each_and_leftmost_longest(
                &t,
                Words::of(&t),
                |h| got_each.push(h),
                |h| got_longest.push(h),
            );
            let mut want_longest = Vec::new();
            longest.leftmost_longest(&t, Words::of(&t), &mut want_longest);
            assert_eq!(got_each, each.find_all(&t), "{text}");
            assert_eq!(got_longest, want_longest, "{text}");
        }
        // Only the leftmost-longest kind covers.
        assert!(both.covers(&['太', '慢']));
        assert!(!both.covers(&['物', '流']));
    }

    #[test]
    fn grows_past_its_first_table() {
        // Enough transitions to double the table more than once.
        let words: Vec<String> = (0..40_000).map(|i| format!("w{i}x")).collect();
        let mut m: Matcher<u32> = Matcher::new();
        for (i, w) in words.iter().enumerate() {
            m.insert(w, i as u32);
        }
        assert_eq!(m.len(), words.len());
        let t = Text::new("w0x w39999x w123x w40000x", seg());
        let hits: Vec<u32> = m.find_all(&t).into_iter().map(|h| h.payload).collect();
        assert_eq!(hits, vec![0, 39_999, 123]);
    }
}
