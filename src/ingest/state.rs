//! What the service knows about Kafka, for `/health` and for answering 503 at once with the
//! reason: up, unreachable, topics missing, or a fatal producer error (issue 10). A background
//! check refreshes it every `health_interval_ms`, or at once when a request hits an error,
//! logs each change of cause once (not once per request), and replaces a producer that hit a
//! fatal error (fenced, gap-less guarantee lost), which would otherwise refuse every event for
//! ever.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rdkafka::producer::Producer;
use tokio::sync::{watch, Notify};
use tokio_util::sync::CancellationToken;

use super::producer::IngestProducer;
use crate::sinks::kafka::admin;

/// Kafka as last seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KafkaState {
    Up,
    /// The cluster did not answer a metadata request.
    Down,
    /// These topics are not in the cluster's metadata.
    TopicsMissing(Vec<String>),
    /// librdkafka raised a fatal error; the producer is being rebuilt.
    Fatal(String),
}

impl KafkaState {
    /// Why events cannot be produced now, for the 503 body; `None` when up.
    pub fn reason(&self) -> Option<String> {
        match self {
            Self::Up => None,
            Self::Down => Some("Kafka is unreachable".into()),
            Self::TopicsMissing(t) => Some(format!("topic(s) {} do not exist", t.join(", "))),
            Self::Fatal(e) => Some(format!(
                "the Kafka producer hit a fatal error ({e}); it is being rebuilt"
            )),
        }
    }

    /// `/health`'s `kafka` field.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Up => "up",
            Self::Down => "down",
            Self::TopicsMissing(_) => "topics_missing",
            Self::Fatal(_) => "fatal_error",
        }
    }
}

/// The shared state, its watcher's wake-up, and how often the producer was rebuilt.
pub struct Health {
    state: watch::Sender<KafkaState>,
    wake: Notify,
    rebuilds: AtomicU64,
}

impl Health {
    pub fn new() -> Self {
        Self {
            state: watch::Sender::new(KafkaState::Up),
            wake: Notify::new(),
            rebuilds: AtomicU64::new(0),
        }
    }

    pub fn get(&self) -> KafkaState {
        self.state.borrow().clone()
    }

    /// Changes of state, for a request that stops waiting once the cause is known.
    pub fn subscribe(&self) -> watch::Receiver<KafkaState> {
        self.state.subscribe()
    }

    /// Producers replaced after a fatal error since start.
    pub fn rebuilds(&self) -> u64 {
        self.rebuilds.load(Ordering::Relaxed)
    }

    /// Asks the watcher to check now (a request just failed).
    pub fn check_now(&self) {
        self.wake.notify_one();
    }

    /// Sets the state, logging once when the cause changes.
    pub fn set(&self, new: KafkaState, servers: &str) {
        let old = self.state.send_replace(new.clone());
        metrics::gauge!("kafka_gen_ingest_kafka_up").set(if new == KafkaState::Up {
            1.0
        } else {
            0.0
        });
        if old == new {
            return;
        }
        match &new {
            KafkaState::Up => {
                tracing::info!(bootstrap_servers = %servers, "Kafka is reachable again.")
            }
            other => {
                let reason = other.reason().unwrap_or_default();
                tracing::error!(bootstrap_servers = %servers, %reason, "Kafka cannot take events; answering 503 until it can.");
            }
        }
    }
}

impl Default for Health {
    fn default() -> Self {
        Self::new()
    }
}

/// Checks Kafka every `every` (or when woken) until `cancel`, keeping `health` current and
/// rebuilding the producer after a fatal error.
pub fn watch(
    producer: Arc<IngestProducer>,
    health: Arc<Health>,
    every: Duration,
    cancel: CancellationToken,
) {
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tokio::time::sleep(every) => {}
                _ = health.wake.notified() => {}
            }
            let p = producer.clone();
            let h = health.clone();
            let checked = tokio::task::spawn_blocking(move || check(&p, &h, every)).await;
            if checked.is_err() {
                tracing::error!("The Kafka health check panicked.");
            }
        }
    });
}

/// One check; blocking (metadata requests, and a rebuild's start-up checks).
fn check(producer: &IngestProducer, health: &Health, every: Duration) {
    let servers = producer.bootstrap_servers();
    let client = producer.current();
    if let Some((code, reason)) = client.client().fatal_error() {
        health.set(KafkaState::Fatal(format!("{code:?}: {reason}")), servers);
        match producer.connect_again() {
            Ok(fresh) => {
                // Events queued in the old producer failed with the fatal error and were
                // answered 503, so their clients retry through the new one.
                producer.replace(fresh);
                health.rebuilds.fetch_add(1, Ordering::Relaxed);
                metrics::counter!("kafka_gen_ingest_producer_rebuilds_total").increment(1);
                tracing::warn!(bootstrap_servers = %servers, "Kafka producer rebuilt after a fatal error.");
                health.set(KafkaState::Up, servers);
            }
            Err(error) => {
                tracing::debug!(error = %format!("{error:#}"), "Cannot rebuild the Kafka producer yet.")
            }
        }
        return;
    }
    let timeout = every.max(Duration::from_secs(1));
    let state = match client.client().fetch_metadata(None, timeout) {
        Err(_) => KafkaState::Down,
        Ok(metadata) => {
            let missing = admin::missing_topics(&metadata, producer.topics());
            if missing.is_empty() {
                KafkaState::Up
            } else {
                KafkaState::TopicsMissing(missing)
            }
        }
    };
    health.set(state, servers);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_state_names_its_reason() {
        assert_eq!(KafkaState::Up.reason(), None);
        let missing = KafkaState::TopicsMissing(vec!["retail.sales".into()]);
        assert!(missing.reason().unwrap().contains("retail.sales"));
        assert_eq!(missing.label(), "topics_missing");
        let fatal = KafkaState::Fatal("Fenced: producer fenced".into());
        assert!(fatal.reason().unwrap().contains("fenced"));
        assert_eq!(fatal.label(), "fatal_error");
    }
}
