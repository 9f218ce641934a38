//! The parts of the retail world that do not touch stock: customers' loyalty and the price
//! list.

use rand::RngExt;

use super::pricing::{self, Move};
use super::{cents, RetailWorld};
use crate::event::EventWriter;
use crate::scenario::retail::events::{CustomerEvent, Money, PriceChange};
use crate::scenario::retail::master::LoyaltyTier;
use crate::scenario::retail::{CUSTOMER_EVENT, PRICE_CHANGE, TYPES};
use crate::scenario::util::{envelope, pick};
use crate::SimRng;

impl RetailWorld {
    pub(super) fn customer_event(
        &mut self,
        rng: &mut SimRng,
        now_ms: i64,
        out: &mut EventWriter<'_>,
    ) -> bool {
        let c = rng.random_range(0..self.data.customers.len());
        let tier = self.tiers[c];
        let mut event = CustomerEvent {
            customer_id: &self.data.customers[c].customer_id,
            home_store_id: &self.data.customers[c].home_store_id,
            action: "app_login",
            loyalty_tier: tier,
            previous_tier: None,
            sku: None,
            rating: None,
            points: None,
        };
        match rng.random_range(0..100) {
            0..30 => {}
            30..55 => event.action = "profile_updated",
            55..65 => event.action = "newsletter_subscribed",
            65..80 => {
                event.action = "review_posted";
                event.sku = Some(&self.data.products[rng.random_range(0..self.products())].sku);
                event.rating = Some(pick(rng, &[(5, 45), (4, 30), (3, 12), (2, 6), (1, 7)]));
            }
            80..90 => {
                event.action = "points_redeemed";
                event.points = Some(rng.random_range(1..=50) * 100);
            }
            _ => {
                let rank = LoyaltyTier::ALL
                    .iter()
                    .position(|t| *t == tier)
                    .unwrap_or(0);
                let up = rank + 1 < LoyaltyTier::ALL.len() && (rank == 0 || rng.random_bool(0.8));
                let new = LoyaltyTier::ALL[if up { rank + 1 } else { rank - 1 }];
                self.tiers[c] = new;
                event.action = "tier_changed";
                event.previous_tier = Some(tier);
                event.loyalty_tier = new;
            }
        }
        out.emit(
            rng,
            envelope(TYPES, CUSTOMER_EVENT, now_ms, None, event.customer_id),
            &event,
        );
        true
    }

    /// A price change by [`super::pricing`]'s rules.
    pub(super) fn price_change(
        &mut self,
        rng: &mut SimRng,
        now_ms: i64,
        out: &mut EventWriter<'_>,
    ) -> bool {
        let p = rng.random_range(0..self.products());
        let product = &self.data.products[p];
        let old = self.price[p];
        let list = cents(product.base_price).0;
        let promo = self.promo[p].map(|m| m.0);
        let Some(Move { reason, new }) = pricing::next_price(rng, old.0, list, promo) else {
            return false;
        };
        self.promo[p] = (reason == "promotion").then_some(old);
        self.price[p] = Money(new);
        let change = PriceChange {
            sku: &product.sku,
            category: &product.category,
            old_price: old,
            new_price: Money(new),
            change_pct: ((new - old.0) as f64 * 10_000.0 / old.0.max(1) as f64).round() / 100.0,
            reason,
        };
        out.emit(
            rng,
            envelope(TYPES, PRICE_CHANGE, now_ms, None, change.sku),
            &change,
        );
        true
    }
}
