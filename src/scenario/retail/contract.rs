//! The retail data contract as executable checks: what a consumer replaying the stream may rely
//! on (see the README). The tests replay generated streams through it, and the checking
//! consumer applies it to what arrives from Kafka.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::master::MasterData;
use crate::scenario::util::{time_ms, uuid_time_ms, RecentIds, ID_WINDOW_MS};

pub use crate::scenario::Violation;

mod adjust;
mod pricing;
mod sales;
mod stock;

struct Alert {
    pair: (String, String),
    quantity: i64,
    time_ms: i64,
}

/// Sale lines still waiting for their inventory update: (sale event id, sku) ->
/// (quantity, the sale's event time).
type OpenLines = HashMap<(String, String), (i64, i64)>;

/// Replays events in stream order and reports every violation of the contract.
///
/// Memory is bounded (issue 10): event ids as [`RecentIds`] (the last hour of event time, at
/// most a million); open sale lines, baskets, early sale updates and alerts older than
/// [`ID_WINDOW_MS`] are dropped (the first three are reported); prices, promotions, stock and
/// the last time per key have one entry per product, (store, product) or key of the master
/// data; violations until taken.
pub struct Checker {
    reorder_point: HashMap<String, i64>,
    stores: HashSet<String>,
    customers: HashSet<String>,
    price: HashMap<String, i64>,
    stock: HashMap<(String, String), i64>,
    alerts: HashMap<String, Alert>,
    open_lines: OpenLines,
    seen: RecentIds,
    last_time: HashMap<String, String>,
    violations: Vec<Violation>,
    /// Open baskets and early sale updates (`sales.rs`).
    sales: sales::SaleState,
    /// Running promotions (`pricing.rs`).
    promotions: pricing::Promotions,
    /// The newest event time checked, and when open lines and alerts were last pruned.
    newest_ms: i64,
    pruned_ms: i64,
    /// Without a replay from the start, the event time of the first event checked: causes
    /// older than it may have come before the consumer started, so their absence is no fault.
    joined_at_ms: Option<i64>,
    from_start: bool,
    /// Dates, opening hours and shelf availability (`contract_realism.rs`).
    realism: super::contract_realism::Realism,
    /// Whether the event being checked had its shape reported already (`check_misshapen`).
    shape_reported: bool,
    /// Scratch for the realism rules' findings.
    found: Vec<super::contract_realism::Finding>,
}

fn cents(v: &Value) -> Option<i64> {
    v.as_f64().map(|x| (x * 100.0).round() as i64)
}

impl Checker {
    /// A checker that knows the master data: every id must exist, and stock starts from each
    /// product's `initial_stock` when `from_start` (a replay of the whole stream).
    pub fn new(data: &MasterData, from_start: bool) -> Self {
        let mut stock = HashMap::new();
        if from_start {
            for s in &data.stores {
                for p in &data.products {
                    stock.insert(
                        (s.store_id.clone(), p.sku.clone()),
                        i64::from(p.initial_stock),
                    );
                }
            }
        }
        Self {
            reorder_point: data
                .products
                .iter()
                .map(|p| (p.sku.clone(), i64::from(p.reorder_point)))
                .collect(),
            stores: data.stores.iter().map(|s| s.store_id.clone()).collect(),
            customers: data
                .customers
                .iter()
                .map(|c| c.customer_id.clone())
                .collect(),
            price: if from_start {
                data.products
                    .iter()
                    .map(|p| (p.sku.clone(), (p.base_price * 100.0).round() as i64))
                    .collect()
            } else {
                HashMap::new()
            },
            stock,
            alerts: HashMap::new(),
            open_lines: HashMap::new(),
            seen: RecentIds::default(),
            last_time: HashMap::new(),
            violations: Vec::new(),
            sales: sales::SaleState::default(),
            promotions: if from_start {
                data.products
                    .iter()
                    .map(|p| (p.sku.clone(), None))
                    .collect()
            } else {
                pricing::Promotions::new()
            },
            newest_ms: i64::MIN,
            pruned_ms: i64::MIN,
            joined_at_ms: None,
            from_start,
            realism: super::contract_realism::Realism::new(data, from_start),
            shape_reported: false,
            found: Vec::new(),
        }
    }

    pub fn violations(&self) -> &[Violation] {
        &self.violations
    }

    fn fail(&mut self, event_id: &str, rule: &'static str, detail: String) {
        if self.shape_reported && rule == "schema" {
            // The arrival checks reported this event's shape already.
            return;
        }
        self.violations.push(Violation {
            event_id: event_id.to_string(),
            rule,
            detail,
        });
    }

    /// Checks one event; returns how many violations it added.
    pub fn check(&mut self, event: &Value) -> usize {
        let before = self.violations.len();
        let id = event["event_id"].as_str().unwrap_or("?").to_string();
        if !self.from_start && self.joined_at_ms.is_none() {
            self.joined_at_ms = event["event_time"]
                .as_str()
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.timestamp_millis());
        }
        for field in ["event_id", "event_type", "event_time", "scenario"] {
            if !event[field].is_string() {
                self.fail(
                    &id,
                    "schema",
                    format!("envelope field {field} is missing or not a string"),
                );
            }
        }
        let time = time_ms(&event["event_time"]).unwrap_or(i64::MIN);
        if !self.seen.insert(&id, time) {
            self.fail(&id, "duplicate_event_id", "event_id seen before".into());
        }
        self.newest_ms = self.newest_ms.max(time);
        self.prune();
        self.realism.check(event, time, &mut self.found);
        for (rule, detail) in std::mem::take(&mut self.found) {
            self.fail(&id, rule, detail);
        }
        match event["event_type"].as_str().unwrap_or("") {
            "sale" => self.sale(&id, event),
            "inventory_update" => self.inventory_update(&id, event),
            "customer_event" => self.customer_event(&id, event),
            "price_change" => self.price_change(&id, event),
            "restock_alert" => self.restock_alert(&id, event),
            other => self.fail(&id, "schema", format!("unknown event_type {other:?}")),
        }
        self.violations.len() - before
    }

    /// Drops open sale lines and alerts older than the window, at most once a window: a sale
    /// line that old never got its update (a violation, reported now); an alert may stay open.
    fn prune(&mut self) {
        let horizon = self.newest_ms.saturating_sub(ID_WINDOW_MS);
        if self.newest_ms.saturating_sub(self.pruned_ms) < ID_WINDOW_MS {
            return;
        }
        self.pruned_ms = self.newest_ms;
        let stale: Vec<_> = self
            .open_lines
            .iter()
            .filter(|(_, line)| line.1 < horizon)
            .map(|(k, _)| k.clone())
            .collect();
        for key in stale {
            self.open_lines.remove(&key);
            let (sale, sku) = key;
            self.fail(
                &sale,
                "sale_without_inventory_update",
                format!("no inventory update for sku {sku} within an hour of event time"),
            );
        }
        self.alerts.retain(|_, a| a.time_ms >= horizon);
        self.prune_sales(Some(horizon));
    }

    /// Checks what can only be judged at the end: every sale line got its inventory update.
    pub fn finish(&mut self) {
        self.realism.finish(&mut self.found);
        for (rule, detail) in std::mem::take(&mut self.found) {
            self.fail("stream", rule, detail);
        }
        let open: Vec<_> = self.open_lines.drain().collect();
        for ((sale, sku), _) in open {
            self.fail(
                &sale,
                "sale_without_inventory_update",
                format!("no inventory update for sku {sku}"),
            );
        }
        self.prune_sales(None);
    }

    /// Whether the cause `id` (a UUID v7, so it carries its time) may predate the first event
    /// this checker saw, when it joined a stream already under way.
    /// The same goes for a cause older than the window, which may have been forgotten.
    pub(super) fn before_join(&self, id: &str) -> bool {
        let Some(cause_ms) = uuid_time_ms(id) else {
            return false;
        };
        self.joined_at_ms.is_some_and(|joined| cause_ms <= joined)
            || cause_ms < self.newest_ms.saturating_sub(ID_WINDOW_MS)
    }

    pub(super) fn known(&mut self, id: &str, kind: &'static str, value: &Value) -> Option<String> {
        let Some(text) = value.as_str() else {
            self.fail(id, "schema", format!("{kind} is missing or not a string"));
            return None;
        };
        let ok = match kind {
            "store_id" | "home_store_id" => self.stores.contains(text),
            "sku" | "product_id" => self.reorder_point.contains_key(text),
            _ => self.customers.contains(text),
        };
        if !ok {
            self.fail(
                id,
                "unknown_reference",
                format!("{kind} {text:?} is not in the master data"),
            );
        }
        Some(text.to_string())
    }

    /// Event times never go backwards for one key.
    pub(super) fn in_order(&mut self, id: &str, key: &str, event: &Value) {
        let time = event["event_time"].as_str().unwrap_or("").to_string();
        if let Some(prev) = self.last_time.insert(key.to_string(), time.clone()) {
            if time < prev {
                self.fail(
                    id,
                    "time_order",
                    format!("event_time {time} is before {prev} for key {key}"),
                );
            }
        }
    }

    fn sale(&mut self, id: &str, e: &Value) {
        let store = self.known(id, "store_id", &e["store_id"]);
        self.known(id, "customer_id", &e["customer_id"]);
        if let Some(store) = &store {
            self.in_order(id, store, e);
        }
        self.sale_line(id, e, store);
    }

    fn customer_event(&mut self, id: &str, e: &Value) {
        if let Some(customer) = self.known(id, "customer_id", &e["customer_id"]) {
            self.in_order(id, &customer, e);
        }
        self.known(id, "home_store_id", &e["home_store_id"]);
        if e["sku"].is_string() {
            self.known(id, "sku", &e["sku"]);
        }
    }

    fn price_change(&mut self, id: &str, e: &Value) {
        let Some(sku) = self.known(id, "sku", &e["sku"]) else {
            return;
        };
        self.in_order(id, &sku, e);
        let (old, new) = (cents(&e["old_price"]), cents(&e["new_price"]));
        let (Some(old), Some(new)) = (old, new) else {
            self.fail(id, "schema", "old_price or new_price missing".into());
            // What is there still counts: the new price is the latest from now on.
            if let Some(new) = new {
                self.new_price_positive(id, new);
                self.price.insert(sku, new);
            }
            return;
        };
        self.new_price_positive(id, new);
        if let Some(&current) = self.price.get(&sku) {
            if current != old {
                self.fail(
                    id,
                    "price_chain",
                    format!("old_price {old} is not the latest price {current} of {sku}"),
                );
            }
        }
        let reason = e["reason"].as_str().unwrap_or("");
        self.price_moves_as_reason(id, sku.clone(), reason, (old, new));
        self.price.insert(sku, new);
    }

    fn new_price_positive(&mut self, id: &str, new: i64) {
        if new <= 0 {
            self.fail(
                id,
                "bad_price",
                format!("new_price {new} cents is not positive"),
            );
        }
    }

    fn restock_alert(&mut self, id: &str, e: &Value) {
        let store = self.known(id, "store_id", &e["store_id"]);
        let sku = self.known(id, "sku", &e["sku"]);
        let (Some(store), Some(sku)) = (store, sku) else {
            return;
        };
        self.in_order(id, &store, e);
        let current = e["current_stock"].as_i64().unwrap_or(-1);
        let reorder = self.reorder_point.get(&sku).copied().unwrap_or(i64::MAX);
        if current > reorder {
            self.fail(
                id,
                "alert_above_reorder_point",
                format!("{store}/{sku}: stock {current} > reorder point {reorder}"),
            );
        }
        let pair = (store, sku);
        if let Some(&on_hand) = self.stock.get(&pair) {
            if on_hand != current {
                self.fail(
                    id,
                    "alert_stock_mismatch",
                    format!("alert says {current} on hand, stream says {on_hand}"),
                );
            }
        }
        let quantity = e["suggested_order_qty"].as_i64().unwrap_or(0);
        let time_ms = time_ms(&e["event_time"]).unwrap_or(i64::MIN);
        self.alerts.insert(
            id.to_string(),
            Alert {
                pair,
                quantity,
                time_ms,
            },
        );
    }
}

impl crate::scenario::ContractChecker for Checker {
    fn check(&mut self, event: &Value) -> usize {
        Checker::check(self, event)
    }

    fn check_misshapen(&mut self, event: &Value) -> usize {
        self.shape_reported = true;
        let n = Checker::check(self, event);
        self.shape_reported = false;
        n
    }

    fn finish(&mut self) {
        Checker::finish(self)
    }

    fn violations(&self) -> &[Violation] {
        Checker::violations(self)
    }

    fn take_violations(&mut self) -> Vec<Violation> {
        std::mem::take(&mut self.violations)
    }
}

#[cfg(test)]
#[path = "contract_tests.rs"]
mod tests;
