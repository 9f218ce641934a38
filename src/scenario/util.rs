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

/// Config checks of one `[section]` with messages that name the field and the bad value.
pub struct Check(pub &'static str);

impl Check {
    fn fail(&self, field: &str, value: String, want: &str) -> anyhow::Result<()> {
        anyhow::bail!(
            "{}.{field} is {value}; it must be {want} (config file [{}])",
            self.0,
            self.0
        )
    }

    /// `value` is finite and within `lo..=hi`.
    pub fn range(&self, field: &str, value: f64, lo: f64, hi: f64) -> anyhow::Result<()> {
        if !(value.is_finite() && (lo..=hi).contains(&value)) {
            self.fail(field, value.to_string(), &format!("between {lo} and {hi}"))?;
        }
        Ok(())
    }

    /// `lo <= hi`, both within `min..=max`.
    pub fn span(&self, field: &str, lo: f64, hi: f64, min: f64, max: f64) -> anyhow::Result<()> {
        let ok = |v: f64| v.is_finite() && (min..=max).contains(&v);
        if !(ok(lo) && ok(hi) && lo <= hi) {
            self.fail(
                field,
                format!("{lo}..{hi}"),
                &format!("within {min}..{max} with min <= max"),
            )?;
        }
        Ok(())
    }
}

/// What every contract checker tracks: violations, event ids, time order per key.
#[derive(Default)]
pub struct Ledger {
    pub violations: Vec<Violation>,
    seen: HashSet<String>,
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
        if !self.seen.insert(id.clone()) {
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

/// The ids of `records` as a set, for reference checks.
pub fn ids<T>(records: &[T], id: impl Fn(&T) -> &str) -> HashSet<String> {
    records.iter().map(|r| id(r).to_string()).collect()
}
