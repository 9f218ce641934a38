//! `kafka-gen serve` over TLS, on the accept loop every listener shares: a client trusting
//! the test CA is served, one that does not trust it or speaks plain HTTP is not; with a
//! client CA (mTLS), a client without a certificate, or with one from another CA, is refused,
//! and one with a certificate the client CA signed is served.

use std::path::PathBuf;

use kafka_gen::listen::{Tls, DEFAULT_HEADER_READ_TIMEOUT};
use kafka_gen::serve::{router, AppState, Limits};
use tokio_util::sync::CancellationToken;

use super::tls_pki::Pki;

/// Serves the API with `[tls]` `config` on a random port; returns its `https://` base URL.
async fn start_tls(pki: &Pki, mutual: bool, stop: &CancellationToken) -> (String, String) {
    let limits = Limits {
        max_rate: 1000.0,
        max_total: 100_000,
        max_streams: 4,
        ..Limits::default()
    };
    let state = AppState::new(limits, Some(PathBuf::from(env!("CARGO_MANIFEST_DIR"))));
    let tls = Tls::load(&pki.tls(mutual)).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(kafka_gen::listen::serve(
        listener,
        router(state),
        tls,
        DEFAULT_HEADER_READ_TIMEOUT,
        stop.clone(),
    ));
    (format!("https://{addr}"), format!("http://{addr}"))
}

async fn health(client: &reqwest::Client, base: &str) -> Result<serde_json::Value, String> {
    let response = (client.get(format!("{base}/health")).send().await)
        .map_err(|e| format!("{:#}", anyhow::Error::new(e)))?;
    assert_eq!(response.status(), 200);
    Ok(response.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_answers_over_tls_only_clients_that_trust_it() {
    let pki = Pki::new();
    let stop = CancellationToken::new();
    let (https, http) = start_tls(&pki, false, &stop).await;
    let body = health(&pki.client(true, None), &https).await.unwrap();
    assert_eq!(body["status"], "ok");
    // A stream over TLS too.
    let lines = (pki.client(true, None))
        .post(format!("{https}/stream/music"))
        .body(r#"{"rate": 1000, "total": 5, "seed": 7}"#)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(lines.lines().count(), 5, "{lines}");
    let untrusted = health(&pki.client(false, None), &https).await.unwrap_err();
    assert!(untrusted.contains("certificate"), "{untrusted}");
    assert!(health(&pki.client(true, None), &http).await.is_err());
    stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_client_ca_serve_answers_only_clients_it_signed() {
    let pki = Pki::new();
    let stop = CancellationToken::new();
    let (https, _) = start_tls(&pki, true, &stop).await;
    assert!(health(&pki.client(true, None), &https).await.is_err());
    assert!(health(&pki.client(true, Some("stranger")), &https)
        .await
        .is_err());
    let body = health(&pki.client(true, Some("client")), &https)
        .await
        .unwrap();
    assert_eq!(body["status"], "ok");
    stop.cancel();
}
