//! The body of `POST /stream/{scenario}`: parsed by hand from JSON so that every error names
//! the bad field, then checked against simtom's bounds (its `GeneratorConfig`,
//! ../shared/seeds/simtom-architecture.md), the server's limits and the scenario's own rules.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{json, Map, Value};

use super::Limits;
use crate::config::Config;
use crate::profile::Profile;
use crate::scenario::Scenario;
use crate::sinks::SinkKind;
use crate::worldfile::model::Model;

/// A request that failed validation: the field and what is wrong with it (HTTP 422).
#[derive(Debug, Clone, PartialEq)]
pub struct Invalid {
    pub field: String,
    pub message: String,
}

pub(super) fn invalid(field: &str, message: String) -> Invalid {
    Invalid {
        field: field.into(),
        message,
    }
}

/// A validated stream request.
#[derive(Debug, Clone)]
pub struct StreamPlan {
    /// Primary events per second, on average over an ordinary weekday: the time profile
    /// scales it hour by hour, on weekends and holidays.
    pub rate: f64,
    /// Primary events in all (derived events come on top); `None` streams until the client
    /// leaves or `end` is reached, as simtom does.
    pub total: Option<u64>,
    pub seed: u64,
    /// Event time of the first event, ms since the epoch.
    pub start_ms: i64,
    /// No event at or after this event time (ms since the epoch); the stream ends there.
    pub end_ms: Option<i64>,
    /// Event time advances this many times faster than the wall clock.
    pub time_compression: f64,
    /// The shape of event time: the scenario's profile with the request's
    /// `include_holiday_patterns` and `weekend_multiplier`.
    pub profile: Profile,
    /// The world recompiled with the request's parameters (`default_rate`), if it set any.
    pub model: Option<Arc<Model>>,
    /// The run configuration the generator is built from.
    pub config: Config,
}

/// simtom's default rate (`rate_per_second`, 1.0); with no `total_records` a stream is
/// unbounded.
pub const DEFAULT_RATE: f64 = 1.0;
/// simtom's bounds on `rate_per_second` (ge=0.1, le=1000.0); `--max-rate` may lower the top.
pub const RATE: (f64, f64) = (0.1, 1000.0);
/// simtom's top for `total_records` (le=1,000,000); `--max-total` may lower it.
pub const MAX_TOTAL: u64 = 1_000_000;
/// simtom's bounds on `seed` (0 to 2^32 - 1).
pub const MAX_SEED: u64 = u32::MAX as u64;
/// simtom's bounds on `time_compression` (ge=0.1, le=1000.0).
pub const TIME_COMPRESSION: (f64, f64) = (0.1, 1000.0);
/// Bounds on `weekend_multiplier` (default 0.85): the document states none; these are
/// simtom's own (ge=0.1, le=5.0).
pub const WEEKEND_MULTIPLIER: (f64, f64) = (0.1, 5.0);

const FIELDS: &[&str] = &[
    "rate",
    "total",
    "seed",
    "start",
    "end",
    "time_compression",
    "weights",
    "streams",
    "options",
    "include_holiday_patterns",
    "weekend_multiplier",
    "default_rate",
];

/// The names simtom's clients send, and ours they stand for.
const ALIASES: &[(&str, &str)] = &[
    ("rate_per_second", "rate"),
    ("total_records", "total"),
    ("start_date", "start"),
    ("end_date", "end"),
];

/// 9999-12-31T23:59:59.999Z, the last event time the event format can write.
const MAX_TIME_MS: i64 = 253_402_300_799_999;

/// `o` with simtom's names renamed to ours, and the (alias, ours) pairs renamed; both names
/// of one field is an error.
/// A request's fields under our names, and the (alias, ours) pairs that were renamed.
type Unaliased = (
    Map<String, Value>,
    Vec<&'static (&'static str, &'static str)>,
);

fn unalias(o: &Map<String, Value>) -> Result<Unaliased, Invalid> {
    let mut out = o.clone();
    let mut renamed = Vec::new();
    for pair in ALIASES {
        let (alias, ours) = pair;
        if let Some(v) = out.remove(*alias) {
            if out.contains_key(*ours) {
                return Err(invalid(
                    alias,
                    format!("{alias} is another name for {ours}; give one of them, not both"),
                ));
            }
            out.insert((*ours).to_string(), v);
            renamed.push(pair);
        }
    }
    Ok((out, renamed))
}

/// An event time: RFC 3339, or a date (midnight UTC; with `next_day`, the midnight after it,
/// so that an end date is included).
fn time_field(o: &Map<String, Value>, field: &str, next_day: bool) -> Result<Option<i64>, Invalid> {
    let v = match o.get(field) {
        None | Some(Value::Null) => return Ok(None),
        Some(v) => v,
    };
    let text = v.as_str().unwrap_or_default();
    let ms = chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| t.timestamp_millis())
        .ok()
        .or_else(|| {
            let day = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
            let day = if next_day { day.succ_opt()? } else { day };
            Some(day.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis())
        })
        .filter(|ms| (0..=MAX_TIME_MS).contains(ms));
    ms.map(Some).ok_or_else(|| {
        invalid(
            field,
            format!(
                "{field} {v} is not an RFC 3339 time or a YYYY-MM-DD date between 1970 and 9999"
            ),
        )
    })
}

/// Parses and validates a request body (empty means all defaults).
pub fn plan(scenario: &dyn Scenario, body: &[u8], limits: &Limits) -> Result<StreamPlan, Invalid> {
    let body: Value = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        serde_json::from_slice(body)
            .map_err(|e| invalid("body", format!("body is not JSON: {e}")))?
    };
    let Some(o) = body.as_object() else {
        return Err(invalid("body", "body must be a JSON object".into()));
    };
    let (o, renamed) = unalias(o)?;
    // An error about a field the client named by its alias names the alias.
    fields(scenario, &o, limits).map_err(|mut bad| {
        if let Some((alias, ours)) = renamed.iter().find(|(_, ours)| bad.field == *ours) {
            bad.message = format!("{} (sent as {alias}, our {ours})", bad.message);
            bad.field = (*alias).to_string();
        }
        bad
    })
}

/// Validates the fields of a request whose aliases have been renamed.
fn fields(
    scenario: &dyn Scenario,
    o: &Map<String, Value>,
    limits: &Limits,
) -> Result<StreamPlan, Invalid> {
    if let Some(k) = o.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(invalid(
            k,
            format!(
                "unknown field {k:?}; known: {} (or simtom's {})",
                FIELDS.join(", "),
                ALIASES.iter().map(|a| a.0).collect::<Vec<_>>().join(", ")
            ),
        ));
    }
    let max_rate = RATE.1.min(limits.max_rate);
    let rate = number(o, "rate")?.unwrap_or(DEFAULT_RATE);
    in_range(rate, (RATE.0, max_rate), "rate", "events per second")?;
    let max_total = MAX_TOTAL.min(limits.max_total);
    let total = integer(o, "total")?;
    if let Some(total) = total.filter(|t| *t > max_total) {
        return Err(invalid(
            "total",
            format!("total is {total}; it must be 0 to {max_total} events (leave it out to stream until you disconnect)"),
        ));
    }
    let seed = integer(o, "seed")?.unwrap_or_else(|| rand::random::<u32>().into());
    if seed > MAX_SEED {
        return Err(invalid(
            "seed",
            format!("seed is {seed}; it must be 0 to {MAX_SEED}"),
        ));
    }
    let start_ms =
        time_field(o, "start", false)?.unwrap_or_else(|| chrono::Utc::now().timestamp_millis());
    let end_ms = time_field(o, "end", true)?;
    if end_ms.is_some_and(|end| end <= start_ms) {
        return Err(invalid("end", "end must be after start".into()));
    }
    let time_compression = number(o, "time_compression")?.unwrap_or(1.0);
    in_range(
        time_compression,
        TIME_COMPRESSION,
        "time_compression",
        "times the clock",
    )?;
    let profile = super::simtom::profile(scenario, o)?;
    let model = super::simtom::params(scenario, o)?;
    // `streams` sized a Rust world per request. A world file's size is a parameter fixed when
    // its file is compiled, at start-up, so a request cannot change it: refused, not ignored.
    if let Some(n) = integer(o, "streams")? {
        return Err(invalid(
            "streams",
            format!(
                "streams is {n}, but a world's size is fixed when `kafka-gen serve` starts (a world \
                 file's parameter, e.g. num_users; retail has none); leave streams out, or serve \
                 an edited copy with --world FILE"
            ),
        ));
    }
    // Only retail has a config section; a world file's parameters are compiled at start-up.
    let sectioned = serde_json::to_value(Config::default())
        .ok()
        .is_some_and(|d| d.get(scenario.name()).is_some());
    let mut config = match o.get("options") {
        None | Some(Value::Null) => Config::default(),
        Some(Value::Object(m)) if m.is_empty() => Config::default(),
        Some(_) if !sectioned => {
            return Err(invalid(
                "options",
                format!(
                    "options: the {} world takes none per request; its parameters are fixed when \
                     `kafka-gen serve` starts (`kafka-gen check` lists them): leave options out, \
                     or serve an edited copy of the file with --world FILE",
                    scenario.name()
                ),
            ))
        }
        Some(options) => serde_json::from_value::<Config>(json!({ scenario.name(): options }))
            .map_err(|e| invalid("options", format!("options: {e}")))?,
    };
    config.scenario = scenario.name().into();
    config.seed = Some(seed);
    config.sinks = vec![SinkKind::Null];
    if let Some(w) = o.get("weights") {
        let w: BTreeMap<String, f64> = serde_json::from_value(w.clone()).map_err(|_| {
            invalid(
                "weights",
                "weights must be an object of type name to number".into(),
            )
        })?;
        config.weights = w;
    }
    config
        .weights_for(scenario)
        .map_err(|e| invalid("weights", format!("{e:#}")))?;
    config
        .validate()
        .map_err(|e| invalid("options", format!("{e:#}")))?;
    Ok(StreamPlan {
        rate,
        total,
        seed,
        start_ms,
        end_ms,
        time_compression,
        profile,
        model,
        config,
    })
}

/// 422 unless `value` is within `lo..=hi`, naming the value and the range as they are typed
/// (simtom's are small numbers: `1000`, not `1e3`).
pub(super) fn in_range(
    value: f64,
    (lo, hi): (f64, f64),
    field: &str,
    unit: &str,
) -> Result<(), Invalid> {
    if value.is_finite() && (lo..=hi).contains(&value) {
        return Ok(());
    }
    Err(invalid(
        field,
        format!("{field} is {value}; it must be {lo} to {hi} {unit} (simtom's bounds)"),
    ))
}

pub(super) fn number(o: &Map<String, Value>, field: &str) -> Result<Option<f64>, Invalid> {
    match o.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_f64()
            .map(Some)
            .ok_or_else(|| invalid(field, format!("{field} is {v}; it must be a number"))),
    }
}

fn integer(o: &Map<String, Value>, field: &str) -> Result<Option<u64>, Invalid> {
    match o.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_u64().map(Some).ok_or_else(|| {
            invalid(
                field,
                format!("{field} is {v}; it must be a whole number >= 0"),
            )
        }),
    }
}
