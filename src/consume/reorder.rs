//! Putting records from several topics back into event-time order before the contract checker
//! sees them.
//!
//! A sale (sales topic) and its inventory updates (inventory topic) share an event time, and a
//! sale's price depends on price changes from a third topic; a consumer reading several topics
//! interleaves them arbitrarily. So records wait here, keyed by
//! `(event_time, cause before derived, arrival)`, and leave in that order once they are older
//! than the watermark:
//!
//! - **Watermark**: the minimum, over the partitions that may still deliver something older, of
//!   the latest event time read from each. Within a partition event times never decrease (the
//!   generator's output is time-ordered and each partition keeps its order), so nothing older
//!   than the watermark can still arrive from an active partition.
//! - **Quiet partitions** do not hold the watermark back: a partition is quiet when it has no
//!   lag (everything up to its high watermark has been read) and no record came from it for
//!   `grace` of wall-clock time. When every partition is quiet, everything is released.
//! - **Bounds**: nothing is released during the first `grace` after start (until the partitions
//!   are known); a record held longer than `max_hold` of wall-clock time, or beyond
//!   [`MAX_BUFFERED`] records, is released anyway, so memory and latency stay bounded.
//! - A record that arrives after a later one was already released is a *late arrival*: it is
//!   checked at once and counted, since rules that depend on order may then misfire.
//!
//! Event times have millisecond resolution; events of one millisecond from different topics
//! leave causes first, then in arrival order (which is partition order within a partition).

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Most records held at once; beyond this the oldest leaves regardless of the watermark.
pub const MAX_BUFFERED: usize = 200_000;

/// Where a record came from, for messages.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Location {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}@{}", self.topic, self.partition, self.offset)
    }
}

/// A record waiting for its turn.
#[derive(Debug)]
pub struct Pending {
    pub time_ms: i64,
    /// Derived events (`caused_by` set) go after causes of the same millisecond.
    pub derived: bool,
    seq: u64,
    held_since: Instant,
    pub event: Value,
    pub at: Location,
}

impl Pending {
    fn key(&self) -> (i64, bool, u64) {
        (self.time_ms, self.derived, self.seq)
    }
}

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Pending {
    /// Reversed, so the max-heap pops the earliest record.
    fn cmp(&self, other: &Self) -> Ordering {
        other.key().cmp(&self.key())
    }
}

#[derive(Debug)]
struct PartitionClock {
    latest_ms: Option<i64>,
    last_record: Instant,
    /// High watermark minus the next offset to read, from client statistics; None = unknown.
    lag: Option<i64>,
}

/// The reorder buffer and the partition clocks that drive its watermark.
#[derive(Debug)]
pub struct Reorder {
    heap: BinaryHeap<Pending>,
    partitions: HashMap<(String, i32), PartitionClock>,
    grace: Duration,
    max_hold: Duration,
    started: Instant,
    seq: u64,
    released_upto: i64,
    /// Records that arrived after a later record had been released.
    pub late: u64,
    /// Records released by `max_hold` or [`MAX_BUFFERED`] rather than by the watermark.
    pub forced: u64,
}

impl Reorder {
    pub fn new(grace: Duration, max_hold: Duration, now: Instant) -> Self {
        Self {
            heap: BinaryHeap::new(),
            partitions: HashMap::new(),
            grace,
            max_hold,
            started: now,
            seq: 0,
            released_upto: i64::MIN,
            late: 0,
            forced: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// Adds one record read at `now`.
    pub fn push(&mut self, time_ms: i64, derived: bool, event: Value, at: Location, now: Instant) {
        let clock = self
            .partitions
            .entry((at.topic.clone(), at.partition))
            .or_insert(PartitionClock {
                latest_ms: None,
                last_record: now,
                lag: None,
            });
        clock.latest_ms = Some(clock.latest_ms.map_or(time_ms, |t| t.max(time_ms)));
        clock.last_record = now;
        if time_ms < self.released_upto {
            self.late += 1;
        }
        self.seq += 1;
        self.heap.push(Pending {
            time_ms,
            derived,
            seq: self.seq,
            held_since: now,
            event,
            at,
        });
    }

    /// Records a partition's lag from the client statistics.
    pub fn set_lag(&mut self, topic: &str, partition: i32, lag: Option<i64>, now: Instant) {
        self.partitions
            .entry((topic.to_string(), partition))
            .or_insert(PartitionClock {
                latest_ms: None,
                last_record: now,
                lag: None,
            })
            .lag = lag;
    }

    /// The current watermark; `None` when every known partition is quiet (release all).
    pub fn watermark(&self, now: Instant) -> Option<i64> {
        self.partitions
            .values()
            .filter(|p| {
                let quiet = p.lag == Some(0) && now.duration_since(p.last_record) >= self.grace;
                !quiet
            })
            .map(|p| p.latest_ms.unwrap_or(i64::MIN))
            .min()
    }

    /// The next record due at `now`, in order, or None.
    pub fn pop_ready(&mut self, now: Instant) -> Option<Pending> {
        let top = self.heap.peek()?;
        let over = self.heap.len() > MAX_BUFFERED;
        let held_too_long = now.duration_since(top.held_since) >= self.max_hold;
        let warming_up = now.duration_since(self.started) < self.grace;
        let by_watermark = !warming_up && self.watermark(now).is_none_or(|w| top.time_ms < w);
        if !(by_watermark || over || held_too_long) {
            return None;
        }
        if !by_watermark {
            self.forced += 1;
        }
        let next = self.heap.pop()?;
        self.released_upto = self.released_upto.max(next.time_ms);
        Some(next)
    }

    /// Everything still held, in order (at the end of a run).
    pub fn drain(&mut self) -> Vec<Pending> {
        let mut out = Vec::with_capacity(self.heap.len());
        while let Some(p) = self.heap.pop() {
            out.push(p);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(topic: &str, partition: i32) -> Location {
        Location {
            topic: topic.into(),
            partition,
            offset: 0,
        }
    }

    fn ids(out: &[Pending]) -> Vec<&str> {
        out.iter()
            .map(|p| p.event["id"].as_str().unwrap_or("?"))
            .collect()
    }

    fn ready(r: &mut Reorder, now: Instant) -> Vec<Pending> {
        std::iter::from_fn(|| r.pop_ready(now)).collect()
    }

    #[test]
    fn releases_in_event_time_order_with_causes_first_once_every_partition_passed() {
        let t0 = Instant::now();
        let grace = Duration::from_secs(2);
        let mut r = Reorder::new(grace, Duration::from_secs(60), t0);
        let t = t0 + grace;
        // The derived update arrives before its sale, and a later sale before an older price.
        r.push(100, true, json!({"id": "update"}), at("inv", 0), t);
        r.push(200, false, json!({"id": "sale2"}), at("sales", 0), t);
        r.push(100, false, json!({"id": "sale1"}), at("sales", 0), t);
        // Watermark = min(inv 100, sales 200) = 100: nothing is older.
        assert!(ready(&mut r, t).is_empty());
        r.push(50, false, json!({"id": "price"}), at("price", 0), t);
        // Watermark = min(inv 100, sales 200, price 50) = 50: nothing is older.
        assert!(ready(&mut r, t).is_empty());
        r.push(300, false, json!({"id": "price2"}), at("price", 0), t);
        r.push(300, true, json!({"id": "update2"}), at("inv", 0), t);
        // Watermark = min(300, 200, 300) = 200.
        assert_eq!(
            ids(&ready(&mut r, t)),
            ["price", "sale1", "update"],
            "events before 200, causes first"
        );
        assert_eq!(ids(&r.drain()), ["sale2", "price2", "update2"]);
        assert_eq!((r.late, r.forced), (0, 0));
    }

    #[test]
    fn quiet_partitions_stop_holding_back_and_late_records_are_counted() {
        let t0 = Instant::now();
        let grace = Duration::from_secs(2);
        let mut r = Reorder::new(grace, Duration::from_secs(60), t0);
        let t = t0 + grace;
        r.push(100, false, json!({"id": "a"}), at("sales", 0), t);
        r.set_lag("alerts", 0, Some(0), t);
        r.set_lag("sales", 0, Some(0), t);
        assert!(
            ready(&mut r, t).is_empty(),
            "a's own partition is not quiet yet"
        );
        let later = t + grace;
        assert_eq!(ids(&ready(&mut r, later)), ["a"]);
        // A partition with lag never counts as quiet, however long it has been silent.
        r.set_lag("alerts", 0, Some(5), later);
        r.push(200, false, json!({"id": "b"}), at("sales", 0), later);
        assert!(ready(&mut r, later + grace * 3).is_empty());
        r.push(50, false, json!({"id": "old"}), at("alerts", 0), later);
        assert_eq!(r.late, 1, "50 arrived after 100 was released");
        r.set_lag("alerts", 0, Some(0), later);
        let end = later + grace;
        assert_eq!(
            ids(&ready(&mut r, end)),
            ["old", "b"],
            "late, but still in order"
        );
    }

    #[test]
    fn held_too_long_is_forced_out() {
        let t0 = Instant::now();
        let mut r = Reorder::new(Duration::ZERO, Duration::from_secs(10), t0);
        r.set_lag("slow", 0, None, t0);
        r.push(100, false, json!({"id": "a"}), at("sales", 0), t0);
        assert!(ready(&mut r, t0 + Duration::from_secs(9)).is_empty());
        assert_eq!(ids(&ready(&mut r, t0 + Duration::from_secs(10))), ["a"]);
        assert_eq!(r.forced, 1);
    }
}
