//! Helpers: the binary, a real Kafka-protocol broker (tansu) on a free
//! loopback port, Kafka admin/produce, and the independent table reader.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::ClientConfig;
use serde_json::Value;

pub fn tongdian() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tongdian"))
}

/// Runs `command` and returns its standard output; fails the test, with
/// both outputs, if it does not succeed.
pub fn stdout_of(command: &mut Command) -> String {
    let out = command.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The consumer group timing every test worker runs with. tansu 0.6.0
/// reliably expires only short sessions (6 s here, heartbeats every 1 s).
/// And librdkafka gives a JoinGroup max.poll.interval.ms (plus 3 s) to be
/// answered before it asks again: 300 s by default, longer than any test
/// waits. A fresh-clone run saw tansu leave a worker without an
/// assignment for 240 s after its `update_group` panic, the worker's last
/// word a revocation; with 30 s the worker asks again instead.
const GROUP_TIMING: [(&str, &str); 3] = [
    ("TONGDIAN_KAFKA_SESSION_TIMEOUT_MS", "6000"),
    ("TONGDIAN_KAFKA_HEARTBEAT_INTERVAL_MS", "1000"),
    ("TONGDIAN_KAFKA_MAX_POLL_INTERVAL_MS", "30000"),
];

/// `tongdian run --exit-at-end` with group timeouts short enough for tests
/// (tansu waits for a departed member's session to expire); returns its
/// standard output and fails the test, with the log, if the run fails.
pub fn run_to_end(brokers: &str, output: &str, args: &[&str], env: &[(&str, String)]) -> String {
    stdout_of(
        tongdian()
            .args([
                "run",
                "--exit-at-end",
                "--brokers",
                brokers,
                "--output",
                output,
            ])
            .args(args)
            .envs(GROUP_TIMING)
            .envs(env.iter().map(|(k, v)| (*k, v.as_str()))),
    )
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

/// A loopback port nothing listens on, for a process a test starts. Taken
/// below Linux's ephemeral range (32768 and up), where the OS hands out
/// the local ports of outgoing connections: a port it picked for us there
/// could be taken by some client's connection before the process binds it
/// (a worker once failed to bind its metrics endpoint that way). Each port
/// is handed out once per test process, and the start depends on the
/// process id so that two runs side by side seldom probe the same ports.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU16, Ordering};
    const FIRST: u16 = 20_000;
    const SPAN: u16 = 12_000;
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let start = (std::process::id() % 60) as u16 * 200;
    for _ in 0..SPAN {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let port = FIRST + ((u32::from(start) + u32::from(n)) % u32::from(SPAN)) as u16;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free loopback port between {FIRST} and {}", FIRST + SPAN);
}

/// Serves `listener` on a thread of its own, handing each connection to
/// `serve` as a task, until the test process ends: for the proxies that
/// sit between a client under test and a server (TLS, atomic creates).
pub fn serve_forever<F, Fut>(listener: TcpListener, serve: F)
where
    F: Fn(tokio::net::TcpStream) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            loop {
                let (conn, _) = listener.accept().await.unwrap();
                tokio::spawn(serve(conn));
            }
        });
    });
}

/// A tansu broker process, killed on drop.
pub struct Tansu {
    child: Child,
    pub brokers: String,
    pub port: u16,
}

impl Tansu {
    /// A broker keeping its log in an SQLite file under `dir`. (tansu 0.6's
    /// memory engine answers ListOffsets(latest) with the newest record
    /// batch's base offset + 1, not the high watermark, which breaks
    /// `--exit-at-end`; its SQL engines answer correctly.)
    pub fn start_sqlite(dir: &Path) -> Tansu {
        Tansu::start_sqlite_with(dir, None, &[])
    }

    /// `start_sqlite` with the worker's input topic (`partitions` of it)
    /// and a one-partition `feedback.dlq` created: what most tests start
    /// from.
    pub async fn with_input(dir: &Path, topic: &str, partitions: i32) -> Tansu {
        let tansu = Tansu::start_sqlite(dir);
        create_topics(&tansu.brokers, &[(topic, partitions), ("feedback.dlq", 1)]).await;
        tansu
    }

    /// The same on a given port: a restarted broker must be found where the
    /// workers' bootstrap list points.
    pub fn start_sqlite_on(dir: &Path, port: u16) -> Tansu {
        // tansu resolves the database path against its working directory.
        Tansu::start("sqlite://tansu.db", dir, port, port, &[])
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
        Tansu {
            child,
            brokers,
            port,
        }
    }

    /// Stops the broker (SIGTERM, then SIGKILL after 10 s); its SQLite file
    /// stays for a restart.
    pub fn stop(mut self) {
        terminate(&mut self.child, Duration::from_secs(10));
    }
}

/// SIGTERM, then SIGKILL if `child` is still running after `grace`.
pub fn terminate(child: &mut Child, grace: Duration) -> Option<std::process::ExitStatus> {
    if let Ok(Some(status)) = child.try_wait() {
        return Some(status);
    }
    signal(child, "TERM");
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

/// Sends `SIG<name>` to `child` with kill(1): the tests need TERM, STOP and
/// CONT, which `Child` cannot send.
pub fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .expect("running kill");
    assert!(status.success(), "kill -{name} {}", child.id());
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
    python_reader("verify_tables.py", root, app_ids, env)
}

/// Runs one of the independent Python readers in `tests/` and parses the
/// JSON facts it prints.
fn python_reader(
    script: &str,
    root: &str,
    args: &[impl AsRef<std::ffi::OsStr>],
    env: &[(&str, String)],
) -> Value {
    let out = Command::new(required_env("TD_PYTHON"))
        .arg(repo_root().join("tests").join(script))
        .arg(root)
        .args(args)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .expect("running the table reader");
    assert!(
        out.status.success(),
        "{script} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("reader output is JSON")
}

/// An S3-compatible server (s3s-fs) on a free loopback port, storing objects
/// as files under `dir` (one directory per bucket); killed on drop.
pub struct S3Server {
    child: Child,
    pub endpoint: String,
    pub port: u16,
}

pub const S3_ACCESS_KEY: &str = "tongdian-test";
pub const S3_SECRET_KEY: &str = "tongdian-test-secret";

impl S3Server {
    pub fn start(dir: &Path, buckets: &[&str]) -> S3Server {
        S3Server::start_on(dir, buckets, free_port())
    }

    /// The same on a given port, for restarting a stopped store where the
    /// workers expect it.
    pub fn start_on(dir: &Path, buckets: &[&str], port: u16) -> S3Server {
        for b in buckets {
            std::fs::create_dir_all(dir.join(b)).unwrap();
        }
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
            port,
        }
    }

    pub fn stop(mut self) {
        terminate(&mut self.child, Duration::from_secs(10));
    }

    /// Puts an [`s3_front`](crate::s3_front) before the store, so that a
    /// conditional PUT is decided atomically as on S3, and points
    /// [`env`](Self::env) at it. Returns what the front counts.
    pub fn with_atomic_creates(&mut self) -> Arc<crate::s3_front::Counts> {
        let (address, counts) = crate::s3_front::start(format!("127.0.0.1:{}", self.port));
        self.endpoint = format!("http://{address}");
        counts
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
/// Its log (text, `info`) goes to a file the test can read.
pub struct Worker {
    pub child: Child,
    pub metrics_address: String,
    log: tempfile::NamedTempFile,
}

impl Worker {
    pub fn spawn(brokers: &str, output: &str, args: &[&str], env: &[(&str, &str)]) -> Worker {
        let metrics_address = format!("127.0.0.1:{}", free_port());
        let log = tempfile::NamedTempFile::new().unwrap();
        let child = tongdian()
            .args(["run", "--brokers", brokers, "--output", output])
            .args(args)
            .env("TONGDIAN_METRICS_LISTEN", &metrics_address)
            .envs(GROUP_TIMING)
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(log.reopen().unwrap())
            .spawn()
            .expect("starting tongdian run");
        Worker {
            child,
            metrics_address,
            log,
        }
    }

    /// Everything the worker has logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }

    /// The last lines of the log, for failure messages.
    pub fn log_tail(&self) -> String {
        tail_of(&self.log())
    }

    /// [`log_tail`](Self::log_tail) as a closure that does not borrow the
    /// worker, for a failure message built while it is borrowed mutably.
    pub fn log_tail_reader(&self) -> impl Fn() -> String {
        let path = self.log.path().to_path_buf();
        move || tail_of(&std::fs::read_to_string(&path).unwrap_or_default())
    }

    /// The current `/metrics` exposition, if the worker answers.
    pub fn metrics(&self) -> Option<String> {
        match http_get(&self.metrics_address, "/metrics") {
            Some((200, body)) => Some(body),
            _ => None,
        }
    }

    /// Fails the test, with the log, if the worker has exited.
    pub fn assert_running(&mut self, context: &str) {
        if let Some(status) = self.child.try_wait().unwrap() {
            panic!(
                "the worker exited ({status}) {context}:\n{}",
                self.log_tail()
            );
        }
    }

    /// SIGTERM, then waits up to `within` for a clean exit; fails the test
    /// (with the log) if the worker is still running or exits with an error.
    pub fn terminate(&mut self, within: Duration) {
        let status = terminate(&mut self.child, within);
        match status {
            Some(s) if s.success() => {}
            Some(s) => panic!(
                "the worker exited with {s} after SIGTERM:\n{}",
                self.log_tail()
            ),
            None => panic!(
                "the worker was still running {within:?} after SIGTERM:\n{}",
                self.log_tail()
            ),
        }
    }

    /// Waits for the worker to exit, calling `each` between polls; fails
    /// the test, saying `what` and showing the log, if it still runs at
    /// `deadline`.
    pub fn wait_exit(
        &mut self,
        deadline: Instant,
        what: &str,
        mut each: impl FnMut(),
    ) -> std::process::ExitStatus {
        loop {
            each();
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "{what}:\n{}", self.log_tail());
            std::thread::sleep(Duration::from_millis(20));
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
            self.assert_running(&format!("before reading {messages} messages"));
            assert!(
                Instant::now() < deadline,
                "the worker did not read {messages} messages within {timeout:?}:\n{}",
                self.log_tail()
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

/// A short, valid review with id `{prefix}{i}`, keyed by its id.
pub fn review(topic: &str, prefix: &str, i: usize) -> (String, Option<String>, Vec<u8>) {
    let id = format!("{prefix}{i}");
    let payload = format!(
        r#"{{"id":"{id}","kind":"review","created_at":"2026-11-0{}T10:00:00+08:00","source":"jd","text":"第{i}单物流太慢了，客服也不回"}}"#,
        1 + i % 9
    );
    (topic.to_owned(), Some(id), payload.into_bytes())
}

/// The Delta `txn` app ids of `partitions` partitions of `topic`.
pub fn app_ids(topic: &str, partitions: i32) -> Vec<String> {
    (0..partitions)
        .map(|p| format!("tongdian:{topic}:{p}"))
        .collect()
}

/// How many messages the offsets a table holds account for: the sum of
/// (offset + 1) over `app_ids`, the partitions not yet written counting 0.
pub fn offsets_cover(facts: &Value, table: &str, app_ids: &[String]) -> i64 {
    app_ids
        .iter()
        .map(|a| facts["offsets"][table][a].as_i64().map_or(0, |o| o + 1))
        .sum()
}

/// Reads the tables (independent reader) until both tables' offsets
/// account for `total` messages, i.e. every partition is committed to its
/// end; returns those facts. Fails the test after `timeout`.
pub fn wait_tables_cover(
    root: &str,
    app_ids: &[String],
    env: &[(&str, String)],
    total: i64,
    timeout: Duration,
    check: impl FnMut(),
) -> Value {
    wait_tables_cover_or(root, app_ids, env, total, timeout, check, String::new)
}

/// [`wait_tables_cover`], adding `context()` (a worker's log, say) to the
/// failure message, so that a stall can be read after the fact.
pub fn wait_tables_cover_or(
    root: &str,
    app_ids: &[String],
    env: &[(&str, String)],
    total: i64,
    timeout: Duration,
    mut check: impl FnMut(),
    context: impl Fn() -> String,
) -> Value {
    let deadline = Instant::now() + timeout;
    loop {
        check();
        if let Some(facts) = try_read_tables(root, app_ids, env) {
            let covered = ["feedback", "dead_letters"].map(|t| offsets_cover(&facts, t, app_ids));
            if covered == [total, total] {
                return facts;
            }
            assert!(
                Instant::now() < deadline,
                "the tables cover {covered:?} of {total} messages after {timeout:?}\n{}",
                context()
            );
        } else {
            assert!(
                Instant::now() < deadline,
                "the tables are unreadable after {timeout:?}\n{}",
                context()
            );
        }
        std::thread::sleep(Duration::from_millis(1500));
    }
}

/// `read_tables_with`, or `None` while the tables do not exist yet.
fn try_read_tables(root: &str, app_ids: &[String], env: &[(&str, String)]) -> Option<Value> {
    let out = Command::new(required_env("TD_PYTHON"))
        .arg(repo_root().join("tests/verify_tables.py"))
        .arg(root)
        .args(app_ids)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .expect("running the table reader");
    if !out.status.success() {
        return None;
    }
    serde_json::from_slice(&out.stdout).ok()
}

/// Facts about the analytics tables from the independent reader
/// (`tests/verify_analytics.py`), with the `txn` versions of `app_ids`.
pub fn read_analytics(root: &Path, app_ids: &[&str]) -> Value {
    python_reader("verify_analytics.py", root.to_str().unwrap(), app_ids, &[])
}

/// What the independent reader found holds `valid` feedback rows with as
/// many distinct ids, and `invalid` dead letters at as many distinct
/// positions: every message exactly once.
pub fn assert_exactly_once(facts: &Value, valid: usize, invalid: usize) {
    assert_eq!(
        facts["feedback_rows"], valid,
        "duplicated: {}",
        facts["duplicated_ids"]
    );
    assert_eq!(facts["feedback_distinct_ids"], valid);
    assert_eq!(facts["dead_letter_rows"], invalid);
    assert_eq!(facts["dead_letter_positions"], invalid);
}

/// The rollups the independent reader summed agree with what it recomputed
/// from `feedback`: each window size counts every message once in its
/// `all` rows, and complaints per theme and promoters match.
pub fn assert_rollups_match_feedback(f: &Value, rows: u64) {
    for grain in ["1h", "1d"] {
        assert_eq!(
            f["messages_by_grain"][grain].as_u64(),
            Some(rows),
            "{grain}: {f}"
        );
    }
    assert_eq!(f["rollup_complaints"], f["feedback_complaints"], "{f}");
    assert_eq!(f["rollup_promoters"], f["feedback_promoters"]);
}

/// The last 60 lines of a log.
fn tail_of(log: &str) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(60)..].join("\n")
}
