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
//!   than the watermark can still arrive from an active partition. The partitions at that
//!   minimum *hold* the watermark.
//! - **Assignment**: nothing is released before the consumer has been assigned its partitions,
//!   and every assigned partition counts from the moment it is assigned, even before it has
//!   delivered a record (it then holds the watermark at its start). Group joins can take
//!   seconds (3 s initial rebalance delay on Kafka, ~25 s seen on Tansu), so a clock started at
//!   process start would release one partition's records before the others were read (issue 10).
//! - **Catching up**: a partition is not caught up until it has been read up to its high
//!   watermark at assignment. Until then it can still deliver anything from its backlog and is
//!   never quiet, whatever the client statistics say.
//! - **Quiet partitions** do not hold the watermark back: a partition is quiet when it is caught
//!   up, has no lag (everything up to its high watermark has been read) and no record came from
//!   it for `grace` of wall-clock time. When every partition is quiet, everything is released.
//! - **Flow control** bounds memory (issue 28): a partition that does not hold the watermark is
//!   *paused* (the consumer stops reading its queue) once it has `per_partition` records
//!   waiting, and read again once half of them have left or it holds the watermark, as Kafka
//!   Streams pauses a partition whose buffer is full (`buffered.records.per.partition`) and
//!   reads the one with the earliest records. The partitions holding the watermark are never
//!   paused, so the buffer always drains; their waiting records all share one millisecond. The
//!   consumer reads each partition from a queue of its own (`queues.rs`) and pauses one by
//!   leaving its queue unread, never by pausing the client, which re-fetches (and lost records
//!   on Tansu). It reads a few records of a queue at a time, so a partition may pass the bound
//!   by less than one such turn. Nothing is ever released out of order to make room: only in
//!   the partition holding the watermark, a record beyond twice the bound (thousands of
//!   records of one millisecond) is counted as *unchecked* and goes to no rule.
//! - A record that arrives after a later one was already released is a *late arrival*: it is
//!   checked at once and counted, since rules that depend on order may then misfire.
//!
//! Event times have millisecond resolution; events of one millisecond from different topics
//! leave causes first, then in arrival order (which is partition order within a partition).

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};
use std::time::{Duration, Instant};

use serde_json::Value;

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
    /// The high watermark at assignment while it has not been read up to; None once caught up.
    catch_up_to: Option<i64>,
    /// One past the highest offset read (0 before any).
    next_offset: i64,
    /// Whether the partition is in the current assignment (records may come first).
    in_assignment: bool,
    /// Records of this partition waiting in the buffer.
    buffered: usize,
    /// Whether the flow control stopped reading it.
    paused: bool,
}

impl PartitionClock {
    fn new(now: Instant) -> Self {
        Self {
            latest_ms: None,
            last_record: now,
            lag: None,
            catch_up_to: None,
            next_offset: 0,
            in_assignment: false,
            buffered: 0,
            paused: false,
        }
    }

    /// Whether it may still deliver something older than the others (see the module docs).
    fn active(&self, now: Instant, grace: Duration) -> bool {
        // Caught up with the assignment's high watermark, so statistics not yet refreshed
        // (lag unknown) do not hold it back; a lag > 0 does.
        let quiet = self.catch_up_to.is_none()
            && self.lag.is_none_or(|l| l <= 0)
            && now.duration_since(self.last_record) >= grace;
        !quiet
    }
}

/// A partition the consumer was assigned, and where it stood then.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assigned {
    pub topic: String,
    pub partition: i32,
    /// The offset reading starts from.
    pub start: i64,
    /// The high watermark at assignment (one past the last record then).
    pub high: i64,
}

/// A partition whose queue to stop reading (pause) or read again, for the consumer to apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowChange {
    pub topic: String,
    pub partition: i32,
    pub pause: bool,
}

/// The reorder buffer and the partition clocks that drive its watermark.
#[derive(Debug)]
pub struct Reorder {
    heap: BinaryHeap<Pending>,
    partitions: HashMap<(String, i32), PartitionClock>,
    grace: Duration,
    /// Records a partition may have waiting before it stops being read (see the module docs).
    per_partition: usize,
    /// Whether partitions have been assigned; nothing is released before.
    assigned: bool,
    seq: u64,
    released_upto: i64,
    /// Records that arrived after a later record had been released.
    pub late: u64,
    /// Records past twice the per-partition bound, which no rule saw.
    pub unchecked: u64,
}

impl Reorder {
    /// `per_partition`: records a partition may have waiting before it is paused (>= 1).
    pub fn new(grace: Duration, per_partition: usize) -> Self {
        Self {
            heap: BinaryHeap::new(),
            partitions: HashMap::new(),
            grace,
            per_partition: per_partition.max(1),
            assigned: false,
            seq: 0,
            released_upto: i64::MIN,
            late: 0,
            unchecked: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// How many assigned partitions the flow control has paused.
    pub fn paused(&self) -> usize {
        self.partitions.values().filter(|p| p.paused).count()
    }

    /// The consumer's whole assignment at `now`: partitions new to it start holding the
    /// watermark back and must catch up with `high`; partitions no longer in it stop counting.
    /// Every partition counts as read afterwards (the consumer then reads every assigned
    /// partition's queue, so that it and this buffer agree whatever a rebalance changed).
    pub fn assign(&mut self, partitions: &[Assigned], now: Instant) {
        self.partitions.retain(|(topic, partition), _| {
            partitions
                .iter()
                .any(|a| a.topic == *topic && a.partition == *partition)
        });
        for a in partitions {
            let clock = self
                .partitions
                .entry((a.topic.clone(), a.partition))
                .or_insert_with(|| PartitionClock::new(now));
            clock.paused = false;
            if !clock.in_assignment {
                clock.in_assignment = true;
                // Records can arrive before the assignment is known here.
                let from = a.start.max(clock.next_offset);
                clock.catch_up_to = (a.high > from).then_some(a.high);
            }
        }
        self.assigned = self.assigned || !partitions.is_empty();
    }

    /// Whether partitions were assigned and each has been read up to its high watermark at
    /// assignment.
    pub fn caught_up(&self) -> bool {
        self.assigned && self.partitions.values().all(|p| p.catch_up_to.is_none())
    }

    /// Adds one record read at `now`; a record beyond twice the bound of the partition holding
    /// the watermark is counted as unchecked instead (see the module docs).
    pub fn push(&mut self, time_ms: i64, derived: bool, event: Value, at: Location, now: Instant) {
        let clock = self
            .partitions
            .entry((at.topic.clone(), at.partition))
            .or_insert_with(|| PartitionClock::new(now));
        clock.latest_ms = Some(clock.latest_ms.map_or(time_ms, |t| t.max(time_ms)));
        clock.last_record = now;
        clock.next_offset = clock.next_offset.max(at.offset + 1);
        if clock.catch_up_to.is_some_and(|high| at.offset + 1 >= high) {
            clock.catch_up_to = None;
        }
        let latest = clock.latest_ms;
        if clock.buffered >= 2 * self.per_partition && self.holds(&at, latest, now) {
            self.unchecked += 1;
            return;
        }
        if let Some(clock) = self.partitions.get_mut(&(at.topic.clone(), at.partition)) {
            clock.buffered += 1;
        }
        if time_ms < self.released_upto {
            self.late += 1;
        }
        self.seq += 1;
        self.heap.push(Pending {
            time_ms,
            derived,
            seq: self.seq,
            event,
            at,
        });
    }

    /// Whether the partition at `at`, whose latest event time is `latest`, holds the watermark
    /// at `now`: no other partition that may still deliver older records is behind it.
    fn holds(&self, at: &Location, latest: Option<i64>, now: Instant) -> bool {
        let latest = latest.unwrap_or(i64::MIN);
        self.partitions.iter().all(|((topic, partition), p)| {
            (*topic == at.topic && *partition == at.partition)
                || !p.active(now, self.grace)
                || p.latest_ms.unwrap_or(i64::MIN) >= latest
        })
    }

    /// Records a partition's lag from the client statistics.
    pub fn set_lag(&mut self, topic: &str, partition: i32, lag: Option<i64>, now: Instant) {
        self.partitions
            .entry((topic.to_string(), partition))
            .or_insert_with(|| PartitionClock::new(now))
            .lag = lag;
    }

    /// The current watermark; `None` when every known partition is quiet (release all).
    pub fn watermark(&self, now: Instant) -> Option<i64> {
        self.partitions
            .values()
            .filter(|p| p.active(now, self.grace))
            .map(|p| p.latest_ms.unwrap_or(i64::MIN))
            .min()
    }

    /// The next record due at `now`, in order, or None.
    pub fn pop_ready(&mut self, now: Instant) -> Option<Pending> {
        let top = self.heap.peek()?;
        let due = self.assigned && self.watermark(now).is_none_or(|w| top.time_ms < w);
        if !due {
            return None;
        }
        let next = self.heap.pop()?;
        if let Some(clock) = self
            .partitions
            .get_mut(&(next.at.topic.clone(), next.at.partition))
        {
            clock.buffered = clock.buffered.saturating_sub(1);
        }
        self.released_upto = self.released_upto.max(next.time_ms);
        Some(next)
    }

    /// The partitions to pause or resume at `now`: a partition that does not hold the
    /// watermark pauses with `per_partition` records waiting and resumes with half as many;
    /// one that holds it always reads.
    pub fn flow(&mut self, now: Instant) -> Vec<FlowChange> {
        let mut changes = Vec::new();
        if !self.assigned {
            return changes;
        }
        let watermark = self.watermark(now);
        for ((topic, partition), p) in &mut self.partitions {
            if !p.in_assignment {
                continue;
            }
            let holds = watermark
                .is_some_and(|w| p.active(now, self.grace) && p.latest_ms.unwrap_or(i64::MIN) <= w);
            let pause = !holds
                && if p.paused {
                    p.buffered > self.per_partition / 2
                } else {
                    p.buffered >= self.per_partition
                };
            if pause != p.paused {
                p.paused = pause;
                changes.push(FlowChange {
                    topic: topic.clone(),
                    partition: *partition,
                    pause,
                });
            }
        }
        changes
    }

    /// Everything still held, in order (at the end of a run).
    pub fn drain(&mut self) -> Vec<Pending> {
        let mut out = Vec::with_capacity(self.heap.len());
        while let Some(p) = self.heap.pop() {
            out.push(p);
        }
        for p in self.partitions.values_mut() {
            p.buffered = 0;
        }
        out
    }
}

#[cfg(test)]
#[path = "reorder_tests.rs"]
mod tests;
