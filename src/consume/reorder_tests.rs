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
    let mut r = Reorder::new(grace, Duration::from_secs(60));
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
    assert_eq!((r.late, r.forced), (0, 0));
}

#[test]
fn quiet_partitions_stop_holding_back_and_late_records_are_counted() {
    let t = Instant::now();
    let grace = Duration::from_secs(2);
    let mut r = Reorder::new(grace, Duration::from_secs(60));
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
    let mut r = Reorder::new(grace, Duration::from_secs(60));
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
    assert_eq!((r.late, r.forced), (0, 0));
}

#[test]
fn nothing_is_released_before_an_assignment() {
    let t = Instant::now();
    let mut r = Reorder::new(Duration::ZERO, Duration::from_secs(60));
    r.push(100, false, json!({"id": "a"}), at("sales", 0), t);
    r.set_lag("sales", 0, Some(0), t);
    assert!(ready(&mut r, t + Duration::from_secs(5)).is_empty());
    r.assign(&assignment(&[("sales", 0, 1)]), t);
    assert_eq!(ids(&ready(&mut r, t + Duration::from_secs(5))), ["a"]);
}

#[test]
fn held_too_long_is_forced_out() {
    let t0 = Instant::now();
    let mut r = Reorder::new(Duration::ZERO, Duration::from_secs(10));
    r.assign(&assignment(&[("slow", 0, 5), ("sales", 0, 1)]), t0);
    r.push(100, false, json!({"id": "a"}), at("sales", 0), t0);
    assert!(ready(&mut r, t0 + Duration::from_secs(9)).is_empty());
    assert_eq!(ids(&ready(&mut r, t0 + Duration::from_secs(10))), ["a"]);
    assert_eq!(r.forced, 1);
}
