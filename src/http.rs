//! The worker's HTTP endpoint for operators: `/metrics` (Prometheus text),
//! `/healthz` (the process is up) and `/readyz` (it holds partitions and can
//! write its tables). Three fixed GET routes do not need a web framework;
//! each connection gets one response and is closed.

use std::sync::Arc;

use anyhow::{Context, Result};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tongdian_ingest::Metrics;

/// Binds `listen` and serves until the process ends.
pub async fn serve(listen: &str, metrics: Arc<Metrics>) -> Result<()> {
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("binding the metrics endpoint to {listen}"))?;
    tracing::info!(address = %listener.local_addr()?, "serving /metrics, /healthz, /readyz");
    tokio::spawn(async move {
        loop {
            match listener.accept().await {
                Ok((stream, _)) => {
                    let metrics = metrics.clone();
                    tokio::spawn(async move {
                        if let Err(e) = respond(stream, &metrics).await {
                            tracing::debug!(error = %e, "metrics request");
                        }
                    });
                }
                Err(e) => tracing::warn!(error = %e, "metrics endpoint accept"),
            }
        }
    });
    Ok(())
}

async fn respond(mut stream: TcpStream, metrics: &Metrics) -> std::io::Result<()> {
    // Read the whole head before answering: a client that sends its request
    // in pieces would otherwise write into a socket we already closed (and
    // unread bytes make the kernel reset the connection). Heads of scrapes
    // and probes fit in 4 KiB; a silent client gets 5 s.
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    let read_head = async {
        while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 4096 {
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        Ok::<_, std::io::Error>(())
    };
    match tokio::time::timeout(std::time::Duration::from_secs(5), read_head).await {
        Err(_silent_too_long) => return Ok(()),
        Ok(read) => read?,
    }
    let request = String::from_utf8_lossy(&buf);
    let path = request
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap_or("");
    let (status, content_type, body) = route(path, metrics);
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    stream.shutdown().await
}

fn route(path: &str, metrics: &Metrics) -> (&'static str, &'static str, String) {
    const TEXT: &str = "text/plain; charset=utf-8";
    match path {
        "/metrics" => (
            "200 OK",
            "text/plain; version=0.0.4; charset=utf-8",
            metrics.render(),
        ),
        "/healthz" => ("200 OK", TEXT, "ok\n".into()),
        "/readyz" if metrics.is_ready() => ("200 OK", TEXT, "ready\n".into()),
        "/readyz" => (
            "503 Service Unavailable",
            TEXT,
            "not ready: no partitions assigned or the tables are not writable\n".into(),
        ),
        _ => (
            "404 Not Found",
            TEXT,
            "try /metrics, /healthz or /readyz\n".into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn serves_the_three_routes() {
        let metrics = Arc::new(Metrics::default());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap().to_string();
        drop(listener);
        serve(&address, metrics.clone()).await.unwrap();
        let get = |path: &'static str| {
            let address = address.clone();
            async move {
                let mut s = TcpStream::connect(&address).await.unwrap();
                s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
                    .await
                    .unwrap();
                let mut out = String::new();
                s.read_to_string(&mut out).await.unwrap();
                out
            }
        };
        assert!(get("/healthz").await.starts_with("HTTP/1.1 200"));
        assert!(
            get("/readyz").await.starts_with("HTTP/1.1 503"),
            "no partitions yet"
        );
        let m = get("/metrics").await;
        assert!(
            m.starts_with("HTTP/1.1 200") && m.contains("tongdian_messages_consumed_total 0"),
            "{m}"
        );
        assert!(get("/nope").await.starts_with("HTTP/1.1 404"));

        // A request written in pieces is answered once it is complete.
        let mut s = TcpStream::connect(&address).await.unwrap();
        s.write_all(b"GET /healthz HTTP/1.0\r\n").await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        s.write_all(b"Host: x\r\n\r\n").await.unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    }
}
