//! Contract rules of inventory updates: stock never below zero, each update chains from the
//! last stock of its shelf, a sale's update matches its line, a restock receipt its alert. An
//! update missing its numbers (a `schema` violation) still closes the sale line or alert it
//! names, and what its numbers allow is still checked.

use serde_json::Value;

use super::Checker;

impl Checker {
    pub(super) fn inventory_update(&mut self, id: &str, e: &Value) {
        let store = self.known(id, "store_id", &e["store_id"]);
        let sku = self.known(id, "sku", &e["sku"]);
        let (Some(store), Some(sku)) = (store, sku) else {
            return;
        };
        self.in_order(id, &store, e);
        let (change, after) = (e["quantity_change"].as_i64(), e["stock_after"].as_i64());
        if change.is_none() || after.is_none() {
            self.fail(
                id,
                "schema",
                "quantity_change or stock_after missing".into(),
            );
        }
        let pair = (store.clone(), sku.clone());
        if let Some(after) = after {
            if after < 0 {
                self.fail(
                    id,
                    "negative_stock",
                    format!("stock_after {after} for {store}/{sku}"),
                );
            }
            if let (Some(&prev), Some(change)) = (self.stock.get(&pair), change) {
                if prev + change != after {
                    self.fail(
                        id,
                        "stock_chain",
                        format!("{store}/{sku}: previous stock {prev} + change {change} != stock_after {after}"),
                    );
                }
            }
            self.stock.insert(pair.clone(), after);
        } else {
            // The shelf's stock is no longer known: no chain to check from it.
            self.stock.remove(&pair);
        }
        let cause = e["caused_by"].as_str().unwrap_or("").to_string();
        match e["reason"].as_str().unwrap_or("") {
            "sale" => match (
                self.open_lines.remove(&(cause.clone(), sku.clone())),
                change,
            ) {
                (Some((qty, _)), Some(change)) if qty != -change => self.fail(
                    id,
                    "sale_inventory_mismatch",
                    format!("sale sold {qty} of {sku}, update says {change}"),
                ),
                (Some(_), _) => {}
                (None, _) if self.before_join(&cause) => {}
                (None, Some(change)) => self.early_sale_update(id, (cause, sku), change),
                (None, None) => {}
            },
            "restock_receipt" => {
                let alert_id = e["alert_event_id"].as_str().unwrap_or("");
                match self.alerts.remove(alert_id) {
                    Some(alert)
                        if alert.pair == pair
                            && change.is_none_or(|c| c == alert.quantity)
                            && cause == alert_id => {}
                    Some(alert) => self.fail(
                        id,
                        "receipt_mismatch",
                        format!(
                            "receipt ({}/{}, {change:?} units, caused_by {cause:?}) does not \
                             match alert {alert_id} ({}/{}, {} units)",
                            pair.0, pair.1, alert.pair.0, alert.pair.1, alert.quantity
                        ),
                    ),
                    None if self.before_join(alert_id) => {}
                    None => self.fail(
                        id,
                        "receipt_without_alert",
                        format!("no open restock alert {alert_id:?}"),
                    ),
                }
            }
            reason @ ("receipt" | "adjustment" | "damage" | "theft") => {
                if let Some(change) = change {
                    self.adjustment_fits(id, reason, change)
                }
            }
            other => self.fail(id, "schema", format!("unknown inventory reason {other:?}")),
        }
    }
}
