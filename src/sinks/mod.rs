//! Where events go. Every sink implements [`Sink`]; the runner hands each one the same encoded
//! [`Batch`]es, then flushes them all at shutdown.
//!
//! - `stdout`: JSON lines on standard output, and the writer-generic JSON-lines sink.
//! - `file`: JSON lines in one file or one per event type.
//! - `null`: counts and discards, for benchmarks.
//! - `kafka`: one topic per event type, confirmed delivery, dead-letter file.
//! - `http`: POSTs to an ingest API, batched, retried with backoff, bounded concurrency.
//! - `dead_letter`: the JSON-lines file of events a sink could not deliver.
//! - `lines`: whole-lines-or-nothing writing, shared by `stdout`, `file` and `dead_letter`.

pub mod dead_letter;
pub mod file;
pub mod http;
pub mod kafka;
pub mod lines;
pub mod null;
pub mod stdout;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use serde::{Deserialize, Serialize};

use crate::event::Batch;
use crate::scenario::EventTypeSpec;

/// Where events go. `--sink` takes one or more, comma-separated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum SinkKind {
    /// One Kafka topic per event type (`--bootstrap-servers`).
    Kafka,
    /// JSON lines on standard output.
    Stdout,
    /// JSON lines in a file (`--output`).
    File,
    /// Discards events; for benchmarks.
    Null,
    /// POSTs events to an ingest API (`--http-endpoint`).
    Http,
}

/// What a sink has done so far, per event type (indexed like the scenario's type table).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SinkCounts {
    /// Confirmed delivered (written, or acknowledged by the destination).
    pub delivered: Vec<u64>,
    /// Given up on, certainly not delivered; in the dead-letter file where the sink keeps one.
    pub failed: Vec<u64>,
    /// Given up on while in flight: may or may not have arrived (`outcome":"unknown"` in the
    /// dead-letter file).
    pub unknown: Vec<u64>,
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
            unknown: vec![0; types],
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

    pub fn unknown_total(&self) -> u64 {
        self.unknown.iter().sum()
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

/// When a line-writing sink (`stdout`, `file`) writes its buffer out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlushPolicy {
    /// After every batch: live runs, where a reader (`tail -f`) expects each event as it is
    /// made, and a batch is an event or a few.
    EachBatch,
    /// When the buffer is full, and at the end: batch and historical runs, for speed.
    WhenFull,
}

impl FlushPolicy {
    /// Each batch for runs on the wall clock (live, or a backfill that turns live), else
    /// when full.
    pub fn for_live(live: bool) -> Self {
        if live {
            Self::EachBatch
        } else {
            Self::WhenFull
        }
    }
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

    /// Hands over the run's stop token before the first `send`. A sink whose `send` can wait
    /// (backpressure) must stop waiting when it fires, so that a stop always reaches `flush`.
    fn watch_stop(&mut self, _stop: CancellationToken) {}
}

/// The sections of the sinks a run opens, each handed only to its own sink.
#[derive(Debug, Clone, Copy)]
pub struct SinkSections<'a> {
    pub file: &'a file::FileSinkConfig,
    pub kafka: &'a kafka::KafkaConfig,
    pub http: &'a http::HttpSinkConfig,
}

/// Opens the sinks `kinds` names. Errors (an unwritable output path, say) name what to fix.
pub fn build(
    kinds: &[SinkKind],
    sections: SinkSections<'_>,
    policy: FlushPolicy,
    types: &'static [EventTypeSpec],
) -> anyhow::Result<Vec<Box<dyn Sink>>> {
    let mut sinks: Vec<Box<dyn Sink>> = Vec::new();
    // One writer for the file both sinks share, so their lines never interleave mid-line.
    let dead_letter = Arc::new(dead_letter::DeadLetter::new(
        sections.kafka.dead_letter_path.clone(),
    ));
    for kind in kinds {
        sinks.push(match kind {
            SinkKind::Stdout => Box::new(stdout::JsonLinesSink::stdout(types.len(), policy)),
            SinkKind::File => Box::new(file::open(sections.file, types, policy)?),
            SinkKind::Null => Box::new(null::NullSink::new(types.len())),
            SinkKind::Kafka => Box::new(kafka::KafkaSink::open(
                sections.kafka,
                types,
                dead_letter.clone(),
            )?),
            SinkKind::Http => Box::new(http::HttpSink::open(
                sections.http,
                dead_letter.clone(),
                types.len(),
            )?),
        });
    }
    Ok(sinks)
}
