//! The Kafka sink: one topic per event type, keyed for ordering, with confirmed delivery.
//!
//! - `config`: `[kafka]` options and the librdkafka settings they make.
//! - `security`: `[kafka.security]`, secrets and their redaction.
//! - `admin`: start-up reachability and topic checks, topic creation.
//!
//! Undeliverable events go to the shared dead-letter file (`sinks::dead_letter`).
//!
//! Every record is handed to librdkafka without waiting for its acknowledgement, so many are in
//! flight at once. A record counts as delivered only when its delivery report says so; the
//! report carries the event type index as its opaque value (no allocation per record). When
//! librdkafka's queue is full `send` waits, so memory stays bounded by the queue settings and
//! nothing is dropped, but a stop request ends that wait: the records not yet handed over are
//! dead-lettered as failed, so a stop always reaches `flush` (issue 10). Whatever cannot be
//! delivered by the end of `flush` is purged and written to the dead-letter file: as `failed`
//! when librdkafka says it was never sent, as `unknown` when it may have reached the broker.

pub mod admin;
pub mod config;
mod delivery;
pub mod security;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{BaseRecord, Producer, PurgeConfig, ThreadedProducer};

pub use config::{HeaderSet, KafkaConfig, Secret};
use delivery::{fail_unsent, DeliveryContext};
pub(crate) use delivery::{forward_log, outcome_of};

use super::dead_letter::DeadLetter;
use super::{Sink, SinkCounts, SinkError};
use crate::event::{Batch, SCHEMA_VERSION};
use crate::scenario::EventTypeSpec;
use tokio_util::sync::CancellationToken;

/// How long `send` sleeps when librdkafka's queue is full before trying the same record again.
const QUEUE_FULL_WAIT: Duration = Duration::from_millis(1);

/// After a purge, how long to wait for the purged records' reports.
const PURGE_REPORT_WAIT: Duration = Duration::from_secs(5);

/// The sink.
pub struct KafkaSink {
    producer: ThreadedProducer<DeliveryContext>,
    types: &'static [EventTypeSpec],
    topics: Vec<String>,
    /// Header set per type (`None`: no headers), built once and copied onto each record.
    headers: Vec<Option<OwnedHeaders>>,
    accepted: Vec<u64>,
    bootstrap_servers: String,
    /// The run's stop request: ends a wait for room in librdkafka's queue.
    stop: CancellationToken,
}

/// The headers of `set` for records of `spec`; `None` for no headers at all, so a record
/// carries no header list (no allocation).
pub(crate) fn headers_of(spec: &EventTypeSpec, set: HeaderSet) -> Option<OwnedHeaders> {
    let event_type = Header {
        key: "event_type",
        value: Some(spec.name),
    };
    match set {
        HeaderSet::None => None,
        HeaderSet::EventType => Some(OwnedHeaders::new_with_capacity(1).insert(event_type)),
        HeaderSet::All => {
            let schema_version = SCHEMA_VERSION.to_string();
            let producer = concat!("kafka-gen/", env!("CARGO_PKG_VERSION"));
            Some(
                OwnedHeaders::new_with_capacity(4)
                    .insert(event_type)
                    .insert(Header {
                        key: "schema_version",
                        value: Some(&schema_version),
                    })
                    .insert(Header {
                        key: "content-type",
                        value: Some("application/json"),
                    })
                    .insert(Header {
                        key: "producer",
                        value: Some(producer),
                    }),
            )
        }
    }
}

impl KafkaSink {
    /// Connects, checks the cluster answers and the topics exist (creating them if configured),
    /// and fails with a message naming the address and what to check.
    pub fn open(
        config: &KafkaConfig,
        types: &'static [EventTypeSpec],
        dead_letter: Arc<DeadLetter>,
    ) -> anyhow::Result<Self> {
        let context = DeliveryContext::new(types.len(), dead_letter);
        let (producer, topics): (ThreadedProducer<DeliveryContext>, _) =
            admin::connect(config, types, context)?;
        tracing::info!(bootstrap_servers = %config.bootstrap_servers, topics = %topics.join(","), "Kafka sink ready.");
        Ok(Self {
            producer,
            types,
            headers: types
                .iter()
                .map(|t| headers_of(t, config.headers))
                .collect(),
            topics,
            accepted: vec![0; types.len()],
            bootstrap_servers: config.bootstrap_servers.clone(),
            stop: CancellationToken::new(),
        })
    }

    fn context(&self) -> &DeliveryContext {
        self.producer.context()
    }

    fn per_type_text(&self, counts: &SinkCounts) -> String {
        let parts: Vec<String> = self
            .types
            .iter()
            .enumerate()
            .map(|(i, t)| {
                format!(
                    "{} {}/{}/{}/{}",
                    t.name,
                    counts.delivered[i],
                    counts.failed[i],
                    counts.unknown[i],
                    counts.in_flight[i]
                )
            })
            .collect();
        parts.join(", ")
    }
}

#[async_trait]
impl Sink for KafkaSink {
    fn name(&self) -> &'static str {
        "kafka"
    }

    async fn send(&mut self, batch: &Batch) -> Result<(), SinkError> {
        let mut records = batch.iter();
        while let Some(record) = records.next() {
            let i = usize::from(record.event_type);
            let (Some(topic), Some(headers)) = (self.topics.get(i), self.headers.get(i)) else {
                return Err(SinkError::Fatal(format!(
                    "event type index {i} has no topic"
                )));
            };
            let mut pending = BaseRecord::with_opaque_to(topic, i)
                .key(record.key)
                .payload(record.payload)
                .timestamp(record.time_ms);
            if let Some(headers) = headers {
                // librdkafka takes ownership of a header list per record, so each needs its
                // own copy: one C copy of the prebuilt list, no formatting.
                pending = pending.headers(headers.clone());
            }
            self.accepted[i] += 1;
            loop {
                match self.producer.send(pending) {
                    Ok(()) => break,
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                        if self.stop.is_cancelled() {
                            // A stop while the queue is full (the broker is down): hand nothing
                            // more over, so the run reaches the flush (issue 10).
                            let error = KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull);
                            drop(back);
                            fail_unsent(
                                self.producer.context(),
                                &mut self.accepted,
                                &self.topics,
                                &self.headers,
                                std::iter::once(record).chain(records),
                                &error,
                            );
                            return Ok(());
                        }
                        // Backpressure: wait for delivery reports to free room, then retry.
                        pending = back;
                        tokio::select! {
                            () = tokio::time::sleep(QUEUE_FULL_WAIT) => {}
                            () = self.stop.cancelled() => {}
                        }
                    }
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::Fatal), _)) => {
                        // The idempotent producer gave up (e.g. a sequence gap it cannot
                        // repair): every further send would fail too, so stop the run.
                        let error = KafkaError::MessageProduction(RDKafkaErrorCode::Fatal);
                        fail_unsent(
                            self.producer.context(),
                            &mut self.accepted,
                            &self.topics,
                            &self.headers,
                            std::iter::once(record).chain(records),
                            &error,
                        );
                        let reason = self
                            .producer
                            .client()
                            .fatal_error()
                            .map(|(_, why)| why)
                            .unwrap_or_default();
                        return Err(SinkError::Fatal(format!(
                            "the Kafka producer hit a fatal error: {reason}"
                        )));
                    }
                    Err((error, _)) => {
                        // Will not succeed on retry (too large, unknown topic, ...).
                        fail_unsent(
                            self.producer.context(),
                            &mut self.accepted,
                            &self.topics,
                            &self.headers,
                            std::iter::once(record),
                            &error,
                        );
                        break;
                    }
                }
            }
        }
        Ok(())
    }

    fn watch_stop(&mut self, stop: CancellationToken) {
        self.stop = stop;
    }

    async fn flush(&mut self, timeout: Duration) -> Result<(), SinkError> {
        let producer = self.producer.clone();
        let started = Instant::now();
        let flushed = tokio::task::spawn_blocking(move || {
            let result = producer.flush(timeout);
            if result.is_err() {
                // Out of time: take back what is queued or in flight. Their reports come back
                // as errors, which the delivery callback counts and dead-letters.
                producer.purge(PurgeConfig::default().queue().inflight());
                if let Err(error) = producer.flush(PURGE_REPORT_WAIT) {
                    tracing::error!(%error, "Purged events did not all report back.");
                }
            }
            result
        })
        .await
        .map_err(|e| SinkError::Fatal(format!("kafka flush task failed: {e}")))?;
        self.context().dead_letter.flush();
        let counts = self.counts();
        let (delivered, failed, unknown, in_flight) = (
            counts.delivered_total(),
            counts.failed_total(),
            counts.unknown_total(),
            counts.in_flight_total(),
        );
        let dead_letter = &self.context().dead_letter;
        tracing::info!(
            sink = "kafka",
            bootstrap_servers = %self.bootstrap_servers,
            delivered,
            failed,
            unknown,
            in_flight,
            elapsed_secs = format_args!("{:.1}", started.elapsed().as_secs_f64()),
            per_type_delivered_failed_unknown_in_flight = %self.per_type_text(&counts),
            "Kafka sink flushed."
        );
        if let Err(error) = flushed {
            tracing::error!(%error, timeout_secs = timeout.as_secs_f64(), "Kafka flush timed out; undelivered events were purged.");
        }
        if failed + unknown > 0 {
            tracing::error!(
                failed,
                unknown,
                dead_lettered = dead_letter.written(),
                not_written = dead_letter.lost(),
                path = %dead_letter.path().display(),
                "Some events could not be delivered (unknown: they may have arrived); they are in the dead-letter file."
            );
        }
        if in_flight > 0 {
            tracing::error!(
                in_flight,
                "Some events are still unconfirmed after the flush."
            );
        }
        Ok(())
    }

    fn counts(&self) -> SinkCounts {
        let ctx = self.context();
        let mut counts = SinkCounts::new(self.accepted.len());
        for (i, accepted) in self.accepted.iter().enumerate() {
            let delivered = ctx.delivered[i].load(Ordering::Relaxed);
            let failed = ctx.failed[i].load(Ordering::Relaxed);
            let unknown = ctx.unknown[i].load(Ordering::Relaxed);
            counts.delivered[i] = delivered;
            counts.failed[i] = failed;
            counts.unknown[i] = unknown;
            counts.in_flight[i] = accepted.saturating_sub(delivered + failed + unknown);
        }
        counts
    }
}
