//! Where events go. Every sink implements [`Sink`]; the runner hands each one the same encoded
//! [`Batch`]es, then flushes them all at shutdown.
//!
//! - `stdout`: JSON lines on standard output, and the writer-generic JSON-lines sink.
//! - `file`: JSON lines in one file or one per event type.
//! - `null`: counts and discards, for benchmarks.
//! - `kafka`: one topic per event type, confirmed delivery, dead-letter file.
//! - `http`: POSTs to an ingest API, batched, retried with backoff, bounded concurrency.
//! - `dead_letter`: the JSON-lines file of events a sink could not deliver.

pub mod dead_letter;
pub mod file;
pub mod http;
pub mod kafka;
pub mod null;
pub mod stdout;

use std::time::Duration;

use async_trait::async_trait;

use crate::config::{Config, SinkKind};
use crate::event::Batch;
use crate::scenario::EventTypeSpec;

/// What a sink has done so far, per event type (indexed like the scenario's type table).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SinkCounts {
    /// Confirmed delivered (written, or acknowledged by the destination).
    pub delivered: Vec<u64>,
    /// Given up on; these are in the dead-letter file where the sink keeps one.
    pub failed: Vec<u64>,
    /// Accepted but not yet confirmed either way.
    pub in_flight: Vec<u64>,
    /// Events sent again after a failed attempt (a retried batch counts each of its events).
    pub retried: Vec<u64>,
}

impl SinkCounts {
    pub fn new(types: usize) -> Self {
        Self {
            delivered: vec![0; types],
            failed: vec![0; types],
            in_flight: vec![0; types],
            retried: vec![0; types],
        }
    }

    pub fn delivered_total(&self) -> u64 {
        self.delivered.iter().sum()
    }

    pub fn failed_total(&self) -> u64 {
        self.failed.iter().sum()
    }

    pub fn in_flight_total(&self) -> u64 {
        self.in_flight.iter().sum()
    }

    pub fn retried_total(&self) -> u64 {
        self.retried.iter().sum()
    }
}

/// Why a sink refused a batch.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// The reader went away (a closed pipe): stop quietly, this is not a failure.
    #[error("output closed by the reader")]
    Closed,
    /// A transient problem; trying again later may work.
    #[error("{0}")]
    Retryable(String),
    /// A problem that will not go away by itself.
    #[error("{0}")]
    Fatal(String),
}

/// A destination for events.
#[async_trait]
pub trait Sink: Send {
    /// Short name for stats and logs.
    fn name(&self) -> &'static str;

    /// Takes responsibility for every record of `batch`. May wait (backpressure) but never
    /// drops: once this returns `Ok`, each record is delivered, in flight, or counted failed.
    async fn send(&mut self, batch: &Batch) -> Result<(), SinkError>;

    /// Delivers everything accepted so far, waiting at most `timeout`. What cannot be delivered
    /// in time is counted failed (and dead-lettered where the sink keeps a dead-letter file).
    async fn flush(&mut self, timeout: Duration) -> Result<(), SinkError>;

    /// Counts so far; cheap enough to call for every stats line.
    fn counts(&self) -> SinkCounts;
}

/// Opens the configured sinks. Errors (an unwritable output path, say) name what to fix.
pub fn build(
    config: &Config,
    types: &'static [EventTypeSpec],
) -> anyhow::Result<Vec<Box<dyn Sink>>> {
    let mut sinks: Vec<Box<dyn Sink>> = Vec::new();
    for kind in &config.sinks {
        sinks.push(match kind {
            SinkKind::Stdout => Box::new(stdout::JsonLinesSink::stdout(types.len())),
            SinkKind::File => Box::new(file::open(&config.file, types)?),
            SinkKind::Null => Box::new(null::NullSink::new(types.len())),
            SinkKind::Kafka => Box::new(kafka::KafkaSink::open(&config.kafka, types)?),
            // Shares the dead-letter file with the Kafka sink (it is thread-safe and appends).
            SinkKind::Http => Box::new(http::HttpSink::open(
                &config.http,
                config.kafka.dead_letter_path.clone(),
                types.len(),
            )?),
        });
    }
    Ok(sinks)
}
