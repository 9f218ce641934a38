//! Contract rules of price changes (issue 12): a price moves the way its reason says, and a
//! promotion ends by restoring exactly the price it replaced, only when one runs, with no
//! other change of that price in between.

use std::cmp::Ordering::{self, Greater, Less};
use std::collections::HashMap;

use super::Checker;

/// The reasons a price changes, and which way each moves it (`None`: promotion_end, which
/// restores the price its promotion replaced).
const REASONS: &[(&str, Option<Ordering>)] = &[
    ("promotion", Some(Less)),
    ("clearance", Some(Less)),
    ("competitor_match", Some(Less)),
    ("cost_increase", Some(Greater)),
    ("seasonal", Some(Greater)),
    ("promotion_end", None),
];

/// Per sku whose promotion state is known (every sku on a replay from the start; otherwise
/// from its first price change seen): the price its running promotion replaced, if one runs.
/// One entry per product of the master data.
pub(super) type Promotions = HashMap<String, Option<i64>>;

impl Checker {
    /// Checks a price change of `sku` from `old` to `new` cents for `reason`.
    pub(super) fn price_moves_as_reason(
        &mut self,
        id: &str,
        sku: String,
        reason: &str,
        (old, new): (i64, i64),
    ) {
        let Some(&(_, way)) = REASONS.iter().find(|(r, _)| *r == reason) else {
            let known: Vec<_> = REASONS.iter().map(|(r, _)| *r).collect();
            let detail = format!("reason {reason:?} is none of {}", known.join(", "));
            return self.fail(id, "schema", detail);
        };
        if let Some(way) = way.filter(|way| new.cmp(&old) != *way) {
            let want = if way == Less { "lower" } else { "raise" };
            let detail = format!("{reason} must {want} the price of {sku}: {old} -> {new} cents");
            self.fail(id, "price_against_reason", detail);
        }
        match (reason, self.promotions.get(&sku).copied()) {
            ("promotion_end", Some(None)) => self.fail(
                id,
                "promotion_end_without_promotion",
                format!("no promotion of {sku} runs"),
            ),
            ("promotion_end", Some(Some(replaced))) if new != replaced => self.fail(
                id,
                "promotion_end_price",
                format!("{sku} back at {new} cents, the promotion replaced {replaced}"),
            ),
            ("promotion_end", _) => {}
            (_, Some(Some(replaced))) => self.fail(
                id,
                "promotion_overlap",
                format!("{reason} while a promotion of {sku} (from {replaced} cents) runs"),
            ),
            _ => {}
        }
        let running = (reason == "promotion").then_some(old);
        self.promotions.insert(sku, running);
    }
}
