//! The shipped sentiment weights are exactly what the training program
//! builds from the training file and the written sets: retraining
//! reproduces them byte for byte. And the analyser, with a model trained
//! the same way but without one category of the file, reads that
//! category's real reviews to a bar.

mod common;

use tongdian_nlp::eval::unseen_category;
use tongdian_nlp::model::{
    read_training_csv, read_training_csv_by_category, read_written_sets, training_set,
    SentimentModel,
};

fn eval_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("eval")
}

#[test]
fn shipped_weights_rebuild_bit_for_bit() {
    let src = common::training_csv();
    let examples = read_training_csv(&src, "online_shopping_7_cats.csv").unwrap();
    assert!(examples.len() > 44_000, "{} examples", examples.len());
    let written = read_written_sets(&eval_dir()).unwrap();
    assert!(written.len() > 1_000, "{} written examples", written.len());
    let rebuilt = SentimentModel::train(&training_set(examples.clone(), &written)).to_bytes();
    let shipped = include_bytes!("../model/sentiment.bin");
    assert!(
        rebuilt == shipped,
        "nlp/model/sentiment.bin is stale: rerun the train_sentiment example"
    );
    // And it fits the file it learned from, as a sanity check of training.
    let model = SentimentModel::from_bytes(shipped).unwrap();
    assert!(model.accuracy(&examples[..2000]) > 0.9);
}

/// The whole analyser on real reviews of a domain its model never learned
/// from: each product category of the training file in turn is left out
/// of training and then labelled (`mixed` and `neutral` count as wrong,
/// as the file has neither). The written sets are the project's own, so
/// this is the figure made only of text nobody wrote for it; the bars sit
/// a little below what was last measured (tablets 0.929, phones 0.916,
/// fruit 0.909, shampoo 0.915, clothes 0.945). 蒙牛 (posts
/// mentioning the brand more than reviews) and 热水器 (574 reviews, five
/// in six positive) are printed by the `unseen_category` example, not
/// held to a bar.
#[test]
fn the_analyser_reads_a_product_category_its_model_never_saw() {
    let src = common::training_csv();
    let reviews = read_training_csv_by_category(&src, "online_shopping_7_cats.csv").unwrap();
    let written = read_written_sets(&eval_dir()).unwrap();
    for (category, bar) in [
        ("平板", 0.91),
        ("手机", 0.90),
        ("水果", 0.89),
        ("洗发水", 0.90),
        ("衣服", 0.93),
    ] {
        let r = unseen_category(&reviews, &written, category).unwrap();
        assert!(r.reviews > 2_000, "{r:?}");
        assert!(r.accuracy >= bar, "{r:?}");
    }
}
