//! Primary inventory adjustments with the source document's reasons and range (issue 12):
//! `receipt` adds stock, `damage` and `theft` remove it, `adjustment` goes either way; the
//! change is within -5..=+10 and stock never goes below zero.

use rand::distr::Distribution;
use rand::RngExt;

use super::RetailWorld;
use crate::event::EventWriter;
use crate::scenario::retail::events::InventoryUpdate;
use crate::scenario::retail::{INVENTORY_UPDATE, TYPES};
use crate::scenario::util::envelope;
use crate::SimRng;

/// A reason, as the document draws it (uniformly), and a change that fits it, before the
/// stock on hand caps a loss.
fn draw(rng: &mut SimRng) -> (&'static str, i64) {
    match rng.random_range(0..4) {
        0 => ("receipt", rng.random_range(1..=10)),
        1 => ("damage", -rng.random_range(1..=5)),
        2 => ("theft", -rng.random_range(1..=5)),
        // A count that found more or fewer than the books say; never "no change".
        _ => match rng.random_range(-5..=9) {
            0 => ("adjustment", 10),
            n => ("adjustment", n),
        },
    }
}

/// `wanted` fitted to `on_hand`: a loss is capped at what is there; with nothing there, a
/// loss cannot happen, and the count finds one unit instead.
fn fit((reason, wanted): (&'static str, i64), on_hand: i64) -> (&'static str, i64) {
    match wanted.max(-on_hand) {
        0 => ("adjustment", 1),
        change => (reason, change),
    }
}

impl RetailWorld {
    /// A stock movement that is not a sale or an ordered restock.
    pub(super) fn adjustment(
        &mut self,
        rng: &mut SimRng,
        now_ms: i64,
        out: &mut EventWriter<'_>,
    ) -> bool {
        let store = self.store_pick.sample(rng);
        let product = rng.random_range(0..self.products());
        let pair = (store * self.products() + product) as u32;
        let on_hand = i64::from(self.stock[pair as usize]);
        let (reason, change) = fit(draw(rng), on_hand);
        self.stock[pair as usize] = (on_hand + change) as u32;
        self.restate(pair);
        let update = InventoryUpdate {
            store_id: &self.data.stores[store].store_id,
            sku: &self.data.products[product].sku,
            reason,
            quantity_change: change,
            stock_after: self.stock[pair as usize],
            transaction_id: None,
            alert_event_id: None,
        };
        out.emit(
            rng,
            envelope(TYPES, INVENTORY_UPDATE, now_ms, None, update.store_id),
            &update,
        );
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    /// The document's range of an adjustment's quantity change.
    const CHANGE_RANGE: std::ops::RangeInclusive<i64> = -5..=10;

    #[test]
    fn reasons_move_stock_their_way_within_the_documents_range() {
        let mut rng = SimRng::seed_from_u64(3);
        let mut seen = std::collections::BTreeMap::new();
        for i in 0..20_000 {
            let on_hand = i % 7;
            let (reason, change) = fit(draw(&mut rng), on_hand);
            assert!(CHANGE_RANGE.contains(&change), "{reason} {change}");
            assert!(on_hand + change >= 0, "{reason} {change} with {on_hand}");
            assert_ne!(change, 0);
            match reason {
                "receipt" => assert!(change > 0),
                "damage" | "theft" => assert!(change < 0),
                "adjustment" => {}
                other => panic!("reason {other}"),
            }
            let (ups, downs) = seen.entry(reason).or_insert((0, 0));
            if change > 0 {
                *ups += 1;
            } else {
                *downs += 1;
            }
        }
        // Each reason is drawn (about 5,000 times each); adjustments go both ways.
        assert_eq!(seen.len(), 4, "{seen:?}");
        let (ups, downs) = seen["adjustment"];
        assert!(ups > 1_000 && downs > 1_000, "{ups} up, {downs} down");
    }
}
