//! The retail contract rules of issue 12, each caught in a deliberately broken copy of a
//! generated stream: payment fits the channel, prices move as their reasons say, promotions end
//! by restoring the price they replaced, sale lines carry a store, product and quantity that
//! resolve and add up to their basket, and adjustments move stock their reason's way. The
//! clean replay of 100,000 primaries is `the_data_contract_holds_over_100k_events` in
//! `engine.rs`.

mod common;

use common::*;
use kafka_gen::scenario::retail::contract::Checker;
use kafka_gen::scenario::retail::master::MasterData;
use serde_json::Value;

/// A generated stream of `count` primary events on the fixture data.
fn stream(count: u64) -> Vec<Value> {
    let mut config = fixture_config(12);
    config.schedule.start = Some("2025-03-01T08:00:00Z".parse().unwrap());
    config.schedule.count = Some(count);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(run_captured(&config)).1
}

/// The violations of `events`, as (rule, event id).
fn violations(events: &[Value]) -> Vec<(String, String)> {
    let data = MasterData::load(&fixture_dir()).unwrap();
    let mut checker = Checker::new(&data, true);
    for e in events {
        checker.check(e);
    }
    checker.finish();
    (checker.violations().iter())
        .map(|v| (v.rule.to_string(), v.event_id.clone()))
        .collect()
}

/// Index of the first event that `pick` accepts.
fn find(events: &[Value], pick: impl Fn(&Value) -> bool) -> usize {
    events
        .iter()
        .position(pick)
        .expect("the stream has such an event")
}

fn id(e: &Value) -> String {
    e["event_id"].as_str().unwrap().to_string()
}

/// Breaks a copy of `events` with `edit` (at least one event changes) and asserts that `rule`
/// is reported for the event with id `at`.
fn caught(events: &[Value], rule: &str, edit: impl FnOnce(&mut Vec<Value>) -> String) {
    let mut broken = events.to_vec();
    let at = edit(&mut broken);
    assert_ne!(broken, events, "{rule}: the edit changed nothing");
    let found = violations(&broken);
    assert!(
        found.iter().any(|(r, e)| r == rule && *e == at),
        "{rule} not reported for {at}; got {:?}",
        &found[..found.len().min(10)]
    );
}

fn is(e: &Value, ty: &str, field: &str, value: &str) -> bool {
    e["event_type"] == ty && e[field] == value
}

#[test]
fn each_new_rule_catches_its_broken_stream() {
    let events = stream(20_000);
    assert_eq!(violations(&events), vec![], "the generated stream is clean");

    caught(&events, "payment_channel", |ev| {
        let i = find(ev, |e| {
            is(e, "sale", "channel", "online") && e["line_count"] == 1
        });
        ev[i]["payment_method"] = "cash".into();
        id(&ev[i])
    });
    caught(&events, "payment_channel", |ev| {
        let i = find(ev, |e| {
            is(e, "sale", "channel", "mobile_app") && e["line_count"] == 1
        });
        ev[i]["payment_method"] = "cash".into();
        id(&ev[i])
    });
    // A price rise labelled as a promotion, and a cut labelled as a cost increase.
    caught(&events, "price_against_reason", |ev| {
        let i = find(ev, |e| is(e, "price_change", "reason", "cost_increase"));
        ev[i]["reason"] = "promotion".into();
        id(&ev[i])
    });
    caught(&events, "price_against_reason", |ev| {
        let i = find(ev, |e| is(e, "price_change", "reason", "competitor_match"));
        ev[i]["reason"] = "cost_increase".into();
        id(&ev[i])
    });
    caught(&events, "promotion_end_without_promotion", |ev| {
        let i = find(ev, |e| is(e, "price_change", "reason", "competitor_match"));
        ev[i]["reason"] = "promotion_end".into();
        id(&ev[i])
    });
    // A promotion that ends ten cents above the price it replaced.
    caught(&events, "promotion_end_price", |ev| {
        let i = find(ev, |e| is(e, "price_change", "reason", "promotion_end"));
        let new = ev[i]["new_price"].as_f64().unwrap();
        ev[i]["new_price"] = ((new * 100.0).round() / 100.0 + 0.1).into();
        id(&ev[i])
    });
    // Another change while a promotion runs: its end relabelled as a cost increase.
    caught(&events, "promotion_overlap", |ev| {
        let i = find(ev, |e| is(e, "price_change", "reason", "promotion_end"));
        ev[i]["reason"] = "cost_increase".into();
        id(&ev[i])
    });
    // Sale lines without a store, a product or a quantity, or naming a product that does not
    // exist.
    for (field, value, rule) in [
        ("store_id", Value::Null, "schema"),
        ("product_id", Value::Null, "schema"),
        ("quantity", Value::Null, "schema"),
        ("quantity", 0.into(), "schema"),
        ("product_id", "SKU-NOPE".into(), "unknown_reference"),
    ] {
        caught(&events, rule, |ev| {
            let i = find(ev, |e| e["event_type"] == "sale" && e["line_count"] == 1);
            ev[i][field] = value;
            id(&ev[i])
        });
    }
    // A line whose price does not add up to its line total, and a basket that lost a line.
    caught(&events, "sale_total", |ev| {
        let i = find(ev, |e| e["event_type"] == "sale" && e["line_count"] == 1);
        ev[i]["line_total"] = 1e6.into();
        id(&ev[i])
    });
    caught(&events, "basket_incomplete", |ev| {
        let i = find(ev, |e| e["event_type"] == "sale" && e["line_count"] == 3);
        ev.remove(i + 1);
        id(&ev[i])
    });
    // Theft that adds stock.
    caught(&events, "adjustment_range", |ev| {
        let i = find(ev, |e| is(e, "inventory_update", "reason", "receipt"));
        ev[i]["reason"] = "theft".into();
        id(&ev[i])
    });
}

#[test]
fn a_sale_update_read_before_its_line_is_no_violation() {
    // A consumer reading the sales and inventory topics may see a line's inventory update
    // first: the checker waits for the line. (The lines themselves share a partition, so
    // they keep their order: move the last line of a basket.)
    let mut events = stream(2_000);
    let i = find(&events, |e| {
        e["event_type"] == "sale" && e["line_count"] == 3 && e["line_number"] == 3
    });
    let update = find(&events, |e| e["caused_by"] == events[i]["event_id"]);
    let line = events.remove(i);
    events.insert(update, line);
    assert_eq!(violations(&events), vec![]);
}

#[test]
fn a_consumer_written_against_the_document_reads_store_product_and_quantity() {
    // `transaction["store_id"]`, `transaction["product_id"]`, `transaction["quantity"]`, as
    // the document's generator reads a sale; summing quantity per product over sale events
    // gives exactly the units its inventory updates took off the shelves.
    let events = stream(5_000);
    let data = MasterData::load(&fixture_dir()).unwrap();
    let mut sold = std::collections::HashMap::<String, i64>::new();
    let mut taken = std::collections::HashMap::<String, i64>::new();
    for e in &events {
        if e["event_type"] == "sale" {
            assert!(data
                .stores
                .iter()
                .any(|s| e["store_id"] == s.store_id.as_str()));
            let product = e["product_id"].as_str().unwrap();
            assert!(data.products.iter().any(|p| p.sku == product), "{product}");
            *sold.entry(product.into()).or_default() += e["quantity"].as_i64().unwrap();
        } else if is(e, "inventory_update", "reason", "sale") {
            let sku = e["sku"].as_str().unwrap().to_string();
            *taken.entry(sku).or_default() -= e["quantity_change"].as_i64().unwrap();
        }
    }
    assert!(sold.len() > 20, "{} products sold", sold.len());
    assert_eq!(sold, taken);
}
