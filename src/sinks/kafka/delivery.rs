//! The Kafka sink's delivery bookkeeping: the context librdkafka's polling thread calls with
//! each delivery report, counting every record delivered, failed or of unknown outcome where
//! that is decided, and dead-lettering what did not make it, labelled.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use rdkafka::bindings::{rd_kafka_message_status, rd_kafka_msg_status_t};
use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::error::KafkaError;
use rdkafka::message::{BorrowedMessage, Headers, Message, OwnedHeaders};
use rdkafka::producer::{DeliveryResult, ProducerContext};

use crate::sinks::dead_letter::{DeadLetter, Label, Outcome};
/// Shared with librdkafka's polling thread, which runs the delivery callback.
pub struct DeliveryContext {
    pub(super) delivered: Vec<AtomicU64>,
    pub(super) failed: Vec<AtomicU64>,
    pub(super) unknown: Vec<AtomicU64>,
    pub(super) dead_letter: Arc<DeadLetter>,
    warned: AtomicBool,
}

/// One record that did not make it, as the dead-letter file describes it.
pub(super) struct Undelivered<'a> {
    type_index: usize,
    topic: &'a str,
    key: Option<&'a [u8]>,
    headers: Option<serde_json::Map<String, serde_json::Value>>,
    timestamp_ms: Option<i64>,
    payload: &'a [u8],
}

/// Record headers as a JSON object, values as text.
fn headers_json<H: Headers>(headers: &H) -> serde_json::Map<String, serde_json::Value> {
    (0..headers.count())
        .filter_map(|i| headers.try_get(i))
        .map(|h| {
            let value = h
                .value
                .map(|v| serde_json::Value::from(String::from_utf8_lossy(v).into_owned()))
                .unwrap_or(serde_json::Value::Null);
            (h.key.to_string(), value)
        })
        .collect()
}

/// Whether a record that came back with an error may have reached the broker: librdkafka
/// knows whether it was ever sent (`rd_kafka_message_status`).
pub(crate) fn outcome_of(message: &BorrowedMessage<'_>) -> Outcome {
    // SAFETY: the pointer is the live message of this delivery report, valid for the call.
    let status = unsafe { rd_kafka_message_status(message.ptr()) };
    match status {
        rd_kafka_msg_status_t::RD_KAFKA_MSG_STATUS_NOT_PERSISTED => Outcome::Failed,
        _ => Outcome::Unknown,
    }
}

impl DeliveryContext {
    pub(super) fn new(types: usize, dead_letter: Arc<DeadLetter>) -> Self {
        let counters = || (0..types).map(|_| AtomicU64::new(0)).collect();
        Self {
            delivered: counters(),
            failed: counters(),
            unknown: counters(),
            dead_letter,
            warned: AtomicBool::new(false),
        }
    }

    /// Dead-letters one record, then counts it failed or unknown (in that order, so the count
    /// never runs ahead of what was handed to the file).
    pub(super) fn fail(&self, record: &Undelivered<'_>, outcome: Outcome, error: &KafkaError) {
        let reason = error.to_string();
        let label = Label {
            sink: "kafka",
            topic: Some(record.topic),
            endpoint: None,
            key: record.key.map(|k| String::from_utf8_lossy(k).into_owned()),
            outcome,
            error: &reason,
            headers: record.headers.clone(),
            timestamp_ms: record.timestamp_ms,
        };
        self.dead_letter.write(&label, record.payload);
        let counters = match outcome {
            Outcome::Failed => &self.failed,
            Outcome::Unknown => &self.unknown,
        };
        if let Some(counter) = counters.get(record.type_index) {
            counter.fetch_add(1, Ordering::Relaxed);
        }
        // One line for the first failure; the totals are reported at flush.
        if !self.warned.swap(true, Ordering::Relaxed) {
            tracing::warn!(%error, path = %self.dead_letter.path().display(), "Kafka did not take an event; dead-lettering it.");
        }
    }
}

/// Dead-letters records that were never handed to librdkafka as failed. The first has been
/// counted accepted already; the rest are counted here.
pub(super) fn fail_unsent<'a>(
    ctx: &DeliveryContext,
    accepted: &mut [u64],
    topics: &[String],
    headers: &[Option<OwnedHeaders>],
    records: impl Iterator<Item = crate::event::Record<'a>>,
    error: &KafkaError,
) {
    for (n, record) in records.enumerate() {
        let i = usize::from(record.event_type);
        if n > 0 {
            if let Some(accepted) = accepted.get_mut(i) {
                *accepted += 1;
            }
        }
        let undelivered = Undelivered {
            type_index: i,
            topic: topics.get(i).map_or("", String::as_str),
            key: Some(record.key),
            headers: headers.get(i).and_then(Option::as_ref).map(headers_json),
            timestamp_ms: Some(record.time_ms),
            payload: record.payload,
        };
        ctx.fail(&undelivered, Outcome::Failed, error);
    }
}

/// librdkafka's log lines, forwarded to tracing at their level.
pub(crate) fn forward_log(level: RDKafkaLogLevel, fac: &str, message: &str) {
    match level {
        RDKafkaLogLevel::Emerg
        | RDKafkaLogLevel::Alert
        | RDKafkaLogLevel::Critical
        | RDKafkaLogLevel::Error => {
            tracing::error!(target: "librdkafka", facility = fac, "{message}")
        }
        RDKafkaLogLevel::Warning => {
            tracing::warn!(target: "librdkafka", facility = fac, "{message}")
        }
        RDKafkaLogLevel::Notice | RDKafkaLogLevel::Info => {
            tracing::info!(target: "librdkafka", facility = fac, "{message}")
        }
        RDKafkaLogLevel::Debug => {
            tracing::debug!(target: "librdkafka", facility = fac, "{message}")
        }
    }
}

impl ClientContext for DeliveryContext {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, message: &str) {
        forward_log(level, fac, message);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        // Connection trouble is retried by librdkafka; delivery reports say what it cost.
        tracing::warn!(target: "librdkafka", %error, reason, "Kafka client error.");
    }
}

impl ProducerContext for DeliveryContext {
    /// The event type index of the record.
    type DeliveryOpaque = usize;

    fn delivery(&self, result: &DeliveryResult<'_>, type_index: usize) {
        match result {
            Ok(_) => {
                if let Some(delivered) = self.delivered.get(type_index) {
                    delivered.fetch_add(1, Ordering::Relaxed);
                }
            }
            Err((error, message)) => {
                let record = Undelivered {
                    type_index,
                    topic: message.topic(),
                    key: message.key(),
                    headers: message.headers().map(headers_json),
                    timestamp_ms: message.timestamp().to_millis(),
                    payload: message.payload().unwrap_or_default(),
                };
                self.fail(&record, outcome_of(message), error)
            }
        }
    }
}
