//! The next tick of every per-entity clock (`per:` event types), earliest first.
//!
//! One entry per running clock, 16 bytes `(due, type, entity)`, so that a kind of ten million
//! entities costs 160 MB of heap and nothing else: what an entity's tick makes is decided at
//! its time, from the world's state. Ties go by type, then entity, so a seeded run repeats.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// The clocks' next ticks, and how many ticks may still make an event in this run.
pub(super) struct Ticks {
    heap: BinaryHeap<Reverse<(i64, u16, u32)>>,
    /// Ticks that may still happen (a count's primaries left): at 0, the clocks are stopped
    /// and neither due nor scheduled, so a run that reached its count only finishes chains.
    budget: u64,
    /// Whether the clocks have been given their first ticks.
    pub(super) started: bool,
}

impl Default for Ticks {
    fn default() -> Self {
        Ticks {
            heap: BinaryHeap::new(),
            budget: u64::MAX,
            started: false,
        }
    }
}

impl Ticks {
    /// When the earliest tick falls due, while ticks may still happen.
    pub(super) fn next_due(&self) -> Option<i64> {
        if self.budget == 0 {
            return None;
        }
        self.heap.peek().map(|Reverse(k)| k.0)
    }

    /// Makes room for `n` more clocks at once, so a large kind's heap is allocated once at its
    /// size rather than grown by doubling.
    pub(super) fn reserve(&mut self, n: usize) {
        self.heap.reserve_exact(n);
    }

    pub(super) fn push(&mut self, due: i64, event: u16, entity: u32) {
        self.heap.push(Reverse((due, event, entity)));
    }

    /// Takes the earliest tick if it is due by `now_ms`: `(due, type, entity)`.
    pub(super) fn pop_due(&mut self, now_ms: i64) -> Option<(i64, u16, u32)> {
        self.next_due().filter(|due| *due <= now_ms)?;
        self.heap.pop().map(|Reverse(k)| k)
    }

    /// Counts a tick that made its event.
    pub(super) fn spend(&mut self) {
        self.budget = self.budget.saturating_sub(1);
    }

    /// Lets at most `left` more ticks make events.
    pub(super) fn limit(&mut self, left: u64) {
        self.budget = left;
    }

    /// Clocks still running.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.heap.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ticks come out by time, ties by type then entity, and none once the budget is spent.
    #[test]
    fn ticks_come_due_in_order_until_the_budget_is_spent() {
        let mut t = Ticks::default();
        t.push(30, 0, 7);
        t.push(10, 1, 2);
        t.push(10, 0, 9);
        t.push(10, 0, 3);
        assert_eq!(std::mem::size_of::<(i64, u16, u32)>(), 16);
        assert_eq!(t.next_due(), Some(10));
        assert_eq!(t.pop_due(9), None, "nothing is due before 10");
        let order: Vec<_> = std::iter::from_fn(|| t.pop_due(10)).collect();
        assert_eq!(order, [(10, 0, 3), (10, 0, 9), (10, 1, 2)]);
        t.limit(1);
        assert_eq!(t.pop_due(100), Some((30, 0, 7)));
        t.spend();
        t.push(40, 0, 7);
        assert_eq!(t.len(), 1);
        assert_eq!(t.next_due(), None, "a spent budget stops the clocks");
        assert_eq!(t.pop_due(100), None);
    }
}
