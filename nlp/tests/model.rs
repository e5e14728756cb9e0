//! The shipped sentiment weights are exactly what the training program
//! builds from the training file and the written sets: retraining
//! reproduces them byte for byte.

mod common;

use tongdian_nlp::model::{
    read_training_csv, read_written_jsonl, training_set, SentimentModel, WRITTEN_SETS,
};

#[test]
fn shipped_weights_rebuild_bit_for_bit() {
    let src = common::training_csv();
    let examples = read_training_csv(&src, "online_shopping_7_cats.csv").unwrap();
    assert!(examples.len() > 44_000, "{} examples", examples.len());
    let mut written = Vec::new();
    for name in WRITTEN_SETS {
        let path = format!("{}/eval/{name}", env!("CARGO_MANIFEST_DIR"));
        let src = std::fs::read_to_string(&path).unwrap();
        written.extend(read_written_jsonl(&src, &path).unwrap());
    }
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
