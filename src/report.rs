//! The machine-readable run summary (`--summary-json PATH`): per event type, what was
//! generated and what each sink delivered, failed or still held. Scripts and tests compare it
//! with what really arrived.

use std::path::Path;

use anyhow::Context;
use serde_json::{json, Map, Value};

use crate::runner::{Stop, Summary};
use crate::scenario::EventTypeSpec;

/// The summary as JSON: `{"stop", "seed", "generated": {type: n}, "generated_total",
/// "undelivered", "sinks": [{"name", "delivered": {type: n}, "failed": {...}, "in_flight": {...}, "retried": {...}}]}`.
pub fn summary_json(types: &[EventTypeSpec], summary: &Summary) -> Value {
    let by_type = |values: &[u64]| -> Value {
        let map: Map<String, Value> = types
            .iter()
            .zip(values)
            .map(|(t, v)| (t.name.to_string(), Value::from(*v)))
            .collect();
        Value::Object(map)
    };
    let generated: Vec<u64> = summary
        .primary
        .iter()
        .zip(&summary.derived)
        .map(|(p, d)| p + d)
        .collect();
    let sinks: Vec<Value> = summary
        .sinks
        .iter()
        .map(|s| {
            json!({
                "name": s.name,
                "delivered": by_type(&s.counts.delivered),
                "failed": by_type(&s.counts.failed),
                "in_flight": by_type(&s.counts.in_flight),
                "retried": by_type(&s.counts.retried),
                "delivered_total": s.counts.delivered_total(),
                "failed_total": s.counts.failed_total(),
                "in_flight_total": s.counts.in_flight_total(),
                "retried_total": s.counts.retried_total(),
            })
        })
        .collect();
    let stop = match &summary.stop {
        Stop::Finished => "finished".to_string(),
        Stop::Cancelled => "cancelled".to_string(),
        Stop::OutputClosed => "output_closed".to_string(),
        Stop::SinkFailed(why) => format!("sink_failed: {why}"),
        Stop::Halted(why) => format!("halted: {why}"),
    };
    json!({
        "stop": stop,
        "seed": summary.seed,
        "primary": by_type(&summary.primary),
        "generated": by_type(&generated),
        "generated_total": generated.iter().sum::<u64>(),
        "undelivered": summary.undelivered(),
        "sinks": sinks,
    })
}

/// Writes [`summary_json`] to `path`.
pub fn write_summary_json(
    path: &Path,
    types: &[EventTypeSpec],
    summary: &Summary,
) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(&summary_json(types, summary))?;
    std::fs::write(path, text + "\n").with_context(|| {
        format!(
            "cannot write the summary to {}; check --summary-json",
            path.display()
        )
    })
}
