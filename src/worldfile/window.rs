//! Sliding-window counts. Each entity keeps, per window, how many of its counted times are
//! still inside; each window keeps the times counted, oldest first, with their entity. Event
//! time never goes back, so expiry pops from the front of each window and takes one off the
//! entity it counted. A read is then one small integer, which for thousands of entities stays
//! in cache where a list of times per entity and window did not.

use std::collections::VecDeque;

use super::rows::Rows;

/// One kind's windows.
#[derive(Debug, Default, Clone)]
pub struct Windows {
    /// `counts[i][w]`: counted times of entity `i` still inside window `w`.
    counts: Rows<u32>,
    /// Each window's length in ms.
    lens: Vec<i64>,
    /// Per window, `(time counted, entity)`, oldest first.
    times: Vec<VecDeque<(i64, u32)>>,
    /// The earliest time a counted time leaves its window (`i64::MAX` when none is
    /// counted): an event before it has nothing to expire, and costs one comparison.
    next: i64,
}

impl Windows {
    /// `n` entities, with windows of these lengths (ms).
    pub fn new(n: usize, lens: Vec<i64>) -> Self {
        Windows {
            counts: Rows::filled(n, lens.len(), 0),
            times: vec![VecDeque::new(); lens.len()],
            lens,
            next: i64::MAX,
        }
    }

    /// How many of entity `i`'s counted times are inside window `w` as of the last
    /// [`Windows::expire`].
    pub fn count(&self, i: u32, w: u16) -> Option<u32> {
        self.counts.get(i, w).copied()
    }

    /// Starts loading entity `i`'s counts (see [`Rows::prefetch`]).
    pub fn prefetch(&self, i: u32) {
        self.counts.prefetch(i);
    }

    /// Counts entity `i` in window `w` at `time` (no earlier than any time counted before).
    pub fn push(&mut self, i: u32, w: u16, time: i64) {
        let (Some(c), Some(times)) = (self.counts.get_mut(i, w), self.times.get_mut(w as usize))
        else {
            return;
        };
        *c += 1;
        times.push_back((time, i));
        let leaves = time.saturating_add(self.lens.get(w as usize).copied().unwrap_or(0));
        self.next = self.next.min(leaves);
    }

    /// Drops the counted times that have left their window by `now` (a time `t` leaves at
    /// `t + len`), telling `left(window, entity, leaves)` of each.
    #[inline]
    pub fn expire(&mut self, now: i64, left: impl FnMut(u16, u32, i64)) {
        if now >= self.next {
            self.expire_due(now, left);
        }
    }

    fn expire_due(&mut self, now: i64, mut left: impl FnMut(u16, u32, i64)) {
        let mut next = i64::MAX;
        for (w, times) in self.times.iter_mut().enumerate() {
            let len = self.lens[w];
            while let Some(&(t, i)) = times.front() {
                let leaves = t.saturating_add(len);
                if leaves > now {
                    break;
                }
                times.pop_front();
                if let Some(c) = self.counts.get_mut(i, w as u16) {
                    *c = c.saturating_sub(1);
                }
                left(w as u16, i, leaves);
            }
            if let Some(&(t, _)) = times.front() {
                next = next.min(t.saturating_add(len));
            }
        }
        self.next = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};

    /// Against a plain count of the times after `now - len`, over 200 random histories (fixed
    /// seed) of 3 entities and 2 windows: any mismatch fails. Each expiry is reported once,
    /// at the time its count leaves.
    #[test]
    fn counts_what_a_plain_count_of_the_times_gives() {
        let mut rng = crate::SimRng::seed_from_u64(7);
        let lens = [10i64, 35];
        for _ in 0..200 {
            let mut w = Windows::new(3, lens.to_vec());
            let mut all: Vec<(i64, u32, u16)> = Vec::new();
            let mut now = 0i64;
            let mut left = 0usize;
            for _ in 0..rng.random_range(0..300usize) {
                now += rng.random_range(0..6i64);
                w.expire(now, |win, i, leaves| {
                    assert!(leaves <= now, "reported early");
                    assert!(all
                        .iter()
                        .any(|&(t, e, x)| (e, x) == (i, win) && t + lens[win as usize] == leaves));
                    left += 1;
                });
                if rng.random_bool(0.6) {
                    let (i, win) = (rng.random_range(0..3u32), rng.random_range(0..2u16));
                    w.push(i, win, now);
                    all.push((now, i, win));
                }
                for i in 0..3u32 {
                    for win in 0..2u16 {
                        let want = all
                            .iter()
                            .filter(|&&(t, e, x)| {
                                (e, x) == (i, win) && t > now - lens[win as usize]
                            })
                            .count();
                        assert_eq!(
                            w.count(i, win),
                            Some(want as u32),
                            "entity {i}, window {win}, at {now}"
                        );
                    }
                }
            }
            let gone = all
                .iter()
                .filter(|&&(t, _, x)| t + lens[x as usize] <= now)
                .count();
            assert_eq!(left, gone);
        }
        assert_eq!(Windows::new(1, vec![5]).count(1, 0), None);
    }
}
