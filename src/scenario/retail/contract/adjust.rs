//! Contract rule of primary inventory adjustments (issue 12): the source document's reasons,
//! each moving stock its way, within the document's -5..+10.

use super::Checker;

impl Checker {
    /// `receipt` adds stock, `damage` and `theft` remove it, `adjustment` goes either way;
    /// every change is within -5..=10 and not zero.
    pub(super) fn adjustment_fits(&mut self, id: &str, reason: &str, change: i64) {
        let fits = (-5..=10).contains(&change)
            && match reason {
                "receipt" => change > 0,
                "damage" | "theft" => change < 0,
                _ => change != 0,
            };
        if !fits {
            let detail = format!(
                "{reason} changes stock by {change}; receipts add, damage and theft remove, \
                 adjustments go either way, within -5..=10"
            );
            self.fail(id, "adjustment_range", detail);
        }
    }
}
