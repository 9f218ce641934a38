//! Tests of `contract.rs`.

use super::*;
use serde_json::json;

fn data() -> MasterData {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/master");
    MasterData::load(&dir).unwrap()
}

#[test]
fn time_going_backwards_per_key_is_named_time_order_as_in_every_scenario() {
    let data = data();
    let mut checker = Checker::new(&data, false);
    // The customer who signed up first, so the events come after their signup.
    let c = data.customers.iter().min_by_key(|c| c.signup_date).unwrap();
    let customer = |id: &str, time: &str| {
        json!({"event_id": id, "event_type": "customer_event", "event_time": time,
            "scenario": "retail", "caused_by": null, "customer_id": c.customer_id,
            "home_store_id": c.home_store_id})
    };
    assert_eq!(checker.check(&customer("a", "2025-01-01T00:00:02.000Z")), 0);
    assert_eq!(checker.check(&customer("b", "2025-01-01T00:00:01.000Z")), 1);
    assert_eq!(checker.violations()[0].rule, "time_order");
}

/// A price change missing its old price fails its schema, yet its new price is still judged
/// and becomes the latest, so the next change chains from it (before, the event was dropped
/// from every rule after the schema's, and the next change looked stale).
#[test]
fn a_price_change_missing_a_price_still_has_its_other_rules_checked() {
    let data = data();
    let mut checker = Checker::new(&data, false);
    let sku = &data.products[0].sku;
    let change = |id: &str, time: &str, old: Option<f64>, new: f64| {
        let mut e = json!({"event_id": id, "event_type": "price_change", "event_time": time,
            "scenario": "retail", "caused_by": null, "sku": sku, "new_price": new,
            "reason": "cost_increase"});
        if let Some(old) = old {
            e["old_price"] = json!(old);
        }
        e
    };
    checker.check(&change("p1", "2025-01-01T00:00:01.000Z", None, -1.0));
    let rules: Vec<&str> = checker.violations().iter().map(|v| v.rule).collect();
    assert_eq!(rules, ["schema", "bad_price"]);
    let before = checker.violations().len();
    checker.check(&change("p2", "2025-01-01T00:00:02.000Z", Some(-1.0), 2.0));
    assert_eq!(
        checker.violations()[before..]
            .iter()
            .filter(|v| v.rule == "price_chain")
            .count(),
        0,
        "{:?}",
        checker.violations()
    );
    // Its shape reported on arrival, only the other rules are.
    let mut checker = Checker::new(&data, false);
    use crate::scenario::ContractChecker;
    checker.check_misshapen(&change("p3", "2025-01-01T00:00:03.000Z", None, -1.0));
    let rules: Vec<&str> = checker.violations().iter().map(|v| v.rule).collect();
    assert_eq!(rules, ["bad_price"]);
}
