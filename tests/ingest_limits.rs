//! The ingest API against slow and abusive clients and a topic that goes missing (issue 10):
//! raw TCP clients that stop half-way through the headers or the body, more unfinished bodies
//! than the service takes at once, and the log of a `kafka-gen ingest` process whose topic
//! disappears; and (issue 30) a client address past its request rate. librdkafka's mock cluster
//! stands in for Kafka. Waits are real I/O, each bounded.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::kafka::TOPICS;
use common::{fixture_config, run_captured};
use rdkafka::mocking::MockCluster;
use rdkafka::types::RDKafkaRespErr;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

const BOUND: Duration = Duration::from_secs(30);

fn mock() -> MockCluster<'static, rdkafka::producer::DefaultProducerContext> {
    let mock = MockCluster::new(1).unwrap();
    for topic in TOPICS {
        mock.create_topic(topic, 3, 1).unwrap();
    }
    mock
}

/// Reads what the server sends until it closes the connection, at most `within`; `None` when
/// the connection is still open then.
async fn read_until_closed(stream: &mut TcpStream, within: Duration) -> Option<String> {
    let mut got = Vec::new();
    let read = tokio::time::timeout(within, async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    });
    read.await
        .ok()
        .map(|()| String::from_utf8_lossy(&got).into_owned())
}

/// A client that sends half a header is disconnected once `header_read_timeout_ms` passes;
/// unfinished bodies beyond `max_concurrent_requests` are answered 503 at once and the others
/// 408 after `body_read_timeout_ms`, so at most 2 x `max_body_bytes` are ever held.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_are_cut_off_and_bounded() {
    let mock = mock();
    let mut config = fixture_config(11);
    config.kafka.bootstrap_servers = mock.bootstrap_servers();
    config.ingest.header_read_timeout_ms = 500;
    config.ingest.body_read_timeout_ms = 1_500;
    config.ingest.max_concurrent_requests = 2;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let cancel = CancellationToken::new();
    let service = {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            kafka_gen::ingest::serve(&config.ingest_service()?, listener, cancel).await
        })
    };
    let deadline = Instant::now() + BOUND;
    while TcpStream::connect(addr).await.is_err() {
        assert!(Instant::now() < deadline, "the service never listened");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Slowloris: half a header, then silence.
    let mut slow = Vec::new();
    for _ in 0..20 {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"POST /events HTTP/1.1\r\nHost: x\r\nContent-Ty")
            .await
            .unwrap();
        slow.push(s);
    }
    for s in &mut slow {
        let closed = read_until_closed(s, Duration::from_secs(10)).await;
        assert!(closed.is_some(), "a half-sent header kept its connection");
    }

    // Three unfinished 100 kB bodies: two are read (until their timeout), one is turned away.
    let mut bodies = Vec::new();
    for _ in 0..3 {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(
            b"POST /events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n[{\"event_id\":",
        )
        .await
        .unwrap();
        bodies.push(s);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut statuses = Vec::new();
    for s in &mut bodies {
        let answer = read_until_closed(s, Duration::from_secs(10))
            .await
            .expect("an unfinished body was held past its timeout");
        let status = answer.get(9..12).unwrap_or("none").to_string();
        statuses.push(status);
    }
    statuses.sort();
    assert_eq!(statuses, ["408", "408", "503"]);

    cancel.cancel();
    tokio::time::timeout(BOUND, service)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

/// Issue 10: with a topic missing, a POST waited 15 s for a 503 and nothing was logged. Now
/// the answer comes at once and names the topic, and the cause is logged once, not per request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_topic_is_answered_at_once_and_logged_once() {
    let mock = mock();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("ingest.toml");
    std::fs::write(
        &config,
        "[kafka]\nmessage_timeout_ms = 120000\n[ingest]\nack_timeout_ms = 60000\nhealth_interval_ms = 200\n",
    )
    .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_kafka-gen"))
        .args(["ingest", "--listen", &format!("127.0.0.1:{port}")])
        .args(["--bootstrap-servers", &mock.bootstrap_servers()])
        .arg("--config")
        .arg(&config)
        .env("RUST_LOG", "info,librdkafka=off")
        .env_remove("KAFKA_GEN_BOOTSTRAP_SERVERS")
        .env_remove("KAFKA_GEN_TEST_BROKER")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let deadline = Instant::now() + BOUND;
    loop {
        let up = client.get(format!("{base}/health")).send().await;
        if up.is_ok_and(|r| r.status() == 200) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the service never became healthy"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let mut c = fixture_config(3);
    c.schedule.start = Some("2025-01-01T00:00:00Z".parse().unwrap());
    c.schedule.count = Some(20);
    let events = run_captured(&c).await.1;
    let sale = events.iter().find(|e| e["event_type"] == "sale").unwrap();
    mock.topic_error(
        TOPICS[0],
        RDKafkaRespErr::RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART,
    )
    .unwrap();
    // The health check sees it (the mock still takes records for the topic it says is gone).
    let deadline = Instant::now() + BOUND;
    loop {
        let health = client.get(format!("{base}/health")).send().await;
        if health.is_ok_and(|r| r.status() == 503) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "/health never reported the missing topic"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Three requests, each answered 503 within the client's 20 s (the ack timeout is 60 s).
    for _ in 0..3 {
        let response = client
            .post(format!("{base}/events"))
            .body(sale.to_string())
            .send()
            .await
            .expect("answered before the client's timeout");
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap();
        assert_eq!(status, 503, "{body}");
        assert!(
            body["error"].as_str().unwrap().contains(TOPICS[0]),
            "{body}"
        );
    }
    let _ = child.kill();
    let _ = child.wait();
    let log: Vec<String> = lines.iter().collect();
    let naming = log
        .iter()
        .filter(|l| l.contains(TOPICS[0]) && l.contains("503"))
        .count();
    assert_eq!(
        naming,
        1,
        "the missing topic is logged once:\n{}",
        log.join("\n")
    );
}

/// Issue 30: requests per second per client address. The service's own accept loop hands the
/// guard each connection's address, so another address keeps its own bucket; past the burst
/// the answer is 429 with `Retry-After`, naming the setting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_client_address_has_its_own_request_rate() {
    let mock = mock();
    let mut config = fixture_config(11);
    config.kafka.bootstrap_servers = mock.bootstrap_servers();
    config.ingest.client_requests_per_sec = 0.01;
    config.ingest.client_burst = 3;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let cancel = CancellationToken::new();
    let service = {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            kafka_gen::ingest::serve(&config.ingest_service()?, listener, cancel).await
        })
    };
    let from = |n: u8| {
        let ip = std::net::IpAddr::from([127, 0, 0, n]);
        reqwest::Client::builder()
            .local_address(ip)
            .build()
            .unwrap()
    };
    let (a, b) = (from(1), from(2));
    let deadline = Instant::now() + BOUND;
    // The first request that gets through starts the burst of three.
    while a.get(format!("{base}/metrics")).send().await.is_err() {
        assert!(Instant::now() < deadline, "the service never listened");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for _ in 0..2 {
        let status = a
            .get(format!("{base}/metrics"))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 200);
    }
    let limited = a.get(format!("{base}/events")).send().await.unwrap();
    assert_eq!(limited.status(), 429);
    assert_eq!(limited.headers()["retry-after"], "100");
    let body: Value = limited.json().await.unwrap();
    let error = body["error"].as_str().unwrap();
    assert!(
        error.contains("ingest.client_requests_per_sec 0.01"),
        "{error}"
    );
    let other = b.get(format!("{base}/metrics")).send().await.unwrap();
    assert_eq!(other.status(), 200, "another address has its own bucket");
    cancel.cancel();
    tokio::time::timeout(BOUND, service)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}
