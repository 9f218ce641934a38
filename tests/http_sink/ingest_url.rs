//! Issue 29: the tutoring document's user sets `INGEST_API_URL` and nothing else. The run must
//! post there (not try Kafka), one event per request, each body the document's
//! `{event_type, payload}`, the event's id in `Idempotency-Key`.

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use axum::Router;
use serde_json::Value;

/// Each request's `Idempotency-Key` and body.
type Seen = Arc<Mutex<Vec<(String, Value)>>>;

async fn record(State(seen): State<Seen>, headers: HeaderMap, body: bytes::Bytes) -> &'static str {
    let key = (headers.get("idempotency-key"))
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    seen.lock().unwrap().push((key, body));
    "{}"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_api_url_alone_posts_one_document_body_per_request() {
    let seen: Seen = Arc::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/ingest", listener.local_addr().unwrap());
    let app = Router::new()
        .route("/ingest", post(record))
        .with_state(seen.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let out = tokio::task::spawn_blocking(move || {
        let mut cmd = std::process::Command::new(super::common::kafka_gen_bin());
        for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("KAFKA_GEN_")) {
            cmd.env_remove(k);
        }
        cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
            .env_remove("RUST_LOG")
            .env("INGEST_API_URL", &url)
            .args(["--scenario", "tutoring", "--count", "30", "--seed", "4"])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("INGEST_API_URL sets KAFKA_GEN_SINK=http"),
        "{stderr}"
    );
    let seen = seen.lock().unwrap();
    // 30 primaries, and completions of sessions started on top: one request each.
    assert!(seen.len() >= 30, "{} requests", seen.len());
    for (key, body) in seen.iter() {
        let fields: Vec<&str> = body
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        assert_eq!(fields, ["event_type", "payload"], "{body}");
        assert!(body["payload"]["timestamp"].is_string(), "{body}");
        assert!(uuid::Uuid::parse_str(key).is_ok(), "key {key:?}");
    }
    let keys: std::collections::HashSet<&String> = seen.iter().map(|(k, _)| k).collect();
    assert_eq!(
        keys.len(),
        seen.len(),
        "each request carries its own event's id"
    );
}
