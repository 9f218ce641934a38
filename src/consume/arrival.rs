//! Checks on each record as it arrives, before reordering: it parses, its envelope is valid,
//! it is on its type's topic, its key is its type's key field, and within one partition and
//! key its event time never goes backwards (per-key ordering is a promise about arrival order,
//! so it is judged here and not after the reorder buffer has sorted everything).

use std::collections::HashMap;

use serde_json::Value;

use super::reorder::Location;
use crate::scenario::{EventTypeId, Scenario, Violation};

/// What the arrival checks make of one record.
pub struct Arrived {
    pub event: Value,
    pub type_id: EventTypeId,
    pub time_ms: i64,
    pub derived: bool,
    /// Its shape was found wrong and reported here: the contract checker still checks its
    /// other rules, without reporting the shape again.
    pub misshapen: bool,
}

/// Per-record checks that need no world state.
pub struct ArrivalChecks {
    scenario: &'static dyn Scenario,
    /// Configured topic of each event type, in the scenario's table order.
    topics: Vec<String>,
    /// Latest event time per (topic's index in `topics`, partition, key): one entry per key
    /// read, so no copy of the topic's name in each.
    last: HashMap<(usize, i32, Box<[u8]>), i64>,
}

fn violation(event_id: &str, rule: &'static str, detail: String) -> Violation {
    Violation {
        event_id: event_id.to_string(),
        rule,
        detail,
    }
}

impl ArrivalChecks {
    pub fn new(scenario: &'static dyn Scenario, topics: Vec<String>) -> Self {
        Self {
            scenario,
            topics,
            last: HashMap::new(),
        }
    }

    /// Checks one record; returns the event when it is fit for the contract checker, and
    /// appends what is wrong with it to `out`.
    pub fn check(
        &mut self,
        at: &Location,
        key: Option<&[u8]>,
        payload: Option<&[u8]>,
        out: &mut Vec<Violation>,
    ) -> Option<Arrived> {
        let unnamed = format!("(record {at})");
        let event: Value = match serde_json::from_slice(payload.unwrap_or_default()) {
            Ok(v) => v,
            Err(e) => {
                out.push(violation(
                    &unnamed,
                    "schema",
                    format!("payload is not JSON ({e})"),
                ));
                return None;
            }
        };
        let types = self.scenario.event_types();
        let (type_id, misshapen) = match self.scenario.validate_event(&event) {
            Ok(t) => (t, false),
            Err(why) => {
                let id = event["event_id"].as_str().unwrap_or(&unnamed);
                out.push(violation(id, "schema", format!("{why} (at {at})")));
                // Of a known type, it goes on to the contract checker, whose other rules
                // still apply to the fields that are there.
                let named = event["event_type"].as_str();
                match types.iter().position(|t| Some(t.name) == named) {
                    Some(t) => (t as EventTypeId, true),
                    None => return None,
                }
            }
        };
        let id = event["event_id"].as_str().unwrap_or(&unnamed).to_string();
        let spec = &types[usize::from(type_id)];
        let expected_topic = &self.topics[usize::from(type_id)];
        if *expected_topic != at.topic {
            out.push(violation(
                &id,
                "wrong_topic",
                format!(
                    "{} event on {}; its topic is {expected_topic}",
                    spec.name, at.topic
                ),
            ));
        }
        let key_value = spec.key_of(&event);
        if key != key_value.as_deref().map(str::as_bytes) {
            out.push(violation(
                &id,
                "wrong_key",
                format!(
                    "record key {:?} is not the event's {} {:?} (at {at})",
                    key.map(String::from_utf8_lossy),
                    spec.key_field,
                    key_value
                ),
            ));
        }
        // Without a time it cannot be put in order, nor judged by the rules that need one.
        let time_ms = event["event_time"]
            .as_str()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.timestamp_millis())?;
        // The consumer subscribes to `topics` only, so every record's topic is found.
        let topic = self.topics.iter().position(|t| *t == at.topic);
        let slot = (
            topic.unwrap_or(usize::MAX),
            at.partition,
            Box::from(key.unwrap_or_default()),
        );
        let last = self.last.entry(slot).or_insert(time_ms);
        if time_ms < *last {
            out.push(violation(
                &id,
                "key_order",
                format!(
                    "event_time {} arrived after a later event of key {:?} on {}/{} ({} ms earlier, at {at})",
                    event["event_time"],
                    String::from_utf8_lossy(key.unwrap_or_default()),
                    at.topic,
                    at.partition,
                    *last - time_ms
                ),
            ));
        } else {
            *last = time_ms;
        }
        let derived = event.get("caused_by").is_some_and(|c| !c.is_null());
        Some(Arrived {
            event,
            type_id,
            time_ms,
            derived,
            misshapen,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::retail::{Retail, TYPES};
    use serde_json::json;

    fn checks() -> ArrivalChecks {
        let topics = TYPES.iter().map(|t| t.default_topic.to_string()).collect();
        ArrivalChecks::new(&Retail, topics)
    }

    fn sale(id: &str, time: &str) -> Vec<u8> {
        json!({"event_id": id, "event_type": "sale", "event_time": time, "schema_version": 1,
            "scenario": "retail", "caused_by": null, "transaction_id": A, "store_id": "S001",
            "customer_id": "C-000001", "channel": "online", "payment_method": "card",
            "line_number": 1, "line_count": 1, "product_id": "SKU-00001", "quantity": 1,
            "unit_price": 1.99, "line_total": 1.99, "basket_item_count": 1,
            "basket_subtotal": 1.99, "basket_tax": 0.16, "basket_total": 2.15, "currency": "USD"})
        .to_string()
        .into_bytes()
    }

    fn at(topic: &str, offset: i64) -> Location {
        Location {
            topic: topic.into(),
            partition: 0,
            offset,
        }
    }

    const A: &str = "01941f29-7c00-7f4b-8a95-c9b3c9f9ddd5";
    const B: &str = "01941f29-7c00-7f4b-8a95-c9b3c9f9ddd6";

    #[test]
    fn names_bad_json_envelope_topic_key_and_order() {
        let mut c = checks();
        let mut out = Vec::new();
        let sales = "retail-sales-transactions";
        assert!(c
            .check(&at(sales, 1), Some(b"S001"), Some(b"{nope"), &mut out)
            .is_none());
        assert_eq!(out[0].rule, "schema");
        assert!(out[0].event_id.contains("retail-sales-transactions/0@1"));

        let ok = c.check(
            &at(sales, 2),
            Some(b"S001"),
            Some(&sale(A, "2025-01-01T00:00:02.000Z")),
            &mut out,
        );
        assert_eq!(out.len(), 1, "{out:?}");
        let ok = ok.unwrap();
        assert_eq!((ok.time_ms, ok.derived), (1_735_689_602_000, false));

        c.check(
            &at("retail-price-changes", 3),
            Some(b"S002"),
            Some(&sale(B, "2025-01-01T00:00:01.000Z")),
            &mut out,
        );
        let rules: Vec<_> = out.iter().map(|v| v.rule).collect();
        assert_eq!(rules, ["schema", "wrong_topic", "wrong_key"]);

        c.check(
            &at(sales, 4),
            Some(b"S001"),
            Some(&sale(B, "2025-01-01T00:00:01.000Z")),
            &mut out,
        );
        let last = out.last().unwrap();
        assert_eq!((last.rule, last.event_id.as_str()), ("key_order", B));
        assert!(last.detail.contains("1000 ms earlier"), "{}", last.detail);
    }

    /// A record of a known type that fails its schema is reported, and still handed on (marked)
    /// so the contract checker runs its other rules; one of no known type is not.
    #[test]
    fn a_misshapen_event_of_a_known_type_goes_on_to_the_checker() {
        let mut c = checks();
        let mut out = Vec::new();
        let sales = "retail-sales-transactions";
        let mut bad: serde_json::Value =
            serde_json::from_slice(&sale(A, "2025-01-01T00:00:02.000Z")).unwrap();
        bad["quantity"] = json!("two");
        let bytes = bad.to_string().into_bytes();
        let arrived = c.check(&at(sales, 1), Some(b"S001"), Some(&bytes), &mut out);
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].rule, "schema");
        let arrived = arrived.expect("handed on");
        assert!(arrived.misshapen);
        assert_eq!(arrived.time_ms, 1_735_689_602_000);

        bad["event_type"] = json!("teleport");
        let bytes = bad.to_string().into_bytes();
        assert!(c
            .check(&at(sales, 2), Some(b"S001"), Some(&bytes), &mut out)
            .is_none());
    }
}
