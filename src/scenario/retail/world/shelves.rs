//! Shelves and presence (issue 12): on-shelf availability and which low shelf a restock alert
//! names; keeping stores and customers in step with the clock; signups.
//!
//! Replenishment works to a target on-shelf availability, as real chains do (92-97%): below
//! [`TARGET_AVAILABILITY`] an alert goes to the emptiest low shelf it finds (empty first, best
//! seller first), at or above it to the shelf nearest its reorder point (the one that has just
//! run low). Refilled from empty a shelf gets more than sales take in the meantime, refilled at
//! its reorder point less (see `gen_product`), so availability settles at the target and the low
//! shelves never run out: restock alerts keep their weight.

use rand::RngExt;

use super::{RetailWorld, DORMANT, STOCKED};
use crate::event::EventWriter;
use crate::scenario::retail::events::CustomerEvent;
use crate::scenario::retail::master::LoyaltyTier;
use crate::scenario::retail::{CUSTOMER_EVENT, TYPES};
use crate::scenario::util::envelope;
use crate::SimRng;

/// Share of (store, sku) shelves with stock that replenishment works to.
pub const TARGET_AVAILABILITY: f64 = 0.95;
/// Low shelves an alert looks at before choosing: a sample, so a draw costs O(1).
const CANDIDATES: usize = 8;

impl RetailWorld {
    /// Keeps `empty` and `empties` in step with the stock of pair `p`.
    pub(super) fn track_empty(&mut self, p: usize) {
        let empty = self.stock[p] == 0;
        if empty != self.empty[p] {
            self.empty[p] = empty;
            if empty {
                self.empties += 1;
            } else {
                self.empties -= 1;
            }
        }
    }

    /// Share of all (store, sku) shelves with stock > 0.
    pub fn availability(&self) -> f64 {
        1.0 - self.empties as f64 / self.stock.len().max(1) as f64
    }

    /// The index in `low` of the shelf the next restock alert names; `None` when no shelf is low.
    pub(super) fn alert_pick(&self, rng: &mut SimRng) -> Option<usize> {
        if self.low.is_empty() {
            return None;
        }
        let chase = self.availability() < TARGET_AVAILABILITY;
        let products = self.products();
        (0..CANDIDATES)
            .map(|_| rng.random_range(0..self.low.len()))
            .min_by_key(|&i| {
                let pair = self.low[i];
                let stock = i64::from(self.stock[pair as usize]);
                let margin = i64::from(self.reorder_point(pair)) - stock;
                // Product index is popularity rank: the lower, the better it sells.
                let rank = pair as usize % products;
                if chase {
                    (stock, rank)
                } else {
                    (margin, rank)
                }
            })
    }

    /// Brings stores and customers up to `now_ms`: shelves of a store that does not exist yet
    /// are dormant (no alert names them) until it does.
    pub(super) fn advance(&mut self, now_ms: i64) {
        let first = !self.clock.started();
        let mut opened = std::mem::take(&mut self.opened_now);
        opened.clear();
        self.clock.advance_stores(now_ms, &mut opened);
        let products = self.products();
        if first {
            for store in 0..self.data.stores.len() {
                if self.clock.is_opened(store) {
                    continue;
                }
                for pair in (store * products) as u32..((store + 1) * products) as u32 {
                    match self.state[pair as usize] {
                        STOCKED => self.state[pair as usize] = DORMANT,
                        index if (index as usize) < self.low.len() => {
                            self.take_low(index as usize, DORMANT);
                        }
                        _ => {}
                    }
                }
            }
        }
        for &store in &opened {
            for pair in (store * products) as u32..((store + 1) * products) as u32 {
                if self.state[pair as usize] == DORMANT {
                    self.state[pair as usize] = STOCKED;
                    self.restate(pair);
                }
            }
        }
        self.opened_now = opened;
        if !self.customers_weighted {
            while self.clock.next_signup().is_some_and(|(at, _)| at <= now_ms) {
                self.clock.activate();
            }
        }
    }

    /// Emits the signup of the next customer whose signup time has come, if any: a customer's
    /// first appearance, with loyalty starting at bronze.
    pub(super) fn signup(
        &mut self,
        rng: &mut SimRng,
        now_ms: i64,
        out: &mut EventWriter<'_>,
    ) -> bool {
        let Some((at, c)) = self.clock.next_signup() else {
            return false;
        };
        if at > now_ms {
            return false;
        }
        self.clock.activate();
        self.tiers[c] = LoyaltyTier::Bronze;
        let customer = &self.data.customers[c];
        let event = CustomerEvent {
            customer_id: &customer.customer_id,
            home_store_id: &customer.home_store_id,
            action: "signup",
            loyalty_tier: LoyaltyTier::Bronze,
            previous_tier: None,
            sku: None,
            rating: None,
            points: None,
        };
        out.emit(
            rng,
            envelope(TYPES, CUSTOMER_EVENT, now_ms, None, event.customer_id),
            &event,
        );
        true
    }

    /// Which primary types have weight, in the scenario's order: the world needs to know
    /// whether customers sign up through customer events and whether prices can always move.
    pub fn set_weights(&mut self, weights: &[f64]) {
        let weighted =
            |t: crate::scenario::EventTypeId| weights.get(usize::from(t)).is_some_and(|w| *w > 0.0);
        self.customers_weighted = weighted(CUSTOMER_EVENT);
        self.prices_weighted = weighted(crate::scenario::retail::PRICE_CHANGE);
    }
}
