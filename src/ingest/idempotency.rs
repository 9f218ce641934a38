//! The idempotency window: keys (event ids, `Idempotency-Key` headers) of acknowledged events,
//! remembered for a while so a client's retry is acknowledged without producing twice.
//! Bounded both in time and in size; the oldest keys go first.

use std::collections::{HashMap, VecDeque};
use std::hash::BuildHasher;
use std::time::Duration;

use tokio::time::Instant;

/// 128 bits: a UUID as it is, anything else hashed twice with independent keys.
pub type Key = u128;

/// Remembered keys with the time they were acknowledged.
pub struct Window {
    ttl: Duration,
    max: usize,
    seen: HashMap<Key, Instant>,
    order: VecDeque<(Key, Instant)>,
    hashers: (
        std::collections::hash_map::RandomState,
        std::collections::hash_map::RandomState,
    ),
}

impl Window {
    pub fn new(ttl: Duration, max: usize) -> Self {
        Self {
            ttl,
            max,
            seen: HashMap::new(),
            order: VecDeque::new(),
            hashers: Default::default(),
        }
    }

    /// The key of a header value or event id.
    pub fn key(&self, text: &str) -> Key {
        if let Ok(id) = uuid::Uuid::parse_str(text) {
            return id.as_u128();
        }
        let half = |state: &std::collections::hash_map::RandomState| state.hash_one(text);
        (u128::from(half(&self.hashers.0)) << 64) | u128::from(half(&self.hashers.1))
    }

    pub fn contains(&mut self, key: Key, now: Instant) -> bool {
        self.expire(now);
        self.seen.contains_key(&key)
    }

    pub fn insert(&mut self, key: Key, now: Instant) {
        if self.max == 0 || self.ttl.is_zero() {
            return;
        }
        if self.seen.insert(key, now).is_none() {
            self.order.push_back((key, now));
        }
        while self.seen.len() > self.max {
            self.pop_oldest();
        }
    }

    pub fn len(&self) -> usize {
        self.seen.len()
    }

    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }

    fn expire(&mut self, now: Instant) {
        while let Some((_, at)) = self.order.front() {
            if now.duration_since(*at) < self.ttl {
                break;
            }
            self.pop_oldest();
        }
    }

    fn pop_oldest(&mut self) {
        if let Some((key, at)) = self.order.pop_front() {
            // A key inserted again later has a newer entry further back; keep that one.
            if self.seen.get(&key) == Some(&at) {
                self.seen.remove(&key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn keys_expire_after_the_window_and_beyond_the_size() {
        let mut w = Window::new(Duration::from_secs(600), 3);
        let a = w.key("01941f29-7c00-7f4b-8a95-c9b3c9f9ddd5");
        let b = w.key("batch-x-2");
        assert_ne!(a, b);
        assert_eq!(b, w.key("batch-x-2"));
        w.insert(a, Instant::now());
        tokio::time::advance(Duration::from_secs(300)).await;
        w.insert(b, Instant::now());
        assert!(w.contains(a, Instant::now()) && w.contains(b, Instant::now()));
        tokio::time::advance(Duration::from_secs(301)).await;
        assert!(!w.contains(a, Instant::now()), "a is 601 s old");
        assert!(w.contains(b, Instant::now()));
        for k in 10..14 {
            w.insert(k, Instant::now());
        }
        assert_eq!(w.len(), 3);
        assert!(
            !w.contains(b, Instant::now()),
            "oldest goes first when full"
        );
        assert!(w.contains(13, Instant::now()));
    }
}
