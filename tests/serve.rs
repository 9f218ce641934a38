//! The streaming HTTP API through a real HTTP client: lines at the requested rate (on tokio's
//! paused clock), 422 for over-limit requests, and a disconnect that frees the generator.

use std::path::PathBuf;
use std::time::Duration;

use kafka_gen::serve::{router, AppState, Limits};

async fn start() -> (String, AppState) {
    let limits = Limits {
        max_rate: 1000.0,
        max_total: 100_000,
        max_streams: 4,
    };
    let state = AppState::new(limits, Some(PathBuf::from(env!("CARGO_MANIFEST_DIR"))));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = router(state.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), state)
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
    // 100 events at 50/s: 2 s, less the first one the limiter lets through at once.
    assert!((elapsed - 1.98).abs() < 0.05, "took {elapsed}s");
    // Event times step by 1/rate from the requested start.
    assert_eq!(lines[0]["event_time"], "2025-01-01T00:00:00.000Z");
    assert_eq!(lines[1]["event_time"], "2025-01-01T00:00:00.020Z");
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
        (r#"{"rate": 5000}"#, "rate"),
        (r#"{"rate": 0}"#, "rate"),
        (r#"{"rate": "fast"}"#, "rate"),
        (r#"{"total": 100001}"#, "total"),
        (r#"{"total": 0}"#, "total"),
        (r#"{"weights": {"sale": 1}}"#, "weights"),
        (r#"{"options": {"popularity_skew": -1}}"#, "options"),
        (r#"{"options": {"colour": 1}}"#, "options"),
        (r#"{"start": "yesterday"}"#, "start"),
        (r#"{"speed": 2}"#, "speed"),
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
    }
    let resp = client()
        .post(format!("{base}/stream/opera"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
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
    assert_eq!(music["config_schema"]["rate"]["maximum"], 1000.0);
    assert_eq!(
        music["config_schema"]["options"]["default"]["popularity_skew"],
        1.1
    );
    let health: serde_json::Value = client()
        .get(format!("{base}/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        health,
        serde_json::json!({"status": "ok", "active_streams": 0})
    );
}
