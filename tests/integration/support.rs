//! Helpers: the binary, a real Kafka-protocol broker (tansu) on a free
//! loopback port, Kafka admin/produce, and the independent table reader.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::ClientConfig;
use serde_json::Value;

pub fn tongdian() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tongdian"))
}

/// `tongdian run --exit-at-end` with group timeouts short enough for tests
/// (tansu waits for a departed member's session to expire); returns its
/// standard output and fails the test, with the log, if the run fails.
pub fn run_to_end(brokers: &str, output: &str, args: &[&str], env: &[(&str, String)]) -> String {
    let out = tongdian()
        .args([
            "run",
            "--exit-at-end",
            "--brokers",
            brokers,
            "--output",
            output,
        ])
        .args(args)
        .env("TONGDIAN_KAFKA_SESSION_TIMEOUT_MS", "6000")
        .env("TONGDIAN_KAFKA_HEARTBEAT_INTERVAL_MS", "1000")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// Waits until something listens on `address`.
fn wait_for_port(address: &str, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(address).is_err() {
        assert!(
            Instant::now() < deadline,
            "{what} did not listen on {address} within 30 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn required_env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the end-to-end tests through scripts/test.sh, which installs and sets it")
    })
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A tansu broker process, killed on drop.
pub struct Tansu {
    child: Child,
    pub brokers: String,
}

impl Tansu {
    /// A broker keeping its log in an SQLite file under `dir`. (tansu 0.6's
    /// memory engine answers ListOffsets(latest) with the newest record
    /// batch's base offset + 1, not the high watermark, which breaks
    /// `--exit-at-end`; its SQL engines answer correctly.)
    pub fn start_sqlite(dir: &Path) -> Tansu {
        Tansu::start_sqlite_with(dir, None, &[])
    }

    /// The same with more `tansu broker` arguments, advertising
    /// `127.0.0.1:<advertised_port>` instead of its own port when given
    /// (a proxy in front of it).
    pub fn start_sqlite_with(dir: &Path, advertised_port: Option<u16>, args: &[&str]) -> Tansu {
        let port = free_port();
        // tansu resolves the database path against its working directory.
        Tansu::start(
            "sqlite://tansu.db",
            dir,
            port,
            advertised_port.unwrap_or(port),
            args,
        )
    }

    fn start(storage: &str, dir: &Path, port: u16, advertised_port: u16, args: &[&str]) -> Tansu {
        let url = format!("tcp://127.0.0.1:{port}");
        let advertised = format!("tcp://127.0.0.1:{advertised_port}");
        let child = Command::new(required_env("TD_TANSU_BIN"))
            .args([
                "broker",
                "--listener-url",
                &url,
                "--advertised-listener-url",
                &advertised,
            ])
            .args(["--storage-engine", storage])
            .args(args)
            .current_dir(dir)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starting tansu");
        let brokers = format!("127.0.0.1:{port}");
        wait_for_port(&brokers, "tansu");
        Tansu { child, brokers }
    }
}

impl Drop for Tansu {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub async fn create_topics(brokers: &str, topics: &[(&str, i32)]) {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .unwrap();
    let new: Vec<NewTopic> = topics
        .iter()
        .map(|(name, partitions)| NewTopic::new(name, *partitions, TopicReplication::Fixed(1)))
        .collect();
    let results = admin
        .create_topics(
            &new,
            &AdminOptions::new().operation_timeout(Some(Duration::from_secs(30))),
        )
        .await
        .unwrap();
    for r in results {
        r.unwrap_or_else(|(topic, e)| panic!("creating {topic}: {e}"));
    }
}

pub async fn produce(brokers: &str, messages: &[(String, Option<String>, Vec<u8>)]) {
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("linger.ms", "10")
        .create()
        .unwrap();
    let sends = messages.iter().map(|(topic, key, payload)| {
        let producer = producer.clone();
        async move {
            let mut record = FutureRecord::to(topic).payload(payload);
            if let Some(k) = key {
                record = record.key(k);
            }
            producer
                .send(record, Duration::from_secs(30))
                .await
                .map_err(|(e, _)| e)
        }
    });
    for r in futures::future::join_all(sends).await {
        r.expect("produce");
    }
}

/// Facts about the tables under `root`, read by `tests/verify_tables.py`
/// with Python's deltalake and DuckDB (not with tongdian's code).
pub fn read_tables(root: &Path, app_ids: &[String]) -> Value {
    read_tables_with(root.to_str().unwrap(), app_ids, &[])
}

/// The same for any table root URI, with extra environment (object-store
/// credentials) for the reader.
pub fn read_tables_with(root: &str, app_ids: &[String], env: &[(&str, String)]) -> Value {
    let out = Command::new(required_env("TD_PYTHON"))
        .arg(repo_root().join("tests/verify_tables.py"))
        .arg(root)
        .args(app_ids)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .expect("running the table reader");
    assert!(
        out.status.success(),
        "verify_tables.py failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("reader output is JSON")
}

/// An S3-compatible server (s3s-fs) on a free loopback port, storing objects
/// as files under `dir` (one directory per bucket); killed on drop.
pub struct S3Server {
    child: Child,
    pub endpoint: String,
}

pub const S3_ACCESS_KEY: &str = "tongdian-test";
pub const S3_SECRET_KEY: &str = "tongdian-test-secret";

impl S3Server {
    pub fn start(dir: &Path, buckets: &[&str]) -> S3Server {
        for b in buckets {
            std::fs::create_dir_all(dir.join(b)).unwrap();
        }
        let port = free_port();
        let child = Command::new(required_env("TD_S3S_BIN"))
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--access-key", S3_ACCESS_KEY, "--secret-key", S3_SECRET_KEY])
            .arg(dir)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starting s3s-fs");
        let address = format!("127.0.0.1:{port}");
        wait_for_port(&address, "s3s-fs");
        S3Server {
            child,
            endpoint: format!("http://{address}"),
        }
    }

    /// The `AWS_*` environment that points delta-rs (Rust or Python) here.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_ACCESS_KEY_ID", S3_ACCESS_KEY.into()),
            ("AWS_SECRET_ACCESS_KEY", S3_SECRET_KEY.into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_ALLOW_HTTP", "true".into()),
            // One writer here; concurrent writers need the store's
            // conditional writes or a locking provider.
            ("AWS_S3_ALLOW_UNSAFE_RENAME", "true".into()),
        ]
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A plain HTTP GET on loopback: (status code, body).
pub fn http_get(address: &str, path: &str) -> Option<(u16, String)> {
    use std::io::{Read, Write};
    let mut stream = TcpStream::connect(address).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.split_whitespace().nth(1)?.parse().ok()?;
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    Some((status, body))
}

/// The value of an unlabelled sample in a Prometheus text exposition.
pub fn metric_value(exposition: &str, name: &str) -> Option<f64> {
    exposition
        .lines()
        .find_map(|l| l.strip_prefix(name).and_then(|rest| rest.strip_prefix(' ')))
        .and_then(|v| v.trim().parse().ok())
}

/// A long-running `tongdian run` worker with its operator endpoints on a
/// free port and test-sized group timeouts; killed on drop if still running.
pub struct Worker {
    pub child: Child,
    pub metrics_address: String,
}

impl Worker {
    pub fn spawn(brokers: &str, output: &str, args: &[&str], env: &[(&str, &str)]) -> Worker {
        let metrics_address = format!("127.0.0.1:{}", free_port());
        let child = tongdian()
            .args(["run", "--brokers", brokers, "--output", output])
            .args(args)
            .env("TONGDIAN_METRICS_LISTEN", &metrics_address)
            .env("TONGDIAN_KAFKA_SESSION_TIMEOUT_MS", "6000")
            .env("TONGDIAN_KAFKA_HEARTBEAT_INTERVAL_MS", "1000")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting tongdian run");
        Worker {
            child,
            metrics_address,
        }
    }

    /// Waits, watching `/metrics`, until the worker has read at least
    /// `messages`; returns that exposition. Fails the test if the worker
    /// exits or `timeout` passes first.
    pub fn wait_consumed(&mut self, messages: u64, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some((200, body)) = http_get(&self.metrics_address, "/metrics") {
                if metric_value(&body, "tongdian_messages_consumed_total")
                    .is_some_and(|c| c >= messages as f64)
                {
                    return body;
                }
            }
            assert!(
                self.child.try_wait().unwrap().is_none(),
                "the worker exited before reading {messages} messages"
            );
            assert!(
                Instant::now() < deadline,
                "the worker did not read {messages} messages within {timeout:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
