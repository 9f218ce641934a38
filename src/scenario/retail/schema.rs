//! The retail event schema as the ingest API checks it: every type's own fields, after the
//! envelope. Messages name the first bad field.

use serde_json::{Map, Value};

use super::{CUSTOMER_EVENT, INVENTORY_UPDATE, PRICE_CHANGE, RESTOCK_ALERT, SALE};
use crate::scenario::EventTypeId;

/// What a field must hold.
#[derive(Clone, Copy)]
enum Kind {
    Text,
    Number,
    /// A whole number >= 0.
    Count,
    Integer,
    /// A string or null.
    OptionalText,
}

const SALE_FIELDS: &[(&str, Kind)] = &[
    ("transaction_id", Kind::Text),
    ("line_number", Kind::Count),
    ("line_count", Kind::Count),
    ("store_id", Kind::Text),
    ("customer_id", Kind::Text),
    ("channel", Kind::Text),
    ("payment_method", Kind::Text),
    ("product_id", Kind::Text),
    ("quantity", Kind::Count),
    ("unit_price", Kind::Number),
    ("line_total", Kind::Number),
    ("basket_item_count", Kind::Count),
    ("basket_subtotal", Kind::Number),
    ("basket_tax", Kind::Number),
    ("basket_total", Kind::Number),
    ("currency", Kind::Text),
];
const INVENTORY_FIELDS: &[(&str, Kind)] = &[
    ("store_id", Kind::Text),
    ("sku", Kind::Text),
    ("reason", Kind::Text),
    ("quantity_change", Kind::Integer),
    ("stock_after", Kind::Count),
    ("transaction_id", Kind::OptionalText),
    ("alert_event_id", Kind::OptionalText),
];
const CUSTOMER_FIELDS: &[(&str, Kind)] = &[
    ("customer_id", Kind::Text),
    ("home_store_id", Kind::Text),
    ("action", Kind::Text),
    ("loyalty_tier", Kind::Text),
];
const PRICE_FIELDS: &[(&str, Kind)] = &[
    ("sku", Kind::Text),
    ("category", Kind::Text),
    ("old_price", Kind::Number),
    ("new_price", Kind::Number),
    ("change_pct", Kind::Number),
    ("reason", Kind::Text),
];
const RESTOCK_FIELDS: &[(&str, Kind)] = &[
    ("store_id", Kind::Text),
    ("sku", Kind::Text),
    ("current_stock", Kind::Count),
    ("reorder_point", Kind::Count),
    ("suggested_order_qty", Kind::Count),
    ("priority", Kind::Text),
    ("expected_delivery_time", Kind::Text),
];

/// Checks the fields of an event whose envelope says it is of type `ty`.
pub fn validate_fields(ty: EventTypeId, event: &Map<String, Value>) -> Result<(), String> {
    match ty {
        SALE => check(event, SALE_FIELDS, ""),
        INVENTORY_UPDATE => check(event, INVENTORY_FIELDS, ""),
        CUSTOMER_EVENT => check(event, CUSTOMER_FIELDS, ""),
        PRICE_CHANGE => check(event, PRICE_FIELDS, ""),
        RESTOCK_ALERT => check(event, RESTOCK_FIELDS, ""),
        _ => Ok(()),
    }
}

fn check(object: &Map<String, Value>, fields: &[(&str, Kind)], path: &str) -> Result<(), String> {
    for (name, kind) in fields {
        let value = object.get(*name);
        let (ok, want) = match kind {
            Kind::Text => (value.is_some_and(Value::is_string), "a string"),
            Kind::Number => (value.is_some_and(Value::is_number), "a number"),
            Kind::Count => (value.is_some_and(Value::is_u64), "a whole number >= 0"),
            Kind::Integer => (
                value.is_some_and(|v| v.is_i64() || v.is_u64()),
                "a whole number",
            ),
            Kind::OptionalText => (
                value.is_some_and(|v| v.is_null() || v.is_string()),
                "a string or null",
            ),
        };
        if !ok {
            return Err(match value {
                None => format!("{path}{name}: missing; it must be {want}"),
                Some(v) => format!("{path}{name}: {v} is not {want}"),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn first_bad_field_is_named_with_its_path() {
        let sale = json!({"transaction_id": "t", "line_number": 1, "line_count": 1,
            "store_id": "S1", "customer_id": "C1", "channel": "in_store", "payment_method": "card",
            "product_id": "P1", "quantity": 1, "unit_price": 1.5, "line_total": 1.5,
            "basket_item_count": 1, "basket_subtotal": 1.5, "basket_tax": 0.1,
            "basket_total": 1.6, "currency": "USD"});
        let object = |v: &Value| v.as_object().unwrap().clone();
        assert_eq!(validate_fields(SALE, &object(&sale)), Ok(()));
        let mut bad = sale.clone();
        bad["quantity"] = json!(-2);
        assert_eq!(
            validate_fields(SALE, &object(&bad)).unwrap_err(),
            "quantity: -2 is not a whole number >= 0"
        );
        let mut bad = sale.clone();
        bad.as_object_mut().unwrap().remove("store_id");
        assert_eq!(
            validate_fields(SALE, &object(&bad)).unwrap_err(),
            "store_id: missing; it must be a string"
        );
        let inv = json!({"store_id": "S1", "sku": "P1", "reason": "sale", "quantity_change": -1,
            "stock_after": 3, "transaction_id": null, "alert_event_id": null});
        assert_eq!(validate_fields(INVENTORY_UPDATE, &object(&inv)), Ok(()));
    }
}
