//! A front for s3s-fs that decides conditional PUTs one at a time.
//!
//! s3s-fs answers `If-None-Match: *` by checking that the object is absent
//! and then writing it, so two creates of one key can both succeed and the
//! later silently replaces the earlier (measured with s3s-fs 0.14.1: 117 of
//! 120 creates, four at a time on 30 keys, succeeded). S3, MinIO and R2
//! decide a create atomically, and a Delta log relies on that: when two
//! writers race for version N, one must lose and see the conflict, or a
//! batch and its offsets vanish. Forwarding conditional PUTs one at a time
//! gives s3s-fs that guarantee; everything else passes through unchanged
//! and concurrently. The bytes are forwarded as they are, so signatures
//! (made for the front's host) still verify.
//!
//! Only as much HTTP/1.1 as the object-store clients speak: bodies framed
//! by `Content-Length` or chunked, a fresh upstream connection per request.

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;

use crate::support::{free_port, serve_forever};

/// What passed through the front.
#[derive(Debug, Default)]
pub struct Counts {
    /// Conditional PUTs forwarded (one at a time).
    pub conditional: AtomicUsize,
    /// Of those, the ones the store refused (412): a lost race.
    pub refused: AtomicUsize,
}

/// Listens on a free loopback port and forwards to `upstream` (host:port)
/// until the test process ends; returns its address and its counts.
pub fn start(upstream: String) -> (String, Arc<Counts>) {
    let listener = std::net::TcpListener::bind(("127.0.0.1", free_port())).unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let counts = Arc::new(Counts::default());
    let counted = counts.clone();
    let turn = Arc::new(Mutex::new(()));
    serve_forever(listener, move |client| {
        let (upstream, turn, counted) = (upstream.clone(), turn.clone(), counted.clone());
        async move {
            // A client that hangs up mid-request ends here.
            let _ = serve(client, &upstream, &turn, &counted).await;
        }
    });
    (address, counts)
}

/// Forwards one client connection's requests, one after another.
async fn serve(
    client: TcpStream,
    upstream: &str,
    turn: &Mutex<()>,
    counts: &Counts,
) -> io::Result<()> {
    let mut client = BufReader::new(client);
    while let Some(request) = read_head(&mut client).await? {
        let mut message = request.raw.clone();
        copy_body(&mut client, &mut message, request.request_framing()).await?;
        let conditional = request.method() == "PUT"
            && (request.header("if-none-match").is_some() || request.header("if-match").is_some());
        // Held until the store has answered: its check and its write then
        // happen with no other conditional PUT in between.
        let _turn = if conditional {
            counts.conditional.fetch_add(1, Ordering::SeqCst);
            Some(turn.lock().await)
        } else {
            None
        };
        let mut store = BufReader::new(TcpStream::connect(upstream).await?);
        store.get_mut().write_all(&message).await?;
        let (response, until_close) = loop {
            let Some(head) = read_head(&mut store).await? else {
                return Err(io::ErrorKind::UnexpectedEof.into());
            };
            let status = head.status();
            let mut response = head.raw.clone();
            if (100..200).contains(&status) {
                // An interim answer (100 Continue): pass it on, read on.
                client.get_mut().write_all(&response).await?;
                continue;
            }
            if conditional && status == 412 {
                counts.refused.fetch_add(1, Ordering::SeqCst);
            }
            let framing = head.response_framing(request.method() == "HEAD");
            copy_body(&mut store, &mut response, framing).await?;
            break (response, framing == Framing::UntilClose);
        };
        client.get_mut().write_all(&response).await?;
        if until_close {
            return Ok(());
        }
    }
    Ok(())
}

/// An HTTP/1.1 message head: the bytes up to and including the blank line.
struct Head {
    raw: Vec<u8>,
    start: String,
    headers: Vec<(String, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    Empty,
    Length(u64),
    Chunked,
    UntilClose,
}

impl Head {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn method(&self) -> &str {
        self.start.split(' ').next().unwrap_or_default()
    }

    fn status(&self) -> u16 {
        self.start
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    }

    fn declared_framing(&self) -> Option<Framing> {
        if self
            .header("transfer-encoding")
            .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"))
        {
            return Some(Framing::Chunked);
        }
        self.header("content-length")
            .map(|v| Framing::Length(v.trim().parse().expect("a numeric Content-Length")))
    }

    fn request_framing(&self) -> Framing {
        self.declared_framing().unwrap_or(Framing::Empty)
    }

    /// RFC 9112 §6.3: HEAD answers, 204 and 304 have no body whatever their
    /// headers say; without framing headers the body runs to the close.
    fn response_framing(&self, to_head: bool) -> Framing {
        if to_head || matches!(self.status(), 204 | 304) {
            return Framing::Empty;
        }
        self.declared_framing().unwrap_or(Framing::UntilClose)
    }
}

/// The next message head, or `None` if the peer closed between messages.
async fn read_head(r: &mut (impl AsyncBufRead + Unpin)) -> io::Result<Option<Head>> {
    let mut raw = Vec::new();
    loop {
        let line_start = raw.len();
        if r.read_until(b'\n', &mut raw).await? == 0 {
            return if raw.is_empty() {
                Ok(None)
            } else {
                Err(io::ErrorKind::UnexpectedEof.into())
            };
        }
        if &raw[line_start..] == b"\r\n" {
            break;
        }
    }
    let text = String::from_utf8_lossy(&raw).into_owned();
    let mut lines = text.split("\r\n");
    let start = lines.next().unwrap_or_default().to_owned();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    Ok(Some(Head {
        raw,
        start,
        headers,
    }))
}

/// Appends the body that follows a head, framing included, to `out`.
async fn copy_body(
    r: &mut (impl AsyncBufRead + Unpin),
    out: &mut Vec<u8>,
    framing: Framing,
) -> io::Result<()> {
    match framing {
        Framing::Empty => {}
        Framing::Length(n) => {
            r.take(n).read_to_end(out).await?;
        }
        Framing::UntilClose => {
            r.read_to_end(out).await?;
        }
        Framing::Chunked => loop {
            let line_start = out.len();
            r.read_until(b'\n', out).await?;
            let line = String::from_utf8_lossy(&out[line_start..]).into_owned();
            let size = line.split(';').next().unwrap_or_default().trim();
            let size = u64::from_str_radix(size, 16)
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad chunk size"))?;
            if size == 0 {
                // Trailers, if any, then the blank line.
                loop {
                    let at = out.len();
                    if r.read_until(b'\n', out).await? == 0 || &out[at..] == b"\r\n" {
                        return Ok(());
                    }
                }
            }
            // The chunk and its CRLF.
            r.take(size + 2).read_to_end(out).await?;
        },
    }
    Ok(())
}

/// A stand-in store: answers each request after a pause, and records the
/// most conditional PUTs it was handling at once. Two plain GETs wait for
/// each other, so a front that serialised everything would hang them.
async fn stand_in_store(listener: TcpListener, most: Arc<AtomicUsize>) {
    let in_flight = Arc::new(AtomicUsize::new(0));
    let gets = Arc::new(tokio::sync::Barrier::new(2));
    loop {
        let (conn, _) = listener.accept().await.unwrap();
        let (in_flight, most, gets) = (in_flight.clone(), most.clone(), gets.clone());
        tokio::spawn(async move {
            let mut conn = BufReader::new(conn);
            let head = read_head(&mut conn).await.unwrap().unwrap();
            let mut body = Vec::new();
            copy_body(&mut conn, &mut body, head.request_framing())
                .await
                .unwrap();
            let answer = if head.method() == "PUT" {
                let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(std::time::Duration::from_millis(30)).await;
                in_flight.fetch_sub(1, Ordering::SeqCst);
                let status = match &body[..] {
                    b"first" => "200 OK",
                    _ => "412 Precondition Failed",
                };
                let body = String::from_utf8(body).unwrap();
                format!(
                    "HTTP/1.1 {status}\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                )
            } else {
                gets.wait().await;
                // Chunked, with a chunk extension and a trailer.
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\nX-T: 1\r\n\r\n"
                    .to_owned()
            };
            conn.get_mut().write_all(answer.as_bytes()).await.unwrap();
        });
    }
}

/// Sends one request on a new connection; returns the whole response.
async fn send(address: String, request: String) -> String {
    let mut conn = BufReader::new(TcpStream::connect(address).await.unwrap());
    conn.get_mut().write_all(request.as_bytes()).await.unwrap();
    let head = read_head(&mut conn).await.unwrap().unwrap();
    let mut out = head.raw.clone();
    copy_body(&mut conn, &mut out, head.response_framing(false))
        .await
        .unwrap();
    String::from_utf8(out).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conditional_puts_pass_one_at_a_time_and_the_rest_concurrently() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let upstream = listener.local_addr().unwrap().to_string();
    let most = Arc::new(AtomicUsize::new(0));
    tokio::spawn(stand_in_store(listener, most.clone()));
    let (front, counts) = start(upstream);

    let mut requests = Vec::new();
    for body in ["first", "later", "later", "later", "later", "later"] {
        requests.push(format!(
            "PUT /lake/_delta_log/1.json HTTP/1.1\r\nHost: {front}\r\nIf-None-Match: *\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        ));
    }
    for _ in 0..2 {
        requests.push(format!("GET /lake/x HTTP/1.1\r\nHost: {front}\r\n\r\n"));
    }
    let tasks: Vec<_> = requests
        .into_iter()
        .map(|r| tokio::spawn(send(front.clone(), r)))
        .collect();
    let mut answers = Vec::new();
    for t in tasks {
        let answer = tokio::time::timeout(std::time::Duration::from_secs(20), t)
            .await
            .expect("the front held a request (the two GETs must pass together)");
        answers.push(answer.unwrap());
    }

    assert_eq!(
        most.load(Ordering::SeqCst),
        1,
        "two conditional PUTs reached the store at once"
    );
    assert_eq!(counts.conditional.load(Ordering::SeqCst), 6);
    assert_eq!(counts.refused.load(Ordering::SeqCst), 5);
    assert!(
        answers[0].starts_with("HTTP/1.1 200 OK") && answers[0].ends_with("\r\n\r\nfirst"),
        "{}",
        answers[0]
    );
    for refused in &answers[1..6] {
        assert!(
            refused.starts_with("HTTP/1.1 412") && refused.ends_with("later"),
            "{refused}"
        );
    }
    for get in &answers[6..] {
        assert!(
            get.ends_with("\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\nX-T: 1\r\n\r\n"),
            "{get}"
        );
    }
}
