//! BNPL payloads, plans, and the score and risk rules both the world and the checker apply.

use serde::Serialize;
use uuid::Uuid;

use crate::scenario::util::Money;

/// Instalment plans: name, number of instalments, days between them.
pub const PLANS: &[(&str, u32, i64)] = &[
    ("pay_in_4", 4, 14),
    ("pay_in_6", 6, 30),
    ("pay_in_12", 12, 30),
];

pub const DAY_MS: i64 = 86_400_000;

/// A customer's current score: the sign-up score, +5 per plan repaid in full, -60 per default,
/// within 300..=850.
pub fn current_score(signup_score: u32, repaid: u32, defaults: u32) -> u32 {
    (i64::from(signup_score) + 5 * i64::from(repaid) - 60 * i64::from(defaults)).clamp(300, 850)
        as u32
}

/// The probability that a plan defaults: the base rate, scaled up for low scores (x e per 100
/// points under 650), large amounts (+1 per 1,000) and past defaults (+0.5 each), at most 0.95.
pub fn default_risk(base: f64, score: u32, amount_cents: i64, defaults: u32) -> f64 {
    (base * risk_factor(score, amount_cents, defaults)).min(0.95)
}

/// What multiplies the base rate in [`default_risk`].
pub fn risk_factor(score: u32, amount_cents: i64, defaults: u32) -> f64 {
    ((650.0 - f64::from(score)) / 100.0).exp()
        * (1.0 + amount_cents as f64 / 100_000.0)
        * (1.0 + 0.5 * f64::from(defaults))
}

/// Instalment `i` (1-based) of `amount` over `n`: equal cents, the remainder on the first.
pub fn instalment(amount_cents: i64, n: u32, i: u32) -> i64 {
    let n = i64::from(n);
    amount_cents / n + if i == 1 { amount_cents % n } else { 0 }
}

#[derive(Serialize)]
pub struct Transaction<'a> {
    pub transaction_id: Uuid,
    pub customer_id: &'a str,
    pub merchant_id: &'a str,
    pub category: &'a str,
    pub amount: Money,
    pub currency: &'a str,
    pub plan: &'static str,
    pub installments: u32,
    pub installment_interval_days: i64,
    pub credit_score: u32,
    pub default_risk: f64,
}

#[derive(Serialize)]
pub struct Repayment<'a> {
    pub transaction_id: Uuid,
    pub customer_id: &'a str,
    pub installment_number: u32,
    pub amount: Money,
    pub remaining_balance: Money,
}

#[derive(Serialize)]
pub struct Default<'a> {
    pub transaction_id: Uuid,
    pub customer_id: &'a str,
    /// The instalment that was missed.
    pub installment_number: u32,
    pub outstanding_amount: Money,
}
