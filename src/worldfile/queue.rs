//! Follow-ups waiting for their time, and the values they carry from their causes.
//!
//! The heap holds only what orders it, `(due, seq)`, and where the follow-up is kept: 24
//! bytes an entry, so sifting moves a third of what whole follow-ups moved. A follow-up's
//! body lives in a slab, and the values it carries in one arena, each list in a run of its
//! own length; which slot each value fills is the follow-up rule's, so it is not stored. A
//! world whose follow-ups fall due weeks later (bnpl's instalment plans) holds a million of
//! them before the first is due: each costs no allocation of its own, and the memory it
//! touches first (a page fault per 4 KiB) is about half what a list per follow-up took.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use uuid::Uuid;

use super::value::Value;

/// A follow-up waiting for its time, beside its place in the heap.
struct Body {
    event: u16,
    /// The rule that made it: `(cause event, index of the rule among its follow-ups)`.
    rule: (u16, u16),
    /// Where its carried values start in [`Arena`], and how many there are.
    carried: u32,
    len: u16,
    cause: Uuid,
    /// Occurrences still to come after this one, and the gap between them.
    repeats: u32,
    every_ms: i64,
    /// Which occurrence is next, from 1: what `occurrence` reads.
    occurrence: u32,
}

/// A follow-up taken from the queue because it is due: what its event is given.
pub(super) struct Due {
    pub(super) event: u16,
    pub(super) rule: (u16, u16),
    pub(super) due: i64,
    pub(super) cause: Uuid,
    pub(super) occurrence: u32,
    /// Whether another occurrence is still to come (then the values are kept for it).
    pub(super) more: bool,
    slot: u32,
}

/// Follow-ups ordered by `(due, seq)`, earliest first; `seq` keeps follow-ups due at the same
/// time in the order they were made.
#[derive(Default)]
pub(super) struct Queue {
    heap: BinaryHeap<Reverse<(i64, u64, u32)>>,
    bodies: Vec<Body>,
    free: Vec<u32>,
    carried: Arena,
    next: u64,
}

impl Queue {
    pub(super) fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// When the earliest follow-up falls due.
    pub(super) fn next_due(&self) -> Option<i64> {
        self.heap.peek().map(|Reverse(k)| k.0)
    }

    /// Follow-up events still to come: every entry with the occurrences it repeats after.
    pub(super) fn pending_events(&self) -> u64 {
        self.heap
            .iter()
            .map(|Reverse((_, _, slot))| 1 + u64::from(self.bodies[*slot as usize].repeats))
            .sum()
    }

    /// Schedules `event` at `due`, and `repeats` more every `every_ms` after it, made by
    /// `rule` and carrying `values` (in the order of the rule's carried slots).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn push(
        &mut self,
        due: i64,
        event: u16,
        rule: (u16, u16),
        cause: Uuid,
        repeats: u32,
        every_ms: i64,
        values: impl ExactSizeIterator<Item = Value>,
    ) {
        let len = values.len() as u16;
        let body = Body {
            event,
            rule,
            carried: self.carried.put(values),
            len,
            cause,
            repeats,
            every_ms,
            occurrence: 1,
        };
        let slot = match self.free.pop() {
            Some(s) => {
                self.bodies[s as usize] = body;
                s
            }
            None => {
                self.bodies.push(body);
                (self.bodies.len() - 1) as u32
            }
        };
        self.key(due, slot);
    }

    fn key(&mut self, due: i64, slot: u32) {
        let seq = self.next;
        self.next += 1;
        self.heap.push(Reverse((due, seq, slot)));
    }

    /// Takes the earliest follow-up if it is due by `now_ms`, and moves its carried values
    /// into `values`. A follow-up with repeats to come is scheduled again first, so its next
    /// occurrence is ordered before anything this one makes. Give the values back with
    /// [`Queue::done`].
    pub(super) fn pop_due(&mut self, now_ms: i64, values: &mut Vec<Value>) -> Option<Due> {
        let &Reverse((due, _, slot)) = self.heap.peek().filter(|Reverse(k)| k.0 <= now_ms)?;
        self.heap.pop();
        let b = &mut self.bodies[slot as usize];
        let popped = Due {
            event: b.event,
            rule: b.rule,
            due,
            cause: b.cause,
            occurrence: b.occurrence,
            more: b.repeats > 0,
            slot,
        };
        let (start, len) = (b.carried, b.len);
        if popped.more {
            b.repeats -= 1;
            b.occurrence += 1;
            let every = b.every_ms;
            self.key(due.saturating_add(every), slot);
        }
        values.clear();
        values.extend(
            self.carried
                .run_mut(start, len)
                .iter_mut()
                .map(|v| std::mem::replace(v, Value::Null)),
        );
        Some(popped)
    }

    /// Takes back the values lent by [`Queue::pop_due`]: kept for the occurrence still to
    /// come, else dropped and the follow-up's places freed for reuse.
    pub(super) fn done(&mut self, d: &Due, values: &mut Vec<Value>) {
        let b = &self.bodies[d.slot as usize];
        let (start, len) = (b.carried, b.len);
        if d.more {
            for (place, v) in self
                .carried
                .run_mut(start, len)
                .iter_mut()
                .zip(values.drain(..))
            {
                *place = v;
            }
        } else {
            values.clear();
            self.carried.free(start, len);
            self.free.push(d.slot);
        }
    }
}

/// The values follow-ups carry, in runs: a run of `n` values is reused only by a list of `n`
/// (the lists of one follow-up rule are all one length), so a warm world allocates nothing.
#[derive(Default)]
struct Arena {
    values: Vec<Value>,
    /// `free[n]`: starts of freed runs of `n` values.
    free: Vec<Vec<u32>>,
}

impl Arena {
    fn put(&mut self, values: impl ExactSizeIterator<Item = Value>) -> u32 {
        let n = values.len();
        if let Some(start) = self.free.get_mut(n).and_then(Vec::pop) {
            for (place, v) in self.values[start as usize..][..n].iter_mut().zip(values) {
                *place = v;
            }
            return start;
        }
        let start = self.values.len() as u32;
        self.values.extend(values);
        start
    }

    fn run_mut(&mut self, start: u32, len: u16) -> &mut [Value] {
        &mut self.values[start as usize..][..len as usize]
    }

    /// Frees a run. [`Queue::pop_due`] has taken its values, so it holds only nulls.
    fn free(&mut self, start: u32, len: u16) {
        let n = len as usize;
        if self.free.len() <= n {
            self.free.resize_with(n + 1, Vec::new);
        }
        self.free[n].push(start);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vals(list: &[Value]) -> Vec<Value> {
        list.to_vec()
    }

    /// Follow-ups come out by time, ties in the order they were made, each with its values;
    /// a repeat comes back with the same values and the next occurrence, and is ordered as
    /// made when it was taken (before anything its occurrence schedules).
    #[test]
    fn follow_ups_come_due_in_order_with_their_values() {
        let mut q = Queue::default();
        let id = |n: u128| Uuid::from_u128(n);
        q.push(20, 1, (0, 0), id(1), 0, 1, [Value::Int(1)].into_iter());
        q.push(
            10,
            2,
            (0, 1),
            id(2),
            2,
            5,
            [Value::Int(2), Value::str("x")].into_iter(),
        );
        q.push(10, 3, (1, 0), id(3), 0, 1, std::iter::empty());
        assert_eq!(q.next_due(), Some(10));
        assert_eq!(
            q.pending_events(),
            1 + 3 + 1,
            "a repeat counts each occurrence"
        );
        let mut buf = Vec::new();
        assert!(q.pop_due(9, &mut buf).is_none(), "nothing is due before 10");

        let d = q.pop_due(10, &mut buf).expect("due");
        assert_eq!((d.event, d.rule, d.due, d.cause), (2, (0, 1), 10, id(2)));
        assert_eq!((d.occurrence, d.more), (1, true));
        assert_eq!(buf, vals(&[Value::Int(2), Value::str("x")]));
        q.done(&d, &mut buf);
        let d = q.pop_due(10, &mut buf).expect("the tie, made later");
        assert_eq!((d.event, d.occurrence, d.more), (3, 1, false));
        assert!(buf.is_empty());
        q.done(&d, &mut buf);
        // The repeat (due 15) was made before this one (due 15) is pushed, so it comes first.
        q.push(15, 4, (2, 0), id(4), 0, 1, [Value::Int(4)].into_iter());
        let d = q.pop_due(100, &mut buf).expect("repeat");
        assert_eq!((d.event, d.due, d.occurrence, d.more), (2, 15, 2, true));
        assert_eq!(buf, vals(&[Value::Int(2), Value::str("x")]));
        q.done(&d, &mut buf);
        let d = q.pop_due(100, &mut buf).expect("the later tie");
        assert_eq!((d.event, d.due), (4, 15));
        assert_eq!(buf, vals(&[Value::Int(4)]));
        q.done(&d, &mut buf);
        let mut order = Vec::new();
        while let Some(d) = q.pop_due(100, &mut buf) {
            order.push((d.event, d.due, d.occurrence, d.more, buf.clone()));
            q.done(&d, &mut buf);
        }
        assert_eq!(
            order,
            [
                (1, 20, 1, false, vals(&[Value::Int(1)])),
                (2, 20, 3, false, vals(&[Value::Int(2), Value::str("x")])),
            ]
        );
        assert!(q.is_empty());
        assert_eq!(q.next_due(), None);
        assert_eq!(q.pending_events(), 0);
    }

    /// Once a follow-up's last occurrence is done, its body and its run of values are reused
    /// by the next follow-up carrying as many values, so a warm world grows nothing.
    #[test]
    fn places_are_reused_after_the_last_occurrence() {
        let mut q = Queue::default();
        let mut buf = Vec::new();
        for round in 0..100 {
            q.push(
                round,
                0,
                (0, 0),
                Uuid::nil(),
                1,
                1,
                [Value::Int(round), Value::Null].into_iter(),
            );
            q.push(
                round,
                1,
                (0, 1),
                Uuid::nil(),
                0,
                1,
                [Value::Int(-round)].into_iter(),
            );
            let mut seen = 0;
            while let Some(d) = q.pop_due(round + 1, &mut buf) {
                let want = if d.event == 0 { round } else { -round };
                assert_eq!(buf[0], Value::Int(want));
                seen += 1;
                q.done(&d, &mut buf);
            }
            assert_eq!(seen, 3, "two occurrences and one");
        }
        assert_eq!(q.bodies.len(), 2);
        assert_eq!(q.carried.values.len(), 3);
        assert!(
            q.carried.values.iter().all(|v| *v == Value::Null),
            "freed runs hold nothing"
        );
    }
}
