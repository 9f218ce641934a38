//! The idempotency window: keys (event ids, `Idempotency-Key` headers) of acknowledged events,
//! remembered for a while so a client's retry is acknowledged without producing twice.
//! Bounded both in time and in size; the oldest keys go first.
//!
//! A key is reserved when its request arrives, not when Kafka confirms it (issue 10): a copy of
//! a request still in flight then waits for the first one's outcome instead of producing the
//! same events again. Reservations live only as long as their request (at most the ack
//! timeout), so they are bounded by the number of concurrent requests, not by the window.

use std::collections::{HashMap, VecDeque};
use std::hash::BuildHasher;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

/// 128 bits: a UUID as it is, anything else hashed twice with independent keys.
pub type Key = u128;

/// What the window knows about a key.
#[derive(Debug)]
pub enum Seen {
    /// Never seen, or forgotten.
    New,
    /// Acknowledged within the window, by a request with this fingerprint.
    Acked { fingerprint: Key },
    /// Reserved by a request still in flight; `changed()` returns once it is settled.
    Pending {
        fingerprint: Key,
        settled: watch::Receiver<()>,
    },
}

enum State {
    Pending(watch::Receiver<()>),
    Acked(Instant),
}

struct Entry {
    fingerprint: Key,
    state: State,
}

/// Remembered keys with the time they were acknowledged, and the keys reserved by requests in
/// flight.
pub struct Window {
    ttl: Duration,
    max: usize,
    entries: HashMap<Key, Entry>,
    /// Acknowledged keys, oldest first.
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
            entries: HashMap::new(),
            order: VecDeque::new(),
            hashers: Default::default(),
        }
    }

    /// The key of a header value or event id.
    pub fn key(&self, text: &str) -> Key {
        if let Ok(id) = uuid::Uuid::parse_str(text) {
            return id.as_u128();
        }
        self.fingerprint(text.as_bytes())
    }

    /// A 128-bit hash of `bytes` (a request body), to tell a retry from a different request
    /// that reuses its `Idempotency-Key`.
    pub fn fingerprint(&self, bytes: &[u8]) -> Key {
        let half = |state: &std::collections::hash_map::RandomState| state.hash_one(bytes);
        (u128::from(half(&self.hashers.0)) << 64) | u128::from(half(&self.hashers.1))
    }

    /// What is known about `key` at `now`.
    pub fn get(&mut self, key: Key, now: Instant) -> Seen {
        self.expire(now);
        match self.entries.get(&key) {
            None => Seen::New,
            Some(Entry {
                fingerprint,
                state: State::Acked(_),
            }) => Seen::Acked {
                fingerprint: *fingerprint,
            },
            Some(Entry {
                fingerprint,
                state: State::Pending(rx),
            }) => Seen::Pending {
                fingerprint: *fingerprint,
                settled: rx.clone(),
            },
        }
    }

    pub fn contains(&mut self, key: Key, now: Instant) -> bool {
        matches!(self.get(key, now), Seen::Acked { .. })
    }

    /// Reserves `key` for a request in flight; `settled` is that request's channel, closed
    /// when it finishes. The caller checked that the key is [`Seen::New`].
    pub fn reserve(&mut self, key: Key, fingerprint: Key, settled: &watch::Sender<()>) {
        let state = State::Pending(settled.subscribe());
        self.entries.insert(key, Entry { fingerprint, state });
    }

    /// Settles a reservation: acknowledged (remembered from `now`) or failed (forgotten, so a
    /// later copy may try again).
    pub fn settle(&mut self, key: Key, acked: bool, now: Instant) {
        if !acked || self.max == 0 || self.ttl.is_zero() {
            if matches!(self.entries.get(&key), Some(e) if matches!(e.state, State::Pending(_))) {
                self.entries.remove(&key);
            }
            return;
        }
        if let Some(entry) = self.entries.get_mut(&key) {
            entry.state = State::Acked(now);
            self.order.push_back((key, now));
        }
        while self.order.len() > self.max {
            self.pop_oldest();
        }
    }

    /// Remembers `key` as acknowledged at `now`, without a reservation.
    pub fn insert(&mut self, key: Key, now: Instant) {
        let (tx, _) = watch::channel(());
        self.reserve(key, 0, &tx);
        self.settle(key, true, now);
    }

    /// Acknowledged keys remembered.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
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
            // A key acknowledged again later, or reserved anew, is not this entry; keep it.
            if matches!(self.entries.get(&key), Some(e) if matches!(e.state, State::Acked(t) if t == at))
            {
                self.entries.remove(&key);
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

    #[tokio::test(start_paused = true)]
    async fn a_reservation_is_seen_until_settled_and_wakes_its_waiters() {
        let mut w = Window::new(Duration::from_secs(600), 10);
        let (tx, _) = watch::channel(());
        w.reserve(7, 42, &tx);
        let Seen::Pending {
            fingerprint,
            mut settled,
        } = w.get(7, Instant::now())
        else {
            panic!("a reserved key is pending");
        };
        assert_eq!(fingerprint, 42);
        assert!(!w.contains(7, Instant::now()));
        w.settle(7, false, Instant::now());
        drop(tx);
        assert!(settled.changed().await.is_err(), "the waiter wakes");
        assert!(
            matches!(w.get(7, Instant::now()), Seen::New),
            "failed: free"
        );
        let (tx, _) = watch::channel(());
        w.reserve(7, 43, &tx);
        w.settle(7, true, Instant::now());
        assert!(matches!(
            w.get(7, Instant::now()),
            Seen::Acked { fingerprint: 43 }
        ));
    }
}
