//! Issue 30: `kafka-gen ingest` and its metrics listener with bearer tokens, as processes in
//! front of librdkafka's mock cluster. Requests without a token, with a wrong one and with the
//! right one against both listeners; `kafka-gen --sink http` posting through it with the right
//! token (every event delivered) and with a wrong one (exit 1, naming where the sink takes its
//! token); then every log line of the three processes, at trace level, searched for both
//! tokens. Waits are real I/O, each bounded.

use std::io::Read;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::common::kafka::TOPICS;
use super::common::kafka_gen_bin;

const TOKEN: &str = "7f3c9a1e5b2d8f4a6c0e9b1d3f5a7c2e";
const WRONG: &str = "0000aaaa1111bbbb2222cccc3333dddd";
const BOUND: Duration = Duration::from_secs(60);

fn free_port() -> u16 {
    let socket = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    socket.local_addr().unwrap().port()
}

/// A `kafka-gen` process without the caller's `KAFKA_GEN_*` variables, logging everything.
fn kafka_gen() -> Command {
    let mut cmd = Command::new(kafka_gen_bin());
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("KAFKA_GEN")) {
        cmd.env_remove(k);
    }
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("RUST_LOG", "trace,librdkafka=off")
        .stdin(Stdio::null());
    cmd
}

async fn get(url: &str, token: Option<&str>) -> (u16, reqwest::header::HeaderMap, String) {
    let mut request = reqwest::Client::new().get(url);
    if let Some(t) = token {
        request = request.bearer_auth(t);
    }
    let response = request.send().await.unwrap();
    let (status, headers) = (response.status().as_u16(), response.headers().clone());
    (status, headers, response.text().await.unwrap())
}

/// No token: 401 with the plain challenge; a wrong one: 401 `invalid_token`, the token not
/// echoed; the right one: 200.
async fn asks_for_the_token(base: &str, path: &str) {
    let url = format!("{base}{path}");
    let (status, headers, body) = get(&url, None).await;
    assert_eq!(status, 401, "{url}: {body}");
    assert_eq!(headers["www-authenticate"], r#"Bearer realm="kafka-gen""#);
    let (status, headers, body) = get(&url, Some(WRONG)).await;
    assert_eq!(status, 401, "{url}: {body}");
    let challenge = headers["www-authenticate"].to_str().unwrap();
    assert!(
        challenge.contains(r#"error="invalid_token""#),
        "{challenge}"
    );
    assert!(!body.contains(WRONG) && !body.contains(TOKEN), "{body}");
    let (status, _, body) = get(&url, Some(TOKEN)).await;
    assert_eq!(status, 200, "{url}: {body}");
}

async fn wait_listening(base: &str, child: &mut Child) {
    let deadline = Instant::now() + BOUND;
    loop {
        if reqwest::get(format!("{base}/health")).await.is_ok() {
            return;
        }
        assert!(child.try_wait().unwrap().is_none(), "ingest exited");
        assert!(Instant::now() < deadline, "ingest never listened");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A run of 40 primary events posted to `url` with `token`, with its summary.
async fn run_into(url: &str, token: &str, dir: &std::path::Path) -> (Output, Value) {
    let summary = dir.join(format!("summary-{token}.json"));
    let mut cmd = kafka_gen();
    cmd.args(["--sink", "http", "--http-endpoint", url, "--count", "40"])
        .args(["--seed", "3", "--start", "2025-01-01T00:00:00Z"])
        .args(["--conf", "http.max_elapsed_secs=5"])
        .arg("--dead-letter")
        .arg(dir.join("dead-letter.jsonl"))
        .arg("--summary-json")
        .arg(&summary)
        .env("KAFKA_GEN_HTTP_AUTHORIZATION", format!("Bearer {token}"));
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    let text = std::fs::read_to_string(&summary).unwrap_or_default();
    (out, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_required_the_sink_sends_one_and_no_log_shows_it() {
    let mock = rdkafka::mocking::MockCluster::new(1).unwrap();
    for topic in TOPICS {
        mock.create_topic(topic, 3, 1).unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let tokens = dir.path().join("tokens");
    std::fs::write(&tokens, format!("# the generator's\n{TOKEN}\n")).unwrap();
    let (port, metrics_port) = (free_port(), free_port());
    let base = format!("http://127.0.0.1:{port}");
    let metrics = format!("http://127.0.0.1:{metrics_port}");
    let mut ingest = kafka_gen()
        .args(["ingest", "--listen", &format!("127.0.0.1:{port}")])
        .args(["--metrics-listen", &format!("127.0.0.1:{metrics_port}")])
        .args(["--bootstrap-servers", &mock.bootstrap_servers()])
        .arg("--auth-token-file")
        .arg(&tokens)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_listening(&base, &mut ingest).await;

    for (listener, path) in [
        (&base, "/health"),
        (&base, "/metrics"),
        (&metrics, "/health"),
    ] {
        asks_for_the_token(listener, path).await;
    }
    asks_for_the_token(&metrics, "/metrics").await;

    let url = format!("{base}/events");
    let (out, summary) = run_into(&url, TOKEN, dir.path()).await;
    let run_log = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{run_log}");
    let generated = summary["generated_total"].as_u64().unwrap();
    assert!(generated >= 40, "{summary}");
    assert_eq!(
        summary["sinks"][0]["delivered_total"], generated,
        "{summary}"
    );

    let (out, summary) = run_into(&url, WRONG, dir.path()).await;
    let wrong_log = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{wrong_log}");
    assert_eq!(summary["sinks"][0]["delivered_total"], 0, "{summary}");
    assert!(
        wrong_log.contains("status=401") && wrong_log.contains("KAFKA_GEN_HTTP_AUTHORIZATION"),
        "{wrong_log}"
    );

    // SIGTERM, so that the service logs its way out too.
    unsafe { libc::kill(ingest.id() as i32, libc::SIGTERM) };
    let mut ingest_log = String::new();
    let mut stderr = ingest.stderr.take().unwrap();
    let read = tokio::task::spawn_blocking(move || {
        stderr.read_to_string(&mut ingest_log).map(|_| ingest_log)
    });
    let ingest_log = tokio::time::timeout(BOUND, read)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(ingest.wait().unwrap().success(), "{ingest_log}");
    assert!(
        ingest_log.contains("Requests need a bearer token"),
        "{ingest_log}"
    );
    assert!(ingest_log.contains("Refused a request without a valid bearer token"));
    for (name, log) in [
        ("ingest", &ingest_log),
        ("run", &run_log),
        ("wrong run", &wrong_log),
    ] {
        assert!(log.lines().count() > 10, "{name} logged little: {log}");
        for secret in [TOKEN, WRONG] {
            assert!(!log.contains(secret), "{name}'s log shows a token:\n{log}");
        }
    }
}
