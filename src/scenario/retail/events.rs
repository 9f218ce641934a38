//! Retail event payloads: the fields each event type adds to the common envelope. They borrow
//! from the master data so encoding an event allocates nothing.

use serde::ser::Serializer;
use serde::Serialize;
use uuid::Uuid;

use super::master::LoyaltyTier;

/// An amount in cents, written as a decimal number (`1299` -> `12.99`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Money(pub i64);

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // Shortest round-trip formatting turns 1299 / 100.0 into exactly "12.99".
        s.serialize_f64(self.0 as f64 / 100.0)
    }
}

/// A time in milliseconds since the epoch, written as RFC 3339 like `event_time`.
#[derive(Debug, Clone, Copy)]
pub struct TimeMs(pub i64);

impl Serialize for TimeMs {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut buf = Vec::with_capacity(24);
        crate::timefmt::write_rfc3339_millis(&mut buf, self.0);
        s.serialize_str(std::str::from_utf8(&buf).unwrap_or_default())
    }
}

/// One line of a sale, by product index.
#[derive(Debug, Clone, Copy)]
pub struct Line {
    pub product: u32,
    pub quantity: u32,
    pub unit_price: Money,
}

/// One line of a sale: the document's `store_id`, `product_id` and `quantity`, with the
/// basket it belongs to. A basket of k lines is k of these, sharing `transaction_id`, each
/// carrying the basket's totals.
#[derive(Serialize)]
pub struct SaleLine<'a> {
    pub transaction_id: Uuid,
    /// 1 to `line_count`.
    pub line_number: u32,
    /// Lines in the basket.
    pub line_count: u32,
    pub store_id: &'a str,
    pub customer_id: &'a str,
    pub channel: &'static str,
    pub payment_method: &'static str,
    /// The product's sku.
    pub product_id: &'a str,
    pub quantity: u32,
    pub unit_price: Money,
    pub line_total: Money,
    /// Units in the whole basket.
    pub basket_item_count: u32,
    pub basket_subtotal: Money,
    pub basket_tax: Money,
    pub basket_total: Money,
    pub currency: &'a str,
}

#[derive(Serialize)]
pub struct InventoryUpdate<'a> {
    pub store_id: &'a str,
    pub sku: &'a str,
    /// `sale` and `restock_receipt` (derived), or the source document's `receipt`,
    /// `adjustment`, `damage` and `theft`.
    pub reason: &'static str,
    pub quantity_change: i64,
    pub stock_after: u32,
    /// The sale's transaction, for `reason: "sale"`.
    pub transaction_id: Option<Uuid>,
    /// The restock alert this receipt answers, for `reason: "restock_receipt"`.
    pub alert_event_id: Option<Uuid>,
}

#[derive(Serialize)]
pub struct CustomerEvent<'a> {
    pub customer_id: &'a str,
    pub home_store_id: &'a str,
    pub action: &'static str,
    /// The tier after this event.
    pub loyalty_tier: LoyaltyTier,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_tier: Option<LoyaltyTier>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sku: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rating: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub points: Option<u32>,
}

#[derive(Serialize)]
pub struct PriceChange<'a> {
    pub sku: &'a str,
    pub category: &'a str,
    pub old_price: Money,
    pub new_price: Money,
    pub change_pct: f64,
    pub reason: &'static str,
}

#[derive(Serialize)]
pub struct RestockAlert<'a> {
    pub store_id: &'a str,
    pub sku: &'a str,
    pub current_stock: u32,
    pub reorder_point: u32,
    pub suggested_order_qty: u32,
    /// `critical` when out of stock, `high` at or below half the reorder point, else `normal`.
    pub priority: &'static str,
    pub expected_delivery_time: TimeMs,
}
