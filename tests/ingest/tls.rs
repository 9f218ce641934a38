//! Issue 30: the ingest API over TLS with client certificates (mTLS), end to end. A client
//! that does not trust the test CA, or has no client certificate, is refused; the
//! generator's HTTP sink (`kafka-gen run --sink http`, reqwest on OpenSSL) trusting the CA
//! from `[http] ca_path` and presenting `client_cert_path` posts through the service to the
//! topics, every event once; without its certificate it delivers nothing and exits 1. The
//! service also requires a bearer token (`[auth]`, `/health` left open): the sink sends it
//! from `[http] authorization`, and a request over mTLS without it gets 401.

use std::time::Duration;

use rdkafka::mocking::MockCluster;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::common::kafka::{consume_all, TOPICS};
use super::common::{fixture_dir, kafka_gen, stderr};
use super::tls_pki::Pki;
use super::{wait_health, BOUND};

const TOKEN: &str = "5d1c7e0b9a3f4e6d8c2b1a0f9e8d7c6b";

/// `kafka-gen run --sink http` posting `count` events to `endpoint`, trusting the test CA
/// and, when `identity`, presenting the client certificate; returns its exit code, its
/// stderr and the http sink's (delivered, failed) counts from its summary.
async fn post_with_the_sink(
    pki: &Pki,
    endpoint: &str,
    count: u32,
    identity: bool,
) -> (Option<i32>, String, (u64, u64)) {
    let path = |name: &str| pki.path(name).display().to_string();
    let summary = path("summary.json");
    let mut args: Vec<String> = [
        "run",
        "--sink",
        "http",
        "--http-endpoint",
        endpoint,
        "--count",
        &count.to_string(),
        "--seed",
        "5",
        "--start",
        "2025-03-01T00:00:00Z",
        "--stats-interval",
        "0",
        "--dead-letter",
        &path("dead-letter.jsonl"),
        "--summary-json",
        &summary,
        "--conf",
        "http.batch_size=50",
        "--conf",
        "http.max_attempts=1",
        "--conf",
        &format!("http.ca_path={}", path("ca.crt")),
        "--conf",
        &format!("http.authorization=Bearer {TOKEN}"),
    ]
    .iter()
    .map(|a| a.to_string())
    .collect();
    args.extend(["--data-dir".into(), fixture_dir().display().to_string()]);
    if identity {
        for (field, file) in [
            ("client_cert_path", "client.crt"),
            ("client_key_path", "client.key"),
        ] {
            args.extend(["--conf".into(), format!("http.{field}={}", path(file))]);
        }
    }
    let out = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        kafka_gen(&args)
    })
    .await
    .unwrap();
    let summary: Value = serde_json::from_slice(&std::fs::read(&summary).unwrap()).unwrap();
    let http = &summary["sinks"][0];
    assert_eq!(http["name"], "http", "{summary}");
    let counts = (
        http["delivered_total"].as_u64().unwrap(),
        http["failed_total"].as_u64().unwrap(),
    );
    (out.status.code(), stderr(&out), counts)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_http_sink_posts_to_ingest_over_mtls() {
    let pki = Pki::new();
    let mock = MockCluster::new(1).unwrap();
    for topic in TOPICS {
        mock.create_topic(topic, 1, 1).unwrap();
    }
    let bootstrap = mock.bootstrap_servers();
    let mut config = super::ingest_config(&bootstrap);
    config.tls = pki.tls(true);
    let tokens = pki.path("tokens");
    std::fs::write(&tokens, format!("{TOKEN}\n")).unwrap();
    config.auth.token_file = Some(tokens);
    config.auth.health_open = true;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("https://{}", listener.local_addr().unwrap());
    let cancel = CancellationToken::new();
    let service = {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            kafka_gen::ingest::serve(&config.ingest_service()?, listener, cancel).await
        })
    };
    wait_health(&pki.client(true, Some("client")), &base, 200).await;
    let health = format!("{base}/health");
    for (trust, identity) in [
        (true, None),
        (false, Some("client")),
        (true, Some("stranger")),
    ] {
        let refused = pki.client(trust, identity).get(&health).send().await;
        assert!(
            refused.is_err(),
            "trust {trust}, identity {identity:?}: {refused:?}"
        );
    }

    // Past TLS, a request still needs the token.
    let client = pki.client(true, Some("client"));
    let denied = client.get(format!("{base}/metrics")).send().await.unwrap();
    assert_eq!(denied.status().as_u16(), 401);
    let allowed = client.get(format!("{base}/metrics")).bearer_auth(TOKEN);
    assert_eq!(allowed.send().await.unwrap().status().as_u16(), 200);

    let endpoint = format!("{base}/events");
    let (code, log, (delivered, failed)) = post_with_the_sink(&pki, &endpoint, 300, true).await;
    assert_eq!(code, Some(0), "{log}");
    assert!(
        !log.contains(TOKEN),
        "the run's log shows the token:\n{log}"
    );
    assert_eq!(failed, 0, "{log}");
    let b = bootstrap.clone();
    let records = tokio::task::spawn_blocking(move || consume_all(&b, &TOPICS))
        .await
        .unwrap();
    assert!(delivered >= 300, "{delivered}");
    assert_eq!(
        records.len() as u64,
        delivered,
        "every delivered event once"
    );

    // Without its client certificate the service refuses the sink: nothing is delivered.
    let (code, log, (delivered, failed)) = post_with_the_sink(&pki, &endpoint, 20, false).await;
    assert_eq!(code, Some(1), "{log}");
    assert_eq!(delivered, 0, "{log}");
    assert!(failed >= 20, "{log}");
    let b = bootstrap.clone();
    let after = tokio::task::spawn_blocking(move || consume_all(&b, &TOPICS))
        .await
        .unwrap();
    assert_eq!(after.len(), records.len());

    cancel.cancel();
    tokio::time::timeout(BOUND + Duration::from_secs(10), service)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}
