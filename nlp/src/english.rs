//! English word rules: where a Latin-script keyword may start and end, and
//! the light inflection that lets `crash` match "crashes" and `ship` match
//! "shipping" without listing every form in the taxonomy.
//!
//! Keywords are matched on the lowercased text (see `text.rs`), so case
//! never matters here.

use crate::text::is_word_char;

/// Suffixes a keyword may carry in the text, longest first so that
/// "crashing" is preferred over "crash" + nothing.
const SUFFIXES: &[&str] = &["ing", "es", "ed", "er", "ly", "s", "d"];

/// Counts Latin words of two or more letters; single letters ("a", "I", the
/// "x" of "x2") say little about which language a message is in.
/// `Text::fill` counts the same way while it reads a message.
#[cfg(test)]
pub(crate) fn count_words(chars: &[char]) -> (usize, usize) {
    let (mut words, mut letters, mut run) = (0, 0, 0);
    for &c in chars.iter().chain(std::iter::once(&' ')) {
        if is_word_char(c) && c.is_alphabetic() {
            run += 1;
        } else {
            if run >= 2 {
                words += 1;
                letters += run;
            }
            run = 0;
        }
    }
    (words, letters)
}

/// A keyword ending in a letter matched the text up to `end`, but the word
/// goes on. If what follows is an inflection ending the word, returns where
/// the word ends; otherwise the match is part of a different word ("ad" in
/// "address") and is rejected.
pub(crate) fn inflected_end(norm: &[char], end: usize, keyword: &[char]) -> Option<usize> {
    let last = *keyword.last()?;
    if !last.is_ascii_alphabetic() {
        return None;
    }
    let rest = &norm[end..];
    let ends_word = |len: usize| rest.get(len).is_none_or(|&c| !is_word_char(c));
    // Suffixes are ASCII, so bytes and characters are one and the same.
    let followed_by = |from: usize, s: &str| {
        rest.len() >= from + s.len()
            && rest[from..from + s.len()]
                .iter()
                .zip(s.bytes())
                .all(|(&c, b)| c == char::from(b))
    };
    // Short keywords (ad, ui, ok) only take a plural: "ad" + "d" is "add".
    let short = keyword.len() <= 2;
    for suffix in SUFFIXES {
        if short && *suffix != "s" {
            continue;
        }
        // "d" only completes a final e: charge → charged, not fee → feed.
        if *suffix == "d" && (last != 'e' || keyword.len() < 4) {
            continue;
        }
        let n = suffix.len();
        if followed_by(0, suffix) && ends_word(n) {
            return Some(end + n);
        }
    }
    // Doubled final consonant: ship → shipping, lag → lagged.
    if !short && !"aeiouwxy".contains(last) && rest.first() == Some(&last) {
        for suffix in ["ing", "ed", "er"] {
            let n = 1 + suffix.len();
            if followed_by(1, suffix) && ends_word(n) {
                return Some(end + n);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chars(s: &str) -> Vec<char> {
        s.chars().collect()
    }

    fn matched(text: &str, keyword: &str) -> Option<String> {
        let t = chars(text);
        let k = chars(keyword);
        let start = text.find(keyword)?;
        let end = start + k.len();
        let end = if end == t.len() || !is_word_char(t[end]) {
            end
        } else {
            inflected_end(&t, end, &k)?
        };
        Some(t[start..end].iter().collect())
    }

    #[test]
    fn inflections_extend_the_match() {
        assert_eq!(
            matched("it keeps crashing", "crash").as_deref(),
            Some("crashing")
        );
        assert_eq!(
            matched("crashes daily", "crash").as_deref(),
            Some("crashes")
        );
        assert_eq!(
            matched("i was charged", "charge").as_deref(),
            Some("charged")
        );
        assert_eq!(
            matched("slow shipping", "ship").as_deref(),
            Some("shipping")
        );
        assert_eq!(matched("it lagged", "lag").as_deref(), Some("lagged"));
        assert_eq!(
            matched("never answers", "never answer").as_deref(),
            Some("never answers")
        );
        // An apostrophe ends the word: the possessive is not part of it.
        assert_eq!(matched("the app's login", "app").as_deref(), Some("app"));
    }

    #[test]
    fn other_words_are_not_matched() {
        assert_eq!(matched("address", "ad"), None);
        assert_eq!(matched("add to cart", "ad"), None);
        assert_eq!(matched("apple", "app"), None);
        assert_eq!(matched("feed", "fee"), None);
        assert_eq!(matched("prudent", "rude"), None);
        assert_eq!(matched("later", "late"), None);
    }

    #[test]
    fn counts_words_not_letters() {
        assert_eq!(count_words(&chars("The app 崩了 a x")), (2, 6));
        assert_eq!(count_words(&chars("iPhone15")), (1, 6));
    }
}
