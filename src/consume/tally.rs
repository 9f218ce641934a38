//! What the checking consumer counts: records per topic, rate, lag, violations by kind, and a
//! few examples of each kind. It prints the periodic stats line, the final summary, and the
//! summary JSON (`kafka-gen consume --summary-json`).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::json;

use super::reorder::Location;
use crate::scenario::Violation;

/// Violations of one kind logged one by one; after that they are only counted.
const LOGGED_PER_KIND: u64 = 5;
/// Examples of each kind kept for the summary.
const EXAMPLES_PER_KIND: usize = 3;

/// Counters of one consumer run.
pub struct Tally {
    started: Instant,
    last_line: (Instant, u64),
    pub records: u64,
    by_topic: BTreeMap<String, u64>,
    by_type: BTreeMap<&'static str, u64>,
    by_kind: BTreeMap<&'static str, u64>,
    examples: BTreeMap<&'static str, Vec<String>>,
    /// Total lag over the assigned partitions, from the latest client statistics.
    pub lag: Option<i64>,
}

impl Tally {
    pub fn new(now: Instant) -> Self {
        Self {
            started: now,
            last_line: (now, 0),
            records: 0,
            by_topic: BTreeMap::new(),
            by_type: BTreeMap::new(),
            by_kind: BTreeMap::new(),
            examples: BTreeMap::new(),
            lag: None,
        }
    }

    pub fn record(&mut self, topic: &str) {
        self.records += 1;
        *self.by_topic.entry(topic.to_string()).or_default() += 1;
    }

    pub fn checked(&mut self, type_name: &'static str) {
        *self.by_type.entry(type_name).or_default() += 1;
    }

    pub fn violations(&self) -> u64 {
        self.by_kind.values().sum()
    }

    /// Counts one violation, logging the first few of each kind with where the record was.
    pub fn violation(&mut self, v: &Violation, at: Option<&Location>) {
        let seen = self.by_kind.entry(v.rule).or_default();
        *seen += 1;
        let at = at.map(ToString::to_string).unwrap_or_default();
        if *seen <= LOGGED_PER_KIND {
            tracing::warn!(rule = v.rule, event_id = %v.event_id, detail = %v.detail, record = %at, "Contract violation.");
            if *seen == LOGGED_PER_KIND {
                tracing::warn!(
                    rule = v.rule,
                    "Further violations of this rule are counted, not logged."
                );
            }
        }
        let examples = self.examples.entry(v.rule).or_default();
        if examples.len() < EXAMPLES_PER_KIND {
            examples.push(v.to_string());
        }
    }

    fn join<K: std::fmt::Display>(map: &BTreeMap<K, u64>) -> String {
        let parts: Vec<String> = map.iter().map(|(k, v)| format!("{k}={v}")).collect();
        if parts.is_empty() {
            "-".into()
        } else {
            parts.join(" ")
        }
    }

    /// The periodic stats line.
    pub fn line(&mut self, now: Instant, buffered: usize, paused: usize) {
        let (since, before) = self.last_line;
        let secs = now.duration_since(since).as_secs_f64().max(1e-3);
        let rate = (self.records - before) as f64 / secs;
        self.last_line = (now, self.records);
        tracing::info!(
            elapsed_s = self.started.elapsed().as_secs(),
            records = self.records,
            rate = format!("{rate:.1}/s"),
            lag = self.lag.map_or("?".to_string(), |l| l.to_string()),
            buffered,
            paused,
            violations = self.violations(),
            topics = %Self::join(&self.by_topic),
            by_kind = %Self::join(&self.by_kind),
            "Consumer stats."
        );
    }

    /// The final summary line, plus the examples of each kind of violation.
    /// `unchecked`: records the reorder buffer had no room for, which no rule saw.
    pub fn summary(&self, late: u64, unchecked: u64) {
        let secs = self.started.elapsed().as_secs_f64().max(1e-3);
        tracing::info!(
            elapsed_s = format!("{secs:.1}"),
            records = self.records,
            rate = format!("{:.1}/s", self.records as f64 / secs),
            violations = self.violations(),
            late_arrivals = late,
            unchecked,
            topics = %Self::join(&self.by_topic),
            types = %Self::join(&self.by_type),
            by_kind = %Self::join(&self.by_kind),
            "Consumer summary."
        );
        for examples in self.examples.values() {
            for e in examples {
                tracing::info!(example = %e, "Violation example.");
            }
        }
    }

    /// Whether a stats line is due.
    pub fn due(&self, now: Instant, interval: Duration) -> bool {
        !interval.is_zero() && now.duration_since(self.last_line.0) >= interval
    }

    /// The summary as JSON: records per topic and type, violations by kind, examples.
    pub fn json(&self, late: u64, unchecked: u64) -> serde_json::Value {
        json!({
            "records": self.records,
            "by_topic": self.by_topic,
            "by_type": self.by_type,
            "violations": self.violations(),
            "violations_by_kind": self.by_kind,
            "examples": self.examples,
            "late_arrivals": late,
            "unchecked": unchecked,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_kind_and_keeps_a_few_examples() {
        let now = Instant::now();
        let mut t = Tally::new(now);
        t.record("a");
        t.record("a");
        t.checked("sale");
        for i in 0..5 {
            let v = Violation {
                event_id: format!("e{i}"),
                rule: "stale_price",
                detail: "x".into(),
            };
            t.violation(&v, None);
        }
        assert_eq!(t.violations(), 5);
        let v = t.json(1, 0);
        assert_eq!(v["by_topic"]["a"], 2);
        assert_eq!(v["violations_by_kind"]["stale_price"], 5);
        assert_eq!(v["examples"]["stale_price"].as_array().unwrap().len(), 3);
        assert_eq!(v["late_arrivals"], 1);
    }
}
