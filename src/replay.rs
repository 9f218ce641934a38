//! `kafka-gen replay DEAD_LETTER_FILE`: sends the Kafka sink's dead letters again, to the same
//! topic with the same key, headers and timestamp. Lines whose outcome is `unknown` may already
//! be on the topic, so they are skipped unless `--include-unknown` says to risk duplicates.
//! Lines of other sinks (`http`) are skipped and counted. The file itself is not changed.
//!
//! SIGINT/SIGTERM stops reading the file; what was handed to the producer is flushed (within
//! the flush timeout) and counted delivered, failed or unknown as the Kafka sink counts it, and
//! the lines not read are reported as `unread`.

use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context;
use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{
    BaseRecord, DeliveryResult, Producer, ProducerContext, PurgeConfig, ThreadedProducer,
};
use serde::Deserialize;
use serde_json::value::RawValue;
use tokio_util::sync::CancellationToken;

use crate::exit::BadInputExt;
use crate::sinks::dead_letter::Outcome;
use crate::sinks::kafka::{admin, forward_log, outcome_of, KafkaConfig};

/// One dead-letter line, as `sinks::dead_letter` writes it.
#[derive(Debug, Deserialize)]
pub struct DeadLine {
    pub sink: String,
    #[serde(default)]
    pub topic: Option<String>,
    #[serde(default)]
    pub key: Option<String>,
    pub outcome: Outcome,
    #[serde(default)]
    pub headers: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(default)]
    pub timestamp_ms: Option<i64>,
    pub event: Box<RawValue>,
}

/// What a replay did. Every line of the file is in exactly one count.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ReplayCounts {
    /// Confirmed by Kafka.
    pub replayed: u64,
    /// Certainly not on the topic (refused, or never sent).
    pub failed: u64,
    /// Given up on while in flight: it may be on the topic.
    pub unknown: u64,
    pub skipped_unknown: u64,
    pub skipped_other_sink: u64,
    /// Not read because a signal stopped the replay.
    pub unread: u64,
}

/// Reads every line of `path`; a line that is not a dead-letter line is an error naming it.
pub fn read_lines(path: &Path) -> anyhow::Result<Vec<DeadLine>> {
    let text = std::fs::read_to_string(path).with_context(|| {
        format!(
            "cannot read the dead-letter file {}; check the path",
            path.display()
        )
    })?;
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(n, line)| {
            serde_json::from_str::<DeadLine>(line).map_err(|error| {
                anyhow::anyhow!(
                    "{}:{}: not a kafka-gen dead-letter line ({error}); each line must be \
                     {{\"sink\",\"topic\",\"key\",\"outcome\",\"error\",\"event\"}} as the README describes",
                    path.display(),
                    n + 1
                )
            })
        })
        .collect()
}

#[derive(Default)]
struct ReplayContext {
    delivered: AtomicU64,
    failed: AtomicU64,
    unknown: AtomicU64,
    warned: AtomicBool,
}

impl ClientContext for ReplayContext {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, message: &str) {
        forward_log(level, fac, message);
    }
}

impl ProducerContext for ReplayContext {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        match result {
            Ok(_) => {
                self.delivered.fetch_add(1, Ordering::Relaxed);
            }
            Err((error, message)) => {
                let counter = match outcome_of(message) {
                    Outcome::Failed => &self.failed,
                    Outcome::Unknown => &self.unknown,
                };
                counter.fetch_add(1, Ordering::Relaxed);
                if !self.warned.swap(true, Ordering::Relaxed) {
                    tracing::error!(%error, "A replayed event was not delivered (further ones are counted, not logged).");
                }
            }
        }
    }
}

/// Replays `lines` through a producer made from `config` until done or `cancel`, waiting at
/// most `flush_timeout` for the last deliveries. Bad client settings are bad input; an
/// unreachable broker fails the run.
pub fn replay(
    config: &KafkaConfig,
    lines: &[DeadLine],
    include_unknown: bool,
    flush_timeout: Duration,
    cancel: &CancellationToken,
) -> anyhow::Result<ReplayCounts> {
    let producer: ThreadedProducer<ReplayContext> = config
        .producer_config()
        .create_with_context(ReplayContext::default())
        .with_context(|| {
            format!(
                "invalid Kafka client settings for {}",
                config.bootstrap_servers
            )
        })
        .bad_input()?;
    admin::check_reachable(producer.client(), config)?;
    tracing::info!(lines = lines.len(), "Replaying.");
    let mut counts = ReplayCounts::default();
    let mut sent = 0u64;
    for (n, line) in lines.iter().enumerate() {
        if cancel.is_cancelled() {
            counts.unread = (lines.len() - n) as u64;
            break;
        }
        let topic = match (line.sink.as_str(), line.topic.as_deref()) {
            ("kafka", Some(topic)) => topic,
            _ => {
                counts.skipped_other_sink += 1;
                continue;
            }
        };
        if line.outcome == Outcome::Unknown && !include_unknown {
            counts.skipped_unknown += 1;
            continue;
        }
        let mut headers = OwnedHeaders::new();
        for (name, value) in line.headers.iter().flatten() {
            headers = headers.insert(Header {
                key: name,
                value: value.as_str(),
            });
        }
        let mut record: BaseRecord<'_, [u8], [u8]> = BaseRecord::to(topic)
            .payload(line.event.get().as_bytes())
            .headers(headers);
        record.key = line.key.as_deref().map(str::as_bytes);
        record.timestamp = line.timestamp_ms;
        loop {
            match producer.send(record) {
                Ok(()) => {
                    sent += 1;
                    break;
                }
                // A stop must reach the flush even while the queue stays full (broker down).
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _))
                    if cancel.is_cancelled() =>
                {
                    counts.unread = (lines.len() - n) as u64;
                    break;
                }
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    record = back;
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err((error, _)) => {
                    tracing::error!(%error, topic, "Kafka refused a replayed event.");
                    counts.failed += 1;
                    break;
                }
            }
        }
        if counts.unread > 0 {
            break;
        }
    }
    if producer.flush(flush_timeout).is_err() {
        producer.purge(PurgeConfig::default().queue().inflight());
        let _ = producer.flush(Duration::from_secs(5));
    }
    let ctx = producer.context();
    counts.replayed = ctx.delivered.load(Ordering::Relaxed);
    let failed = ctx.failed.load(Ordering::Relaxed);
    let unknown = ctx.unknown.load(Ordering::Relaxed);
    counts.failed += failed;
    // Handed over and never reported back: it may have arrived.
    counts.unknown = unknown + sent.saturating_sub(counts.replayed + failed + unknown);
    Ok(counts)
}

/// `kafka-gen replay`: 0 when every replayed event was delivered, 1 when some were not or the
/// broker is unreachable, 2 for bad input (an unreadable file, bad client settings).
pub fn run(
    path: &Path,
    config: &KafkaConfig,
    include_unknown: bool,
    flush_timeout: Duration,
    cancel: &CancellationToken,
) -> anyhow::Result<ExitCode> {
    let lines = read_lines(path).bad_input()?;
    let counts = replay(config, &lines, include_unknown, flush_timeout, cancel)?;
    tracing::info!(
        path = %path.display(),
        replayed = counts.replayed,
        failed = counts.failed,
        unknown = counts.unknown,
        skipped_unknown = counts.skipped_unknown,
        skipped_other_sink = counts.skipped_other_sink,
        unread = counts.unread,
        "Replay done."
    );
    if counts.unread > 0 {
        tracing::warn!(
            unread = counts.unread,
            "Stopped before the end of the file; the last {} lines were not read.",
            counts.unread
        );
    }
    if counts.skipped_unknown > 0 {
        tracing::warn!(
            skipped_unknown = counts.skipped_unknown,
            "Skipped events whose delivery is unknown (they may already be on the topic); pass --include-unknown to send them anyway."
        );
    }
    Ok(if counts.failed + counts.unknown > 0 {
        ExitCode::from(crate::exit::FAILED)
    } else {
        ExitCode::SUCCESS
    })
}
