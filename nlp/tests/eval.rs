//! The labelled set in `nlp/eval/labelled.jsonl` (messages written for the
//! project, see `nlp/eval/README.md`) through the evaluation the product
//! ships: the analyzer must stay above the bars the project promises.
//!
//! Ids starting `cx-` are customer messages labelled in full; `ood-` are
//! review sentences from domains the sentiment model never saw in training
//! (food delivery, hotels, laptops, books, telecom, banking), labelled for
//! sentiment only.

use std::sync::OnceLock;

mod common;

use tongdian_nlp::eval::{evaluate, parse_jsonl, EvalReport, LabelledExample};
use tongdian_nlp::{Analyzer, Script};

const LABELLED: &str = include_str!("../eval/labelled.jsonl");
const UNSEEN: &str = include_str!("../eval/unseen.jsonl");

fn examples() -> &'static [LabelledExample] {
    static EXAMPLES: OnceLock<Vec<LabelledExample>> = OnceLock::new();
    EXAMPLES.get_or_init(|| parse_jsonl(LABELLED, "labelled.jsonl").expect("labelled set parses"))
}

fn report(prefix: &str) -> EvalReport {
    let analyzer = Analyzer::with_default_taxonomy().expect("default analyzer");
    let subset: Vec<LabelledExample> = examples()
        .iter()
        .filter(|e| e.id.starts_with(prefix))
        .cloned()
        .collect();
    evaluate(&analyzer, &subset)
}

#[test]
fn the_set_is_big_and_varied_enough_to_mean_something() {
    let all = examples();
    assert!(all.len() >= 250, "{} messages", all.len());
    let analyzer = Analyzer::with_default_taxonomy().unwrap();
    let scripts: Vec<Script> = all
        .iter()
        .map(|e| analyzer.analyze(&e.text).script)
        .collect();
    let share = |s: Script| scripts.iter().filter(|&&x| x == s).count() as f64 / all.len() as f64;
    assert!(
        share(Script::Hant) >= 0.2,
        "Traditional share {}",
        share(Script::Hant)
    );
    assert!(share(Script::En) + share(Script::Mixed) >= 0.05);
    // Every theme of the default taxonomy, both ways.
    for theme in analyzer.taxonomy().themes() {
        for polarity in ["positive", "negative"] {
            assert!(
                all.iter()
                    .any(|e| e.expected.themes.as_ref().is_some_and(|t| t
                        .iter()
                        .any(|(id, p)| id == &theme.id && p.as_str() == polarity))),
                "no {polarity} example for {}",
                theme.id
            );
        }
    }
}

#[test]
fn customer_messages_meet_the_bars() {
    let r = report("cx-");
    println!("{r}");
    assert!(r.themes.f1() >= 0.85, "theme micro-F1\n{r}");
    assert!(
        r.mention_polarity_accuracy() >= 0.85,
        "mention polarity\n{r}"
    );
    assert!(r.sentiment_accuracy() >= 0.85, "sentiment\n{r}");
    assert!(r.flags.f1() >= 0.9, "flags\n{r}");
    assert!(r.emotions.f1() >= 0.85, "emotions\n{r}");
}

#[test]
fn unseen_domains_meet_the_sentiment_bar() {
    let r = report("ood-");
    println!("{r}");
    assert!(r.sentiment_labelled >= 100);
    assert!(r.sentiment_accuracy() >= 0.85, "sentiment\n{r}");
}

#[test]
fn the_whole_set_meets_the_bars() {
    let r = report("");
    assert!(r.sentiment_accuracy() >= 0.85, "sentiment\n{r}");
    assert!(r.themes.f1() >= 0.85, "theme micro-F1\n{r}");
}

/// Scores a sentiment-only set and holds it to `bar`; `at_least` guards
/// against a truncated file passing on a few easy lines.
fn sentiment_set_meets(src: &str, name: &str, at_least: usize, bar: f64) {
    let r = evaluate_set(src, name, at_least);
    assert!(r.sentiment_accuracy() >= bar, "{name} sentiment\n{r}");
}

/// The default analyzer's report on the labelled JSONL `src`, which must
/// hold at least `at_least` messages (a truncated file must not pass on a
/// few easy lines).
fn evaluate_set(src: &str, name: &str, at_least: usize) -> EvalReport {
    let examples = parse_jsonl(src, name).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert!(
        examples.len() >= at_least,
        "{name}: {} messages",
        examples.len()
    );
    let analyzer = Analyzer::with_default_taxonomy().expect("default analyzer");
    let r = evaluate(&analyzer, &examples);
    println!("{name}\n{r}");
    r
}

/// `eval/unseen.jsonl`: short messages from domains the model never saw,
/// written before the rules they now exercise (see `eval/README.md`).
#[test]
fn the_unseen_domain_set_meets_the_sentiment_bar() {
    sentiment_set_meets(UNSEEN, "unseen.jsonl", 150, 0.95);
}

/// `eval/fresh.jsonl`: review sentences (food delivery, hotel, laptop,
/// book) kept out of tuning (see `eval/README.md`); the bar sits a little
/// below what was measured.
#[test]
fn the_fresh_set_meets_its_bar() {
    sentiment_set_meets(
        include_str!("../eval/fresh.jsonl"),
        "fresh.jsonl",
        150,
        0.92,
    );
}

/// `eval/fresh2.jsonl`: hotel, book and laptop sentences written before
/// the second round and kept out of its tuning (see `eval/README.md`); the
/// bar sits a little below what was measured (0.883 after that round,
/// 0.967 since reviews are read as verdicts).
#[test]
fn the_second_fresh_set_meets_its_bar() {
    sentiment_set_meets(
        include_str!("../eval/fresh2.jsonl"),
        "fresh2.jsonl",
        120,
        0.94,
    );
}

/// `eval/fresh3.jsonl`: food-delivery reviews and single hotel, laptop and
/// book sentences written before the third round and kept out of its
/// tuning (see `eval/README.md`); the bar sits a little below what was
/// measured (0.887 after that round, 0.919 after the idiom list, 0.931
/// since reviews are read as verdicts, 0.981 since the model also learns
/// from the written sets).
#[test]
fn the_third_fresh_set_meets_its_bar() {
    sentiment_set_meets(
        include_str!("../eval/fresh3.jsonl"),
        "fresh3.jsonl",
        160,
        0.95,
    );
}

/// `eval/fresh4.jsonl`: food-delivery reviews and single hotel, laptop and
/// book sentences written before the fourth round and kept out of its
/// tuning (see `eval/README.md`; no word added that round occurs in it);
/// the bar sits a little below what was measured (0.844 after that round,
/// 0.869 since reviews are read as verdicts, 0.906 after the fifth round's
/// words, 0.950 since the model also learns from the written sets).
#[test]
fn the_fourth_fresh_set_meets_its_bar() {
    sentiment_set_meets(
        include_str!("../eval/fresh4.jsonl"),
        "fresh4.jsonl",
        160,
        0.92,
    );
}

/// The dev sets below are also training data of the model since it learns
/// from the written sets (`model::WRITTEN_SETS`): their bars guard the
/// rules and the lexicon, no longer measure reading unseen text.
///
/// `eval/dev9.jsonl`: the fourth round's tuning set (review sentences and
/// whole food reviews, plus app, telecom, bank and shop service), kept
/// apart from the older dev sets because it was written to be harder; the
/// bar sits a little below what was measured (0.858 after that round,
/// 0.915 since reviews are read as verdicts).
#[test]
fn the_fourth_tuning_set_meets_its_bar() {
    sentiment_set_meets(include_str!("../eval/dev9.jsonl"), "dev9.jsonl", 170, 0.89);
}

/// `eval/fresh5.jsonl`: 80 whole food-delivery reviews and 40 single
/// sentences each from hotel, laptop and book reviews, written and scored
/// before any change of the fifth round and kept out of its tuning (see
/// `eval/README.md`); the bar sits a little below what was measured
/// (0.815 before that round, 0.830 after, 0.905 since the model also
/// learns from the written sets).
#[test]
fn the_fifth_fresh_set_meets_its_bar() {
    sentiment_set_meets(
        include_str!("../eval/fresh5.jsonl"),
        "fresh5.jsonl",
        200,
        0.88,
    );
}

/// `eval/fresh6.jsonl`: 120 whole food-delivery reviews and 40 single
/// sentences each from hotel, laptop and book reviews, written apart from
/// every other set; tuned on after its first score and training data since
/// the seventh round (see `eval/README.md`);
/// the bar sits a little below what was measured (0.850 with the fifth
/// round's model, 0.887 with the model that learns from the written sets,
/// 0.904 after the changes its misses led to).
#[test]
fn the_sixth_fresh_set_meets_its_bar() {
    sentiment_set_meets(
        include_str!("../eval/fresh6.jsonl"),
        "fresh6.jsonl",
        240,
        0.88,
    );
}

/// `eval/fresh7.jsonl`: the same kinds as `fresh6.jsonl`, written by
/// another writer after every choice of the sixth round and scored once
/// at its end (see `eval/README.md`); the bar sits a little below what was
/// measured then (0.875; 0.842 with the fifth round's model). Training
/// data since the seventh round, like `fresh5.jsonl` and `fresh6.jsonl`.
#[test]
fn the_seventh_fresh_set_meets_its_bar() {
    sentiment_set_meets(
        include_str!("../eval/fresh7.jsonl"),
        "fresh7.jsonl",
        240,
        0.85,
    );
}

/// `eval/fresh8.jsonl`: 200 whole food-delivery reviews and 40 sentences
/// each from hotel, laptop and book reviews, written by a fourth writer
/// who saw no other file of the project; kept out of training and tuning
/// (see `eval/README.md`). The bar sits a little below what was measured
/// (0.941 when first scored, 0.944 with the seventh round's model, 0.950
/// after the tenth round's rules).
#[test]
fn the_eighth_fresh_set_meets_its_bar() {
    sentiment_set_meets(
        include_str!("../eval/fresh8.jsonl"),
        "fresh8.jsonl",
        320,
        0.92,
    );
}

/// `eval/fresh9.jsonl`: the same kinds as `fresh8.jsonl` (200 whole
/// food-delivery reviews written to read like those real platforms show,
/// 40 sentences each from hotel, laptop and book reviews, about one in
/// eight of them mild or partly the other way, labelled by their review's
/// verdict), written for the tenth round by a fifth writer who saw no
/// other file of the project; kept out of training and tuning. The bar
/// sits a little below what was measured when it was first scored (0.928:
/// food 0.910, hotel 0.925, laptop 0.975, book 0.975; 0.938 after the
/// tenth round's rules, two of its three gains among the misses its first
/// report showed).
#[test]
fn the_ninth_fresh_set_meets_its_bar() {
    sentiment_set_meets(
        include_str!("../eval/fresh9.jsonl"),
        "fresh9.jsonl",
        320,
        0.91,
    );
}

/// `eval/fresh10.jsonl`: the same kinds again (200 whole food-delivery
/// reviews, 40 sentences each from hotel, laptop and book reviews), by an
/// eighth writer who saw no other file of the project, written for the
/// eleventh round and scored only at its start and its end (0.953, food
/// 0.950; then 0.956, food 0.955); kept out of training and tuning. The
/// bar sits a little below.
#[test]
fn the_tenth_fresh_set_meets_its_bar() {
    sentiment_set_meets(
        include_str!("../eval/fresh10.jsonl"),
        "fresh10.jsonl",
        320,
        0.93,
    );
}

/// Scores a set of customer messages labelled in full by a writer who saw
/// none of the project's files, holding its theme micro-F1 and mention
/// polarity to bars.
fn customer_set_meets(src: &str, name: &str, at_least: usize, bars: CustomerBars) {
    let r = evaluate_set(src, name, at_least);
    assert!(r.themes.f1() >= bars.themes, "{name} theme micro-F1\n{r}");
    assert!(
        r.mention_polarity_accuracy() >= bars.mentions,
        "{name} mention polarity\n{r}"
    );
    assert!(r.flags.f1() >= bars.flags, "{name} flag micro-F1\n{r}");
}

/// [`customer_set_meets`] for each of `sets` (text, name, and bars for
/// theme micro-F1, mention polarity and flag micro-F1), each of at least
/// `at_least` messages.
fn customer_sets_meet(sets: &[(&str, &str, (f64, f64, f64))], at_least: usize) {
    for &(src, name, (themes, mentions, flags)) in sets {
        customer_set_meets(
            src,
            name,
            at_least,
            CustomerBars {
                themes,
                mentions,
                flags,
            },
        );
    }
}

/// The least a customer set must score: theme micro-F1, mention-polarity
/// accuracy and flag micro-F1.
struct CustomerBars {
    themes: f64,
    mentions: f64,
    flags: f64,
}

/// `eval/cxfresh2.jsonl` and `cxfresh6.jsonl`: customer messages in all
/// four scripts from two independent writers, kept out of tuning (their
/// misses were never read). **Below the 0.85 theme target.**
/// `cxfresh2`: 0.679 theme F1 and 0.831 mention polarity when first
/// scored, 0.712 and 0.852 after the eighth round, 0.714 and 0.848 after
/// the ninth (flag F1 0.465 -> 0.511). `cxfresh6`, written for the ninth
/// round: 0.699, 0.852 and flag F1 0.629 when first scored, with the
/// analyser as that round found it; 0.707, 0.856 and 0.829 after it.
/// The thirteenth round's taxonomy, tuned on eighteen more writers' sets
/// (`cxgen1` … `cxgen18`), moved theme F1 on both for the first time:
/// 0.714 -> 0.769 and 0.707 -> 0.753 (mention polarity 0.854 -> 0.861
/// and 0.871 -> 0.875). The fourteenth round's learned theme model, which
/// learns from the other customer sets and not from these, moved them to
/// 0.790 and 0.796 (mention polarity 0.860 and 0.862). Trained on 36
/// writers instead of 22 in the fifteenth round, and with function words
/// no longer its evidence, it reads 0.794 and 0.791 (0.866 and 0.862);
/// trained on 44 at the round's end, 0.797 and 0.800 (0.856 and 0.856).
/// In the sixteenth round, dropping a keyword's theme the model doubts
/// (p < 0.35) where another theme stays: 0.816 and 0.810 (0.855 and
/// 0.854). The bars sit just below what was measured.
#[test]
fn the_held_out_customer_sets_meet_their_bars() {
    customer_set_meets(
        include_str!("../eval/cxfresh2.jsonl"),
        "cxfresh2.jsonl",
        160,
        CustomerBars {
            themes: 0.80,
            mentions: 0.84,
            flags: 0.49,
        },
    );
    customer_set_meets(
        include_str!("../eval/cxfresh6.jsonl"),
        "cxfresh6.jsonl",
        200,
        CustomerBars {
            themes: 0.80,
            mentions: 0.85,
            flags: 0.8,
        },
    );
}

/// `eval/cxfresh1.jsonl`, `cxfresh3.jsonl`, `cxfresh4.jsonl`: the same
/// kind of set by three more independent writers, tuned on in the eighth
/// round (first scores 0.745, 0.620 and 0.696 theme micro-F1; 0.867, 0.653
/// and 0.755 after) and again in the ninth (0.876, 0.697 and 0.771), with
/// `cxfresh5` (a fifth writer's, first scored 0.710 in the ninth round,
/// 0.782 after), and again in the thirteenth (0.896, 0.751, 0.807 and
/// 0.834). Since the fourteenth round they are training data of the
/// learned theme model too (with it 0.926, 0.887, 0.899, 0.887; 0.928,
/// 0.869, 0.893, 0.875 trained on 44 writers; 0.943, 0.886, 0.918, 0.887
/// with the sixteenth round's drop of doubted keyword themes); the bars
/// were left where the keywords alone put them.
#[test]
fn the_customer_tuning_sets_meet_their_bars() {
    let sets = [
        (
            include_str!("../eval/cxfresh1.jsonl"),
            "cxfresh1.jsonl",
            160,
            CustomerBars {
                themes: 0.87,
                mentions: 0.9,
                flags: 0.74,
            },
        ),
        (
            include_str!("../eval/cxfresh3.jsonl"),
            "cxfresh3.jsonl",
            200,
            CustomerBars {
                themes: 0.72,
                mentions: 0.83,
                flags: 0.74,
            },
        ),
        (
            include_str!("../eval/cxfresh4.jsonl"),
            "cxfresh4.jsonl",
            200,
            CustomerBars {
                themes: 0.78,
                mentions: 0.83,
                flags: 0.79,
            },
        ),
        (
            include_str!("../eval/cxfresh5.jsonl"),
            "cxfresh5.jsonl",
            200,
            CustomerBars {
                themes: 0.81,
                mentions: 0.85,
                flags: 0.7,
            },
        ),
    ];
    for (src, name, at_least, bars) in sets {
        customer_set_meets(src, name, at_least, bars);
    }
}

/// A customer set's text, name and bars for [`customer_sets_meet`], its
/// name written once.
macro_rules! customer_set {
    ($name:literal, $bars:expr) => {
        (include_str!(concat!("../eval/", $name)), $name, $bars)
    };
}

/// `eval/cxgen1.jsonl` … `cxgen18.jsonl`: 4,500 customer messages by
/// eighteen more writers who saw only the taxonomy's definitions, each on
/// its own industries or as its own kind of customer (marketplaces and
/// appliances; food; finance, telecoms and utilities; travel; education,
/// software and health; fashion, homes and cars; older customers; young
/// app users; survey comment boxes; Taiwan and Hong Kong; English-first
/// bilinguals; public complaint posts; home services; cross-border
/// shopping; small businesses; parents; drivers; diners), written for the
/// thirteenth round in three batches of six and tuned on in it, each
/// batch first scored with the taxonomy the previous batches had led to.
/// Theme micro-F1 with the analyser as the round began: 0.681, 0.694,
/// 0.612, 0.603, 0.635, 0.676; 0.684, 0.668, 0.663, 0.697, 0.728, 0.672;
/// 0.583, 0.658, 0.582, 0.694, 0.592, 0.665; after the round 0.63–0.78.
///
/// `cxgen19.jsonl` … `cxgen24.jsonl`: 900 messages by six more writers,
/// written at the end of the fourteenth round (pets and vets; beauty and
/// salons; games and streaming; pharmacies and telemedicine; second-hand
/// and rentals; instant grocery) and scored once with the analyser of
/// that round, whose model had not seen them: theme micro-F1 with
/// keywords alone 0.721 pooled, with the model 0.757 (0.749, 0.727,
/// 0.769, 0.783, 0.710, 0.802).
///
/// `cxgen25.jsonl` … `cxgen32.jsonl`: 1,200 messages by eight more
/// writers, written at the start of the fifteenth round (gyms and sports;
/// cinemas, shows and ticketing; property management and rentals;
/// parcels and removals; electronics brands' stores and service centres;
/// weddings, photography and florists; ride-hailing, sharing and car
/// rental; business customers of software, supplies and printing) and
/// scored once with the analyser as the round began: keywords alone
/// 0.686 pooled, with the model 0.717 (0.724, 0.715, 0.674, 0.686, 0.804,
/// 0.735, 0.660, 0.730).
///
/// `cxgen33.jsonl` … `cxgen40.jsonl`: 1,200 messages by eight more
/// writers, written at the end of the fifteenth round (insurance; public
/// transport and rail ticketing; books, stationery and reading apps;
/// dental, optical and hearing care; hotels and homestays; coffee and
/// bubble-tea chains; broadband, TV and smart-home installation; outdoor
/// gear and bicycles) and scored once with the model trained on the 36
/// writers before them: keywords alone 0.694 pooled, with the model 0.728
/// (0.707, 0.672, 0.783, 0.738, 0.670, 0.760, 0.691, 0.796).
///
/// All 40, with the tuned `cxfresh` sets, are what the learned theme model
/// learns from, so the bars (a little below what the analyser with that
/// model reads, theme F1 0.78–0.90; 0.81–0.92 since the sixteenth round's
/// drop of doubted keyword themes) hold what ships rather than measure it:
/// how the model reads writers it never saw is `tests/model.rs`'s
/// leave-a-batch-out test and the `train_themes` example's `--cv`.
/// Mention polarity reads lower on some of them than with keywords alone:
/// the themes the model adds are the ones a message leaves implicit, and
/// their polarity is harder.
#[test]
fn the_generated_customer_sets_meet_their_bars() {
    let sets = [
        customer_set!("cxgen1.jsonl", (0.85, 0.87, 0.55)),
        customer_set!("cxgen2.jsonl", (0.86, 0.85, 0.68)),
        customer_set!("cxgen3.jsonl", (0.87, 0.85, 0.53)),
        customer_set!("cxgen4.jsonl", (0.83, 0.85, 0.57)),
        customer_set!("cxgen5.jsonl", (0.85, 0.81, 0.5)),
        customer_set!("cxgen6.jsonl", (0.86, 0.83, 0.61)),
        customer_set!("cxgen7.jsonl", (0.86, 0.86, 0.53)),
        customer_set!("cxgen8.jsonl", (0.87, 0.87, 0.55)),
        customer_set!("cxgen9.jsonl", (0.86, 0.82, 0.54)),
        customer_set!("cxgen10.jsonl", (0.87, 0.86, 0.55)),
        customer_set!("cxgen11.jsonl", (0.86, 0.78, 0.57)),
        customer_set!("cxgen12.jsonl", (0.86, 0.83, 0.62)),
        customer_set!("cxgen13.jsonl", (0.81, 0.83, 0.54)),
        customer_set!("cxgen14.jsonl", (0.84, 0.81, 0.59)),
        customer_set!("cxgen15.jsonl", (0.81, 0.85, 0.58)),
        customer_set!("cxgen16.jsonl", (0.88, 0.84, 0.51)),
        customer_set!("cxgen17.jsonl", (0.83, 0.82, 0.46)),
        customer_set!("cxgen18.jsonl", (0.83, 0.81, 0.71)),
    ];
    customer_sets_meet(&sets, 250);
    let sets = [
        customer_set!("cxgen19.jsonl", (0.85, 0.82, 0.57)),
        customer_set!("cxgen20.jsonl", (0.86, 0.79, 0.45)),
        customer_set!("cxgen21.jsonl", (0.86, 0.84, 0.68)),
        customer_set!("cxgen22.jsonl", (0.87, 0.85, 0.51)),
        customer_set!("cxgen23.jsonl", (0.85, 0.87, 0.56)),
        customer_set!("cxgen24.jsonl", (0.87, 0.88, 0.61)),
        customer_set!("cxgen25.jsonl", (0.84, 0.84, 0.5)),
        customer_set!("cxgen26.jsonl", (0.84, 0.81, 0.65)),
        customer_set!("cxgen27.jsonl", (0.82, 0.77, 0.49)),
        customer_set!("cxgen28.jsonl", (0.8, 0.79, 0.7)),
        customer_set!("cxgen29.jsonl", (0.86, 0.85, 0.73)),
        customer_set!("cxgen30.jsonl", (0.85, 0.88, 0.6)),
        customer_set!("cxgen31.jsonl", (0.77, 0.82, 0.6)),
        customer_set!("cxgen32.jsonl", (0.84, 0.85, 0.67)),
        customer_set!("cxgen33.jsonl", (0.87, 0.9, 0.47)),
        customer_set!("cxgen34.jsonl", (0.82, 0.83, 0.56)),
        customer_set!("cxgen35.jsonl", (0.87, 0.84, 0.71)),
        customer_set!("cxgen36.jsonl", (0.87, 0.88, 0.59)),
        customer_set!("cxgen37.jsonl", (0.78, 0.87, 0.47)),
        customer_set!("cxgen38.jsonl", (0.84, 0.88, 0.61)),
        customer_set!("cxgen39.jsonl", (0.81, 0.87, 0.58)),
        customer_set!("cxgen40.jsonl", (0.89, 0.83, 0.62)),
    ];
    customer_sets_meet(&sets, 150);
}

/// `eval/dev10.jsonl`: the fifth round's tuning set (whole food reviews,
/// hotel, laptop and book sentences; its last 60 written to be harder);
/// the bar sits a little below what was measured (0.919 after that round;
/// 0.865 on its first 200 and 0.700 on the 60 added, each before any
/// change made with them in view).
#[test]
fn the_fifth_tuning_set_meets_its_bar() {
    sentiment_set_meets(include_str!("../eval/dev10.jsonl"), "dev10.jsonl", 250, 0.9);
}

/// `eval/dev12.jsonl`: the tenth round's tuning set, 280 whole
/// food-delivery reviews and 40 sentences each from hotel, laptop and book
/// reviews, written by a writer who saw no other file of the project;
/// 0.927 when first scored, 0.953 after the round's rules (summing-up and
/// stars, things better small, fears found wrong, "a bit" before English,
/// lexicon words). Not training data of the model.
#[test]
fn the_tenth_round_tuning_set_meets_its_bar() {
    sentiment_set_meets(
        include_str!("../eval/dev12.jsonl"),
        "dev12.jsonl",
        400,
        0.93,
    );
}

/// `eval/dev13.jsonl`: the eleventh round's tuning set, 260 whole
/// food-delivery reviews, 50 sentences each from hotel and laptop reviews
/// and 40 from book reviews, written by a seventh writer who saw no other
/// file of the project; 0.948 when first scored, 0.975 after the round's
/// lexicon words. Not training data of the model.
#[test]
fn the_eleventh_round_tuning_set_meets_its_bar() {
    sentiment_set_meets(
        include_str!("../eval/dev13.jsonl"),
        "dev13.jsonl",
        400,
        0.95,
    );
}

/// `eval/dev*.jsonl`: the review sentences tuned on (see `eval/README.md`).
#[test]
fn the_tuning_sets_meet_their_bar() {
    let sets = [
        include_str!("../eval/dev.jsonl"),
        include_str!("../eval/dev2.jsonl"),
        include_str!("../eval/dev3.jsonl"),
        include_str!("../eval/dev4.jsonl"),
        include_str!("../eval/dev5.jsonl"),
        include_str!("../eval/dev6.jsonl"),
        include_str!("../eval/dev7.jsonl"),
        include_str!("../eval/dev8.jsonl"),
    ];
    let mut examples = Vec::new();
    for set in sets {
        examples.extend(parse_jsonl(set, "dev.jsonl").expect("tuning set parses"));
    }
    let analyzer = Analyzer::with_default_taxonomy().expect("default analyzer");
    let r = evaluate(&analyzer, &examples);
    println!("{r}");
    assert!(r.sentiment_accuracy() >= 0.96, "sentiment\n{r}");
}

/// Real reviews, judged whole as the held-out sets are: every 20th review
/// of the training file (positive or negative as labelled). The model saw
/// them in training, so this bar is about the message label (how clauses
/// combine, when a message is `mixed` or `neutral`), not about the model;
/// the bars sit a little below what was measured (0.944 right, 1.3%
/// mixed; 0.929 and 3.4% before `mixed` needed a theme praised and
/// another blamed, 0.82 and 13% before it needed balanced sides).
#[test]
fn real_reviews_get_their_verdict() {
    use tongdian_nlp::model::read_training_csv;
    use tongdian_nlp::SentimentLabel;
    let src = common::training_csv();
    let reviews = read_training_csv(&src, "online_shopping_7_cats.csv").unwrap();
    let analyzer = Analyzer::with_default_taxonomy().expect("default analyzer");
    let (mut right, mut mixed, mut total) = (0, 0, 0);
    for r in reviews.iter().step_by(20) {
        let label = analyzer.analyze(&r.text).sentiment.label;
        let expected = if r.positive {
            SentimentLabel::Positive
        } else {
            SentimentLabel::Negative
        };
        right += usize::from(label == expected);
        mixed += usize::from(label == SentimentLabel::Mixed);
        total += 1;
    }
    let accuracy = right as f64 / total as f64;
    let mixed_share = mixed as f64 / total as f64;
    println!("{total} reviews: verdict right {accuracy:.3}, mixed {mixed_share:.3}");
    assert!(
        accuracy >= 0.92,
        "verdict right in {accuracy:.3} of {total}"
    );
    assert!(mixed_share <= 0.03, "mixed in {mixed_share:.3} of {total}");
}
