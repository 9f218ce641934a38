//! What `GET /scenarios` (and simtom's `/generators`) says a stream request takes: each field
//! with its default and its bounds, simtom's names noted beside ours.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::request::{
    DEFAULT_RATE, MAX_SEED, MAX_TOTAL, RATE, TIME_COMPRESSION, WEEKEND_MULTIPLIER,
};
use super::Limits;
use crate::config::Config;
use crate::scenario::Scenario;

/// The options a client may send for `scenario`, with their defaults, for `GET /scenarios`.
pub fn schema(scenario: &dyn Scenario, limits: &Limits) -> Value {
    let defaults = serde_json::to_value(Config::default()).unwrap_or_default();
    let default_rate = super::simtom::param_default(scenario, "default_rate");
    json!({
        "rate": {"type": "number", "description": "primary events per second on an ordinary weekday, shaped by the time profile; alias rate_per_second", "default": DEFAULT_RATE,
            "minimum": RATE.0, "maximum": RATE.1.min(limits.max_rate)},
        "total": {"type": "integer", "description": "primary events in all (derived events come on top); unset streams until the client leaves or end; alias total_records",
            "default": null, "minimum": 0, "maximum": MAX_TOTAL.min(limits.max_total)},
        "seed": {"type": "integer", "minimum": 0, "maximum": MAX_SEED, "description": "seed; the same seed and start give the same events"},
        "start": {"type": "string", "format": "date-time", "description": "event time of the first event (or a date: its midnight UTC); default now; alias start_date"},
        "end": {"type": "string", "format": "date-time", "description": "no event at or after this time (a date includes that day); alias end_date"},
        "time_compression": {"type": "number", "default": 1.0, "minimum": TIME_COMPRESSION.0, "maximum": TIME_COMPRESSION.1,
            "description": "event time runs this many times faster than the clock"},
        "include_holiday_patterns": {"type": "boolean", "default": true,
            "description": "holidays (Black Friday, the Christmas season, ...) change the pace by the world's multipliers; false makes them ordinary days"},
        "weekend_multiplier": {"type": "number", "default": scenario.default_profile().weekend_multiplier,
            "minimum": WEEKEND_MULTIPLIER.0, "maximum": WEEKEND_MULTIPLIER.1,
            "description": "Saturday and Sunday pace against a weekday's"},
        "default_rate": match default_rate {
            Some(default) => json!({"type": "number", "default": default,
                "description": "the world's default_rate parameter (BNPLConfig.default_rate) for this stream, within the parameter's range"}),
            None => json!({"type": "null", "description": "this world has no default_rate parameter"}),
        },
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
