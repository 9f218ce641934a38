//! Follow-ups waiting for their time, and the values they carry from their causes.

use uuid::Uuid;

use super::value::Value;

/// A follow-up waiting for its time. The queue orders by `(due, seq)`, earliest first; `seq`
/// keeps follow-ups due at the same time in the order they were made.
pub(super) struct Pending {
    pub(super) due: i64,
    pub(super) seq: u64,
    pub(super) event: u16,
    /// What the cause gave, in [`Carried`]: shared by the repeats, freed by the last.
    pub(super) carried: u32,
    pub(super) cause: Uuid,
    /// Occurrences still to come after this one, and the gap between them.
    pub(super) repeats: u32,
    pub(super) every_ms: i64,
    /// Which occurrence this is, from 1: what `occurrence` reads.
    pub(super) occurrence: u32,
}

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        (self.due, self.seq) == (other.due, other.seq)
    }
}

impl Eq for Pending {}

impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Pending {
    /// Reversed, so that [`BinaryHeap`] (a max-heap) yields the earliest first.
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (other.due, other.seq).cmp(&(self.due, self.seq))
    }
}

/// The values scheduled follow-ups carry from their causes: (slot in the follow-up, value).
/// Buffers are reused once their last occurrence has fired, so scheduling a follow-up
/// allocates nothing once the world is warm.
#[derive(Default)]
pub(super) struct Carried {
    lists: Vec<Vec<(u16, Value)>>,
    free: Vec<u32>,
}

impl Carried {
    pub(super) fn put(&mut self, values: impl Iterator<Item = (u16, Value)>) -> u32 {
        match self.free.pop() {
            Some(i) => {
                self.lists[i as usize].extend(values);
                i
            }
            None => {
                self.lists.push(values.collect());
                (self.lists.len() - 1) as u32
            }
        }
    }

    /// Lends list `i` out, to be given back with [`Carried::give_back`].
    pub(super) fn lend(&mut self, i: u32) -> Vec<(u16, Value)> {
        std::mem::take(&mut self.lists[i as usize])
    }

    /// Takes back a lent list: kept for the repeats still to come, else emptied for reuse.
    pub(super) fn give_back(&mut self, i: u32, mut list: Vec<(u16, Value)>, more: bool) {
        if !more {
            list.clear();
            self.free.push(i);
        }
        self.lists[i as usize] = list;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A list lent to a repeat comes back whole; after the last occurrence its slot and buffer
    /// are reused by the next follow-up, so a warm world allocates no new lists.
    #[test]
    fn carried_lists_are_kept_for_repeats_and_reused_after_the_last() {
        let mut c = Carried::default();
        let a = c.put([(0, Value::Int(1)), (2, Value::str("x"))].into_iter());
        let b = c.put([(1, Value::Int(2))].into_iter());
        let lent = c.lend(a);
        assert_eq!(lent, [(0, Value::Int(1)), (2, Value::str("x"))]);
        c.give_back(a, lent, true);
        let lent = c.lend(a);
        assert_eq!(lent.len(), 2, "a repeat still to come sees the same values");
        let ptr = lent.as_ptr();
        c.give_back(a, lent, false);
        let again = c.put([(3, Value::bool(true))].into_iter());
        assert_eq!(again, a, "the freed slot is taken first");
        let lent = c.lend(again);
        assert_eq!(lent, [(3, Value::bool(true))]);
        assert_eq!(lent.as_ptr(), ptr, "and its buffer with it");
        assert_eq!(c.lend(b), [(1, Value::Int(2))]);
        assert_eq!(c.lists.len(), 2);
    }
}
