//! The bnpl scenario: golden output, its contract over 100,000 events, id integrity, credit
//! scores, the default rate against the risk model, and Black Friday.

mod common;

use std::collections::HashMap;

use common::scenarios::{assert_caught, config, golden, replay};
use kafka_gen::scenario::bnpl::master::MasterData;
use serde_json::{json, Value};

#[test]
fn golden_output_is_byte_identical() {
    golden("bnpl", 200);
}

fn ms(e: &Value) -> i64 {
    chrono::DateTime::parse_from_rfc3339(e["event_time"].as_str().unwrap())
        .unwrap()
        .timestamp_millis()
}

#[tokio::test]
async fn the_contract_holds_and_defaults_follow_the_risk_model() {
    let mut c = config("bnpl", 21);
    c.schedule.start = Some("2025-01-01T00:00:00Z".parse().unwrap());
    c.schedule.rate_per_sec = Some(0.005);
    c.schedule.count = Some(60_000);
    let (_, events) = replay(&c).await;
    assert!(events.len() > 100_000, "{} events", events.len());
    let end = ms(events.last().unwrap());
    let mut outcome: HashMap<&str, bool> = HashMap::new();
    for e in events.iter().filter(|e| e["event_type"] == "default") {
        outcome.insert(e["transaction_id"].as_str().unwrap(), true);
    }
    // Plans whose whole schedule lies inside the run have a known outcome, whichever it is.
    let (mut expected, mut variance, mut defaults, mut n) = (0.0, 0.0, 0.0, 0);
    for e in events.iter().filter(|e| e["event_type"] == "transaction") {
        let span = e["installments"].as_i64().unwrap()
            * e["installment_interval_days"].as_i64().unwrap()
            * 86_400_000;
        if ms(e) + span >= end {
            continue;
        }
        let p = e["default_risk"].as_f64().unwrap();
        expected += p;
        variance += p * (1.0 - p);
        defaults += f64::from(u8::from(
            outcome.contains_key(e["transaction_id"].as_str().unwrap()),
        ));
        n += 1;
    }
    assert!(
        n > 20_000 && defaults > 300.0,
        "{n} settled plans, {defaults} defaults"
    );
    let z = (defaults - expected) / variance.sqrt();
    // Threshold: the defaults are a sum of independent Bernoulli draws; |z| < 4.
    assert!(
        z.abs() < 4.0,
        "{defaults} defaults, {expected:.1} expected, z = {z:.2}"
    );
}

#[test]
fn shipped_credit_scores_centre_on_650() {
    let data = MasterData::load(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/bnpl"
    )))
    .unwrap();
    let n = data.customers.len() as f64;
    let mean = data
        .customers
        .iter()
        .map(|c| f64::from(c.credit_score))
        .sum::<f64>()
        / n;
    // Threshold: four standard errors of a Normal(650, 85) sample mean.
    assert!(
        (mean - 650.0).abs() < 4.0 * 85.0 / n.sqrt(),
        "mean score {mean:.1}"
    );
    assert!(data
        .customers
        .iter()
        .any(|c| c.credit_profile == "subprime"));
    assert!(data
        .customers
        .iter()
        .any(|c| c.credit_profile == "super_prime"));
}

#[tokio::test]
async fn black_friday_is_the_busiest_day() {
    let mut c = config("bnpl", 3);
    c.schedule.start = Some("2024-11-18".parse().unwrap());
    c.schedule.end = Some("2024-12-01".parse().unwrap());
    c.schedule.events_per_day = Some(2_000.0);
    let (_, events) = replay(&c).await;
    let mut per_day: HashMap<String, f64> = HashMap::new();
    for e in events.iter().filter(|e| e["event_type"] == "transaction") {
        *per_day
            .entry(e["event_time"].as_str().unwrap()[..10].to_string())
            .or_default() += 1.0;
    }
    // Tuesday 2024-11-19 is an ordinary weekday; Black Friday 2024 is 29 November (x3.0).
    let ratio = per_day["2024-11-29"] / per_day["2024-11-19"];
    assert!(
        (2.6..3.4).contains(&ratio),
        "Black Friday / weekday = {ratio:.2}"
    );
}

#[test]
fn the_checker_catches_broken_streams() {
    let data = MasterData::load(&common::scenarios::fixture("bnpl")).unwrap();
    let (cust, m) = (&data.customers[0], &data.merchants[0]);
    let txn = json!({"event_id": "t", "event_type": "transaction", "event_time": "2025-01-01T00:00:00.000Z",
        "schema_version": 1, "scenario": "bnpl", "caused_by": null, "transaction_id": "x",
        "customer_id": cust.customer_id, "merchant_id": m.merchant_id, "category": m.category, "amount": 100.0,
        "currency": "USD", "plan": "pay_in_4", "installments": 4, "installment_interval_days": 14,
        "credit_score": cust.credit_score, "default_risk": 0.01});
    let pay = |n: u32, day: u32| {
        json!({"event_id": format!("r{n}"), "event_type": "repayment",
        "event_time": format!("2025-01-{day:02}T00:00:00.000Z"), "schema_version": 1, "scenario": "bnpl",
        "caused_by": "t", "transaction_id": "x", "customer_id": cust.customer_id, "installment_number": n,
        "amount": 25.0, "remaining_balance": 100.0 - 25.0 * f64::from(n)})
    };
    let prior = std::slice::from_ref(&txn);
    assert_caught("bnpl", prior, pay(2, 15), "plan");
    assert_caught("bnpl", prior, pay(1, 16), "plan");
    let mut score = txn.clone();
    score["credit_score"] = json!(cust.credit_score + 1);
    assert_caught("bnpl", &[], score, "credit_score");
    let mut merchant = txn.clone();
    merchant["merchant_id"] = json!("M-NOPE");
    assert_caught("bnpl", &[], merchant, "unknown_reference");
    assert_caught("bnpl", &[], pay(1, 15), "orphan");
}
