//! The BNPL data contract as checks over the stream:
//!
//! 1. Every `customer_id` and `merchant_id` is in the master data; a transaction's category is
//!    its merchant's and its amount lies in the category's range; no `event_id` repeats; event
//!    times never decrease per customer.
//! 2. A transaction's `credit_score` is the customer's sign-up score moved by their history so
//!    far (`events::current_score`), and its `default_risk` follows `events::default_risk` from
//!    score, amount and past defaults, with one base rate for the whole stream.
//! 3. A plan's instalments come in order, each `installment_interval_days` after the one
//!    before (the first one interval after the purchase), with `caused_by` = the transaction.
//!    Repayments pay `events::instalment` and `remaining_balance` is what is left; a default
//!    names the missed instalment and the outstanding amount, and ends the plan.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::events::{current_score, default_risk, instalment, risk_factor, DAY_MS, PLANS};
use super::master::MasterData;
use super::CATEGORIES;
use crate::scenario::util::{ids, time_ms, Ledger};
use crate::scenario::{ContractChecker, Violation};

struct Plan {
    customer: String,
    txn_event: String,
    amount: i64,
    count: u32,
    interval_ms: i64,
    next: u32,
    next_due_ms: i64,
    paid: i64,
}

pub struct Checker {
    ledger: Ledger,
    from_start: bool,
    customers: HashMap<String, u32>,
    merchants: HashMap<String, String>,
    customer_ids: HashSet<String>,
    history: HashMap<String, (u32, u32)>,
    plans: HashMap<String, Plan>,
    base_rate: Option<f64>,
}

fn cents(v: &Value) -> Option<i64> {
    v.as_f64().map(|x| (x * 100.0).round() as i64)
}

impl Checker {
    pub fn new(data: &MasterData, from_start: bool) -> Self {
        Self {
            ledger: Ledger::default(),
            from_start,
            customers: data
                .customers
                .iter()
                .map(|c| (c.customer_id.clone(), c.credit_score))
                .collect(),
            merchants: data
                .merchants
                .iter()
                .map(|m| (m.merchant_id.clone(), m.category.clone()))
                .collect(),
            customer_ids: ids(&data.customers, |c| &c.customer_id),
            history: HashMap::new(),
            plans: HashMap::new(),
            base_rate: None,
        }
    }

    fn transaction(&mut self, id: &str, customer: &str, e: &Value) {
        let l = &mut self.ledger;
        let merchant = e["merchant_id"].as_str().unwrap_or("");
        let Some(category) = self.merchants.get(merchant) else {
            return l.fail(
                id,
                "unknown_reference",
                format!("merchant_id {merchant:?} is not in the master data"),
            );
        };
        let amount = cents(&e["amount"]).unwrap_or(0);
        match CATEGORIES.iter().find(|c| c.0 == category) {
            Some(&(_, lo, hi)) if e["category"] == category.as_str() => {
                if !((lo * 100.0).round() as i64..=(hi * 100.0).round() as i64).contains(&amount) {
                    l.fail(
                        id,
                        "amount",
                        format!("amount {amount} cents is outside {category}'s {lo}..{hi}"),
                    );
                }
            }
            _ => l.fail(
                id,
                "category",
                format!("category is not {merchant}'s {category:?}"),
            ),
        }
        let plan = e["plan"].as_str().unwrap_or("");
        let Some(&(_, count, days)) = PLANS.iter().find(|p| p.0 == plan) else {
            return l.fail(id, "schema", format!("plan {plan:?} is unknown"));
        };
        if e["installments"] != count || e["installment_interval_days"] != days {
            l.fail(
                id,
                "schema",
                format!("{plan} has {count} instalments {days} days apart"),
            );
        }
        let (repaid, defaults) = self.history.get(customer).copied().unwrap_or_default();
        let score = current_score(self.customers[customer], repaid, defaults);
        let risk = e["default_risk"].as_f64().unwrap_or(-1.0);
        if self.from_start {
            if e["credit_score"] != score {
                l.fail(
                    id,
                    "credit_score",
                    format!(
                        "{customer} scores {score}, event says {}",
                        e["credit_score"]
                    ),
                );
            }
            let unit = risk_factor(score, amount, defaults);
            if self.base_rate.is_none() && risk < 0.95 {
                self.base_rate = Some(risk / unit);
            }
            let want = default_risk(self.base_rate.unwrap_or(0.0), score, amount, defaults);
            if self.base_rate.is_some() && (risk - want).abs() > 1e-9 {
                l.fail(
                    id,
                    "default_risk",
                    format!("default_risk {risk}, the rule gives {want}"),
                );
            }
        }
        let t = time_ms(&e["event_time"]).unwrap_or(0);
        self.plans.insert(
            e["transaction_id"].as_str().unwrap_or("").into(),
            Plan {
                customer: customer.into(),
                txn_event: id.into(),
                amount,
                count,
                interval_ms: days * DAY_MS,
                next: 1,
                next_due_ms: t + days * DAY_MS,
                paid: 0,
            },
        );
    }

    fn instalment(&mut self, id: &str, customer: &str, ty: &str, e: &Value) {
        let l = &mut self.ledger;
        let txn = e["transaction_id"].as_str().unwrap_or("");
        let Some(plan) = self.plans.get_mut(txn) else {
            if self.from_start {
                l.fail(
                    id,
                    "orphan",
                    format!("{ty} for {txn}, which is not an open plan"),
                );
            }
            return;
        };
        let n = e["installment_number"].as_u64().unwrap_or(0) as u32;
        if plan.customer != customer || e["caused_by"] != plan.txn_event.as_str() || n != plan.next
        {
            l.fail(
                id,
                "plan",
                format!(
                    "{ty} {n} of {txn} does not follow its plan (next {})",
                    plan.next
                ),
            );
        }
        if time_ms(&e["event_time"]) != Some(plan.next_due_ms) {
            l.fail(
                id,
                "plan",
                format!("{ty} {n} of {txn} is not at its due time"),
            );
        }
        let h = self.history.entry(customer.into()).or_default();
        if ty == "default" {
            if cents(&e["outstanding_amount"]) != Some(plan.amount - plan.paid) {
                l.fail(
                    id,
                    "plan",
                    format!("outstanding amount of {txn} is {}", plan.amount - plan.paid),
                );
            }
            h.1 += 1;
            self.plans.remove(txn);
            return;
        }
        let pay = instalment(plan.amount, plan.count, n);
        plan.paid += pay;
        if cents(&e["amount"]) != Some(pay)
            || cents(&e["remaining_balance"]) != Some(plan.amount - plan.paid)
        {
            l.fail(
                id,
                "plan",
                format!(
                    "repayment {n} of {txn} should pay {pay} leaving {}",
                    plan.amount - plan.paid
                ),
            );
        }
        plan.next += 1;
        plan.next_due_ms += plan.interval_ms;
        if n == plan.count {
            h.0 += 1;
            self.plans.remove(txn);
        }
    }
}

impl ContractChecker for Checker {
    fn check(&mut self, event: &Value) -> usize {
        let before = self.ledger.violations.len();
        let (id, ty) = self.ledger.begin("bnpl", event);
        let ty = ty.to_string();
        if let Some(customer) = self
            .ledger
            .reference(&id, event, "customer_id", &self.customer_ids)
        {
            self.ledger.in_order(&id, customer, event);
            match ty.as_str() {
                "transaction" => self.transaction(&id, customer, event),
                "repayment" | "default" => self.instalment(&id, customer, &ty, event),
                other => self
                    .ledger
                    .fail(&id, "schema", format!("unknown event_type {other:?}")),
            }
        }
        self.ledger.violations.len() - before
    }

    fn finish(&mut self) {}

    fn violations(&self) -> &[Violation] {
        &self.ledger.violations
    }

    fn take_violations(&mut self) -> Vec<Violation> {
        std::mem::take(&mut self.ledger.violations)
    }
}
