//! Integration tests of the `tongdian` binary: one test binary, helpers in
//! `support`. Tests marked `#[ignore]` need the environment `scripts/test.sh`
//! prepares (tansu, the Python readers); it runs them with
//! `--include-ignored`.

mod analytics;
mod analytics_e2e;
mod analyze_cli;
mod bench_cli;
mod config_cli;
mod crash;
mod demo;
mod eval_cli;
mod hostile;
mod kafka_security;
mod memory;
mod outage;
mod rebalance;
mod s3_e2e;
mod s3_front;
mod shutdown;
mod support;
mod tansu_e2e;
mod topics_cli;
