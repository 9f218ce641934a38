//! Contract rules of sale lines (issue 12): each `sale` event is one basket line that carries
//! a `store_id`, `product_id` and `quantity` that resolve; the lines of a transaction agree on
//! the basket and add up to its subtotal; the payment fits the channel.

use std::collections::HashMap;

use serde_json::Value;

use super::{cents, Checker};
use crate::scenario::util::time_ms;

/// Where sales happen, and how each may be paid.
const CHANNELS: &[(&str, &[&str])] = &[
    ("in_store", &["card", "cash", "mobile_wallet", "gift_card"]),
    ("online", &["card", "mobile_wallet", "gift_card"]),
    ("mobile_app", &["card", "mobile_wallet", "gift_card"]),
];

/// A transaction whose lines are still arriving.
struct Basket {
    first_line: String,
    line_count: i64,
    seen: i64,
    lines_sum: i64,
    /// What every line must repeat: store, customer, channel, payment, subtotal, tax, total.
    shared: Vec<Value>,
    time_ms: i64,
}

const SHARED: [&str; 7] = [
    "store_id",
    "customer_id",
    "channel",
    "payment_method",
    "basket_subtotal",
    "basket_tax",
    "basket_total",
];

/// What the sale rules remember. Bounded like the rest of the checker: entries older than
/// the id window are dropped (and reported) by [`Checker::prune_sales`].
#[derive(Default)]
pub(super) struct SaleState {
    baskets: HashMap<String, Basket>,
    /// Sale inventory updates that arrived before their line (a consumer reads the sales and
    /// inventory topics interleaved): (line event id, sku) -> (quantity change, event time,
    /// the update's event id).
    early: HashMap<(String, String), (i64, i64, String)>,
}

impl Checker {
    /// One sale line, after the envelope, store, customer and time order were checked.
    pub(super) fn sale_line(&mut self, id: &str, e: &Value, store: Option<String>) {
        self.payment_fits_channel(id, e);
        let time = time_ms(&e["event_time"]).unwrap_or(i64::MIN);
        let sku = self.known(id, "product_id", &e["product_id"]);
        let (price, qty) = (cents(&e["unit_price"]), e["quantity"].as_i64());
        let (Some(sku), Some(price), Some(qty)) = (sku, price, qty.filter(|q| *q >= 1)) else {
            return self.fail(
                id,
                "schema",
                format!(
                    "a sale line needs product_id, unit_price and a quantity >= 1; got {}, {}, {}",
                    e["product_id"], e["unit_price"], e["quantity"]
                ),
            );
        };
        if cents(&e["line_total"]) != Some(price * qty) {
            let total = &e["line_total"];
            self.fail(
                id,
                "sale_total",
                format!("line_total {total} is not {qty} x unit_price {price} cents"),
            );
        }
        if let Some(&current) = self.price.get(&sku) {
            if current != price {
                self.fail(
                    id,
                    "stale_price",
                    format!("sku {sku} sold at {price} cents, latest price is {current}"),
                );
            }
        }
        let key = (id.to_string(), sku.clone());
        let early = self.sales.early.remove(&key);
        if let Some(store) = &store {
            if let Some(&now) = self.stock.get(&(store.clone(), sku.clone())) {
                // An update that came first has already taken the line off the stock.
                let on_hand = now - early.as_ref().map_or(0, |(change, ..)| *change);
                if qty > on_hand {
                    self.fail(
                        id,
                        "oversold",
                        format!("sold {qty} of {sku} at {store} with {on_hand} on hand"),
                    );
                }
            }
        }
        match early {
            Some((change, ..)) if change == -qty => {}
            Some((change, ..)) => self.fail(
                id,
                "sale_inventory_mismatch",
                format!("sale sold {qty} of {sku}, update says {change}"),
            ),
            None => {
                self.open_lines.insert(key, (qty, time));
            }
        }
        self.basket_line(id, e, price * qty, time);
    }

    fn payment_fits_channel(&mut self, id: &str, e: &Value) {
        let (channel, payment) = (e["channel"].as_str(), e["payment_method"].as_str());
        let Some((_, methods)) = CHANNELS.iter().find(|(c, _)| Some(*c) == channel) else {
            let known: Vec<_> = CHANNELS.iter().map(|(c, _)| *c).collect();
            let got = &e["channel"];
            let detail = format!("channel {got} is none of {}", known.join(", "));
            return self.fail(id, "schema", detail);
        };
        if !payment.is_some_and(|p| methods.contains(&p)) {
            let (channel, payment) = (&e["channel"], &e["payment_method"]);
            let detail = format!("a {channel} sale paid by {payment}; it takes {methods:?}");
            self.fail(id, "payment_channel", detail);
        }
    }

    /// Checks that the line belongs with the others of its transaction, and when the last
    /// has come, that the lines add up to the basket's subtotal.
    fn basket_line(&mut self, id: &str, e: &Value, line_total: i64, time: i64) {
        let Some(tx) = e["transaction_id"].as_str() else {
            return self.fail(id, "schema", "transaction_id is missing".into());
        };
        let (number, count) = (e["line_number"].as_i64(), e["line_count"].as_i64());
        let (Some(number), Some(count)) = (number, count.filter(|c| *c >= 1)) else {
            let detail = "line_number or line_count missing, or line_count below 1".into();
            return self.fail(id, "schema", detail);
        };
        let shared: Vec<Value> = SHARED.iter().map(|f| e[*f].clone()).collect();
        if let (Some(sub), Some(tax), Some(total)) = (
            cents(&e["basket_subtotal"]),
            cents(&e["basket_tax"]),
            cents(&e["basket_total"]),
        ) {
            if sub + tax != total {
                let detail = format!("basket_total {total} is not subtotal {sub} + tax {tax}");
                self.fail(id, "sale_total", detail);
            }
        }
        let basket = self
            .sales
            .baskets
            .entry(tx.to_string())
            .or_insert_with(|| Basket {
                first_line: id.to_string(),
                line_count: count,
                seen: 0,
                lines_sum: 0,
                shared: shared.clone(),
                time_ms: time,
            });
        basket.seen += 1;
        basket.lines_sum += line_total;
        let (seen, agrees) = (
            basket.seen,
            basket.shared == shared && basket.line_count == count,
        );
        if !agrees || number != seen {
            self.fail(
                id,
                "basket_mismatch",
                format!(
                    "line {number} of {count} of transaction {tx} is line {seen} seen, or differs \
                     from the transaction's first line in store, customer, channel, payment or \
                     totals"
                ),
            );
        }
        if seen < count {
            return;
        }
        if let Some(basket) = self.sales.baskets.remove(tx) {
            let subtotal = cents(&basket.shared[4]);
            if subtotal != Some(basket.lines_sum) {
                self.fail(
                    id,
                    "sale_total",
                    format!(
                        "basket_subtotal {} is not the sum of the lines {}",
                        basket.shared[4], basket.lines_sum
                    ),
                );
            }
        }
    }

    /// A sale inventory update whose line has not come yet: it waits for it.
    pub(super) fn early_sale_update(&mut self, id: &str, key: (String, String), change: i64) {
        let time = self.newest_ms;
        self.sales.early.insert(key, (change, time, id.to_string()));
    }

    /// Reports and drops baskets and early updates older than `horizon`; all of them when
    /// `horizon` is `None` (the end of the stream).
    pub(super) fn prune_sales(&mut self, horizon: Option<i64>) {
        let old = |t: i64| horizon.is_none_or(|h| t < h);
        let stale: Vec<String> = (self.sales.baskets.iter())
            .filter(|(_, b)| old(b.time_ms))
            .map(|(tx, _)| tx.clone())
            .collect();
        for tx in stale {
            if let Some(b) = self.sales.baskets.remove(&tx) {
                let detail = format!(
                    "transaction {tx} has {} of its {} lines",
                    b.seen, b.line_count
                );
                self.fail(&b.first_line, "basket_incomplete", detail);
            }
        }
        let stale: Vec<_> = (self.sales.early.iter())
            .filter(|(_, (_, t, _))| old(*t))
            .map(|(k, _)| k.clone())
            .collect();
        for key in stale {
            if let Some((_, _, update)) = self.sales.early.remove(&key) {
                let (line, sku) = key;
                let detail = format!("no open sale line {line}/{sku} for this update");
                self.fail(&update, "orphan_update", detail);
            }
        }
    }
}
