//! Helpers for more than one of nlp's test binaries.

use std::path::PathBuf;

/// The training file's text: from `TD_TRAINING_CSV` when set (the test
/// script sets it, also for a clone outside the workspace), otherwise
/// `../shared/data/` beside the repository, where the project keeps it.
pub fn training_csv() -> String {
    let path = std::env::var_os("TD_TRAINING_CSV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../shared/data/online_shopping_7_cats.csv")
        });
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "training file {} is part of the project (set TD_TRAINING_CSV): {e}",
            path.display()
        )
    })
}
