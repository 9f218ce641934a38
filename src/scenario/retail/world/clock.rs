//! Who exists and what is open at the world's present (issue 12): stores from local midnight
//! of `opened_on`, in-store trade only in opening hours, customers from their signup.
//!
//! Time only moves forward, so each fact changes at known instants: store changes wait in a
//! heap, customers sit sorted by signup. Floor areas of existing and of open stores live in
//! Fenwick trees, so a draw among them costs O(log stores) and a change O(log stores), however
//! many stores are closed.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use chrono::NaiveTime;
use rand::seq::IndexedRandom;
use rand::RngExt;

use crate::scenario::retail::hours::{self, Calendar};
use crate::scenario::retail::master::MasterData;
use crate::SimRng;

/// Weights per index with O(log n) update, total and weighted draw.
#[derive(Debug, Clone)]
struct Fenwick {
    tree: Vec<u64>,
    total: u64,
}

impl Fenwick {
    fn new(n: usize) -> Self {
        Self {
            tree: vec![0; n + 1],
            total: 0,
        }
    }

    fn add(&mut self, i: usize, delta: i64) {
        self.total = self.total.wrapping_add_signed(delta);
        let mut k = i + 1;
        while k < self.tree.len() {
            self.tree[k] = self.tree[k].wrapping_add_signed(delta);
            k += k & k.wrapping_neg();
        }
    }

    /// An index drawn with probability weight / total; `None` when every weight is 0.
    fn sample(&self, rng: &mut SimRng) -> Option<usize> {
        if self.total == 0 {
            return None;
        }
        let mut left = rng.random_range(0..self.total);
        let (mut pos, mut step) = (0, (self.tree.len() - 1).next_power_of_two());
        while step > 0 {
            let next = pos + step;
            if next < self.tree.len() && self.tree[next] <= left {
                left -= self.tree[next];
                pos = next;
            }
            step /= 2;
        }
        Some(pos)
    }
}

pub(super) struct Clock {
    calendars: Vec<Calendar>,
    size: Vec<u64>,
    opened: Vec<bool>,
    open: Vec<bool>,
    opened_area: Fenwick,
    open_area: Fenwick,
    /// (time, store) at which the store's state may next change.
    changes: BinaryHeap<Reverse<(i64, u32)>>,
    /// When each customer may first appear, and the customers in that order.
    active_from: Vec<i64>,
    by_time: Vec<u32>,
    active: usize,
    /// Per store, its home customers in signup order, and how many of them have signed up.
    home: Vec<Vec<u32>>,
    home_active: Vec<usize>,
    home_store: Vec<u32>,
    /// Stores that do not exist yet.
    unopened: usize,
    now_ms: Option<i64>,
}

impl Clock {
    pub fn new(data: &MasterData) -> anyhow::Result<Self> {
        let calendars = data
            .stores
            .iter()
            .map(|s| {
                s.calendar()
                    .map_err(|e| anyhow::anyhow!("store {}: {e}", s.store_id))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let index: std::collections::HashMap<&str, u32> = data
            .stores
            .iter()
            .enumerate()
            .map(|(i, s)| (s.store_id.as_str(), i as u32))
            .collect();
        let mut home_store = Vec::with_capacity(data.customers.len());
        let mut active_from = Vec::with_capacity(data.customers.len());
        for (i, c) in data.customers.iter().enumerate() {
            let store = index.get(c.home_store_id.as_str()).copied().unwrap_or(0);
            let cal = &calendars[store as usize];
            // Signups fall between 08:00 and 22:00 local, spread by customer number.
            let minute = 480 + (i as u64).wrapping_mul(2_654_435_761) % 840;
            let at =
                c.signup_date.and_time(NaiveTime::MIN) + chrono::Duration::minutes(minute as i64);
            active_from.push(hours::local_ms(cal.tz, at).max(cal.opened_ms));
            home_store.push(store);
        }
        let mut by_time: Vec<u32> = (0..data.customers.len() as u32).collect();
        by_time.sort_by_key(|&c| (active_from[c as usize], c));
        let mut home = vec![Vec::new(); data.stores.len()];
        for &c in &by_time {
            home[home_store[c as usize] as usize].push(c);
        }
        let n = data.stores.len();
        Ok(Self {
            size: data.stores.iter().map(|s| u64::from(s.size_sqm)).collect(),
            calendars,
            opened: vec![false; n],
            open: vec![false; n],
            opened_area: Fenwick::new(n),
            open_area: Fenwick::new(n),
            changes: BinaryHeap::new(),
            active_from,
            by_time,
            active: 0,
            home,
            home_active: vec![0; n],
            home_store,
            unopened: n,
            now_ms: None,
        })
    }

    /// Brings stores up to `now_ms` and returns those that came into existence (for the
    /// world to wake their shelves). The first call also signs up, silently, every customer
    /// whose signup lies before it: only later signups are events.
    pub fn advance_stores(&mut self, now_ms: i64, opened_now: &mut Vec<usize>) {
        if self.now_ms.is_none() {
            for s in 0..self.calendars.len() {
                self.set(s, now_ms, opened_now);
            }
            while self
                .by_time
                .get(self.active)
                .is_some_and(|&c| self.active_from[c as usize] <= now_ms)
            {
                self.activate();
            }
        }
        self.now_ms = Some(now_ms);
        while let Some(&Reverse((at, s))) = self.changes.peek() {
            if at > now_ms {
                break;
            }
            self.changes.pop();
            self.set(s as usize, now_ms, opened_now);
        }
    }

    /// Sets store `s`'s state at `now_ms` and schedules its next change.
    fn set(&mut self, s: usize, now_ms: i64, opened_now: &mut Vec<usize>) {
        let cal = &self.calendars[s];
        let (opened, open) = (now_ms >= cal.opened_ms, cal.is_open(now_ms));
        let size = self.size[s] as i64;
        if opened != self.opened[s] {
            self.opened[s] = opened;
            self.opened_area.add(s, if opened { size } else { -size });
            if opened {
                self.unopened -= 1;
                opened_now.push(s);
            }
        }
        if open != self.open[s] {
            self.open[s] = open;
            self.open_area.add(s, if open { size } else { -size });
        }
        self.changes
            .push(Reverse((cal.next_change(now_ms), s as u32)));
    }

    pub fn is_opened(&self, store: usize) -> bool {
        self.opened[store]
    }

    /// Whether [`Clock::advance_stores`] has run.
    pub fn started(&self) -> bool {
        self.now_ms.is_some()
    }

    /// Stores that do not exist yet (all of them before the first step).
    pub fn unopened(&self) -> usize {
        self.unopened
    }

    /// The store and channel of the next sale. In-store sales are 70% of sales while every
    /// store is open and shrink with the open share of floor area, so an open store's in-store
    /// trade keeps its pace whoever else is closed; the rest are online (2 in 3) or in the app,
    /// at any store that exists, round the clock.
    pub fn sale_store(&self, rng: &mut SimRng) -> Option<(usize, &'static str)> {
        if !self.any_customer() {
            return None;
        }
        if rng.random_bool((0.7 * self.open_share()).clamp(0.0, 1.0)) {
            return Some((self.open_store(rng)?, "in_store"));
        }
        let channel = if rng.random_bool(2.0 / 3.0) {
            "online"
        } else {
            "mobile_app"
        };
        Some((self.existing_store(rng)?, channel))
    }

    /// The next customer to sign up, and when.
    pub fn next_signup(&self) -> Option<(i64, usize)> {
        let &c = self.by_time.get(self.active)?;
        Some((self.active_from[c as usize], c as usize))
    }

    /// Signs up the customer [`Clock::next_signup`] named.
    pub fn activate(&mut self) {
        if let Some(&c) = self.by_time.get(self.active) {
            self.active += 1;
            self.home_active[self.home_store[c as usize] as usize] += 1;
        }
    }

    pub fn any_customer(&self) -> bool {
        self.active > 0
    }

    pub fn any_store(&self) -> bool {
        self.opened_area.total > 0
    }

    /// Share of the floor area of existing stores that is open now.
    pub fn open_share(&self) -> f64 {
        match self.opened_area.total {
            0 => 0.0,
            total => self.open_area.total as f64 / total as f64,
        }
    }

    /// A store that is open now, by floor area.
    pub fn open_store(&self, rng: &mut SimRng) -> Option<usize> {
        self.open_area.sample(rng)
    }

    /// A store that exists now, by floor area.
    pub fn existing_store(&self, rng: &mut SimRng) -> Option<usize> {
        self.opened_area.sample(rng)
    }

    /// A signed-up customer: with probability `home_share` one of `store`'s own.
    pub fn customer(&self, rng: &mut SimRng, store: usize, home_share: f64) -> Option<usize> {
        let home = &self.home[store][..self.home_active[store]];
        if !home.is_empty() && rng.random_bool(home_share) {
            return home.choose(rng).map(|&c| c as usize);
        }
        self.random_customer(rng)
    }

    /// Any signed-up customer.
    pub fn random_customer(&self, rng: &mut SimRng) -> Option<usize> {
        self.any_customer()
            .then(|| self.by_time[rng.random_range(0..self.active)] as usize)
    }

    /// The earliest time at which a store or customer appears, when none exists yet.
    pub fn first_arrival(&self) -> Option<i64> {
        let store = self.changes.peek().map(|Reverse((at, _))| *at);
        let customer = self.next_signup().map(|(at, _)| at);
        store.into_iter().chain(customer).min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn fenwick_draws_by_weight() {
        let mut f = Fenwick::new(5);
        for (i, w) in [0i64, 10, 0, 30, 60].iter().enumerate() {
            f.add(i, *w);
        }
        f.add(4, -60);
        let mut rng = SimRng::seed_from_u64(3);
        let mut seen = [0u32; 5];
        for _ in 0..40_000 {
            seen[f.sample(&mut rng).unwrap()] += 1;
        }
        // Expected 10,000 and 30,000; a binomial sd is ~87, so 500 is over 5 sd.
        assert_eq!((seen[0], seen[2], seen[4]), (0, 0, 0));
        assert!((seen[1] as i64 - 10_000).abs() < 500, "{seen:?}");
        f.add(1, -10);
        f.add(3, -30);
        assert_eq!(f.sample(&mut rng), None);
    }
}
