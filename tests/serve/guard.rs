//! Issue 30: what `kafka-gen serve` lets in. In-process: streams per client address and the
//! body limit. As a process: tokens (no token, a wrong one, the right one, `/health` left
//! open), the per-address request rate, and the start-up warning when it listens beyond
//! loopback without tokens. Client addresses differ by source address (127.0.0.1 and
//! 127.0.0.2, both loopback on Linux). Waits are real I/O, each bounded.

use std::io::{BufRead, BufReader};
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use kafka_gen::serve::{router, AppState, Limits};

const TOKEN: &str = "c0ffee00c0ffee00c0ffee00c0ffee00";
/// `kafka-gen serve` loads every world's master data before it listens: seconds in a debug
/// build, more on a busy machine.
const BOUND: Duration = Duration::from_secs(180);

/// A client whose connections come from `127.0.0.<n>`.
fn from(n: u8) -> reqwest::Client {
    let ip = IpAddr::from([127, 0, 0, n]);
    reqwest::Client::builder()
        .local_address(ip)
        .build()
        .unwrap()
}

/// The server as `kafka-gen serve` runs it, with the client's address passed along.
async fn start_with(limits: Limits) -> (String, AppState) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let state = AppState::new(limits, Some(root));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = state.shutdown();
    tokio::spawn(kafka_gen::listen::serve(
        listener,
        router(state.clone()),
        None,
        kafka_gen::listen::DEFAULT_HEADER_READ_TIMEOUT,
        stop,
    ));
    (format!("http://{addr}"), state)
}

async fn open_stream(client: &reqwest::Client, base: &str) -> reqwest::Response {
    client
        .post(format!("{base}/stream/retail"))
        .body(r#"{"rate": 1, "total": 100000}"#)
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_address_has_its_share_of_streams_and_bodies_are_bounded() {
    let limits = Limits {
        max_streams: 4,
        max_streams_per_client: 2,
        max_body_bytes: 1024,
        ..Limits::default()
    };
    let (base, state) = start_with(limits).await;
    let (a, b) = (from(1), from(2));
    let first = open_stream(&a, &base).await;
    let second = open_stream(&a, &base).await;
    assert_eq!(
        (first.status().as_u16(), second.status().as_u16()),
        (200, 200)
    );
    let third = open_stream(&a, &base).await;
    assert_eq!(third.status(), 429);
    let body: serde_json::Value = third.json().await.unwrap();
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("--max-streams-per-client"),
        "{body}"
    );
    let other = open_stream(&b, &base).await;
    assert_eq!(other.status(), 200, "another address has its own share");
    drop(first);
    let deadline = Instant::now() + BOUND;
    while state.active_streams() > 2 {
        assert!(
            Instant::now() < deadline,
            "the closed stream was never freed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let again = open_stream(&a, &base).await;
    assert_eq!(again.status(), 200, "a closed stream gives its place back");

    let response = a
        .post(format!("{base}/stream/retail"))
        .body(" ".repeat(2000))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    let body = response.text().await.unwrap();
    assert!(body.contains("--max-body-bytes"), "{body}");
    drop((second, other, again));
    state.shutdown().cancel();
}

/// `kafka-gen serve` with `args` and `env`, its stderr read line by line on a thread.
fn serve(args: &[&str], env: &[(&str, &str)]) -> (Child, std::sync::mpsc::Receiver<String>) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kafka-gen"));
    for (k, _) in
        std::env::vars().filter(|(k, _)| k.starts_with("KAFKA_GEN") || k.starts_with("SIMTOM"))
    {
        cmd.env_remove(k);
    }
    let mut child = cmd
        .arg("serve")
        .args(args)
        .envs(env.iter().copied())
        .env("RUST_LOG", "info")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (child, rx)
}

/// Lines until one contains `needle`, at most [`BOUND`].
fn lines_until(lines: &std::sync::mpsc::Receiver<String>, needle: &str) -> Vec<String> {
    let deadline = Instant::now() + BOUND;
    let mut seen = Vec::new();
    while let Ok(line) = lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        let found = line.contains(needle);
        seen.push(line);
        if found {
            return seen;
        }
    }
    panic!("no line with {needle:?} in:\n{}", seen.join("\n"));
}

fn stop(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn beyond_loopback_without_tokens_it_says_what_is_exposed() {
    let (child, lines) = serve(&["--listen", "0.0.0.0:0"], &[]);
    let seen = lines_until(&lines, "for anyone who can reach it");
    let warning = seen.last().unwrap();
    assert!(
        warning.contains("WARN") && warning.contains("serve on 0.0.0.0:"),
        "{warning}"
    );
    assert!(warning.contains("--auth-token-file") && warning.contains("KAFKA_GEN_AUTH_TOKENS"));
    stop(child);

    let (child, lines) = serve(
        &["--listen", "0.0.0.0:0"],
        &[("KAFKA_GEN_AUTH_TOKENS", TOKEN)],
    );
    let seen = lines_until(&lines, "Requests need a bearer token");
    assert!(!seen.iter().any(|l| l.contains("anyone")), "{seen:?}");
    assert!(!seen.iter().any(|l| l.contains(TOKEN)), "{seen:?}");
    stop(child);

    // Client certificates required (mTLS) and no token: locked down, so no warning.
    let pki = super::tls_pki::Pki::new();
    let tls = pki.tls(true);
    let path = |p: &Option<std::path::PathBuf>| p.as_ref().unwrap().display().to_string();
    let (cert, key, ca) = (
        path(&tls.cert_path),
        path(&tls.key_path),
        path(&tls.client_ca_path),
    );
    let (child, lines) = serve(
        &[
            "--listen",
            "0.0.0.0:0",
            "--tls-cert",
            &cert,
            "--tls-key",
            &key,
        ],
        &[("KAFKA_GEN_TLS_CLIENT_CA", &ca)],
    );
    let seen = lines_until(&lines, "Requests need a client certificate");
    assert!(!seen.iter().any(|l| l.contains("anyone")), "{seen:?}");
    stop(child);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_and_the_per_address_rate_as_serve_runs_them() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    let args = ["--listen", &listen, "--auth-health-open"];
    let rate = ["--client-requests-per-sec", "0.01", "--client-burst", "8"];
    let (child, lines) = serve(
        &[&args[..], &rate[..]].concat(),
        &[("KAFKA_GEN_AUTH_TOKENS", TOKEN)],
    );
    lines_until(&lines, "Requests need a bearer token");
    let base = format!("http://{listen}");
    let a = from(1);
    let get = |path: &str, token: Option<&str>| {
        let mut request = a.get(format!("{base}{path}"));
        if let Some(t) = token {
            request = request.bearer_auth(t);
        }
        request.send()
    };
    assert_eq!(
        get("/health", None).await.unwrap().status(),
        200,
        "left open"
    );
    let none = get("/scenarios", None).await.unwrap();
    assert_eq!(none.status(), 401);
    assert_eq!(
        none.headers()["www-authenticate"],
        r#"Bearer realm="kafka-gen""#
    );
    let wrong = get("/scenarios", Some("0123456789abcdef0123"))
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let challenge = wrong.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        challenge.contains(r#"error="invalid_token""#),
        "{challenge}"
    );
    assert_eq!(get("/scenarios", Some(TOKEN)).await.unwrap().status(), 200);
    let stream = a
        .post(format!("{base}/stream/retail"))
        .bearer_auth(TOKEN)
        .body(r#"{"rate": 1000, "total": 3}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    let text = stream.text().await.unwrap();
    // Three primary events, and what they cause.
    let primaries = text
        .lines()
        .filter(|l| l.contains(r#""caused_by":null"#))
        .count();
    assert_eq!(primaries, 3, "{text}");
    // Five requests so far, refused ones included; three more fill the burst of eight.
    for _ in 0..3 {
        assert_eq!(get("/health", None).await.unwrap().status(), 200);
    }
    let limited = get("/health", None).await.unwrap();
    assert_eq!(limited.status(), 429);
    assert_eq!(
        limited.headers()["retry-after"],
        "100",
        "one request every 100 s"
    );
    let other = from(2).get(format!("{base}/health")).send().await.unwrap();
    assert_eq!(other.status(), 200, "another address has its own bucket");
    stop(child);
}
