//! Live statistics: what was generated, per type, and what each sink has delivered. One
//! structured line every interval and the same as the final summary, on stderr via tracing.

use std::fmt::Write as _;
use std::time::Duration;

use tokio::time::Instant;

use crate::event::Batch;
use crate::scenario::EventTypeSpec;
use crate::sinks::{Sink, SinkCounts};

pub struct Stats {
    types: &'static [EventTypeSpec],
    started: Instant,
    primary: Vec<u64>,
    derived: Vec<u64>,
    bytes: u64,
    last_at: Instant,
    last_records: u64,
}

/// One sink's name and counts, as reported.
#[derive(Debug, Clone)]
pub struct SinkReport {
    pub name: &'static str,
    pub counts: SinkCounts,
}

impl Stats {
    pub fn new(types: &'static [EventTypeSpec]) -> Self {
        let now = Instant::now();
        Self {
            types,
            started: now,
            primary: vec![0; types.len()],
            derived: vec![0; types.len()],
            bytes: 0,
            last_at: now,
            last_records: 0,
        }
    }

    /// Counts a batch the generator produced.
    pub fn record(&mut self, batch: &Batch) {
        for r in batch.iter() {
            let counts = if r.primary {
                &mut self.primary
            } else {
                &mut self.derived
            };
            counts[usize::from(r.event_type)] += 1;
        }
        self.bytes += batch.payload_bytes() as u64;
    }

    pub fn primary_total(&self) -> u64 {
        self.primary.iter().sum()
    }

    pub fn records_total(&self) -> u64 {
        self.primary_total() + self.derived.iter().sum::<u64>()
    }

    /// Primary events per type.
    pub fn primary(&self) -> &[u64] {
        &self.primary
    }

    /// Derived events per type.
    pub fn derived(&self) -> &[u64] {
        &self.derived
    }

    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// `sale 500 (50.0%), inventory_update 200 (20.0%) +650 derived, ...`: counts of primary
    /// events with their share of all primaries, then derived ones.
    fn types_text(&self) -> String {
        let total = self.primary_total().max(1) as f64;
        let mut text = String::new();
        for (i, t) in self.types.iter().enumerate() {
            let sep = if i == 0 { "" } else { ", " };
            let _ = write!(
                text,
                "{sep}{} {} ({:.1}%)",
                t.name,
                self.primary[i],
                self.primary[i] as f64 * 100.0 / total
            );
            if self.derived[i] > 0 {
                let _ = write!(text, " +{} derived", self.derived[i]);
            }
        }
        text
    }

    /// Each sink's totals, then per event type `delivered/failed/unknown/in_flight` for the
    /// types it has seen: `kafka delivered=9 failed=0 unknown=0 in_flight=1 retried=0
    /// (sale 5/0/0/1, ...)`. `unknown`: given up on while in flight, may have arrived.
    fn sinks_text(&self, reports: &[SinkReport]) -> String {
        let parts: Vec<String> = reports
            .iter()
            .map(|r| {
                let c = &r.counts;
                let per_type: Vec<String> = self
                    .types
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| {
                        c.delivered[*i] + c.failed[*i] + c.unknown[*i] + c.in_flight[*i] > 0
                    })
                    .map(|(i, t)| {
                        format!(
                            "{} {}/{}/{}/{}",
                            t.name, c.delivered[i], c.failed[i], c.unknown[i], c.in_flight[i]
                        )
                    })
                    .collect();
                format!(
                    "{} delivered={} failed={} unknown={} in_flight={} retried={} ({})",
                    r.name,
                    c.delivered_total(),
                    c.failed_total(),
                    c.unknown_total(),
                    c.in_flight_total(),
                    c.retried_total(),
                    per_type.join(", ")
                )
            })
            .collect();
        parts.join("; ")
    }

    /// Logs the periodic line and starts a new interval.
    pub fn report(&mut self, sinks: &[Box<dyn Sink>]) {
        let now = Instant::now();
        let records = self.records_total();
        let interval = now.duration_since(self.last_at).as_secs_f64().max(1e-9);
        let rate = (records - self.last_records) as f64 / interval;
        self.last_at = now;
        self.last_records = records;
        let elapsed = self.elapsed().as_secs_f64();
        let reports = reports(sinks);
        let errors: u64 = reports
            .iter()
            .map(|r| r.counts.failed_total() + r.counts.unknown_total())
            .sum();
        tracing::info!(
            elapsed_secs = format_args!("{elapsed:.1}"),
            primary = self.primary_total(),
            events = records,
            rate_per_sec = format_args!("{rate:.1}"),
            overall_per_sec = format_args!("{:.1}", records as f64 / elapsed.max(1e-9)),
            types = %self.types_text(),
            errors,
            sinks = %self.sinks_text(&reports),
            "Stats."
        );
    }

    /// Logs the final summary, with the follow-up events `(finished, dropped)`: made after
    /// the last primary draw, and still pending when the run ended.
    pub fn summary(&self, reports: &[SinkReport], follow_ups: (u64, u64)) {
        let elapsed = self.elapsed().as_secs_f64();
        let records = self.records_total();
        let errors: u64 = reports
            .iter()
            .map(|r| r.counts.failed_total() + r.counts.unknown_total())
            .sum();
        tracing::info!(
            elapsed_secs = format_args!("{elapsed:.1}"),
            primary = self.primary_total(),
            events = records,
            bytes = self.bytes,
            overall_per_sec = format_args!("{:.1}", records as f64 / elapsed.max(1e-9)),
            types = %self.types_text(),
            follow_ups_finished = follow_ups.0,
            follow_ups_dropped = follow_ups.1,
            errors,
            sinks = %self.sinks_text(reports),
            "Summary."
        );
    }
}

/// Current counts of every sink.
pub fn reports(sinks: &[Box<dyn Sink>]) -> Vec<SinkReport> {
    sinks
        .iter()
        .map(|s| SinkReport {
            name: s.name(),
            counts: s.counts(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::retail::TYPES;

    #[test]
    fn sink_text_breaks_counts_down_by_type() {
        let stats = Stats::new(TYPES);
        let mut counts = SinkCounts::new(TYPES.len());
        counts.delivered[0] = 5;
        counts.in_flight[0] = 1;
        counts.failed[3] = 2;
        counts.unknown[3] = 1;
        let text = stats.sinks_text(&[SinkReport {
            name: "kafka",
            counts,
        }]);
        assert_eq!(
            text,
            "kafka delivered=5 failed=2 unknown=1 in_flight=1 retried=0 (sale 5/0/0/1, price_change 0/2/1/0)"
        );
    }
}
