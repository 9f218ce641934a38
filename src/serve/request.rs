//! The body of `POST /stream/{scenario}`: parsed by hand from JSON so that every error names
//! the bad field, then checked against the server's limits and the scenario's own rules.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::Limits;
use crate::config::Config;
use crate::scenario::Scenario;
use crate::sinks::SinkKind;

/// A request that failed validation: the field and what is wrong with it (HTTP 422).
#[derive(Debug, Clone, PartialEq)]
pub struct Invalid {
    pub field: String,
    pub message: String,
}

fn invalid(field: &str, message: String) -> Invalid {
    Invalid {
        field: field.into(),
        message,
    }
}

/// A validated stream request.
#[derive(Debug, Clone)]
pub struct StreamPlan {
    /// Primary events per second.
    pub rate: f64,
    /// Primary events in all; derived events come on top.
    pub total: u64,
    pub seed: u64,
    /// Event time of the first event, ms since the epoch.
    pub start_ms: i64,
    /// No event at or after this event time (ms since the epoch); the stream ends there.
    pub end_ms: Option<i64>,
    /// Event time advances this many times faster than the wall clock: events step by
    /// `time_compression / rate` seconds of event time.
    pub time_compression: f64,
    /// The run configuration the generator is built from.
    pub config: Config,
}

/// Default rate and total when the request does not give them.
pub const DEFAULT_RATE: f64 = 10.0;
pub const DEFAULT_TOTAL: u64 = 1000;

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

/// Highest `time_compression`: event time may run a million times faster than the clock.
pub const MAX_TIME_COMPRESSION: f64 = 1e6;

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
    let rate = number(o, "rate")?.unwrap_or(DEFAULT_RATE);
    let min_rate = crate::bounds::MIN_RATE;
    if !(rate.is_finite() && rate >= min_rate && rate <= limits.max_rate) {
        return Err(invalid(
            "rate",
            format!(
                "rate is {}; it must be {} to {} events per second",
                crate::bounds::Num(rate),
                crate::bounds::Num(min_rate),
                crate::bounds::Num(limits.max_rate)
            ),
        ));
    }
    let total = integer(o, "total")?.unwrap_or(DEFAULT_TOTAL);
    if !(1..=limits.max_total).contains(&total) {
        return Err(invalid(
            "total",
            format!("total is {total}; it must be 1 to {}", limits.max_total),
        ));
    }
    let seed = integer(o, "seed")?.unwrap_or_else(rand::random);
    let start_ms =
        time_field(o, "start", false)?.unwrap_or_else(|| chrono::Utc::now().timestamp_millis());
    let end_ms = time_field(o, "end", true)?;
    if end_ms.is_some_and(|end| end <= start_ms) {
        return Err(invalid("end", "end must be after start".into()));
    }
    let time_compression = number(o, "time_compression")?.unwrap_or(1.0);
    if !(time_compression > 0.0 && time_compression <= MAX_TIME_COMPRESSION) {
        return Err(invalid(
            "time_compression",
            format!(
                "time_compression is {time_compression}; it must be > 0 and at most {MAX_TIME_COMPRESSION}"
            ),
        ));
    }
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
        config,
    })
}

fn number(o: &Map<String, Value>, field: &str) -> Result<Option<f64>, Invalid> {
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

/// The options a client may send for `scenario`, with their defaults, for `GET /scenarios`.
pub fn schema(scenario: &dyn Scenario, limits: &Limits) -> Value {
    let defaults = serde_json::to_value(Config::default()).unwrap_or_default();
    json!({
        "rate": {"type": "number", "description": "primary events per second; alias rate_per_second", "default": DEFAULT_RATE,
            "minimum": crate::bounds::MIN_RATE, "maximum": limits.max_rate},
        "total": {"type": "integer", "description": "primary events in all; derived events come on top; alias total_records",
            "default": DEFAULT_TOTAL, "minimum": 1, "maximum": limits.max_total},
        "seed": {"type": "integer", "description": "seed; the same seed and start give the same events"},
        "start": {"type": "string", "format": "date-time", "description": "event time of the first event (or a date: its midnight UTC); default now; alias start_date"},
        "end": {"type": "string", "format": "date-time", "description": "no event at or after this time (a date includes that day); alias end_date"},
        "time_compression": {"type": "number", "default": 1.0, "exclusiveMinimum": 0, "maximum": MAX_TIME_COMPRESSION,
            "description": "event time runs this many times faster than the clock"},
        "weights": {"type": "object", "description": "primary-draw weights by event type",
            "default": scenario.event_types().iter().map(|t| (t.name, t.default_weight)).collect::<BTreeMap<_, _>>()},
        "options": match defaults.get(scenario.name()) {
            Some(section) => json!({"type": "object", "description": "the scenario's config section",
                "default": section}),
            None => json!({"type": "object", "maxProperties": 0, "default": {},
                "description": "none: a world file's parameters are fixed when serve starts (serve an edited copy with --world FILE)"}),
        },
    })
}
