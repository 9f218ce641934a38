//! `kafka-gen replay DEAD_LETTER_FILE`: sends the Kafka sink's dead letters again, to the same
//! topic with the same key, headers and timestamp. Lines whose outcome is `unknown` may already
//! be on the topic, so they are skipped unless `--include-unknown` says to risk duplicates.
//! Lines of other sinks (`http`) are skipped and counted. The file itself is not changed.
//!
//! The file is read one line at a time (checked whole first, also line by line), so memory
//! does not grow with it. Lines go out in batches of [`BATCH`]; after each, the producer is
//! flushed and the progress recorded beside the file ([`progress`]), so a replay run again
//! goes on where the last one stopped and sends each line once (`--restart` starts over). A
//! batch with a line that failed ends the replay at that line: run it again to retry from it.
//!
//! SIGINT/SIGTERM stops reading the file; what was handed to the producer is flushed (within
//! the flush timeout) and counted delivered, failed or unknown as the Kafka sink counts it, and
//! the lines not read are reported as `unread`.

use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
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

mod lines;
pub mod progress;
pub use lines::check_lines;
use lines::{parse, At, Lines};
use progress::Progress;

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

/// What a replay did. Every line it read (those settled by an earlier replay of the file
/// aside) is in exactly one count.
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
    /// Not read because a signal or a failed batch stopped the replay.
    pub unread: u64,
}

/// Lines handed to the producer between two records of progress: the producer is flushed
/// after each batch, and what it settled is recorded ([`progress`]).
pub const BATCH: usize = 10_000;

#[derive(Default)]
struct ReplayContext {
    delivered: AtomicU64,
    failed: AtomicU64,
    unknown: AtomicU64,
    warned: AtomicBool,
    /// Line numbers reported delivered or unknown since the last batch was settled: they are
    /// not to be sent again. At most one batch of them.
    settled: Mutex<Vec<u64>>,
}

impl ClientContext for ReplayContext {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, message: &str) {
        forward_log(level, fac, message);
    }
}

impl ProducerContext for ReplayContext {
    /// The line number.
    type DeliveryOpaque = usize;

    fn delivery(&self, result: &DeliveryResult<'_>, line: usize) {
        let settled = match result {
            Ok(_) => {
                self.delivered.fetch_add(1, Ordering::Relaxed);
                true
            }
            Err((error, message)) => {
                let outcome = outcome_of(message);
                let counter = match outcome {
                    Outcome::Failed => &self.failed,
                    Outcome::Unknown => &self.unknown,
                };
                counter.fetch_add(1, Ordering::Relaxed);
                if !self.warned.swap(true, Ordering::Relaxed) {
                    tracing::error!(%error, "A replayed event was not delivered (further ones are counted, not logged).");
                }
                outcome == Outcome::Unknown
            }
        };
        if settled {
            if let Ok(mut s) = self.settled.lock() {
                s.push(line as u64);
            }
        }
    }
}

/// How a replay runs.
#[derive(Debug, Clone)]
pub struct ReplayOptions {
    /// Also send lines whose outcome is `unknown`.
    pub include_unknown: bool,
    /// Ignore the recorded progress and replay the whole file.
    pub restart: bool,
    /// How long to wait for a batch's deliveries.
    pub flush_timeout: Duration,
}

/// What became of one line of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    /// Skipped, blank, or settled by an earlier replay: never to be sent.
    Skipped,
    /// Handed to the producer: settled if its report says delivered or unknown.
    Sent,
    /// Refused by the producer at once.
    Refused,
}

/// Replays `path` from where an earlier replay of it stopped (unless `restart`) through a
/// producer made from `config`, until done, a batch with a failure, or `cancel`. Bad client
/// settings and a bad line are bad input; an unreachable broker fails the run.
pub fn replay(
    config: &KafkaConfig,
    path: &Path,
    options: &ReplayOptions,
    cancel: &CancellationToken,
) -> anyhow::Result<ReplayCounts> {
    let mut from = if options.restart {
        Progress::default()
    } else {
        progress::load(path).bad_input()?.unwrap_or_default()
    };
    let len = std::fs::metadata(path)
        .with_context(|| {
            format!(
                "cannot read the dead-letter file {}; check the path",
                path.display()
            )
        })
        .bad_input()?
        .len();
    if from.offset > len {
        tracing::warn!(path = %path.display(), recorded = from.offset, len, "The file is shorter than the recorded progress; replaying it from the start.");
        from = Progress::default();
    }
    let total = check_lines(path, &from).bad_input()?;
    // Written now, so a folder where it cannot be is found before anything is sent.
    progress::save(path, &from).bad_input()?;
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
    tracing::info!(lines = total, from_line = from.lines + 1, "Replaying.");
    let mut counts = ReplayCounts::default();
    let mut lines = Lines::open(path, &from)?;
    let mut done_before: Vec<u64> = from.settled_after.clone();
    let mut batch: Vec<(At, Fate)> = Vec::with_capacity(BATCH);
    let (mut handled, mut sent) = (0u64, 0u64);
    let mut progress = from;
    loop {
        let mut end = cancel.is_cancelled();
        if !end {
            match lines.next()? {
                None => end = true,
                Some((at, text)) => {
                    let fate = if text.trim().is_empty() || done_before.contains(&at.number) {
                        Fate::Skipped
                    } else {
                        handled += 1;
                        match send(
                            &producer,
                            &parse(path, at.number, text)?,
                            at,
                            options,
                            cancel,
                            &mut counts,
                        ) {
                            Some(fate) => fate,
                            None => {
                                // Stopped while the queue was full: this line was not sent.
                                handled -= 1;
                                end = true;
                                Fate::Skipped
                            }
                        }
                    };
                    if fate == Fate::Sent {
                        sent += 1;
                    }
                    if !end || fate != Fate::Skipped {
                        batch.push((at, fate));
                    }
                }
            }
        }
        if batch.len() >= BATCH || end {
            let flushed = flush(&producer, options.flush_timeout);
            let failed = settle(&producer, &mut batch, &mut done_before, &mut progress);
            progress::save(path, &progress)?;
            if failed || !flushed {
                end = true;
            }
        }
        if end {
            break;
        }
    }
    let ctx = producer.context();
    counts.unread = total - handled;
    counts.replayed = ctx.delivered.load(Ordering::Relaxed);
    let failed = ctx.failed.load(Ordering::Relaxed);
    let unknown = ctx.unknown.load(Ordering::Relaxed);
    counts.failed += failed;
    // Handed over and never reported back: it may have arrived.
    counts.unknown = unknown + sent.saturating_sub(counts.replayed + failed + unknown);
    Ok(counts)
}

/// Hands one line to the producer (or counts it skipped). `None` when `cancel` stopped it
/// while the producer's queue was full.
fn send(
    producer: &ThreadedProducer<ReplayContext>,
    line: &DeadLine,
    at: At,
    options: &ReplayOptions,
    cancel: &CancellationToken,
    counts: &mut ReplayCounts,
) -> Option<Fate> {
    let topic = match (line.sink.as_str(), line.topic.as_deref()) {
        ("kafka", Some(topic)) => topic,
        _ => {
            counts.skipped_other_sink += 1;
            return Some(Fate::Skipped);
        }
    };
    if line.outcome == Outcome::Unknown && !options.include_unknown {
        counts.skipped_unknown += 1;
        return Some(Fate::Skipped);
    }
    let mut headers = OwnedHeaders::new();
    for (name, value) in line.headers.iter().flatten() {
        headers = headers.insert(Header {
            key: name,
            value: value.as_str(),
        });
    }
    let mut record: BaseRecord<'_, [u8], [u8], usize> =
        BaseRecord::with_opaque_to(topic, at.number as usize)
            .payload(line.event.get().as_bytes())
            .headers(headers);
    record.key = line.key.as_deref().map(str::as_bytes);
    record.timestamp = line.timestamp_ms;
    loop {
        match producer.send(record) {
            Ok(()) => return Some(Fate::Sent),
            // A stop must reach the flush even while the queue stays full (broker down).
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _))
                if cancel.is_cancelled() =>
            {
                return None
            }
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                record = back;
                std::thread::sleep(Duration::from_millis(1));
            }
            Err((error, _)) => {
                tracing::error!(%error, topic, "Kafka refused a replayed event.");
                counts.failed += 1;
                return Some(Fate::Refused);
            }
        }
    }
}

/// Waits for every delivery report; past `timeout`, gives up on what is left (reported
/// failed or unknown). False when it had to give up.
fn flush(producer: &ThreadedProducer<ReplayContext>, timeout: Duration) -> bool {
    if producer.flush(timeout).is_ok() {
        return true;
    }
    producer.purge(PurgeConfig::default().queue().inflight());
    let _ = producer.flush(Duration::from_secs(5));
    false
}

/// Moves `progress` past the batch's settled lines, once every report of the batch is in.
/// True when a line of the batch is not settled (failed): the replay stops there, and a
/// later one starts from it, skipping the settled lines after it.
fn settle(
    producer: &ThreadedProducer<ReplayContext>,
    batch: &mut Vec<(At, Fate)>,
    done_before: &mut Vec<u64>,
    progress: &mut Progress,
) -> bool {
    let reported: std::collections::HashSet<u64> = producer
        .context()
        .settled
        .lock()
        .map(|mut s| s.drain(..).collect())
        .unwrap_or_default();
    let settled = |(at, fate): &(At, Fate)| match fate {
        Fate::Skipped => true,
        Fate::Sent => reported.contains(&at.number),
        Fate::Refused => false,
    };
    let failed = match batch.iter().position(|e| !settled(e)) {
        None => {
            if let Some((last, _)) = batch.last() {
                progress.offset = last.end;
                progress.lines = last.number;
            }
            false
        }
        Some(i) => {
            let head = batch[i].0;
            progress.offset = head.start;
            progress.lines = head.number - 1;
            let after = batch[i + 1..].iter().filter(|e| settled(e));
            done_before.extend(after.map(|(at, _)| at.number));
            true
        }
    };
    done_before.retain(|n| *n > progress.lines);
    done_before.sort_unstable();
    done_before.dedup();
    progress.settled_after = done_before.clone();
    batch.clear();
    failed
}

/// `kafka-gen replay`: 0 when every replayed event was delivered, 1 when some were not or the
/// broker is unreachable, 2 for bad input (an unreadable file, bad client settings).
pub fn run(
    path: &Path,
    config: &KafkaConfig,
    options: &ReplayOptions,
    cancel: &CancellationToken,
) -> anyhow::Result<ExitCode> {
    let counts = replay(config, path, options, cancel)?;
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
            progress = %progress::sidecar(path).display(),
            "Stopped before the end of the file; run the same replay again to go on from there (--restart starts over)."
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
