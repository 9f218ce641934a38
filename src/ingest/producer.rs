//! The ingest service's side of Kafka: the Kafka sink's producer settings, topics, headers
//! (`kafka.headers`, `--kafka-headers`) and start-up checks, with a delivery future per record so a request is acknowledged only once
//! Kafka has confirmed every one of its events. The producer can be replaced (see `state`, which
//! rebuilds it after a fatal error), so requests take the current one for each batch.

use std::sync::RwLock;
use std::time::Duration;

use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::error::KafkaError;
use rdkafka::message::OwnedHeaders;
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};

use crate::scenario::EventTypeSpec;
use crate::sinks::kafka::{self, admin, KafkaConfig};

pub type Client = FutureProducer<LogContext>;

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
    producer: RwLock<Client>,
    topics: Vec<String>,
    /// Per event type; `None` when the header set is `none`.
    headers: Vec<Option<OwnedHeaders>>,
    config: KafkaConfig,
    types: &'static [EventTypeSpec],
}

impl IngestProducer {
    /// Connects with the Kafka sink's settings and checks the cluster and topics as it does.
    pub fn open(config: &KafkaConfig, types: &'static [EventTypeSpec]) -> anyhow::Result<Self> {
        let (producer, topics): (Client, _) = admin::connect(config, types, LogContext)?;
        Ok(Self {
            producer: RwLock::new(producer),
            headers: types
                .iter()
                .map(|t| kafka::headers_of(t, config.headers))
                .collect(),
            topics,
            config: config.clone(),
            types,
        })
    }

    pub fn topics(&self) -> &[String] {
        &self.topics
    }

    pub fn bootstrap_servers(&self) -> &str {
        &self.config.bootstrap_servers
    }

    /// The producer in use (a cheap handle).
    pub fn current(&self) -> Client {
        match self.producer.read() {
            Ok(p) => p.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Builds a new producer with the same settings, checking cluster and topics; blocking.
    pub fn connect_again(&self) -> anyhow::Result<Client> {
        let (producer, _): (Client, Vec<String>) =
            admin::connect(&self.config, self.types, LogContext)?;
        Ok(producer)
    }

    /// Puts `producer` in place of the current one, which is dropped once no request uses it.
    pub fn replace(&self, producer: Client) {
        match self.producer.write() {
            Ok(mut p) => *p = producer,
            Err(poisoned) => *poisoned.into_inner() = producer,
        }
    }

    /// Records still queued or in flight in the producer.
    pub fn queue_depth(&self) -> i32 {
        self.current().in_flight_count()
    }

    /// Produces `events` and waits (at most `timeout`) until Kafka confirmed all of them.
    pub async fn produce(
        &self,
        events: &[Outgoing<'_>],
        timeout: Duration,
    ) -> Result<(), ProduceError> {
        let producer = self.current();
        let mut pending = Vec::with_capacity(events.len());
        for e in events {
            let (Some(topic), Some(headers)) = (
                self.topics.get(e.type_index),
                self.headers.get(e.type_index),
            ) else {
                return Err(ProduceError::Gone);
            };
            let mut record = FutureRecord::to(topic)
                .key(e.key)
                .payload(e.payload)
                .timestamp(e.time_ms);
            if let Some(headers) = headers {
                record = record.headers(headers.clone());
            }
            // A full queue is answered 503 at once rather than held: the client retries.
            let future = producer.send_result(record).map_err(|(e, _)| e)?;
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

    /// Waits (at most `timeout`) for everything produced to be confirmed.
    pub async fn flush(&self, timeout: Duration) {
        let p = self.current();
        let result = tokio::task::spawn_blocking(move || p.flush(timeout)).await;
        if !matches!(result, Ok(Ok(()))) {
            tracing::error!("Kafka did not confirm every event before shutdown.");
        }
    }
}
