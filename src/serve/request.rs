//! The body of `POST /stream/{scenario}`: parsed by hand from JSON so that every error names
//! the bad field, then checked against the server's limits and the scenario's own rules.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::Limits;
use crate::config::{Config, SinkKind};
use crate::scenario::Scenario;

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
    /// The run configuration the generator is built from.
    pub config: Config,
}

/// Default rate and total when the request does not give them.
pub const DEFAULT_RATE: f64 = 10.0;
pub const DEFAULT_TOTAL: u64 = 1000;

const FIELDS: &[&str] = &[
    "rate", "total", "seed", "start", "weights", "streams", "options",
];

/// Parses and validates a request body (empty means all defaults).
pub fn plan(
    scenario: &dyn Scenario,
    body: &[u8],
    limits: &Limits,
    data_dir: std::path::PathBuf,
) -> Result<StreamPlan, Invalid> {
    let body: Value = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        serde_json::from_slice(body)
            .map_err(|e| invalid("body", format!("body is not JSON: {e}")))?
    };
    let Some(o) = body.as_object() else {
        return Err(invalid("body", "body must be a JSON object".into()));
    };
    if let Some(k) = o.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(invalid(
            k,
            format!("unknown field {k:?}; known: {}", FIELDS.join(", ")),
        ));
    }
    let rate = number(o, "rate")?.unwrap_or(DEFAULT_RATE);
    let min_rate = crate::config::bounds::MIN_RATE;
    if !(rate.is_finite() && rate >= min_rate && rate <= limits.max_rate) {
        return Err(invalid(
            "rate",
            format!(
                "rate is {}; it must be {} to {} events per second",
                crate::config::bounds::Num(rate),
                crate::config::bounds::Num(min_rate),
                crate::config::bounds::Num(limits.max_rate)
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
    let start_ms = match o.get("start") {
        None | Some(Value::Null) => chrono::Utc::now().timestamp_millis(),
        Some(v) => v
            .as_str()
            .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
            .map(|t| t.timestamp_millis())
            .filter(|ms| *ms >= 0)
            .ok_or_else(|| {
                invalid(
                    "start",
                    format!("start {v} is not an RFC 3339 time after 1970"),
                )
            })?,
    };
    let streams = integer(o, "streams")?;
    if streams.is_some_and(|n| !(1..=1_000_000).contains(&n)) {
        return Err(invalid(
            "streams",
            format!(
                "streams is {}; it must be 1 to 1000000",
                streams.unwrap_or(0)
            ),
        ));
    }
    let mut config = match o.get("options") {
        None | Some(Value::Null) => Config::default(),
        Some(options) => serde_json::from_value::<Config>(json!({ scenario.name(): options }))
            .map_err(|e| invalid("options", format!("options: {e}")))?,
    };
    config.scenario = scenario.name().into();
    config.data_dir = data_dir;
    config.seed = Some(seed);
    config.sinks = vec![SinkKind::Null];
    config.streams = streams.map(|n| n as u32);
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
        "rate": {"type": "number", "description": "primary events per second", "default": DEFAULT_RATE,
            "minimum": crate::config::bounds::MIN_RATE, "maximum": limits.max_rate},
        "total": {"type": "integer", "description": "primary events in all; derived events come on top",
            "default": DEFAULT_TOTAL, "minimum": 1, "maximum": limits.max_total},
        "seed": {"type": "integer", "description": "seed; the same seed and start give the same events"},
        "start": {"type": "string", "format": "date-time", "description": "event time of the first event; default now"},
        "streams": {"type": "integer", "minimum": 1, "description": "concurrent sequences in the world (sessions, streams, users)"},
        "weights": {"type": "object", "description": "primary-draw weights by event type",
            "default": scenario.event_types().iter().map(|t| (t.name, t.default_weight)).collect::<BTreeMap<_, _>>()},
        "options": {"type": "object", "description": "the scenario's config section",
            "default": defaults.get(scenario.name()).cloned().unwrap_or(json!({}))},
    })
}
