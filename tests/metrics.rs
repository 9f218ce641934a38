//! The generator's `/metrics` and `/health`, scraped over HTTP during a run and after it: the
//! counters only grow, never exceed what was generated, and at the end agree with the summary.
//! The run is in-process (the recorder is global to this test binary); the clock is real
//! because the endpoint is real I/O, and every wait is bounded. Over TLS, the endpoint
//! answers only clients that trust its CA.

mod common;
#[path = "common/tls.rs"]
mod tls_pki;

use std::collections::HashMap;
use std::time::Duration;

use common::fixture_config;
use kafka_gen::runner::Runner;
use kafka_gen::scenario::retail::TYPES;
use tokio_util::sync::CancellationToken;

/// `name{labels} value` lines of the text format, by `name{labels}`.
fn parse(text: &str) -> HashMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| {
            let (k, v) = l.rsplit_once(' ')?;
            Some((k.to_string(), v.parse().ok()?))
        })
        .collect()
}

async fn scrape(url: &str) -> HashMap<String, f64> {
    let body = tokio::time::timeout(Duration::from_secs(10), async {
        reqwest::get(url).await.unwrap().text().await.unwrap()
    })
    .await
    .unwrap();
    parse(&body)
}

fn generated(m: &HashMap<String, f64>, ty: &str) -> f64 {
    m.get(&format!(
        "kafka_gen_events_generated_total{{event_type=\"{ty}\"}}"
    ))
    .copied()
    .unwrap_or(0.0)
}

fn delivered(m: &HashMap<String, f64>, ty: &str) -> f64 {
    m.get(&format!(
        "kafka_gen_events_delivered_total{{sink=\"null\",event_type=\"{ty}\"}}"
    ))
    .copied()
    .unwrap_or(0.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scrapes_during_a_run_agree_with_the_final_summary() {
    let stop = CancellationToken::new();
    let health = std::sync::Arc::new(|| (true, serde_json::json!({ "status": "ok" })));
    let guard = kafka_gen::guard::Guard::new(
        kafka_gen::guard::Listener::Metrics,
        kafka_gen::guard::Access::open(),
        kafka_gen::metrics::MetricsConfig::default().limits(),
    );
    let addr = kafka_gen::metrics::serve(
        "127.0.0.1:0".parse().unwrap(),
        health,
        guard,
        None,
        stop.clone(),
    )
    .await
    .unwrap();
    let mut config = fixture_config(9);
    config.metrics_listen = Some(addr);
    config.schedule.rate_per_sec = Some(4000.0);
    config.schedule.duration = Some("2s".parse().unwrap());
    let url = format!("http://{addr}/metrics");

    let runner = Runner::new(&config).unwrap();
    // The run is not Send (sinks are not Sync), so it runs beside the scrapes in this task.
    let run = tokio::time::timeout(
        Duration::from_secs(30),
        runner.run(CancellationToken::new()),
    );
    let scrapes = async {
        let mut during = Vec::new();
        for _ in 0..6 {
            tokio::time::sleep(Duration::from_millis(300)).await;
            during.push(scrape(&url).await);
        }
        during
    };
    let (summary, during) = tokio::join!(run, scrapes);
    let summary = summary.unwrap().unwrap();
    let end = scrape(&url).await;

    let health = reqwest::get(format!("http://{addr}/health")).await.unwrap();
    assert_eq!(health.status().as_u16(), 200);
    assert!(
        during.iter().any(|m| generated(m, "sale") > 0.0),
        "no progress seen mid-run"
    );
    for (i, t) in TYPES.iter().enumerate() {
        let total = (summary.primary[i] + summary.derived[i]) as f64;
        let mut last = 0.0;
        for m in &during {
            let g = generated(m, t.name);
            assert!(
                g >= last && g <= total,
                "{}: {g} after {last}, total {total}",
                t.name
            );
            assert!(delivered(m, t.name) <= g);
            last = g;
        }
        assert_eq!(generated(&end, t.name), total, "{}", t.name);
        assert_eq!(
            delivered(&end, t.name),
            summary.sinks[0].counts.delivered[i] as f64,
            "{}",
            t.name
        );
    }
    assert_eq!(end.get("kafka_gen_target_rate_per_second"), Some(&4000.0));
    assert!(end.contains_key("kafka_gen_achieved_rate_per_second"));
    stop.cancel();
}

/// Issue 30: the metrics listener serves HTTPS with `[tls]`, to clients that trust its CA.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_metrics_listener_serves_tls() {
    let pki = tls_pki::Pki::new();
    let tls = kafka_gen::listen::Tls::load(&pki.tls(false)).unwrap();
    assert!(tls.is_some());
    let stop = CancellationToken::new();
    let health = std::sync::Arc::new(|| (true, serde_json::json!({ "status": "ok" })));
    let guard = kafka_gen::guard::Guard::new(
        kafka_gen::guard::Listener::Metrics,
        kafka_gen::guard::Access::open(),
        kafka_gen::metrics::MetricsConfig::default().limits(),
    );
    let addr = kafka_gen::metrics::serve(
        "127.0.0.1:0".parse().unwrap(),
        health,
        guard,
        tls,
        stop.clone(),
    )
    .await
    .unwrap();
    let body = (pki.client(true, None))
        .get(format!("https://{addr}/health"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(body, r#"{"status":"ok"}"#);
    let untrusted = (pki.client(false, None))
        .get(format!("https://{addr}/metrics"))
        .send()
        .await;
    assert!(untrusted.is_err(), "{untrusted:?}");
    let plain = reqwest::get(format!("http://{addr}/metrics")).await;
    assert!(plain.is_err() || plain.is_ok_and(|r| !r.status().is_success()));
    stop.cancel();
}
