//! Helpers the scenarios share: dates and weighted picks for master data, the envelope of an
//! event, config checks with uniform messages, and the bookkeeping every contract checker does
//! (duplicate ids, unknown references, time order per key).

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use rand::RngExt;
use serde_json::Value;
use uuid::Uuid;

use super::{EventTypeId, EventTypeSpec, Violation};
use crate::event::Envelope;
use crate::SimRng;

pub use super::retail::events::{Money, TimeMs};

/// A date drawn uniformly from `from..=to`.
pub fn date(rng: &mut SimRng, from: NaiveDate, to: NaiveDate) -> NaiveDate {
    let span = (to - from).num_days().max(0);
    from + chrono::Days::new(rng.random_range(0..=span) as u64)
}

/// A calendar date; an impossible one falls back to 1970-01-01 (only literals are passed).
pub fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
}

/// `x` rounded to `digits` decimal places.
pub fn round_to(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

/// Draws one of `choices` by its integer weight.
pub fn pick<T: Copy>(rng: &mut SimRng, choices: &[(T, u32)]) -> T {
    let total: u32 = choices.iter().map(|c| c.1).sum();
    let mut roll = rng.random_range(0..total.max(1));
    for &(value, weight) in choices {
        if roll < weight {
            return value;
        }
        roll -= weight;
    }
    choices[0].0
}

/// A random UUID from `rng`, so seeded runs reproduce it.
pub fn uuid(rng: &mut SimRng) -> Uuid {
    uuid::Builder::from_random_bytes(rng.random()).into_uuid()
}

/// The envelope of an event of `types[event_type]`.
pub fn envelope<'k>(
    types: &'static [EventTypeSpec],
    event_type: EventTypeId,
    time_ms: i64,
    caused_by: Option<Uuid>,
    key: &'k str,
) -> Envelope<'k> {
    Envelope {
        event_type,
        type_name: types[event_type as usize].name,
        time_ms,
        caused_by,
        key,
    }
}

/// How far back, in event time, a checker remembers event ids (and other ids it looks back
/// on): one hour. Older ids are forgotten, so a duplicate of an event more than this older
/// than the newest is not reported, and a reference to a cause that old is not an orphan.
pub const ID_WINDOW_MS: i64 = 3_600_000;
/// Most ids one generation of [`RecentIds`] holds, whatever the event rate, so a checker never
/// remembers more than `2 * MAX_IDS_PER_GENERATION` ids (about 40 MB at most).
pub const MAX_IDS_PER_GENERATION: usize = 500_000;

/// A set of recent ids, bounded by event time and by count (issue 10: the checkers kept every
/// id for ever, ~100 bytes an event on a live consumer).
///
/// Two generations: ids go into the current one; when it spans `window_ms` of event time or
/// holds `max` ids, it becomes the previous one and the old previous one is dropped. So the
/// ids of the last `window_ms` of event time are remembered (unless more than `max` came in
/// that time: then at least the last `max`), and at most `2 * max` are held.
#[derive(Debug)]
pub struct RecentIds {
    window_ms: i64,
    max: usize,
    current: HashSet<u128>,
    previous: HashSet<u128>,
    /// Event time at which the current generation started.
    current_from: Option<i64>,
    /// Ids of events older than this may have been forgotten.
    forgotten_before: i64,
}

impl Default for RecentIds {
    fn default() -> Self {
        Self::new(ID_WINDOW_MS, MAX_IDS_PER_GENERATION)
    }
}

/// A UUID as its 128 bits; another id as a hash of it (ids that are not UUIDs are already
/// schema violations, and a 64-bit hash collides once in ~10^13 pairs).
fn id_bits(id: &str) -> u128 {
    uuid::Uuid::parse_str(id).map_or_else(
        |_| {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            id.hash(&mut h);
            u128::from(h.finish()) | 1 << 127
        },
        |u| u.as_u128(),
    )
}

impl RecentIds {
    pub fn new(window_ms: i64, max: usize) -> Self {
        Self {
            window_ms,
            max: max.max(1),
            current: HashSet::new(),
            previous: HashSet::new(),
            current_from: None,
            forgotten_before: i64::MIN,
        }
    }

    /// Adds the id of an event at `time_ms`; false if it is remembered already.
    pub fn insert(&mut self, id: &str, time_ms: i64) -> bool {
        let from = *self.current_from.get_or_insert(time_ms);
        if time_ms.saturating_sub(from) >= self.window_ms || self.current.len() >= self.max {
            self.previous = std::mem::take(&mut self.current);
            self.forgotten_before = from;
            self.current_from = Some(time_ms);
        }
        let bits = id_bits(id);
        !self.previous.contains(&bits) && self.current.insert(bits)
    }

    pub fn contains(&self, id: &str) -> bool {
        let bits = id_bits(id);
        self.current.contains(&bits) || self.previous.contains(&bits)
    }

    /// Ids held now.
    pub fn len(&self) -> usize {
        self.current.len() + self.previous.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether an id of an event at `time_ms` may have been forgotten.
    pub fn forgotten(&self, time_ms: i64) -> bool {
        time_ms < self.forgotten_before
    }
}

/// The event time carried by a UUID v7 id, in ms since the epoch.
pub fn uuid_time_ms(id: &str) -> Option<i64> {
    let (secs, nanos) = uuid::Uuid::parse_str(id).ok()?.get_timestamp()?.to_unix();
    Some(secs as i64 * 1000 + i64::from(nanos / 1_000_000))
}

/// What every contract checker tracks: violations, event ids, time order per key.
///
/// Bounded: ids as [`RecentIds`]; the last time per key, one entry per key of the master
/// data; violations until the caller takes them (the consumer does after every event).
#[derive(Default)]
pub struct Ledger {
    pub violations: Vec<Violation>,
    seen: RecentIds,
    last_time: HashMap<String, String>,
}

impl Ledger {
    pub fn fail(&mut self, event_id: &str, rule: &'static str, detail: String) {
        self.violations.push(Violation {
            event_id: event_id.to_string(),
            rule,
            detail,
        });
    }

    /// Checks the envelope and the id's uniqueness; returns the event id and type.
    pub fn begin<'e>(&mut self, scenario: &str, event: &'e Value) -> (String, &'e str) {
        let id = event["event_id"].as_str().unwrap_or("?").to_string();
        for field in ["event_id", "event_type", "event_time"] {
            if !event[field].is_string() {
                self.fail(
                    &id,
                    "schema",
                    format!("envelope field {field} is missing or not a string"),
                );
            }
        }
        if event["scenario"].as_str() != Some(scenario) {
            self.fail(&id, "schema", format!("scenario is not {scenario:?}"));
        }
        let time = time_ms(&event["event_time"]).unwrap_or(i64::MIN);
        if !self.seen.insert(&id, time) {
            self.fail(&id, "duplicate_event_id", "event_id seen before".into());
        }
        (id, event["event_type"].as_str().unwrap_or(""))
    }

    /// `event[field]` is a string in `known`; returns it.
    pub fn reference<'e>(
        &mut self,
        id: &str,
        event: &'e Value,
        field: &str,
        known: &HashSet<String>,
    ) -> Option<&'e str> {
        match event[field].as_str() {
            Some(v) if known.contains(v) => Some(v),
            other => {
                self.fail(
                    id,
                    "unknown_reference",
                    format!("{field} {other:?} is not in the master data"),
                );
                None
            }
        }
    }

    /// Event times never decrease per `key` (RFC 3339 UTC with milliseconds sorts as text).
    pub fn in_order(&mut self, id: &str, key: &str, event: &Value) {
        let time = event["event_time"].as_str().unwrap_or("");
        match self.last_time.get_mut(key) {
            Some(last) if time < last.as_str() => {
                let detail = format!("event_time {time} is before {last} for key {key}");
                self.fail(id, "time_order", detail);
            }
            Some(last) => time.clone_into(last),
            None => {
                self.last_time.insert(key.to_string(), time.to_string());
            }
        }
    }
}

/// Milliseconds since the epoch of an RFC 3339 time.
pub fn time_ms(value: &Value) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(value.as_str()?)
        .ok()
        .map(|t| t.timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uuid_at(n: u64) -> String {
        uuid::Uuid::from_u128(u128::from(n) << 64 | 0x7000_8000_0000_0000).to_string()
    }

    /// A million events, one every 10 ms of event time (2.8 hours): the set never holds more
    /// than two windows' worth, and a duplicate within the window is still caught.
    #[test]
    fn a_million_ids_stay_within_two_windows_and_recent_duplicates_are_caught() {
        let window_ms = 600_000;
        let per_window = (window_ms / 10) as usize;
        let mut ids = RecentIds::new(window_ms, MAX_IDS_PER_GENERATION);
        let mut most = 0;
        for n in 0..1_000_000u64 {
            assert!(ids.insert(&uuid_at(n), n as i64 * 10), "{n} is new");
            most = most.max(ids.len());
            if n % 100_000 == 99_999 {
                // The event of 9 minutes ago (within the window) repeats.
                let back = n - 54_000;
                assert!(!ids.insert(&uuid_at(back), n as i64 * 10), "{back} repeats");
            }
        }
        assert!(most <= 2 * per_window + 1, "held {most} ids");
        assert!(ids.contains(&uuid_at(999_999 - per_window as u64 + 1)));
        assert!(!ids.contains(&uuid_at(0)), "3 hours old: forgotten");
        assert!(ids.forgotten(0) && !ids.forgotten(10_000_000 - window_ms));
    }

    #[test]
    fn the_count_bound_holds_when_the_window_holds_more() {
        let mut ids = RecentIds::new(ID_WINDOW_MS, 1000);
        for n in 0..1_000_000u64 {
            ids.insert(&uuid_at(n), 0);
            assert!(ids.len() <= 2000);
        }
        assert!(!ids.insert(&uuid_at(999_500), 0), "the last 1000 are held");
        assert!(ids.insert("not-a-uuid", 0) && !ids.insert("not-a-uuid", 0));
    }
}
