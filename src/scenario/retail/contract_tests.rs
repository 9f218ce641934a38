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
