//! The contract rules of issue 12, beside the core ones in `contract.rs`:
//!
//! - `before_signup`: no event names a customer before local midnight of their `signup_date`
//!   (in the home store's time zone);
//! - `before_opening`: no event names a store (`store_id` or `home_store_id`) before local
//!   midnight of its `opened_on`;
//! - `closed_store_sale`: an `in_store` sale happens while its store is open (`hours.rs`);
//! - `signup`: a customer's `signup` is their first appearance in the stream;
//! - `availability`: replayed from the start, the share of (store, sku) shelves with stock,
//!   sampled every hour of event time, averages 0.92-0.97. Judged at finish, and only over at
//!   least [`MIN_AVAILABILITY_SPAN_MS`] of event time: a shorter stream mostly shows the master
//!   data's starting stock, not the world's replenishment.
//!
//! Memory is bounded by the master data: a calendar per store, a signup time and a seen flag
//! per customer, an empty flag per (store, sku).

use std::collections::HashMap;

use serde_json::Value;

use super::hours::{day_start_ms, Calendar};
use super::master::MasterData;

/// The availability band real chains keep (issue 12).
pub const AVAILABILITY_BAND: (f64, f64) = (0.92, 0.97);
/// Shortest stream, in event time, whose availability is judged: a week.
pub const MIN_AVAILABILITY_SPAN_MS: i64 = 7 * 86_400_000;
const HOUR_MS: i64 = 3_600_000;

/// A time for a message: `2025-01-01T05:00:00+00:00`.
fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map_or_else(|| format!("{ms} ms"), |t| t.to_rfc3339())
}

pub struct Realism {
    stores: HashMap<String, usize>,
    calendars: Vec<Calendar>,
    /// Per customer: when they may first appear, and whether they have.
    customers: HashMap<String, (i64, bool)>,
    skus: HashMap<String, usize>,
    /// Per (store, sku) whether the shelf is empty, when the stream is replayed from the start.
    empty: Option<Vec<bool>>,
    empties: usize,
    sum: f64,
    samples: u64,
    next_sample_ms: Option<i64>,
    first_ms: Option<i64>,
    last_ms: i64,
}

/// A broken rule: its name and what was wrong.
pub type Finding = (&'static str, String);

impl Realism {
    pub fn new(data: &MasterData, from_start: bool) -> Self {
        let calendars: Vec<Calendar> = data
            .stores
            .iter()
            // Loading checked every calendar; a store that fails here is skipped by the rules.
            .map(|s| {
                s.calendar().unwrap_or_else(|_| {
                    Calendar::new(chrono_tz::UTC, super::hours::Week([None; 7]), s.opened_on)
                })
            })
            .collect();
        let stores: HashMap<String, usize> = data
            .stores
            .iter()
            .enumerate()
            .map(|(i, s)| (s.store_id.clone(), i))
            .collect();
        let customers = data
            .customers
            .iter()
            .map(|c| {
                let tz = stores
                    .get(&c.home_store_id)
                    .map_or(chrono_tz::UTC, |&s| calendars[s].tz);
                (
                    c.customer_id.clone(),
                    (day_start_ms(tz, c.signup_date), false),
                )
            })
            .collect();
        let products = data.products.len();
        let empty = from_start.then(|| {
            (0..data.stores.len() * products)
                .map(|pair| data.products[pair % products].initial_stock == 0)
                .collect::<Vec<_>>()
        });
        Self {
            empties: empty
                .as_ref()
                .map_or(0, |e| e.iter().filter(|e| **e).count()),
            empty,
            skus: data
                .products
                .iter()
                .enumerate()
                .map(|(i, p)| (p.sku.clone(), i))
                .collect(),
            stores,
            calendars,
            customers,
            sum: 0.0,
            samples: 0,
            next_sample_ms: None,
            first_ms: None,
            last_ms: i64::MIN,
        }
    }

    fn availability(&self, empty: &[bool]) -> f64 {
        1.0 - self.empties as f64 / empty.len().max(1) as f64
    }

    /// Checks one event at `time_ms`, appending what it breaks to `found`.
    pub fn check(&mut self, event: &Value, time_ms: i64, found: &mut Vec<Finding>) {
        self.sample(time_ms);
        if let Some(id) = event["customer_id"].as_str() {
            if let Some((from, seen)) = self.customers.get_mut(id) {
                if time_ms < *from {
                    found.push((
                        "before_signup",
                        format!(
                            "customer {id} appears at {}, before their signup day starts at {} \
                             (local midnight of signup_date in their home store's zone)",
                            rfc3339(time_ms),
                            rfc3339(*from)
                        ),
                    ));
                }
                if event["action"] == "signup" && *seen {
                    found.push(("signup", format!("customer {id} signs up after appearing")));
                }
                *seen = true;
            }
        }
        let store = event["store_id"]
            .as_str()
            .or(event["home_store_id"].as_str());
        let Some((name, &s)) = store.and_then(|n| self.stores.get(n).map(|s| (n, s))) else {
            return;
        };
        let calendar = &self.calendars[s];
        if time_ms < calendar.opened_ms {
            found.push((
                "before_opening",
                format!("store {name} appears before it opens"),
            ));
        }
        match event["event_type"].as_str() {
            Some("sale") if event["channel"] == "in_store" && !calendar.is_open(time_ms) => {
                found.push((
                    "closed_store_sale",
                    format!("in-store sale at {name} outside its opening hours"),
                ));
            }
            Some("inventory_update") => self.stock(s, event),
            _ => {}
        }
    }

    fn stock(&mut self, store: usize, event: &Value) {
        let products = self.skus.len();
        let (Some(empty), Some(&sku), Some(after)) = (
            self.empty.as_mut(),
            event["sku"].as_str().and_then(|s| self.skus.get(s)),
            event["stock_after"].as_i64(),
        ) else {
            return;
        };
        let slot = &mut empty[store * products + sku];
        if *slot != (after == 0) {
            *slot = after == 0;
            if after == 0 {
                self.empties += 1;
            } else {
                self.empties -= 1;
            }
        }
    }

    /// Takes an hourly sample for every hour boundary up to `time_ms`.
    fn sample(&mut self, time_ms: i64) {
        let Some(empty) = self.empty.as_deref() else {
            return;
        };
        self.first_ms.get_or_insert(time_ms);
        self.last_ms = self.last_ms.max(time_ms);
        let next = *self.next_sample_ms.get_or_insert(time_ms);
        if time_ms < next {
            return;
        }
        let hours = (time_ms - next) / HOUR_MS + 1;
        self.sum += self.availability(empty) * hours as f64;
        self.samples += hours as u64;
        self.next_sample_ms = Some(next + hours * HOUR_MS);
    }

    /// Judges availability over the stream, if it was replayed from the start and is long
    /// enough.
    pub fn finish(&mut self, found: &mut Vec<Finding>) {
        let (Some(first), Some(empty)) = (self.first_ms, self.empty.as_deref()) else {
            return;
        };
        if self.last_ms - first < MIN_AVAILABILITY_SPAN_MS || self.samples == 0 {
            return;
        }
        let mean = (self.sum + self.availability(empty)) / (self.samples + 1) as f64;
        let (lo, hi) = AVAILABILITY_BAND;
        if !(lo..=hi).contains(&mean) {
            found.push((
                "availability",
                format!(
                    "on-shelf availability averaged {mean:.4} over {} hourly samples; real chains \
                     keep {lo}-{hi}",
                    self.samples + 1
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn data() -> MasterData {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/master");
        MasterData::load(&dir).unwrap()
    }

    fn ms(t: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(t)
            .unwrap()
            .timestamp_millis()
    }

    /// The rules `event` at `time` breaks, given what `realism` has seen.
    fn broken(realism: &mut Realism, event: serde_json::Value, time: &str) -> Vec<&'static str> {
        let mut found = Vec::new();
        realism.check(&event, ms(time), &mut found);
        found.into_iter().map(|(rule, _)| rule).collect()
    }

    /// One broken stream per rule: the good event passes, the broken one is named. (The
    /// checker runs these rules on every event; `tests/engine.rs` replays 100,000 through it.)
    #[test]
    fn each_rule_catches_its_broken_stream() {
        let data = data();
        let c = data.customers.iter().max_by_key(|c| c.signup_date).unwrap();
        let home = data
            .stores
            .iter()
            .find(|s| s.store_id == c.home_store_id)
            .unwrap();
        let customer = |action: &str| {
            json!({"event_type": "customer_event", "customer_id": c.customer_id,
                "home_store_id": c.home_store_id, "action": action})
        };
        // Noon UTC is within the local day in every zone the fixture uses (the Americas).
        let day = |d: chrono::NaiveDate| format!("{d}T12:00:00Z");
        let (before, after) = (
            c.signup_date.pred_opt().unwrap(),
            c.signup_date.succ_opt().unwrap(),
        );
        let mut r = Realism::new(&data, false);
        assert!(broken(&mut r, customer("signup"), &day(after)).is_empty());
        assert_eq!(broken(&mut r, customer("signup"), &day(after)), ["signup"]);
        let mut r = Realism::new(&data, false);
        assert_eq!(
            broken(&mut r, customer("app_login"), &day(before)),
            ["before_signup"]
        );
        // The message shows the two times it compared.
        let mut r = Realism::new(&data, false);
        let mut found = Vec::new();
        r.check(&customer("app_login"), ms(&day(before)), &mut found);
        let (_, detail) = &found[0];
        let signup_day = format!("{}T", c.signup_date);
        assert!(
            detail.contains(&format!("appears at {before}T12:00:00"))
                && detail.contains(&signup_day),
            "{detail}"
        );

        // A store named the day before it opens.
        let update = json!({"event_type": "inventory_update", "store_id": home.store_id,
            "sku": data.products[0].sku, "stock_after": 5});
        let mut r = Realism::new(&data, false);
        assert!(broken(&mut r, update.clone(), &day(home.opened_on)).is_empty());
        let early = day(home.opened_on.pred_opt().unwrap());
        assert_eq!(broken(&mut r, update, &early), ["before_opening"]);

        // In New York (ST-001) 01:30Z is 21:30 the day before, open; 02:15Z is 22:15, closed.
        let old = data.customers.iter().min_by_key(|c| c.signup_date).unwrap();
        let sale = |channel: &str| {
            json!({"event_type": "sale", "store_id": data.stores[0].store_id,
                "customer_id": old.customer_id, "channel": channel})
        };
        let mut r = Realism::new(&data, false);
        assert!(broken(&mut r, sale("in_store"), "2025-06-05T01:30:00Z").is_empty());
        assert!(broken(&mut r, sale("online"), "2025-06-05T02:15:00Z").is_empty());
        assert_eq!(
            broken(&mut r, sale("in_store"), "2025-06-05T02:15:00Z"),
            ["closed_store_sale"]
        );
    }

    /// Shelves emptied and left empty over eight days break the band; the same stream cut to
    /// six days is too short to judge.
    #[test]
    fn availability_is_judged_at_finish_over_a_long_enough_stream() {
        let data = data();
        let run = |days: i64| {
            let mut realism = Realism::new(&data, true);
            let mut found = Vec::new();
            let t0 = chrono::DateTime::parse_from_rfc3339("2025-06-02T12:00:00Z")
                .unwrap()
                .timestamp_millis();
            // A fifth of all shelves go empty on the first day.
            let pairs = data.stores.len() * data.products.len();
            for pair in 0..pairs / 5 {
                let e = json!({"event_type": "inventory_update",
                    "store_id": data.stores[pair / data.products.len()].store_id,
                    "sku": data.products[pair % data.products.len()].sku, "stock_after": 0});
                realism.check(&e, t0 + pair as i64, &mut found);
            }
            for hour in 1..=days * 24 {
                realism.check(
                    &json!({"event_type": "price_change"}),
                    t0 + hour * HOUR_MS,
                    &mut found,
                );
            }
            realism.finish(&mut found);
            found
        };
        let found = run(8);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, "availability");
        assert!(run(6).is_empty());
    }
}
