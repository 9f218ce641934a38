//! The streaming HTTP API through a real HTTP client: lines at the requested rate (on tokio's
//! paused clock), 422 for over-limit requests, and a disconnect that frees the generator.
//! `profile`: the time profile, simtom's defaults and its request fields. `tls`: HTTPS and
//! client certificates. `guard`: tokens and per-client limits (issue 30).

use std::path::PathBuf;
use std::time::Duration;

use kafka_gen::serve::{router, AppState, Limits};

#[path = "serve/guard.rs"]
mod guard;
#[path = "serve/profile.rs"]
mod profile;
#[path = "serve/tls.rs"]
mod tls;
#[path = "common/tls.rs"]
mod tls_pki;

async fn start() -> (String, AppState) {
    let (base, state, _) = start_server(4).await;
    (base, state)
}

/// A server allowing `max_streams`, shutting down gracefully when its state's shutdown token
/// is cancelled (as `kafka-gen serve` does on SIGTERM); the handle ends when it has stopped.
async fn start_server(max_streams: usize) -> (String, AppState, tokio::task::JoinHandle<()>) {
    start_on(max_streams, PathBuf::from(env!("CARGO_MANIFEST_DIR"))).await
}

/// [`start_server`] with the scenarios' data under `data_root`.
async fn start_on(
    max_streams: usize,
    data_root: PathBuf,
) -> (String, AppState, tokio::task::JoinHandle<()>) {
    let limits = Limits {
        max_rate: 1000.0,
        max_total: 100_000,
        max_streams,
        ..Limits::default()
    };
    let state = AppState::new(limits, Some(data_root));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = router(state.clone());
    let stop = state.shutdown();
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(stop.cancelled_owned())
            .await
            .unwrap();
    });
    (format!("http://{addr}"), state, server)
}

fn client() -> reqwest::Client {
    reqwest::Client::new()
}

/// Reads whole lines from a streaming response until `n` have arrived.
async fn read_lines(resp: &mut reqwest::Response, n: usize) -> Vec<serde_json::Value> {
    let mut buf = Vec::new();
    let mut lines = Vec::new();
    while lines.len() < n {
        let Some(chunk) = resp.chunk().await.unwrap() else {
            break;
        };
        buf.extend_from_slice(&chunk);
        while let Some(i) = buf.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = buf.drain(..=i).collect();
            lines.push(serde_json::from_slice(&line[..i]).unwrap());
        }
    }
    lines
}

#[tokio::test(start_paused = true)]
async fn streams_n_lines_at_the_requested_rate() {
    let (base, state) = start().await;
    let t0 = tokio::time::Instant::now();
    let mut resp = client()
        .post(format!("{base}/stream/music"))
        .body(r#"{"rate": 50, "total": 100, "seed": 7, "start": "2025-01-01T00:00:00Z"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/x-ndjson");
    let lines = read_lines(&mut resp, 101).await;
    let elapsed = t0.elapsed().as_secs_f64();
    assert_eq!(
        lines.len(),
        100,
        "total counts the events of a scenario without derived ones"
    );
    assert!(lines
        .iter()
        .all(|e| e["scenario"] == "music" && e["event_type"] == "play"));
    // Each event is sent when the clock reaches its event time (time_compression 1): the
    // stream lasts as long as the event time it spans, whatever the profile made of the rate.
    let time = |e: &serde_json::Value| {
        let t: chrono::DateTime<chrono::Utc> = e["event_time"].as_str().unwrap().parse().unwrap();
        t.timestamp_millis() - 1_735_689_600_000
    };
    let span = time(&lines[99]) as f64 / 1000.0;
    assert!(
        (elapsed - span).abs() < 0.05,
        "took {elapsed}s for {span}s of event time"
    );
    assert!(lines.windows(2).all(|w| time(&w[0]) <= time(&w[1])));
    assert!(time(&lines[0]) >= 0);
    assert_eq!(state.active_streams(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_disconnect_stops_the_generator() {
    let (base, state) = start().await;
    let mut resp = client()
        .post(format!("{base}/stream/tutoring"))
        .body(r#"{"rate": 100, "total": 100000}"#)
        .send()
        .await
        .unwrap();
    let lines = read_lines(&mut resp, 5).await;
    assert!(lines.len() >= 5);
    let health: serde_json::Value = client()
        .get(format!("{base}/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["active_streams"], 1);
    drop(resp);
    // Bounded wait: the generator notices the closed channel at its next send or wait.
    for _ in 0..500 {
        if state.active_streams() == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the generator still runs 5 s after the client left");
}

#[tokio::test]
async fn bad_requests_get_422_naming_the_field() {
    let (base, _) = start().await;
    for (body, field) in [
        // simtom's bounds (issue 29): rate 0.1 to 1000, time_compression 0.1 to 1000, seed
        // 0 to 2^32 - 1, total up to 1,000,000 (here the server's --max-total, 100,000).
        (r#"{"rate": 5000}"#, "rate"),
        (r#"{"rate": 0}"#, "rate"),
        (r#"{"rate_per_second": 0.05}"#, "rate_per_second"),
        (r#"{"rate": "fast"}"#, "rate"),
        (r#"{"total": 100001}"#, "total"),
        (r#"{"total": -1}"#, "total"),
        (r#"{"seed": 4294967296}"#, "seed"),
        (r#"{"time_compression": 1001}"#, "time_compression"),
        (r#"{"time_compression": 0.05}"#, "time_compression"),
        (r#"{"weekend_multiplier": 6}"#, "weekend_multiplier"),
        (
            r#"{"include_holiday_patterns": "yes"}"#,
            "include_holiday_patterns",
        ),
        // Music has no default_rate parameter; bnpl's is 0 to 0.5 (below).
        (r#"{"default_rate": 0.1}"#, "default_rate"),
        (r#"{"weights": {"sale": 1}}"#, "weights"),
        (r#"{"options": {"popularity_skew": -1}}"#, "options"),
        (r#"{"options": {"colour": 1}}"#, "options"),
        // A world file's parameters are fixed at start-up: refused, naming how to set them.
        (r#"{"options": {"num_users": 5}}"#, "options"),
        (r#"{"start": "yesterday"}"#, "start"),
        (r#"{"speed": 2}"#, "speed"),
        // A world file's size is fixed at start-up: refused, not silently ignored.
        (r#"{"streams": 3}"#, "streams"),
        ("[1", "body"),
    ] {
        let resp = client()
            .post(format!("{base}/stream/music"))
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 422, "{body}");
        let err: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(err["field"], field, "{body}: {err}");
        assert!(err["error"].as_str().unwrap().len() > 10);
        // A bound names the value and the range.
        let msg = err["error"].as_str().unwrap();
        for (needle, range) in [
            ("5000", "0.1 to 1000"),
            ("0.05}", "0.1 to 1000"),
            ("1001", "0.1 to 1000"),
            ("4294967296", "0 to 4294967295"),
            ("100001", "0 to 100000"),
            (": 6}", "0.1 to 5"),
        ] {
            if body.contains(needle) {
                assert!(msg.contains(range), "{body}: {msg}");
            }
        }
        if body.contains("num_users") {
            assert!(
                err["error"].as_str().unwrap().contains("--world FILE"),
                "{err}"
            );
        }
    }
    let resp = client()
        .post(format!("{base}/stream/bnpl"))
        .body(r#"{"default_rate": 0.9}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 422);
    let err: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(err["field"], "default_rate", "{err}");
    assert!(err["error"].as_str().unwrap().contains("0.9"), "{err}");
    let resp = client()
        .post(format!("{base}/stream/opera"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
}

/// Weight only on follow-ups, which need what their cause gives: nothing could ever be drawn,
/// so the request is refused with 422 naming the weights, not answered 200 with no lines.
#[tokio::test]
async fn weight_only_on_follow_ups_gets_422() {
    let (base, _) = start().await;
    for body in [
        r#"{"weights": {"session_created": 0, "page_visited": 1}, "total": 3}"#,
        r#"{"weights": {"session_created": 1, "session_ended": 1}, "total": 3}"#,
    ] {
        let resp = client()
            .post(format!("{base}/stream/web"))
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 422, "{body}");
        let err: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(err["field"], "weights", "{err}");
        let msg = err["error"].as_str().unwrap();
        assert!(
            msg.contains("only its cause") && msg.contains("weight 0"),
            "{msg}"
        );
    }
}

#[tokio::test]
async fn scenarios_and_health_describe_the_server() {
    let (base, _) = start().await;
    let list: Vec<serde_json::Value> = client()
        .get(format!("{base}/scenarios"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = list.iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["retail", "music", "tutoring", "web", "bnpl"]);
    let music = &list[1];
    assert_eq!(music["event_types"][0]["topic"], "music-plays");
    assert_eq!(
        music["config_schema"]["options"]["maxProperties"], 0,
        "{music}"
    );
    assert!(list[0]["config_schema"]["options"]["default"].is_object());
    assert_eq!(music["config_schema"]["rate"]["maximum"], 1000.0);
    // Music is a world file since issue 11: its tuning is the file's parameters, so it has
    // no options section; retail's section is still offered.
    assert_eq!(
        music["config_schema"]["options"]["default"],
        serde_json::json!({})
    );
    assert!(list[0]["config_schema"]["options"]["default"].is_object());
    let health: serde_json::Value = client()
        .get(format!("{base}/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // simtom's /health says its version, its generators and its uptime (issue 29).
    assert_eq!(health["status"], "ok");
    assert_eq!(health["active_streams"], 0);
    assert_eq!(health["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(health["generators_available"], 5);
    let uptime = health["uptime_secs"].as_f64().unwrap();
    assert!((0.0..600.0).contains(&uptime), "{health}");
    // And /generators is simtom's name for /scenarios.
    let generators: serde_json::Value = client()
        .get(format!("{base}/generators"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(generators, serde_json::Value::Array(list));
}

/// Issue 10: on SIGTERM the server waited for every open stream to run out (here 100,000
/// events at 10/s: hours). The streams must end, then the server.
#[tokio::test(start_paused = true)]
async fn shutdown_ends_open_streams_and_then_the_server() {
    let (base, state, server) = start_server(4).await;
    let mut resp = client()
        .post(format!("{base}/stream/music"))
        .body(r#"{"rate": 10, "total": 100000}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(read_lines(&mut resp, 2).await.len(), 2);
    state.shutdown().cancel();
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("the server still waits for the stream 10 s after the shutdown")
        .unwrap();
    // The response ends (its stream stopped); it is not cut off mid-line.
    let rest = tokio::time::timeout(Duration::from_secs(10), read_lines(&mut resp, usize::MAX))
        .await
        .expect("the stream did not end");
    assert!(rest.len() < 100, "{} more lines", rest.len());
    assert_eq!(state.active_streams(), 0);
}

/// Issue 10: the cap was checked, then counted after loading the master data, so many
/// simultaneous requests all passed the check. Against a cap of N, at most N get a stream.
#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn simultaneous_requests_never_overshoot_the_stream_cap() {
    const CAP: usize = 3;
    const REQUESTS: usize = 40;
    let (base, state, _server) = start_server(CAP).await;
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(REQUESTS));
    let tasks: Vec<_> = (0..REQUESTS)
        .map(|_| {
            let (base, barrier) = (base.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                client()
                    .post(format!("{base}/stream/retail"))
                    .body(r#"{"rate": 1, "total": 100000}"#)
                    .send()
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut open = Vec::new();
    let mut refused = 0;
    for t in tasks {
        let resp = t.await.unwrap();
        match resp.status().as_u16() {
            200 => open.push(resp),
            503 => refused += 1,
            other => panic!("status {other}"),
        }
    }
    assert!(
        open.len() <= CAP,
        "{} streams accepted, cap {CAP}",
        open.len()
    );
    assert_eq!(open.len() + refused, REQUESTS);
    assert!(!open.is_empty());
    assert!(state.active_streams() <= CAP);
}

/// Copies the directory `from` to `to`, recursively.
fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Issue 10: every request read its scenario's master data from disk. It is loaded once at
/// start-up: with the data directory gone afterwards, every scenario still streams.
#[tokio::test]
async fn requests_do_not_read_the_master_data_from_disk() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    copy_dir(
        &PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data"),
        &data,
    );
    let (base, _, _server) = start_on(4, root.path().to_path_buf()).await;
    std::fs::rename(&data, root.path().join("moved-away")).unwrap();
    for name in ["retail", "music", "tutoring", "web", "bnpl"] {
        let mut resp = client()
            .post(format!("{base}/stream/{name}"))
            .body(r#"{"rate": 1000, "total": 3, "seed": 1}"#)
            .send()
            .await
            .unwrap();
        if resp.status() != 200 {
            panic!("{name}: {} {:?}", resp.status(), resp.text().await);
        }
        let lines = read_lines(&mut resp, usize::MAX).await;
        assert!(lines.len() >= 3, "{name}: {} lines", lines.len());
        // Tutoring keeps its document's envelope, which names no scenario.
        assert!(lines
            .iter()
            .all(|e| e.get("scenario").is_none_or(|s| s == name)));
    }
}
