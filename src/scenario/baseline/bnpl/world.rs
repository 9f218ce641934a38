//! The BNPL world: customer histories (plans repaid, defaults) behind their score and risk,
//! and open plans whose next instalment waits in a queue until it falls due.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rand::RngExt;
use uuid::Uuid;

use super::events::*;
use super::master::MasterData;
use super::{BnplConfig, CATEGORIES, DEFAULT, REPAYMENT, TRANSACTION, TYPES};
use crate::event::EventWriter;
use crate::scenario::util::{envelope, pick, uuid, Money};
use crate::scenario::{EventTypeId, World};
use crate::SimRng;

/// The next instalment of an open plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Due {
    due_ms: i64,
    seq: u64,
    txn: Uuid,
    txn_event: Uuid,
    customer: u32,
    number: u32,
    count: u32,
    interval_ms: i64,
    amount: i64,
    paid: i64,
    /// The instalment the plan defaults on; 0 if it is repaid in full.
    default_at: u32,
}

pub struct BnplWorld {
    data: MasterData,
    cfg: BnplConfig,
    repaid: Vec<u32>,
    defaults: Vec<u32>,
    /// Amount range (cents) per merchant.
    range: Vec<(f64, f64)>,
    queue: BinaryHeap<Reverse<Due>>,
    seq: u64,
}

impl BnplWorld {
    pub fn new(data: MasterData, cfg: BnplConfig) -> Self {
        let range = data
            .merchants
            .iter()
            .map(|m| {
                let c = CATEGORIES
                    .iter()
                    .find(|c| c.0 == m.category)
                    .unwrap_or(&CATEGORIES[0]);
                (c.1 * 100.0, c.2 * 100.0)
            })
            .collect();
        Self {
            repaid: vec![0; data.customers.len()],
            defaults: vec![0; data.customers.len()],
            range,
            queue: BinaryHeap::new(),
            seq: 0,
            data,
            cfg,
        }
    }

    fn transaction(&mut self, rng: &mut SimRng, now_ms: i64, out: &mut EventWriter<'_>) -> bool {
        let c = rng.random_range(0..self.data.customers.len());
        let m = rng.random_range(0..self.data.merchants.len());
        let (lo, hi) = self.range[m];
        // Log-uniform: many small purchases, a few large ones.
        let amount = (lo.ln() + rng.random::<f64>() * (hi.ln() - lo.ln()))
            .exp()
            .round() as i64;
        let plan = match amount {
            ..20_000 => 0,
            20_000..100_000 => pick(rng, &[(0, 50), (1, 35), (2, 15)]),
            _ => pick(rng, &[(1, 40), (2, 60)]),
        };
        let (plan, count, days) = PLANS[plan];
        let customer = &self.data.customers[c];
        let score = current_score(customer.credit_score, self.repaid[c], self.defaults[c]);
        let risk = default_risk(self.cfg.base_default_rate, score, amount, self.defaults[c]);
        let default_at = if rng.random_bool(risk) {
            rng.random_range(1..=count)
        } else {
            0
        };
        let txn = uuid(rng);
        let merchant = &self.data.merchants[m];
        let event = Transaction {
            transaction_id: txn,
            customer_id: &customer.customer_id,
            merchant_id: &merchant.merchant_id,
            category: &merchant.category,
            amount: Money(amount),
            currency: &self.cfg.currency,
            plan,
            installments: count,
            installment_interval_days: days,
            credit_score: score,
            default_risk: risk,
        };
        let env = envelope(TYPES, TRANSACTION, now_ms, None, event.customer_id);
        let txn_event = out.emit(rng, env, &event);
        self.seq += 1;
        self.queue.push(Reverse(Due {
            due_ms: now_ms + days * DAY_MS,
            seq: self.seq,
            txn,
            txn_event,
            customer: c as u32,
            number: 1,
            count,
            interval_ms: days * DAY_MS,
            amount,
            paid: 0,
            default_at,
        }));
        true
    }
}

impl World for BnplWorld {
    fn primary(
        &mut self,
        rng: &mut SimRng,
        event_type: EventTypeId,
        now_ms: i64,
        out: &mut EventWriter<'_>,
    ) -> bool {
        event_type == TRANSACTION && self.transaction(rng, now_ms, out)
    }

    fn has_scheduled(&self) -> bool {
        !self.queue.is_empty()
    }

    fn due(&mut self, rng: &mut SimRng, now_ms: i64, out: &mut EventWriter<'_>) {
        while let Some(Reverse(d)) = self.queue.peek().copied() {
            if d.due_ms > now_ms {
                break;
            }
            self.queue.pop();
            let c = d.customer as usize;
            let customer_id = &self.data.customers[c].customer_id;
            if d.number == d.default_at {
                self.defaults[c] += 1;
                let event = Default {
                    transaction_id: d.txn,
                    customer_id,
                    installment_number: d.number,
                    outstanding_amount: Money(d.amount - d.paid),
                };
                out.emit(
                    rng,
                    envelope(TYPES, DEFAULT, d.due_ms, Some(d.txn_event), customer_id),
                    &event,
                );
                continue;
            }
            let paid = d.paid + instalment(d.amount, d.count, d.number);
            let event = Repayment {
                transaction_id: d.txn,
                customer_id,
                installment_number: d.number,
                amount: Money(instalment(d.amount, d.count, d.number)),
                remaining_balance: Money(d.amount - paid),
            };
            out.emit(
                rng,
                envelope(TYPES, REPAYMENT, d.due_ms, Some(d.txn_event), customer_id),
                &event,
            );
            if d.number == d.count {
                self.repaid[c] += 1;
            } else {
                self.seq += 1;
                self.queue.push(Reverse(Due {
                    due_ms: d.due_ms + d.interval_ms,
                    seq: self.seq,
                    number: d.number + 1,
                    paid,
                    ..d
                }));
            }
        }
    }
}
