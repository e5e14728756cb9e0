//! Phrase-level Traditional → Simplified conversion, on top of the
//! character table in `traditional.rs`.
//!
//! Character by character is right for almost every word, but not for all:
//! 乾隆 is not 干隆, 著急 is 着急 while 著名 stays, and Taiwan and Hong Kong
//! name many things differently (軟體 is 软件, 螢幕 is 屏幕). Each entry
//! here is a Traditional phrase and the Simplified text it stands for.
//!
//! Every entry keeps its length, so converting a message still maps each
//! character to one character and evidence offsets point into the original
//! text unchanged. Vocabulary whose Simplified form has another length
//! (記憶體 → 内存, 筆電 → 笔记本) is left to the taxonomy's Traditional
//! keyword lists instead; a test rejects such entries here.
//!
//! Phrases are matched on the original characters, longest first, left to
//! right; what no phrase covers goes through the character table.

use std::sync::OnceLock;

/// (Traditional, Simplified). Only entries where the character table alone
/// gives the wrong or a non-Simplified word, and whose Traditional form is
/// not also ordinary Simplified text (影片, 登入 and 介面 are both; the
/// taxonomy lists such words itself).
#[rustfmt::skip]
const PHRASES: &[(&str, &str)] = &[
    // Characters kept as they are in these words.
    ("乾隆", "乾隆"), ("乾坤", "乾坤"),
    // 著 is 着 as a verb particle or in 着急, 著 in 著名 / 著作.
    ("看著", "看着"), ("跟著", "跟着"), ("接著", "接着"), ("等著", "等着"),
    ("睡著", "睡着"), ("穿著", "穿着"), ("沿著", "沿着"), ("隨著", "随着"),
    ("拿著", "拿着"), ("帶著", "带着"), ("放著", "放着"), ("寫著", "写着"),
    ("說著", "说着"), ("意味著", "意味着"), ("著急", "着急"), ("著涼", "着凉"),
    ("著想", "着想"), ("著火", "着火"), ("著迷", "着迷"), ("著落", "着落"),
    ("急著", "急着"), ("忙著", "忙着"), ("趕著", "赶着"), ("試著", "试着"),
    // 瞭 is 了 in 了解, 明了.
    ("瞭解", "了解"), ("明瞭", "明了"), ("瞭若指掌", "了若指掌"),
    // 覆 as "reply" in Taiwan usage.
    ("回覆", "回复"), ("答覆", "答复"),
    // Characters outside the table, in common words.
    ("蘋果", "苹果"), ("颱風", "台风"), ("手錶", "手表"), ("品嚐", "品尝"),
    ("嚐鮮", "尝鲜"), ("生薑", "生姜"), ("薑絲", "姜丝"),
    // Taiwan and Hong Kong vocabulary.
    ("軟體", "软件"), ("硬體", "硬件"), ("韌體", "固件"),
    ("網路", "网络"), ("螢幕", "屏幕"), ("熒幕", "屏幕"),
    ("視訊", "视频"), ("資訊", "信息"), ("簡訊", "短信"), ("帳號", "账号"),
    ("帳戶", "账户"), ("帳單", "账单"), ("結帳", "结账"), ("伺服器", "服务器"),
    ("滑鼠", "鼠标"), ("設定", "设置"), ("預設", "默认"),
    ("印表機", "打印机"), ("當機", "死机"),
    ("應用程式", "应用程序"), ("行動支付", "移动支付"), ("線上", "在线"),
    ("點數", "积分"), ("計程車", "出租车"),
];

/// Builds the phrase table, so that the first message does not pay for it.
pub(crate) fn build_table() {
    table();
}

/// The phrases as characters, sorted by Traditional form.
fn table() -> &'static [(Vec<char>, Vec<char>)] {
    static TABLE: OnceLock<Vec<(Vec<char>, Vec<char>)>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t: Vec<(Vec<char>, Vec<char>)> = PHRASES
            .iter()
            .map(|(from, to)| (from.chars().collect(), to.chars().collect()))
            .filter(|(from, to): &(Vec<char>, Vec<char>)| from.len() == to.len())
            .collect();
        t.sort();
        t
    })
}

/// Whether `c` is some phrase's witness: a character every text a phrase
/// matches in holds, chosen to be rare in Simplified text, so that the
/// Simplified messages whose characters merely may start a phrase (等, 回,
/// 手 and 行 all do) need not be scanned for one. A phrase's witness is its
/// first Traditional-only character, or else the first character it
/// converts otherwise than the character table does.
pub(crate) fn is_witness(c: char) -> bool {
    static WITNESSES: OnceLock<Vec<char>> = OnceLock::new();
    WITNESSES
        .get_or_init(|| table().iter().map(|(from, to)| witness(from, to)).collect())
        .contains(&c)
}

/// The witness of the phrase `from` → `to` (see [`is_witness`]).
fn witness(from: &[char], to: &[char]) -> char {
    let overridden = || {
        from.iter()
            .zip(to)
            .find(|&(&f, &t)| crate::traditional::to_simplified(f) != t)
            .map(|(f, _)| f)
    };
    *from
        .iter()
        .find(|&&f| crate::traditional::is_traditional_only(f))
        .or_else(overridden)
        .unwrap_or(&from[0])
}

/// Whether some phrase starts with `c`; the per-character table in
/// `text.rs` caches this for the scan of the messages that hold a witness.
pub(crate) fn starts_phrase(c: char) -> bool {
    let t = table();
    let i = t.partition_point(|(from, _)| from[0] < c);
    t.get(i).is_some_and(|(from, _)| from[0] == c)
}

/// Overwrites `norm` (the character-by-character conversion of `original`,
/// same length) with the Simplified form of every phrase found in
/// `original`, longest first. `maybe(c)` says whether a phrase can start
/// at `c`. Returns whether anything changed.
pub(crate) fn apply(original: &[char], norm: &mut [char], maybe: impl Fn(char) -> bool) -> bool {
    let t = table();
    let mut changed = false;
    let mut i = 0;
    while i < original.len() {
        if !maybe(original[i]) {
            i += 1;
            continue;
        }
        let rest = &original[i..];
        let from = t.partition_point(|(from, _)| from[0] < rest[0]);
        let best = t[from..]
            .iter()
            .take_while(|(p, _)| p[0] == rest[0])
            .filter(|(p, _)| rest.starts_with(p))
            .max_by_key(|(p, _)| p.len());
        match best {
            Some((p, to)) => {
                for (slot, &c) in norm[i..i + p.len()].iter_mut().zip(to) {
                    changed |= *slot != c;
                    *slot = c;
                }
                i += p.len();
            }
            None => i += 1,
        }
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_phrase_keeps_its_length_and_differs_from_the_character_table() {
        for (from, to) in PHRASES {
            assert_eq!(
                from.chars().count(),
                to.chars().count(),
                "{from} → {to} changes length"
            );
            let by_char: String = from
                .chars()
                .map(crate::traditional::to_simplified)
                .collect();
            assert!(
                by_char != *to || *from == *to,
                "{from} → {to} is what the character table gives anyway"
            );
            let first = from.chars().next().unwrap() as u32;
            assert!((0x4E00..0xA000).contains(&first), "{from}");
        }
        assert_eq!(table().len(), PHRASES.len());
    }

    #[test]
    fn witnesses_are_in_the_basic_block_and_rare() {
        // The text's character table marks witnesses only in the basic
        // block: one outside it would turn its phrase off.
        for (from, to) in table() {
            let w = witness(from, to) as u32;
            assert!((0x4E00..0xA000).contains(&w), "{from:?}");
        }
        // Plain Simplified text that starts phrases holds no witness.
        assert!(!"等回手生行明意接放拿急说看跟".chars().any(is_witness));
    }

    #[test]
    fn longest_phrase_wins_and_the_rest_is_untouched() {
        let convert = |s: &str| {
            let original: Vec<char> = s.chars().collect();
            let mut norm: Vec<char> = original
                .iter()
                .map(|&c| crate::traditional::to_simplified(c))
                .collect();
            apply(&original, &mut norm, starts_phrase);
            norm.into_iter().collect::<String>()
        };
        assert_eq!(convert("乾隆年間很乾淨"), "乾隆年间很干净");
        assert_eq!(convert("著名作家等著回覆"), "著名作家等着回复");
        assert_eq!(convert("應用程式一直當機"), "应用程序一直死机");
        assert_eq!(convert("程式"), "程式");
    }
}
