//! The middleware on a small router, called in-process (tower's `oneshot`), on tokio's paused
//! clock where time matters.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Request, StatusCode};
use axum::routing::get;
use axum::Router;
use tower::ServiceExt;

use super::*;

const TOKEN: &str = "s3cr3t-t0ken-0123456789";

fn access(tokens: &str, health_open: bool) -> Access {
    let c = AuthConfig {
        env_tokens: Some(crate::sinks::kafka::Secret::new(tokens)),
        health_open,
        ..AuthConfig::default()
    };
    Access::load(&c).unwrap()
}

fn unlimited() -> Limits {
    Limits {
        client_requests_per_sec: 0.0,
        client_burst: 1,
        max_concurrent_requests: None,
    }
}

/// `/health`, and `/echo`, which answers whether it saw an `Authorization` header.
fn app(guard: &Arc<Guard>) -> Router {
    let echo = |headers: HeaderMap| async move {
        format!(
            "authorization seen: {}",
            headers.contains_key("authorization")
        )
    };
    guard.wrap(
        Router::new()
            .route("/health", get(|| async { "ok" }))
            .route("/echo", get(echo)),
    )
}

async fn call(
    app: &Router,
    path: &str,
    auth: Option<&str>,
    from: &str,
) -> (StatusCode, HeaderMap, String) {
    let mut request = Request::get(path);
    if let Some(a) = auth {
        request = request.header("authorization", a);
    }
    let mut request = request.body(Body::empty()).unwrap();
    let peer: SocketAddr = from.parse().unwrap();
    request.extensions_mut().insert(ConnectInfo(peer));
    let response = app.clone().oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    let body = axum::body::to_bytes(body, 1 << 16).await.unwrap();
    (
        parts.status,
        parts.headers,
        String::from_utf8_lossy(&body).into(),
    )
}

#[tokio::test]
async fn no_token_a_wrong_one_and_the_right_one() {
    let guard = Guard::new(Listener::Ingest, access(TOKEN, false), unlimited());
    let app = app(&guard);
    let from = "10.0.0.1:5000";
    let (status, headers, body) = call(&app, "/echo", None, from).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(headers["www-authenticate"], r#"Bearer realm="kafka-gen""#);
    assert!(body.contains("needs a bearer token"), "{body}");
    let (status, ..) = call(&app, "/echo", Some("Basic dXNlcjpwYXNz"), from).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let wrong = "wrong-t0ken-0123456789-xyz";
    let (status, headers, body) = call(&app, "/echo", Some(&format!("Bearer {wrong}")), from).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        headers["www-authenticate"],
        r#"Bearer realm="kafka-gen", error="invalid_token""#
    );
    assert!(!body.contains(wrong) && !body.contains(TOKEN), "{body}");
    // A prefix of the token is not the token.
    let (status, ..) = call(
        &app,
        "/echo",
        Some(&format!("Bearer {}", &TOKEN[..20])),
        from,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // Nor is /health open unless asked, nor a path that does not exist.
    assert_eq!(
        call(&app, "/health", None, from).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        call(&app, "/nope", None, from).await.0,
        StatusCode::UNAUTHORIZED
    );

    let (status, _, body) = call(&app, "/echo", Some(&format!("Bearer {TOKEN}")), from).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, "authorization seen: false", "the header is removed");
}

#[tokio::test]
async fn health_may_stay_open_and_no_tokens_means_open() {
    let guard = Guard::new(Listener::Metrics, access(TOKEN, true), unlimited());
    let routes = app(&guard);
    assert_eq!(
        call(&routes, "/health", None, "10.0.0.1:1").await.0,
        StatusCode::OK
    );
    assert_eq!(
        call(&routes, "/echo", None, "10.0.0.1:1").await.0,
        StatusCode::UNAUTHORIZED
    );
    let open = Guard::new(Listener::Metrics, Access::open(), unlimited());
    let (status, _, body) = call(&app(&open), "/echo", Some("Bearer x"), "10.0.0.1:1").await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::OK, "authorization seen: false")
    );
}

#[tokio::test(start_paused = true)]
async fn a_client_over_its_rate_gets_429_with_retry_after_and_others_do_not() {
    let limits = Limits {
        client_requests_per_sec: 0.5,
        client_burst: 2,
        ..unlimited()
    };
    let guard = Guard::new(Listener::Serve, Access::open(), limits);
    let app = app(&guard);
    let (a, b) = ("192.0.2.1:1000", "192.0.2.2:1000");
    for _ in 0..2 {
        assert_eq!(call(&app, "/health", None, a).await.0, StatusCode::OK);
    }
    // Another port of the same address is the same client.
    let (status, headers, body) = call(&app, "/health", None, "192.0.2.1:2000").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(headers["retry-after"], "2", "one request every 2 s");
    assert!(body.contains("--client-requests-per-sec 0.5"), "{body}");
    assert_eq!(call(&app, "/health", None, b).await.0, StatusCode::OK);
    tokio::time::advance(Duration::from_secs(2)).await;
    assert_eq!(call(&app, "/health", None, a).await.0, StatusCode::OK);
    assert_eq!(
        call(&app, "/health", None, a).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn requests_beyond_the_concurrent_bound_get_503() {
    let limits = Limits {
        max_concurrent_requests: Some(1),
        ..unlimited()
    };
    let guard = Guard::new(Listener::Metrics, Access::open(), limits);
    let release = Arc::new(tokio::sync::Notify::new());
    let entered = Arc::new(tokio::sync::Notify::new());
    let (r, e) = (release.clone(), entered.clone());
    let slow = move || async move {
        e.notify_one();
        r.notified().await;
        "done"
    };
    let app = guard.wrap(
        Router::new()
            .route("/slow", get(slow))
            .route("/health", get(|| async { "ok" })),
    );
    let first = tokio::spawn({
        let app = app.clone();
        async move { call(&app, "/slow", None, "10.0.0.1:1").await.0 }
    });
    entered.notified().await;
    let (status, headers, body) = call(&app, "/health", None, "10.0.0.2:1").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(headers["retry-after"], "1");
    assert!(body.contains("metrics.max_concurrent_requests"), "{body}");
    release.notify_one();
    assert_eq!(first.await.unwrap(), StatusCode::OK);
    assert_eq!(
        call(&app, "/health", None, "10.0.0.2:1").await.0,
        StatusCode::OK
    );
}
