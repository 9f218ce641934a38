//! What the listeners' guard (issue 30) costs a request: a GET through an axum router with a
//! trivial handler, called in-process (tower's `oneshot`, no socket), without the guard and
//! behind it with: the per-address rate limit only; that and one bearer token; that and 1000
//! tokens (each request is compared with every one). Alternating, median of 5 rounds, in the
//! same run; the ratio is against the router without the guard.
//!
//! Then the listener itself over loopback sockets: plain HTTP, TLS, and TLS behind the guard
//! with a token, each served by the listeners' one accept loop and called by reqwest (on
//! OpenSSL) in the same process, on a kept-alive connection and with a new connection (and
//! TLS handshake) each request. The ratio is against plain HTTP, in the same run.
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
use kafka_gen::listen::{Tls, TlsConfig};
use kafka_gen::sinks::kafka::Secret;
use tokio_util::sync::CancellationToken;
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

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
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
    let base = median(&mut samples[0].clone());
    for ((name, ..), s) in cases.iter().zip(&mut samples) {
        let ns = median(s);
        println!(
            "{name:>26}: {ns:>8.0} ns/request, {:.2}x the router alone",
            ns / base
        );
    }
    sockets(limits);
}

/// Requests of the socket-level cases, each round.
const SOCKET_REQUESTS: u32 = 2_000;

/// A self-signed certificate for 127.0.0.1 in `dir`, as `[tls]` takes it, and its PEM.
fn certificate(dir: &std::path::Path) -> (TlsConfig, Vec<u8>) {
    let key = rcgen::KeyPair::generate().unwrap();
    let params = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap();
    let cert = params.self_signed(&key).unwrap();
    let (cert_path, key_path) = (dir.join("server.crt"), dir.join("server.key"));
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    let config = TlsConfig {
        cert_path: Some(cert_path),
        key_path: Some(key_path),
        client_ca_path: None,
    };
    (config, cert.pem().into_bytes())
}

/// `app` served by the listeners' own accept loop on a random port, over TLS when given;
/// returns its base URL.
async fn listen(app: Router, tls: Option<Tls>, stop: &CancellationToken) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let scheme = if tls.is_some() { "https" } else { "http" };
    tokio::spawn(kafka_gen::listen::serve(
        listener,
        app,
        tls,
        kafka_gen::listen::DEFAULT_HEADER_READ_TIMEOUT,
        stop.clone(),
    ));
    format!("{scheme}://{addr}/health")
}

/// Nanoseconds per request over a socket: `SOCKET_REQUESTS` GETs one after another, on one
/// kept-alive connection or each on a new one (a TCP and, over TLS, a handshake each).
async fn time_socket(client: &reqwest::Client, url: &str, token: bool) -> f64 {
    let started = Instant::now();
    for _ in 0..SOCKET_REQUESTS {
        let mut request = client.get(url);
        if token {
            request = request.bearer_auth(TOKEN);
        }
        let response = request.send().await.unwrap();
        assert!(response.status().is_success());
        response.bytes().await.unwrap();
    }
    started.elapsed().as_nanos() as f64 / f64::from(SOCKET_REQUESTS)
}

/// The listener itself: plain HTTP against TLS (and TLS with a token), with the client
/// (reqwest on OpenSSL) in the same process; per request on a kept-alive connection, and
/// with a new connection each time.
fn sockets(limits: Limits) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (config, pem) = certificate(dir.path());
    let stop = CancellationToken::new();
    let guarded = Guard::new(Listener::Ingest, access(1), limits);
    let urls = runtime.block_on(async {
        let tls = || Tls::load(&config).unwrap();
        [
            listen(app(None), None, &stop).await,
            listen(app(None), tls(), &stop).await,
            listen(app(Some(guarded)), tls(), &stop).await,
        ]
    });
    let client = |keep_alive: bool| {
        let mut b = reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap());
        if !keep_alive {
            b = b.pool_max_idle_per_host(0);
        }
        b.build().unwrap()
    };
    for (mode, keep_alive) in [
        ("kept-alive connection", true),
        ("new connection each", false),
    ] {
        let client = client(keep_alive);
        let cases = [
            ("plain HTTP", &urls[0], false),
            ("TLS", &urls[1], false),
            ("TLS + rate limit + token", &urls[2], true),
        ];
        let mut samples = vec![Vec::new(); cases.len()];
        for _ in 0..ROUNDS {
            for (i, (_, url, token)) in cases.iter().enumerate() {
                samples[i].push(runtime.block_on(time_socket(&client, url, *token)));
            }
        }
        let base = median(&mut samples[0].clone());
        println!("{mode}:");
        for ((name, ..), s) in cases.iter().zip(&mut samples) {
            let ns = median(s);
            println!(
                "{name:>26}: {:>8.1} us/request, {:.2}x plain HTTP",
                ns / 1e3,
                ns / base
            );
        }
    }
    stop.cancel();
}
