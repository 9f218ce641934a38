//! The retail world state: stock per (store, sku), the price list, open restock orders and
//! loyalty tiers, and the rules that keep the event stream consistent with them (see the data
//! contract in the README).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rand::distr::weighted::WeightedIndex;
use rand::distr::Distribution;
use rand::RngExt;
use rand_distr::Zipf;
use uuid::Uuid;

use super::events::{InventoryUpdate, Line, Money, RestockAlert, TimeMs};
use super::master::{LoyaltyTier, MasterData};
use super::{
    RetailConfig, CUSTOMER_EVENT, INVENTORY_UPDATE, PRICE_CHANGE, RESTOCK_ALERT, SALE, TYPES,
};
use crate::event::EventWriter;
use crate::scenario::util::{envelope, pick};
use crate::scenario::{EventTypeId, World};
use crate::SimRng;

mod adjust;
mod basket;
mod clock;
mod market;
mod pricing;
mod shelves;

/// `PairState` of a (store, sku) above its reorder point.
const STOCKED: u32 = u32::MAX;
/// `PairState` of a (store, sku) with an open restock order.
const ORDERED: u32 = u32::MAX - 1;
/// `PairState` of a (store, sku) whose store does not exist yet: no alert may name it.
const DORMANT: u32 = u32::MAX - 2;

/// A restock order on its way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Receipt {
    due_ms: i64,
    /// Tie-breaker that keeps the heap's order deterministic.
    seq: u64,
    pair: u32,
    quantity: u32,
    alert: Uuid,
}

pub struct RetailWorld {
    data: MasterData,
    cfg: RetailConfig,
    price: Vec<Money>,
    /// Per product: the price its running promotion replaced, restored when it ends.
    promo: Vec<Option<Money>>,
    /// Stock per pair; pair = store * products + product.
    stock: Vec<u32>,
    /// Per pair: `STOCKED`, `ORDERED`, or its index in `low`.
    state: Vec<u32>,
    /// Pairs at or below their reorder point with no open order: the candidates for an alert.
    low: Vec<u32>,
    receipts: BinaryHeap<Reverse<Receipt>>,
    seq: u64,
    tiers: Vec<LoyaltyTier>,
    /// Which stores exist and are open, and which customers have signed up (issue 12).
    clock: clock::Clock,
    /// Per pair whether its shelf is empty, and how many are (`shelves.rs`).
    empty: Vec<bool>,
    empties: usize,
    /// Stores that came into existence at the last step of the clock (scratch).
    opened_now: Vec<usize>,
    /// Whether price changes have weight: they need neither store nor customer.
    prices_weighted: bool,
    /// Whether customer events have weight: a signup is the customer event drawn after the
    /// signup time; without them customers sign up silently.
    customers_weighted: bool,
    popularity: Zipf<f64>,
    line_count: WeightedIndex<u32>,
    /// Scratch space for a sale's lines, reused.
    lines: Vec<Line>,
}

fn cents(amount: f64) -> Money {
    Money((amount * 100.0).round() as i64)
}

impl RetailWorld {
    pub fn new(data: MasterData, cfg: RetailConfig) -> anyhow::Result<Self> {
        let products = data.products.len();
        let pairs = data.stores.len() * products;
        anyhow::ensure!(
            pairs < ORDERED as usize,
            "{pairs} (store, sku) pairs is more than this simulator holds"
        );
        let stock: Vec<u32> = (0..pairs)
            .map(|pair| data.products[pair % products].initial_stock)
            .collect();
        let clock = clock::Clock::new(&data)?;
        let popularity = Zipf::new(products as f64, cfg.popularity_skew)?;
        // One line is most common, each further line a little less likely: weights n, n-1, .., 1.
        let line_count =
            WeightedIndex::new((0..cfg.max_line_items).map(|k| cfg.max_line_items - k))?;
        let mut world = Self {
            price: data.products.iter().map(|p| cents(p.base_price)).collect(),
            promo: vec![None; products],
            tiers: data.customers.iter().map(|c| c.loyalty_tier).collect(),
            state: vec![STOCKED; pairs],
            stock,
            low: Vec::new(),
            receipts: BinaryHeap::new(),
            seq: 0,
            clock,
            empty: vec![false; pairs],
            empties: 0,
            opened_now: Vec::new(),
            prices_weighted: true,
            customers_weighted: true,
            popularity,
            line_count,
            lines: Vec::with_capacity(cfg.max_line_items as usize),
            data,
            cfg,
        };
        for pair in 0..pairs as u32 {
            world.restate(pair);
        }
        Ok(world)
    }

    fn products(&self) -> usize {
        self.data.products.len()
    }

    fn reorder_point(&self, pair: u32) -> u32 {
        self.data.products[pair as usize % self.products()].reorder_point
    }

    /// Keeps `state` and `low` in step with the stock of `pair`.
    fn restate(&mut self, pair: u32) {
        let p = pair as usize;
        self.track_empty(p);
        let is_low = self.stock[p] <= self.reorder_point(pair);
        match self.state[p] {
            DORMANT => {}
            STOCKED if is_low => {
                self.state[p] = self.low.len() as u32;
                self.low.push(pair);
            }
            ORDERED | STOCKED => {}
            index if !is_low => {
                self.take_low(index as usize, STOCKED);
            }
            _ => {}
        }
    }

    /// Removes `low[index]`, leaving its pair in `new_state`; returns the pair.
    fn take_low(&mut self, index: usize, new_state: u32) -> u32 {
        let pair = self.low.swap_remove(index);
        self.state[pair as usize] = new_state;
        if let Some(&moved) = self.low.get(index) {
            self.state[moved as usize] = index as u32;
        }
        pair
    }

    fn sale(&mut self, rng: &mut SimRng, now_ms: i64, out: &mut EventWriter<'_>) -> bool {
        self.advance(now_ms);
        let Some((store, channel)) = self.clock.sale_store(rng) else {
            return false;
        };
        let products = self.products();
        let wanted = self.line_count.sample(rng) + 1;
        self.lines.clear();
        for _ in 0..wanted {
            // A shopper who finds the shelf empty tries something else, a few times.
            for _ in 0..4 {
                let product = (self.popularity.sample(rng) as usize).clamp(1, products) - 1;
                let on_hand = self.stock[store * products + product];
                if on_hand == 0 || self.lines.iter().any(|l| l.product as usize == product) {
                    continue;
                }
                let quantity = pick(rng, &[(1, 45), (2, 30), (3, 15), (4, 10)]).min(on_hand);
                self.lines.push(Line {
                    product: product as u32,
                    quantity,
                    unit_price: self.price[product],
                });
                break;
            }
        }
        if self.lines.is_empty() {
            // The popular shelves were empty: the shopper takes whatever this store still has.
            let start = rng.random_range(0..products);
            let Some(product) = (0..products)
                .map(|i| (start + i) % products)
                .find(|&p| self.stock[store * products + p] > 0)
            else {
                return false;
            };
            self.lines.push(Line {
                product: product as u32,
                quantity: 1,
                unit_price: self.price[product],
            });
        }

        let Some(customer) = self.clock.customer(rng, store, self.cfg.home_store_share) else {
            return false;
        };
        self.emit_basket(rng, now_ms, (store, customer), channel, out);
        true
    }

    fn restock_alert(&mut self, rng: &mut SimRng, now_ms: i64, out: &mut EventWriter<'_>) -> bool {
        self.advance(now_ms);
        let Some(index) = self.alert_pick(rng) else {
            return false;
        };
        let pair = self.take_low(index, ORDERED);
        let (store, product) = (
            pair as usize / self.products(),
            pair as usize % self.products(),
        );
        let spec = &self.data.products[product];
        let on_hand = self.stock[pair as usize];
        let quantity = spec.max_stock - on_hand;
        let lead_ms = (rng
            .random_range(self.cfg.restock_lead_min_secs..=self.cfg.restock_lead_max_secs)
            * 1000.0) as i64;
        let alert = RestockAlert {
            store_id: &self.data.stores[store].store_id,
            sku: &spec.sku,
            current_stock: on_hand,
            reorder_point: spec.reorder_point,
            suggested_order_qty: quantity,
            priority: match on_hand {
                0 => "critical",
                n if n * 2 <= spec.reorder_point => "high",
                _ => "normal",
            },
            expected_delivery_time: TimeMs(now_ms + lead_ms),
        };
        let alert_id = out.emit(
            rng,
            envelope(TYPES, RESTOCK_ALERT, now_ms, None, alert.store_id),
            &alert,
        );
        self.seq += 1;
        self.receipts.push(Reverse(Receipt {
            due_ms: now_ms + lead_ms,
            seq: self.seq,
            pair,
            quantity,
            alert: alert_id,
        }));
        true
    }
}

impl World for RetailWorld {
    fn primary(
        &mut self,
        rng: &mut SimRng,
        event_type: EventTypeId,
        now_ms: i64,
        out: &mut EventWriter<'_>,
    ) -> bool {
        match event_type {
            SALE => self.sale(rng, now_ms, out),
            INVENTORY_UPDATE => self.adjustment(rng, now_ms, out),
            CUSTOMER_EVENT => self.customer_event(rng, now_ms, out),
            PRICE_CHANGE => self.price_change(rng, now_ms, out),
            RESTOCK_ALERT => self.restock_alert(rng, now_ms, out),
            _ => false,
        }
    }

    fn has_scheduled(&self) -> bool {
        // A store still to open brings stock; a signup matters only while nobody can buy.
        !self.receipts.is_empty()
            || self.clock.unopened() > 0
            || (!self.clock.any_customer() && self.clock.next_signup().is_some())
    }

    fn pending(&self) -> u64 {
        // Restock receipts still to come; the retail world does not finish them (`next_due`
        // is the default), so a run that ends counts them dropped.
        self.receipts.len() as u64
    }

    fn ready_at(&self) -> Option<i64> {
        // With no store yet, only price changes can be drawn (every customer has a store).
        if self.clock.any_store() || self.prices_weighted {
            return None;
        }
        self.clock.first_arrival()
    }

    fn blocked(&self) -> Option<String> {
        // Retail's own refusals: the reason this hint used to be given for every world.
        Some(
            "sales need stock > 0 and a store, restock alerts a low shelf; give weight to other \
             event types (--weights) or check the master data"
                .into(),
        )
    }

    fn due(&mut self, rng: &mut SimRng, now_ms: i64, out: &mut EventWriter<'_>) {
        self.advance(now_ms);
        while let Some(Reverse(receipt)) = self.receipts.peek().copied() {
            if receipt.due_ms > now_ms {
                break;
            }
            self.receipts.pop();
            let pair = receipt.pair as usize;
            self.stock[pair] += receipt.quantity;
            self.state[pair] = STOCKED;
            self.restate(receipt.pair);
            let (store, product) = (pair / self.products(), pair % self.products());
            let update = InventoryUpdate {
                store_id: &self.data.stores[store].store_id,
                sku: &self.data.products[product].sku,
                reason: "restock_receipt",
                quantity_change: i64::from(receipt.quantity),
                stock_after: self.stock[pair],
                transaction_id: None,
                alert_event_id: Some(receipt.alert),
            };
            // Stamped with its due time, which lies between the previous event and now.
            let env = envelope(
                TYPES,
                INVENTORY_UPDATE,
                receipt.due_ms,
                Some(receipt.alert),
                update.store_id,
            );
            out.emit(rng, env, &update);
        }
    }
}
