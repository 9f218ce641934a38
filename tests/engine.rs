//! The engine's behaviour through the library: the type mix, the gaps, the data contract over a
//! long replay, referential integrity, pacing and shutdown, on tokio's paused clock.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::*;
use kafka_gen::config::HumanDuration;
use kafka_gen::event::Batch;
use kafka_gen::generator::Generator;
use kafka_gen::runner::{Runner, Stop};
use kafka_gen::scenario::retail::contract::Checker;
use kafka_gen::scenario::retail::master::MasterData;
use kafka_gen::scenario::{self, retail};

#[test]
fn type_frequencies_match_the_weights() {
    let config = fixture_config(11);
    let scenario = scenario::find("retail").unwrap();
    let weights = config.weights_for(scenario).unwrap();
    let mut generator = Generator::new(scenario, &config, 11).unwrap();
    let mut batch = Batch::new();
    let n = 100_000;
    let mut observed = [0f64; 5];
    for i in 0..n {
        batch.clear();
        // One primary per minute of event time, so restocks arrive and alerts stay possible.
        let ty = generator
            .next(1_700_000_000_000 + i * 60_000, &mut batch)
            .expect("a servable world")
            .expect("a primary event");
        observed[usize::from(ty)] += 1.0;
    }
    let stat: f64 = observed
        .iter()
        .zip(&weights)
        .map(|(o, w)| (o - w * n as f64).powi(2) / (w * n as f64))
        .sum();
    let p = chi_square_p(stat, 4.0);
    // Threshold: reject the weights only if p <= 0.001.
    assert!(
        p > 0.001,
        "chi-square {stat:.2}, p = {p:.5}, observed {observed:?}, weights {weights:?}"
    );
    assert_eq!(generator.primaries(), n as u64);
}

/// Kolmogorov-Smirnov statistic of `samples` against the uniform distribution on [lo, hi].
fn ks_uniform(mut samples: Vec<f64>, lo: f64, hi: f64) -> f64 {
    samples.sort_by(f64::total_cmp);
    let n = samples.len() as f64;
    samples
        .iter()
        .enumerate()
        .map(|(i, x)| {
            let f = ((x - lo) / (hi - lo)).clamp(0.0, 1.0);
            (f - i as f64 / n).abs().max(((i + 1) as f64 / n - f).abs())
        })
        .fold(0.0, f64::max)
}

#[tokio::test(start_paused = true)]
async fn realistic_gaps_are_uniform_on_the_paused_clock() {
    let mut config = fixture_config(5);
    config.schedule.min_delta_secs = 5.0;
    config.schedule.max_delta_secs = 30.0;
    config.schedule.count = Some(10_001);
    let (sink, seen) = CaptureSink::new(5);
    let summary = Runner::with_sinks(&config, vec![Box::new(sink)])
        .unwrap()
        .run(Default::default())
        .await
        .unwrap();
    assert_eq!(summary.stop, Stop::Finished);
    let arrivals = seen.lock().unwrap().arrivals.clone();
    assert_eq!(
        arrivals.len(),
        10_001,
        "one batch per primary event in realistic mode"
    );
    let gaps: Vec<f64> = arrivals
        .windows(2)
        .map(|w| (w[1] - w[0]).as_secs_f64())
        .collect();
    assert!(gaps.iter().all(|g| (5.0 - 1e-3..=30.0 + 1e-3).contains(g)));
    let d = ks_uniform(gaps, 5.0, 30.0);
    // Threshold: the asymptotic KS critical value at alpha = 0.001 is 1.9495 / sqrt(n).
    let critical = 1.9495 / (10_000f64).sqrt();
    assert!(d < critical, "KS D = {d:.4} >= {critical:.4}");
}

#[tokio::test(start_paused = true)]
async fn batch_mode_is_paced_by_the_rate() {
    let mut config = fixture_config(5);
    config.schedule.rate_per_sec = Some(200.0);
    config.schedule.count = Some(2_000);
    let (sink, seen) = CaptureSink::new(5);
    let t0 = tokio::time::Instant::now();
    let summary = Runner::with_sinks(&config, vec![Box::new(sink)])
        .unwrap()
        .run(Default::default())
        .await
        .unwrap();
    let elapsed = t0.elapsed().as_secs_f64();
    assert_eq!(summary.primary.iter().sum::<u64>(), 2_000);
    // 2,000 events at 200/s: 10 s, less the first chunk of 2 that the limiter lets through at once.
    assert!((elapsed - 9.99).abs() < 0.05, "took {elapsed}s");
    assert!(
        seen.lock().unwrap().arrivals.len() >= 900,
        "paced in small chunks, not one burst"
    );
}

#[tokio::test(start_paused = true)]
async fn duration_stops_a_live_run_and_cancel_stops_cleanly() {
    let mut config = fixture_config(5);
    config.schedule.duration = Some(HumanDuration(Duration::from_secs(3600)));
    let t0 = tokio::time::Instant::now();
    let (summary, events) = run_captured(&config).await;
    assert_eq!(summary.stop, Stop::Finished);
    assert!((t0.elapsed().as_secs_f64() - 3600.0).abs() < 1.0);
    // 3600 s of gaps averaging 35 s: about 103 primary events.
    let primaries = summary.primary.iter().sum::<u64>();
    assert!((80..=130).contains(&primaries), "{primaries} primaries");
    assert_eq!(
        events.len() as u64,
        primaries + summary.derived.iter().sum::<u64>()
    );

    let mut config = fixture_config(5);
    config.schedule.rate_per_sec = Some(1000.0);
    let cancel = tokio_util::sync::CancellationToken::new();
    let (sink, seen) = CaptureSink::new(5);
    let runner = Runner::with_sinks(&config, vec![Box::new(sink)]).unwrap();
    let stopper = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(5)).await;
        stopper.cancel();
    });
    let summary = runner.run(cancel).await.unwrap();
    assert_eq!(summary.stop, Stop::Cancelled);
    let generated: u64 = summary.primary.iter().chain(&summary.derived).sum();
    assert_eq!(summary.sinks[0].counts.delivered_total(), generated);
    assert_eq!(seen.lock().unwrap().payloads.len() as u64, generated);
    assert!((4_900..=5_100).contains(&summary.primary.iter().sum::<u64>()));
}

#[tokio::test]
async fn the_data_contract_holds_over_100k_events() {
    let mut config = fixture_config(21);
    config.schedule.start = Some("2025-03-01T08:00:00Z".parse().unwrap());
    config.schedule.count = Some(100_000);
    let (summary, events) = run_captured(&config).await;
    let data = MasterData::load(&fixture_dir()).unwrap();
    let mut checker = Checker::new(&data, true);
    let mut ids = HashSet::new();
    let mut last_time = String::new();
    let mut reasons = std::collections::BTreeMap::<String, u64>::new();
    for event in &events {
        checker.check(event);
        assert!(ids.insert(event["event_id"].as_str().unwrap().to_string()));
        let time = event["event_time"].as_str().unwrap().to_string();
        assert!(time >= last_time, "{time} after {last_time}");
        last_time = time;
        if let Some(reason) = event["reason"].as_str() {
            *reasons.entry(reason.to_string()).or_default() += 1;
        }
    }
    checker.finish();
    let violations = checker.violations();
    assert!(
        violations.is_empty(),
        "{} violations, first: {}",
        violations.len(),
        violations[0]
    );
    assert_eq!(summary.primary.iter().sum::<u64>(), 100_000);
    // The world really exercised its rules: restocks arrived and sales emptied shelves.
    assert!(reasons["restock_receipt"] > 1_000, "{reasons:?}");
    assert!(reasons["sale"] > 50_000, "{reasons:?}");
    assert!(summary.primary[usize::from(retail::RESTOCK_ALERT)] > 4_000);
}

#[test]
fn the_checker_catches_broken_streams() {
    let data = MasterData::load(&fixture_dir()).unwrap();
    let store = &data.stores[0].store_id;
    let sku = &data.products[0].sku;
    let initial = data.products[0].initial_stock as i64;
    let update = |id: &str, change: i64, after: i64| {
        serde_json::json!({"event_id": id, "event_type": "inventory_update", "event_time": "2025-01-01T00:00:00.000Z",
            "scenario": "retail", "caused_by": null, "store_id": store, "sku": sku, "reason": "adjustment",
            "quantity_change": change, "stock_after": after})
    };
    let mut checker = Checker::new(&data, true);
    assert_eq!(checker.check(&update("a", 1, initial + 1)), 0);
    assert_eq!(checker.check(&update("b", 1, initial + 5)), 1);
    assert_eq!(checker.violations()[0].rule, "stock_chain");
    assert_eq!(
        checker.check(&update("b", 1, initial + 6)),
        1,
        "duplicate event id"
    );
    let mut bad = update("c", 1, initial + 7);
    bad["store_id"] = "ST-NOPE".into();
    assert!(checker.check(&bad) >= 1);
    assert!(checker
        .violations()
        .iter()
        .any(|v| v.rule == "unknown_reference" && v.detail.contains("ST-NOPE")));
    let sale = serde_json::json!({"event_id": "s", "event_type": "sale", "event_time": "2025-01-01T00:00:01.000Z",
        "scenario": "retail", "store_id": store, "customer_id": data.customers[0].customer_id,
        "product_id": sku, "quantity": 1, "unit_price": 0.01, "line_total": 0.01});
    checker.check(&sale);
    assert!(checker.violations().iter().any(|v| v.rule == "stale_price"));
    checker.finish();
    assert!(checker
        .violations()
        .iter()
        .any(|v| v.rule == "sale_without_inventory_update"));
}

#[tokio::test]
async fn same_seed_same_events_and_pacing_does_not_change_content() {
    let mut config = fixture_config(99);
    config.schedule.start = Some("2025-06-01T00:00:00Z".parse().unwrap());
    config.schedule.count = Some(2_000);
    let (_, a) = run_captured(&config).await;
    let (_, b) = run_captured(&config).await;
    assert_eq!(a, b);
    config.seed = Some(100);
    let (_, c) = run_captured(&config).await;
    assert_ne!(a, c);
}
