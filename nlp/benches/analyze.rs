//! Full analysis of short reviews against a bare jieba-rs `cut` of the
//! same texts, so the ratio (target: at most 3×) holds on any machine; and
//! Analyzer construction (target: under 0.5 s).
//!
//! ```sh
//! cargo bench -p tongdian-nlp --bench analyze
//! ```

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use tongdian_nlp::{Analyzer, BareJieba};

/// Short reviews and messages of the kinds the pipeline sees, written for
/// the project.
const TEXTS: &[&str] = &[
    "物流很快，但是客服态度很差",
    "质量很好，做工精致，非常满意，还会回购",
    "用了两天就坏了，联系售后也没人理，差评",
    "请问这个什么时候发货？",
    "價格合理，送貨也很準時，推薦",
    "客服態度好差，等咗成個鐘都冇人理",
    "app一直闪退，气死了，已经卸载了",
    "东西挺好的，就是有点贵",
    "The app keeps crashing and support never answers",
    "包装很严实，水果很新鲜，很甜",
    "退款申请了一个星期还没到账，我要投诉到12315",
    "虽然物流慢了点，但是东西真的很好用",
];

fn bench(c: &mut Criterion) {
    let analyzer = Analyzer::with_default_taxonomy().expect("default analyzer");
    let jieba = BareJieba::new();
    let mut group = c.benchmark_group("short_reviews");
    group.bench_function("jieba_cut", |b| {
        b.iter(|| {
            for t in TEXTS {
                black_box(jieba.cut(black_box(t)));
            }
        })
    });
    group.bench_function("analyze", |b| {
        b.iter(|| {
            for t in TEXTS {
                black_box(analyzer.analyze(black_box(t)));
            }
        })
    });
    group.finish();
    let mut startup = c.benchmark_group("startup");
    startup.sample_size(10);
    startup.bench_function("analyzer_new", |b| {
        b.iter(|| black_box(Analyzer::with_default_taxonomy().unwrap()))
    });
    startup.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
