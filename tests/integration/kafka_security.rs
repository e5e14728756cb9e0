//! Kafka security for real: tansu with SASL authentication on (SCRAM users
//! in its store), reached directly (`sasl_plaintext`) and through a TLS
//! proxy that holds a certificate from a test CA (`sasl_ssl`, `ssl`). tansu
//! 0.6 has no TLS listener of its own (`--cert`/`--key` build an acceptor it
//! never uses), hence the proxy. Each client is `tongdian topics create`,
//! which connects with exactly the settings the workers use.

use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpStream;

use crate::support::{free_port, serve_forever, tongdian, Tansu};

const USER: &str = "svc-tongdian";
const PASSWORD: &str = "s3cr\"et p@ss";

/// `openssl` builds a CA and a server certificate for 127.0.0.1 signed by
/// it, as an operator would for a test cluster.
fn make_certificates(dir: &Path, ca: &str) {
    let sh = format!(
        "set -e
         openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN={ca} \
             -keyout {ca}.key -out {ca}.pem
         openssl req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout server.key -out server.csr
         printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > san.ext
         openssl x509 -req -in server.csr -CA {ca}.pem -CAkey {ca}.key -CAcreateserial \
             -days 2 -extfile san.ext -out server.pem"
    );
    let out = Command::new("bash")
        .args(["-c", &sh])
        .current_dir(dir)
        .output()
        .expect("running openssl");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Terminates TLS on `listen` and forwards the bytes to `upstream`;
/// counts completed handshakes. Runs until the test process ends.
fn tls_proxy(dir: &Path, listen: u16, upstream: String) -> Arc<AtomicUsize> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(dir.join("server.pem"))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let key = PrivateKeyDer::from_pem_file(dir.join("server.key")).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let handshakes = Arc::new(AtomicUsize::new(0));
    let counted = handshakes.clone();
    let listener = std::net::TcpListener::bind(("127.0.0.1", listen)).unwrap();
    serve_forever(listener, move |tcp| {
        let (acceptor, upstream, counted) = (acceptor.clone(), upstream.clone(), counted.clone());
        async move {
            // A client that rejects our certificate ends here.
            let Ok(mut tls) = acceptor.accept(tcp).await else {
                return;
            };
            counted.fetch_add(1, Ordering::SeqCst);
            let mut broker = TcpStream::connect(upstream).await.unwrap();
            let _ = tokio::io::copy_bidirectional(&mut tls, &mut broker).await;
        }
    });
    handshakes
}

fn topics_create(brokers: &str, env: &[(&str, &str)]) -> Output {
    tongdian()
        .args(["topics", "create", "--brokers", brokers])
        .args(["--partitions", "2", "--replication", "1"])
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

fn succeeded(out: &Output) -> bool {
    out.status.success() && String::from_utf8_lossy(&out.stdout).contains("feedback.reviews")
}

fn describe(out: &Output) -> String {
    format!(
        "exit {:?}\n{}\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
#[ignore = "needs tansu and openssl; run through scripts/test.sh"]
fn scram_and_tls_connect_and_wrong_credentials_or_ca_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let certs = tempfile::tempdir().unwrap();
    make_certificates(certs.path(), "tongdian-test-ca");
    let other_ca = tempfile::tempdir().unwrap();
    make_certificates(other_ca.path(), "another-ca");

    // SCRAM users live in the broker's store: create them while
    // authentication is off, then restart the broker with it on.
    {
        let open = Tansu::start_sqlite(dir.path());
        for mechanism in ["scram256", "scram512"] {
            let out = Command::new(std::env::var("TD_TANSU_BIN").unwrap())
                .args(["user", "create", "--mechanism", mechanism])
                .args(["--broker", &format!("tcp://{}", open.brokers)])
                .args([USER, PASSWORD])
                .output()
                .unwrap();
            assert!(out.status.success(), "{}", describe(&out));
        }
    }
    let proxy_port = free_port();
    let tansu = Tansu::start_sqlite_with(dir.path(), None, &["--authentication"]);
    // A second broker process on the same store, advertising the proxy, so
    // that every connection after the bootstrap also goes through TLS.
    let behind_proxy =
        Tansu::start_sqlite_with(dir.path(), Some(proxy_port), &["--authentication"]);
    let handshakes = tls_proxy(certs.path(), proxy_port, behind_proxy.brokers.clone());
    let proxied = format!("127.0.0.1:{proxy_port}");

    let password_file = dir.path().join("password");
    std::fs::write(&password_file, format!("{PASSWORD}\n")).unwrap();
    let password_file = password_file.to_str().unwrap();
    let ca = certs.path().join("tongdian-test-ca.pem");
    let ca = ca.to_str().unwrap();
    let wrong_ca = other_ca.path().join("another-ca.pem");

    // The broker really checks: no credentials, no topics.
    let out = topics_create(&tansu.brokers, &[]);
    assert!(
        !out.status.success(),
        "plaintext was let in: {}",
        describe(&out)
    );

    // SCRAM-SHA-512 without TLS, the password from a file.
    let scram512 = [
        ("TONGDIAN_KAFKA_SECURITY_PROTOCOL", "sasl_plaintext"),
        ("TONGDIAN_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512"),
        ("TONGDIAN_KAFKA_SASL_USERNAME", USER),
        ("TONGDIAN_KAFKA_SASL_PASSWORD_FILE", password_file),
    ];
    let out = topics_create(&tansu.brokers, &scram512);
    assert!(succeeded(&out), "{}", describe(&out));

    // A wrong password is refused.
    let out = topics_create(
        &tansu.brokers,
        &[
            ("TONGDIAN_KAFKA_SECURITY_PROTOCOL", "sasl_plaintext"),
            ("TONGDIAN_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512"),
            ("TONGDIAN_KAFKA_SASL_USERNAME", USER),
            ("TONGDIAN_KAFKA_SASL_PASSWORD", "not-the-password"),
        ],
    );
    assert!(
        !out.status.success() && describe(&out).contains("SASL SCRAM authentication failed"),
        "a wrong password: {}",
        describe(&out)
    );

    // SCRAM-SHA-256 inside TLS, the CA from a file, the password from the
    // environment.
    let before = handshakes.load(Ordering::SeqCst);
    let out = topics_create(
        &proxied,
        &[
            ("TONGDIAN_KAFKA_SECURITY_PROTOCOL", "sasl_ssl"),
            ("TONGDIAN_KAFKA_SASL_MECHANISM", "SCRAM-SHA-256"),
            ("TONGDIAN_KAFKA_SASL_USERNAME", USER),
            ("TONGDIAN_KAFKA_SASL_PASSWORD", PASSWORD),
            ("TONGDIAN_KAFKA_SSL_CA_LOCATION", ca),
        ],
    );
    assert!(succeeded(&out), "{}", describe(&out));
    assert!(
        handshakes.load(Ordering::SeqCst) > before,
        "no TLS handshake reached the proxy"
    );

    // A broker certificate from another CA is refused, whatever the
    // credentials.
    let before = handshakes.load(Ordering::SeqCst);
    let out = topics_create(
        &proxied,
        &[
            ("TONGDIAN_KAFKA_SECURITY_PROTOCOL", "sasl_ssl"),
            ("TONGDIAN_KAFKA_SASL_MECHANISM", "SCRAM-SHA-256"),
            ("TONGDIAN_KAFKA_SASL_USERNAME", USER),
            ("TONGDIAN_KAFKA_SASL_PASSWORD", PASSWORD),
            ("TONGDIAN_KAFKA_SSL_CA_LOCATION", wrong_ca.to_str().unwrap()),
        ],
    );
    assert!(
        !out.status.success() && describe(&out).contains("certificate verify failed"),
        "an unknown CA: {}",
        describe(&out)
    );
    assert_eq!(
        handshakes.load(Ordering::SeqCst),
        before,
        "a handshake completed"
    );
}
