//! What the listeners' guard (issue 30) costs a request: a GET through an axum router with a
//! trivial handler, called in-process (tower's `oneshot`, no socket), without the guard and
//! behind it with: the per-address rate limit only; that and one bearer token; that and 1000
//! tokens (each request is compared with every one). Alternating, median of 5 rounds, in the
//! same run; the ratio is against the router without the guard.
//!
//! `cargo bench --bench guard`

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use axum::routing::get;
use axum::Router;
use kafka_gen::guard::{Access, AuthConfig, Guard, Limits, Listener};
use kafka_gen::sinks::kafka::Secret;
use tower::ServiceExt;

const REQUESTS: u32 = 200_000;
const ROUNDS: usize = 5;
const TOKEN: &str = "7f3c9a1e5b2d8f4a6c0e9b1d3f5a7c2e";

fn access(tokens: usize) -> Access {
    if tokens == 0 {
        return Access::open();
    }
    let mut list: Vec<String> = (1..tokens).map(|i| format!("{i:032x}")).collect();
    list.push(TOKEN.into());
    let c = AuthConfig {
        env_tokens: Some(Secret::new(list.join(","))),
        ..AuthConfig::default()
    };
    Access::load(&c).unwrap()
}

fn app(guard: Option<Arc<Guard>>) -> Router {
    let router = Router::new().route("/health", get(|| async { "ok" }));
    match guard {
        Some(g) => g.wrap(router),
        None => router,
    }
}

/// Nanoseconds per request, `REQUESTS` of them from 100 client addresses.
async fn time(app: &Router, token: bool) -> f64 {
    let started = Instant::now();
    for i in 0..REQUESTS {
        let mut request = Request::get("/health");
        if token {
            request = request.header("authorization", format!("Bearer {TOKEN}"));
        }
        let mut request = request.body(Body::empty()).unwrap();
        let peer = SocketAddr::from(([10, 0, 0, (i % 100) as u8], 40_000));
        request.extensions_mut().insert(ConnectInfo(peer));
        let response = app.clone().oneshot(request).await.unwrap();
        assert!(response.status().is_success());
    }
    started.elapsed().as_nanos() as f64 / f64::from(REQUESTS)
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let limits = Limits {
        client_requests_per_sec: 1e6,
        client_burst: 1_000_000,
        max_concurrent_requests: None,
    };
    let guarded = |tokens| Some(Guard::new(Listener::Ingest, access(tokens), limits));
    let cases: Vec<(&str, Router, bool)> = vec![
        ("no guard", app(None), false),
        ("rate limit", app(guarded(0)), false),
        ("rate limit + 1 token", app(guarded(1)), true),
        ("rate limit + 1000 tokens", app(guarded(1000)), true),
    ];
    let mut samples = vec![Vec::new(); cases.len()];
    for _ in 0..ROUNDS {
        for (i, (_, app, token)) in cases.iter().enumerate() {
            samples[i].push(runtime.block_on(time(app, *token)));
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let base = median(&mut samples[0].clone());
    for ((name, ..), s) in cases.iter().zip(&mut samples) {
        let ns = median(s);
        println!(
            "{name:>26}: {ns:>8.0} ns/request, {:.2}x the router alone",
            ns / base
        );
    }
}
