//! The ingest service's side of Kafka: the Kafka sink's producer settings, topics, headers and
//! start-up checks, with a delivery future per record so a request is acknowledged only once
//! Kafka has confirmed every one of its events. A background check keeps `/health` current.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::error::KafkaError;
use rdkafka::message::OwnedHeaders;
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use tokio_util::sync::CancellationToken;

use crate::scenario::EventTypeSpec;
use crate::sinks::kafka::{self, admin, KafkaConfig};

/// librdkafka's logs and errors, as the Kafka sink reports them.
pub struct LogContext;

impl ClientContext for LogContext {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, message: &str) {
        kafka::forward_log(level, fac, message);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        tracing::warn!(target: "librdkafka", %error, reason, "Kafka client error.");
    }
}

/// One event to produce, borrowed from the request body.
pub struct Outgoing<'a> {
    pub type_index: usize,
    pub key: &'a [u8],
    pub payload: &'a [u8],
    pub time_ms: i64,
}

/// Why a batch was not confirmed.
#[derive(Debug, thiserror::Error)]
pub enum ProduceError {
    #[error("Kafka did not confirm the events within {0:?}")]
    Timeout(Duration),
    #[error("Kafka refused an event: {0}")]
    Kafka(#[from] KafkaError),
    #[error("the Kafka producer went away")]
    Gone,
}

pub struct IngestProducer {
    producer: FutureProducer<LogContext>,
    topics: Vec<String>,
    headers: Vec<OwnedHeaders>,
    up: Arc<AtomicBool>,
    bootstrap_servers: String,
}

impl IngestProducer {
    /// Connects with the Kafka sink's settings and checks the cluster and topics as it does.
    pub fn open(config: &KafkaConfig, types: &'static [EventTypeSpec]) -> anyhow::Result<Self> {
        let (producer, topics): (FutureProducer<LogContext>, _) =
            admin::connect(config, types, LogContext)?;
        Ok(Self {
            producer,
            headers: types.iter().map(kafka::headers_for).collect(),
            topics,
            up: Arc::new(AtomicBool::new(true)),
            bootstrap_servers: config.bootstrap_servers.clone(),
        })
    }

    pub fn topics(&self) -> &[String] {
        &self.topics
    }

    /// Whether the last connectivity check reached the cluster.
    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::Relaxed)
    }

    /// Records still queued or in flight in the producer.
    pub fn queue_depth(&self) -> i32 {
        self.producer.in_flight_count()
    }

    /// Produces `events` and waits (at most `timeout`) until Kafka confirmed all of them.
    pub async fn produce(
        &self,
        events: &[Outgoing<'_>],
        timeout: Duration,
    ) -> Result<(), ProduceError> {
        let mut pending = Vec::with_capacity(events.len());
        for e in events {
            let (Some(topic), Some(headers)) = (
                self.topics.get(e.type_index),
                self.headers.get(e.type_index),
            ) else {
                return Err(ProduceError::Gone);
            };
            let record = FutureRecord::to(topic)
                .key(e.key)
                .payload(e.payload)
                .timestamp(e.time_ms)
                .headers(headers.clone());
            // A full queue is answered 503 at once rather than held: the client retries.
            let future = self.producer.send_result(record).map_err(|(e, _)| e)?;
            pending.push(future);
        }
        let confirm = async {
            for future in pending {
                match future.await {
                    Ok(Ok(_)) => {}
                    Ok(Err((error, _))) => return Err(ProduceError::Kafka(error)),
                    Err(_) => return Err(ProduceError::Gone),
                }
            }
            Ok(())
        };
        tokio::time::timeout(timeout, confirm)
            .await
            .map_err(|_| ProduceError::Timeout(timeout))?
    }

    /// Checks connectivity every `every` until `cancel`, logging changes.
    pub fn watch(&self, every: Duration, cancel: CancellationToken) {
        let producer = self.producer.clone();
        let up = self.up.clone();
        let servers = self.bootstrap_servers.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = tokio::time::sleep(every) => {}
                }
                let p = producer.clone();
                let reachable = tokio::task::spawn_blocking(move || {
                    p.client()
                        .fetch_metadata(None, every.max(Duration::from_secs(1)))
                })
                .await
                .is_ok_and(|r| r.is_ok());
                let was = up.swap(reachable, Ordering::Relaxed);
                metrics::gauge!("kafka_gen_ingest_kafka_up").set(if reachable { 1.0 } else { 0.0 });
                if was != reachable {
                    if reachable {
                        tracing::info!(bootstrap_servers = %servers, "Kafka is reachable again.");
                    } else {
                        tracing::error!(bootstrap_servers = %servers, "Kafka is unreachable; answering 503 until it is back.");
                    }
                }
            }
        });
    }

    /// Waits (at most `timeout`) for everything produced to be confirmed.
    pub async fn flush(&self, timeout: Duration) {
        let p = self.producer.clone();
        let result = tokio::task::spawn_blocking(move || p.flush(timeout)).await;
        if !matches!(result, Ok(Ok(()))) {
            tracing::error!("Kafka did not confirm every event before shutdown.");
        }
    }
}
