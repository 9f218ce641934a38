//! The machine-readable run summary (`--summary-json PATH`): per event type, what was
//! generated and what each sink delivered, failed or still held. Scripts and tests compare it
//! with what really arrived.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde_json::{json, Map, Value};

use crate::runner::{Stop, Summary};
use crate::scenario::EventTypeSpec;

/// The summary as JSON: `{"stop", "seed", "generated": {type: n}, "generated_total",
/// "undelivered", "follow_ups": {"on_end", "finished", "dropped"}, "sinks": [{"name", "delivered": {type: n}, "failed": {...}, "unknown": {...},
/// "in_flight": {...}, "retried": {...}}]}`. `unknown`: given up on while in flight, so it may
/// have arrived (`outcome: unknown` in the dead-letter file).
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
                "unknown": by_type(&s.counts.unknown),
                "in_flight": by_type(&s.counts.in_flight),
                "retried": by_type(&s.counts.retried),
                "delivered_total": s.counts.delivered_total(),
                "failed_total": s.counts.failed_total(),
                "unknown_total": s.counts.unknown_total(),
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
        "follow_ups": {
            "on_end": summary.follow_ups.on_end.name(),
            "finished": summary.follow_ups.finished,
            "dropped": summary.follow_ups.dropped,
        },
        "sinks": sinks,
    })
}

/// The `--summary-json` file, opened at start-up so that an unwritable path is bad input found
/// before the run, not a failure found after it (issue 10). Written once, at the end.
pub struct SummaryFile {
    path: PathBuf,
    file: File,
}

impl SummaryFile {
    /// Opens (creating, not yet truncating) `path` for writing.
    pub fn create(path: &Path) -> anyhow::Result<Self> {
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .with_context(|| {
                format!(
                    "cannot write the summary to {}; check that its directory exists and is writable (--summary-json)",
                    path.display()
                )
            })?;
        Ok(Self {
            path: path.to_path_buf(),
            file,
        })
    }

    /// Replaces the file's contents with [`summary_json`].
    pub fn write(self, types: &[EventTypeSpec], summary: &Summary) -> anyhow::Result<()> {
        self.write_value(&summary_json(types, summary))
    }

    /// Replaces the file's contents with `value`, pretty-printed.
    pub fn write_value(mut self, value: &Value) -> anyhow::Result<()> {
        let text = serde_json::to_string_pretty(value)? + "\n";
        // Only a regular file can be truncated; a device such as /dev/null just takes the text.
        let regular = self.file.metadata().is_ok_and(|m| m.is_file());
        let truncated = if regular {
            self.file.set_len(0)
        } else {
            Ok(())
        };
        truncated
            .and_then(|()| self.file.write_all(text.as_bytes()))
            .with_context(|| {
                format!(
                    "cannot write the summary to {}; check --summary-json",
                    self.path.display()
                )
            })
    }
}
