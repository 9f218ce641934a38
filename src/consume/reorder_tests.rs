//! Tests of `reorder.rs`.

use super::*;
use serde_json::json;

fn at(topic: &str, partition: i32) -> Location {
    at_offset(topic, partition, 0)
}

fn at_offset(topic: &str, partition: i32, offset: i64) -> Location {
    Location {
        topic: topic.into(),
        partition,
        offset,
    }
}

/// An assignment of `(topic, partition, high)`, each read from offset 0.
fn assignment(parts: &[(&str, i32, i64)]) -> Vec<Assigned> {
    parts
        .iter()
        .map(|&(topic, partition, high)| Assigned {
            topic: topic.into(),
            partition,
            start: 0,
            high,
        })
        .collect()
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
    let t = Instant::now();
    let grace = Duration::from_secs(2);
    let mut r = Reorder::new(grace, 1000);
    r.assign(
        &assignment(&[("inv", 0, 9), ("sales", 0, 9), ("price", 0, 9)]),
        t,
    );
    // The derived update arrives before its sale, and a later sale before an older price.
    r.push(100, true, json!({"id": "update"}), at("inv", 0), t);
    r.push(200, false, json!({"id": "sale2"}), at("sales", 0), t);
    r.push(100, false, json!({"id": "sale1"}), at("sales", 0), t);
    // The price partition has delivered nothing yet: it holds everything back.
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
    assert_eq!((r.late, r.unchecked), (0, 0));
}

#[test]
fn quiet_partitions_stop_holding_back_and_late_records_are_counted() {
    let t = Instant::now();
    let grace = Duration::from_secs(2);
    let mut r = Reorder::new(grace, 1000);
    r.assign(&assignment(&[("sales", 0, 1), ("alerts", 0, 0)]), t);
    r.push(100, false, json!({"id": "a"}), at("sales", 0), t);
    r.set_lag("alerts", 0, Some(0), t);
    r.set_lag("sales", 0, Some(0), t);
    assert!(
        ready(&mut r, t).is_empty(),
        "the partitions are not quiet yet"
    );
    let later = t + grace;
    assert_eq!(ids(&ready(&mut r, later)), ["a"]);
    // A partition with lag never counts as quiet, however long it has been silent.
    r.set_lag("alerts", 0, Some(5), later);
    r.push(
        200,
        false,
        json!({"id": "b"}),
        at_offset("sales", 0, 1),
        later,
    );
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

/// Issue 10: the group join took longer than the grace (3 s on Kafka, ~25 s on Tansu). The
/// first partition to deliver must not be released while another assigned partition still
/// has its backlog to read, however silent it looks and however stale the statistics are.
#[test]
fn a_late_assignment_holds_back_until_every_partition_has_caught_up() {
    let t0 = Instant::now();
    let grace = Duration::from_secs(2);
    let mut r = Reorder::new(grace, 1000);
    let joined = t0 + Duration::from_secs(25);
    assert!(!r.caught_up(), "nothing is assigned yet");
    // Both partitions have a backlog of three records at assignment.
    r.assign(&assignment(&[("sales", 0, 3), ("inv", 0, 3)]), joined);
    for (offset, time) in [(0, 100), (1, 200), (2, 300)] {
        let id = format!("sale{time}");
        r.push(
            time,
            false,
            json!({ "id": id }),
            at_offset("sales", 0, offset),
            joined,
        );
    }
    // Statistics from before the fetch started say inv has no lag; it is still not quiet.
    r.set_lag("inv", 0, Some(0), joined);
    r.set_lag("sales", 0, Some(0), joined);
    assert!(!r.caught_up());
    let much_later = joined + grace * 5;
    assert!(
        ready(&mut r, much_later).is_empty(),
        "inv has not been read"
    );
    // inv's backlog arrives: older records first.
    for (offset, time) in [(0, 100), (1, 150), (2, 250)] {
        let id = format!("inv{time}");
        r.push(
            time,
            true,
            json!({ "id": id }),
            at_offset("inv", 0, offset),
            much_later,
        );
    }
    assert!(r.caught_up());
    assert_eq!(
        ids(&ready(&mut r, much_later)),
        ["sale100", "inv100", "inv150", "sale200"],
        "everything before the watermark (250), in order"
    );
    let quiet = much_later + grace;
    assert_eq!(ids(&ready(&mut r, quiet)), ["inv250", "sale300"]);
    assert_eq!((r.late, r.unchecked), (0, 0));
}

#[test]
fn nothing_is_released_before_an_assignment() {
    let t = Instant::now();
    let mut r = Reorder::new(Duration::ZERO, 1000);
    r.push(100, false, json!({"id": "a"}), at("sales", 0), t);
    r.set_lag("sales", 0, Some(0), t);
    assert!(ready(&mut r, t + Duration::from_secs(5)).is_empty());
    r.assign(&assignment(&[("sales", 0, 1)]), t);
    assert_eq!(ids(&ready(&mut r, t + Duration::from_secs(5))), ["a"]);
}

/// A stand-in for librdkafka's fetcher: it reads each partition in order, in batches, from
/// the partitions that are not paused, round robin. A batch started is delivered whole, even
/// if its partition is paused meanwhile, as librdkafka delivers what it had prefetched.
struct Fetcher {
    /// Per partition: its topic and the event times still to read, oldest first.
    parts: Vec<(String, std::collections::VecDeque<i64>)>,
    paused: std::collections::HashSet<String>,
    next_offset: Vec<i64>,
}

impl Fetcher {
    fn new(parts: Vec<(&str, Vec<i64>)>) -> Self {
        let next_offset = vec![0; parts.len()];
        Self {
            parts: parts
                .into_iter()
                .map(|(t, times)| (t.to_string(), times.into()))
                .collect(),
            paused: Default::default(),
            next_offset,
        }
    }

    fn assignment(&self) -> Vec<Assigned> {
        self.parts
            .iter()
            .map(|(topic, times)| Assigned {
                topic: topic.clone(),
                partition: 0,
                start: 0,
                high: times.len() as i64,
            })
            .collect()
    }

    fn apply(&mut self, changes: Vec<FlowChange>) {
        for c in changes {
            if c.pause {
                self.paused.insert(c.topic);
            } else {
                self.paused.remove(&c.topic);
            }
        }
    }

    /// Reads everything, `batch` records per partition in turn from those the flow control
    /// lets it read; when none is readable, lets `grace` pass, as the consumer's loop does.
    /// Returns the records released in order and the most ever buffered.
    fn run(
        &mut self,
        r: &mut Reorder,
        batch: usize,
        grace: Duration,
        mut now: Instant,
    ) -> (Vec<Pending>, usize) {
        let (mut out, mut most, mut stalls) = (Vec::new(), 0, 0);
        loop {
            let mut read = 0;
            for i in 0..self.parts.len() {
                let topic = self.parts[i].0.clone();
                if self.paused.contains(&topic) {
                    continue;
                }
                for _ in 0..batch {
                    let Some(time) = self.parts[i].1.pop_front() else {
                        break;
                    };
                    let offset = self.next_offset[i];
                    self.next_offset[i] += 1;
                    let at = at_offset(&topic, 0, offset);
                    r.push(time, false, json!({ "t": time }), at, now);
                    most = most.max(r.len());
                    out.extend(ready(r, now));
                    self.apply(r.flow(now));
                    read += 1;
                    stalls = 0;
                }
            }
            if read == 0 {
                if self.parts.iter().all(|(_, times)| times.is_empty()) {
                    out.extend(ready(r, now + grace));
                    out.extend(r.drain());
                    return (out, most);
                }
                // Only a partition at its end holds the watermark: it turns quiet.
                stalls += 1;
                assert!(
                    stalls < 10,
                    "the flow control paused every partition for good"
                );
                now += grace;
                out.extend(ready(r, now));
                self.apply(r.flow(now));
            }
        }
    }
}

/// Issue 28: on a long backfill one partition's backlog ran days ahead of another's in event
/// time; the fixed count cap then forced the earliest records out before the partition behind
/// had delivered older ones, and the clean stream was blamed (52,683 violations). Flow control
/// pauses the partitions ahead instead, so with a buffer bound far below the gap everything
/// still leaves in event-time order and nothing is forced, late or unchecked.
#[test]
fn partitions_far_apart_in_event_time_are_paused_not_forced() {
    const MIN: i64 = 60_000;
    let t = Instant::now();
    // Two days: one record a minute, one every five minutes, one an hour.
    let every = |step: i64| {
        (0..2 * 24 * 60 * MIN)
            .step_by(step as usize)
            .collect::<Vec<_>>()
    };
    let mut fetch = Fetcher::new(vec![
        ("dense", every(MIN)),
        ("mid", every(5 * MIN)),
        ("sparse", every(60 * MIN)),
    ]);
    let total: usize = fetch.parts.iter().map(|(_, t)| t.len()).sum();
    let per_partition = 20;
    let grace = Duration::from_secs(2);
    let mut r = Reorder::new(grace, per_partition);
    r.assign(&fetch.assignment(), t);
    // Batches of 500 put the sparse partition's whole backlog two days ahead at once.
    let (out, most) = fetch.run(&mut r, 500, grace, t);
    assert_eq!(out.len(), total);
    let times: Vec<i64> = out.iter().map(|p| p.time_ms).collect();
    let disorder = times.windows(2).filter(|w| w[1] < w[0]).count();
    assert_eq!(disorder, 0, "records left out of event-time order");
    assert_eq!((r.late, r.unchecked), (0, 0));
    assert!(
        most <= 3 * (per_partition + 500),
        "{most} buffered; the bound is {per_partition} per partition and a batch"
    );
}

/// The partition behind always reads, and a burst of one millisecond past twice the bound is
/// counted as unchecked rather than released early.
#[test]
fn the_partition_behind_is_never_paused_and_past_twice_the_bound_is_unchecked() {
    let t = Instant::now();
    let mut r = Reorder::new(Duration::from_secs(2), 10);
    r.assign(&assignment(&[("burst", 0, 100), ("later", 0, 100)]), t);
    r.push(500, false, json!({"id": "later"}), at("later", 0), t);
    for i in 0..50 {
        r.push(100, false, json!({ "id": i }), at_offset("burst", 0, i), t);
    }
    assert!(r.flow(t).is_empty(), "burst holds the watermark: it reads");
    assert_eq!((r.len(), r.unchecked), (21, 30));
    assert!(ready(&mut r, t).is_empty(), "nothing is older than 100");
    // Once burst moves on, its records of 100 leave, in arrival order.
    r.push(
        600,
        false,
        json!({"id": "next"}),
        at_offset("burst", 0, 50),
        t,
    );
    let out = ready(&mut r, t);
    assert_eq!(out.len(), 20);
    assert!(out.iter().enumerate().all(|(i, p)| p.event["id"] == i));
}
