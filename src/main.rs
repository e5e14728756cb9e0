//! The `tongdian` command: CLI and wiring only. The crates do the work:
//! `tongdian-schemas` (contracts), `tongdian-nlp` (analysis),
//! `tongdian-ingest` (Kafka → tables), `tongdian-aggregator` (metrics).
//!
//! # Layout
//! - `main.rs`: commands and flags.
//! - `config.rs`: layered configuration (defaults, file, env, flags).
//! - `enrich.rs`: the nlp analyzer behind ingest's `Enricher` seam.
//! - `analytics.rs`: the aggregator behind ingest's `Analytics` seam
//!   (rollups, critical alerts, partial counts).
//! - `detect.rs`: the detector (global counts → `pain_points`, emerging
//!   themes, new terms).
//! - `notify.rs`: the alert webhook, off the ingestion path.
//! - `worker.rs`: a worker process: ingest loop, analytics and detector.
//! - `observe.rs`: run summary and progress.
//! - `http.rs`: `/metrics`, `/healthz`, `/readyz`.
//! - `demo.rs`, `analyze.rs`, `produce.rs`, `topics.rs`, `bench.rs`: the
//!   commands of those names
//!   (`eval` is a few lines in `main.rs` around `tongdian_nlp::eval`).

mod analytics;
mod analyze;
mod bench;
mod config;
mod demo;
mod detect;
mod enrich;
mod http;
mod notify;
mod observe;
mod produce;
mod topics;
mod worker;

use std::io::{BufReader, IsTerminal};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use tongdian_ingest::Metrics;
use tracing_subscriber::EnvFilter;

use crate::config::{Config, LogFormat};
use crate::enrich::NlpEnricher;
use crate::observe::render;

#[derive(Parser)]
#[command(
    name = "tongdian",
    version,
    about = "Customer feedback from Kafka → pain points in Delta Lake tables"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Log format; overrides `log.format` (default text).
    #[arg(long, global = true, value_enum)]
    log_format: Option<LogFormat>,
}

#[derive(Subcommand)]
enum Command {
    /// Run a worker: consume feedback topics, write the tables.
    Run(RunArgs),
    /// Run the whole pipeline on a bundled sample with an in-process broker.
    Demo(DemoArgs),
    /// Analyse JSONL envelopes without Kafka: one JSON result per line.
    Analyze(AnalyzeArgs),
    /// Send JSONL lines to a topic, keyed by their `id`.
    Produce(ProduceArgs),
    /// Score the analysis against labelled messages (JSONL: an envelope
    /// plus `expected`): sentiment accuracy, theme P/R/F1, mention polarity,
    /// flag and emotion F1, worst misses.
    Eval(EvalArgs),
    /// Manage the Kafka topics tongdian uses (`topics create`).
    Topics(topics::TopicsArgs),
    /// Benchmarks (not tests: they print figures).
    #[command(subcommand)]
    Bench(BenchCommand),
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Drain a backlog with a bare librdkafka consumer, then with the
    /// pipeline into tables; print both rates, the ratio and peak memory.
    Backlog(BacklogArgs),
}

#[derive(Args)]
struct BacklogArgs {
    #[command(flatten)]
    config: ConfigArgs,
    /// Kafka bootstrap servers.
    #[arg(long)]
    brokers: String,
    /// Topic holding the backlog.
    #[arg(long, default_value = "bench.reviews")]
    topic: String,
    /// With --produce: create the topic and fill it with this many short
    /// reviews first.
    #[arg(long, default_value_t = 1_000_000)]
    messages: u64,
    /// Partitions of the topic --produce creates.
    #[arg(long, default_value_t = 4)]
    partitions: i32,
    /// Create and fill the topic; without it the topic must already hold
    /// the backlog.
    #[arg(long)]
    produce: bool,
    /// Where the pipeline writes its tables; must not hold tables for this
    /// topic already.
    #[arg(long)]
    output: String,
}

#[derive(Args)]
struct EvalArgs {
    #[command(flatten)]
    config: ConfigArgs,
    /// Labelled JSONL file.
    #[arg(long)]
    labels: PathBuf,
}

#[derive(Args)]
struct ConfigArgs {
    /// TOML configuration file.
    #[arg(long, env = "TONGDIAN_CONFIG")]
    config: Option<PathBuf>,
    /// Taxonomy file replacing the built-in one (`analysis.taxonomy`).
    #[arg(long)]
    taxonomy: Option<PathBuf>,
}

#[derive(Args)]
struct RunArgs {
    #[command(flatten)]
    config: ConfigArgs,
    /// Kafka bootstrap servers (`kafka.brokers`).
    #[arg(long)]
    brokers: Option<String>,
    /// Comma-separated topics (`kafka.topics`).
    #[arg(long, value_delimiter = ',')]
    topics: Option<Vec<String>>,
    /// Consumer group (`kafka.group`).
    #[arg(long)]
    group: Option<String>,
    /// Table root, a directory or URL (`sink.output`).
    #[arg(long)]
    output: Option<String>,
    /// Stop once every assigned partition reaches the end offset it had at
    /// start and everything is committed (backfills and tests).
    #[arg(long)]
    exit_at_end: bool,
}

#[derive(Args)]
struct DemoArgs {
    #[command(flatten)]
    config: ConfigArgs,
    /// Where to write the tables (default ./tongdian-data).
    #[arg(long)]
    output: Option<String>,
}

#[derive(Args)]
struct AnalyzeArgs {
    #[command(flatten)]
    config: ConfigArgs,
    /// JSONL envelopes; `-` (the default) reads standard input.
    #[arg(long, default_value = "-")]
    input: String,
    /// Stop at the first invalid line (exit status 1).
    #[arg(long)]
    strict: bool,
}

#[derive(Args)]
struct ProduceArgs {
    /// Kafka bootstrap servers.
    #[arg(long)]
    brokers: String,
    /// Topic to send to.
    #[arg(long)]
    topic: String,
    /// JSONL file; `-` reads standard input.
    file: String,
}

fn load_config(args: &ConfigArgs) -> Result<Config> {
    let mut config = Config::load(args.config.as_deref(), std::env::vars())?;
    if let Some(t) = &args.taxonomy {
        config.analysis.taxonomy = Some(t.clone());
    }
    Ok(config)
}

fn init_logging(config: &Config, format: Option<LogFormat>, default_level: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        let level = config.log.level.as_deref().unwrap_or(default_level);
        // delta-rs warns on every commit that it keeps no statistics for
        // binary columns (the dead letters' payloads); that is by design.
        // Its kernel logs every snapshot it builds, whole, at info: kilobytes
        // per commit that drown the worker's own lines.
        EnvFilter::new(format!(
            "{level},deltalake_core::writer::stats=error,buoyant_kernel=warn"
        ))
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format.unwrap_or(config.log.format) {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal()).init(),
    }
}

fn open_input(path: &str) -> Result<Box<dyn std::io::BufRead>> {
    Ok(if path == "-" {
        Box::new(BufReader::new(std::io::stdin()))
    } else {
        Box::new(BufReader::new(
            std::fs::File::open(path).with_context(|| format!("opening {path}"))?,
        ))
    })
}

/// Writes to standard output, returning errors instead of panicking as
/// `print!` does, so `tongdian … | head` ends quietly.
pub(crate) fn out(text: impl std::fmt::Display) -> std::io::Result<()> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    write!(stdout, "{text}")?;
    stdout.flush()
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain()
        .filter_map(|e| e.downcast_ref::<std::io::Error>())
        .any(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    // Two workers: the run loop, and the rebalance hook's blocking table reads.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let result = runtime.block_on(async_main(cli));
    // A task left waiting on a broker (a detector) must not hold the exit.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    match result {
        // The reader went away (`| head`): not a failure of ours.
        Err(e) if is_broken_pipe(&e) => Ok(()),
        other => other,
    }
}

async fn async_main(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Run(args) => {
            let mut config = load_config(&args.config)?;
            if let Some(b) = args.brokers {
                config.kafka.brokers = b;
            }
            if let Some(t) = args.topics {
                config.kafka.topics = t;
            }
            if let Some(g) = args.group {
                config.kafka.group = g;
            }
            if let Some(o) = args.output {
                config.sink.output = o;
            }
            init_logging(&config, cli.log_format, "info");
            let enricher = Arc::new(NlpEnricher::new(config.analysis.taxonomy.as_deref())?);
            let metrics = Arc::new(Metrics::default());
            if let Some(listen) = config.metrics.listen.as_deref().filter(|l| !l.is_empty()) {
                http::serve(listen, metrics.clone()).await?;
            }
            let outcome = worker::run(
                &config,
                enricher,
                metrics,
                args.exit_at_end,
                bounded_shutdown(config.sink.shutdown_timeout()),
            )
            .await?;
            outcome.observer.finish();
            tracing::info!(stats = ?outcome.stats, "worker stopped");
            if let Some(n) = &outcome.notifier {
                n.drain(std::time::Duration::from_secs(10)).await;
            }
            if args.exit_at_end {
                out(render(
                    &outcome.observer.summary,
                    outcome.detector.as_ref(),
                    outcome.stats.alerts,
                    &config.sink.output,
                ))?;
            }
            Ok(())
        }
        Command::Demo(args) => {
            let mut config = load_config(&args.config)?;
            if let Some(o) = args.output {
                config.sink.output = o;
            }
            init_logging(&config, cli.log_format, "warn");
            let enricher = Arc::new(NlpEnricher::new(config.analysis.taxonomy.as_deref())?);
            demo::run(config, enricher).await
        }
        Command::Analyze(args) => {
            let config = load_config(&args.config)?;
            init_logging(&config, cli.log_format, "warn");
            let enricher = NlpEnricher::new(config.analysis.taxonomy.as_deref())?;
            let input = open_input(&args.input)?;
            let stdout = std::io::stdout().lock();
            let outcome = analyze::run(
                input,
                std::io::BufWriter::new(stdout),
                &enricher,
                &config.limits,
                args.strict,
            )?;
            if outcome.errors > 0 {
                eprintln!(
                    "{} lines analysed, {} invalid",
                    outcome.analysed, outcome.errors
                );
            }
            Ok(())
        }
        Command::Eval(args) => {
            let config = load_config(&args.config)?;
            init_logging(&config, cli.log_format, "warn");
            let enricher = NlpEnricher::new(config.analysis.taxonomy.as_deref())?;
            let src = std::fs::read_to_string(&args.labels)
                .with_context(|| format!("reading {}", args.labels.display()))?;
            let examples =
                tongdian_nlp::eval::parse_jsonl(&src, &args.labels.display().to_string())?;
            let report = tongdian_nlp::eval::evaluate(enricher.analyzer(), &examples);
            out(report)?;
            Ok(())
        }
        Command::Topics(args) => {
            init_logging(&Config::default(), cli.log_format, "warn");
            topics::run(args).await
        }
        Command::Bench(BenchCommand::Backlog(args)) => {
            let config = load_config(&args.config)?;
            init_logging(&config, cli.log_format, "warn");
            let enricher = Arc::new(NlpEnricher::new(config.analysis.taxonomy.as_deref())?);
            bench::backlog(
                config,
                enricher,
                bench::Backlog {
                    brokers: args.brokers,
                    topic: args.topic,
                    messages: args.messages,
                    partitions: args.partitions,
                    produce: args.produce,
                    output: args.output,
                },
            )
            .await
        }
        Command::Produce(args) => {
            init_logging(&Config::default(), cli.log_format, "warn");
            let producer = produce::producer(&args.brokers)?;
            let input = open_input(&args.file)?;
            let topic = args.topic.clone();
            let sent = produce::send_lines(&producer, input, |_| topic.clone()).await?;
            eprintln!("sent {sent} messages to {}", args.topic);
            Ok(())
        }
    }
}

/// Resolves on SIGINT or SIGTERM, so the worker flushes and commits first,
/// and from then on gives it `bound` to finish. The watchdog is a thread,
/// not a task: a commit stuck inside a blocking call cannot delay it.
async fn bounded_shutdown(bound: std::time::Duration) {
    shutdown_signal().await;
    std::thread::spawn(move || {
        std::thread::sleep(bound);
        tracing::error!(
            ?bound,
            "did not stop within sink.shutdown_timeout_secs of the signal; exiting without \
             committing what is buffered (it will be read again)"
        );
        std::process::exit(1);
    });
}

/// Resolves on SIGINT or SIGTERM, so the worker flushes and commits first.
async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("installing the SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
