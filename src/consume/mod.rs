//! `kafka-gen consume`: a consumer that joins a group on the scenario's topics and checks the
//! data contract live, so a user can see whether what arrives is complete and consistent.
//!
//! - `client`: librdkafka settings, lag from client statistics, `--from-beginning`, topics.
//! - `queues`: each assigned partition's own queue, which the flow control leaves unread.
//! - `arrival`: per-record checks on arrival (JSON, envelope, topic, key, per-key order).
//! - `reorder`: the buffer that restores event-time order across topics (the rule is there).
//! - `tally`: counts, the stats line, the summary and its JSON.
//!
//! Records pass the arrival checks, wait in the reorder buffer, and then go through the
//! scenario's [`ContractChecker`](crate::scenario::ContractChecker) in event-time order.

pub mod arrival;
pub mod client;
pub mod queues;
pub mod reorder;
pub mod tally;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::error::KafkaResult;
use rdkafka::message::BorrowedMessage;
use rdkafka::Message;
use tokio_util::sync::CancellationToken;

use crate::cli::ConsumeArgs;
use crate::exit::BadInputExt;
use crate::report::SummaryFile;
use crate::scenario::{self, ContractChecker};
use crate::sinks::kafka::KafkaConfig;
use arrival::ArrivalChecks;
use client::CheckContext;
use reorder::{Location, Reorder};
use tally::Tally;

/// How often the loop wakes without records, to release, print stats and notice idleness.
const TICK: Duration = Duration::from_millis(200);

/// The resolved options of a consumer run.
#[derive(Debug, Clone)]
pub struct ConsumeOptions {
    /// `[kafka]`: brokers, security and topic names, as a run produces with.
    pub kafka: KafkaConfig,
    /// The scenario or world file whose topics and data contract are checked.
    pub scenario: String,
    /// The master data events must refer to.
    pub data_dir: PathBuf,
    /// Seconds between stats lines on stderr; 0 turns them off.
    pub stats_interval_secs: f64,
    pub group_id: String,
    pub from_beginning: bool,
    /// Stop once no record arrived for this long.
    pub until_idle: Option<Duration>,
    /// How long a caught-up partition may stay silent before it stops holding records back.
    pub reorder_grace: Duration,
    /// Records one partition may have waiting in the reorder buffer before its queue is no
    /// longer read.
    pub reorder_buffer: usize,
    /// How long to wait for the topics to exist, and then for partitions to be assigned.
    pub topic_wait: Duration,
    pub summary_json: Option<PathBuf>,
}

fn secs(value: f64, flag: &str, allow_zero: bool) -> anyhow::Result<Duration> {
    if !value.is_finite() || value < 0.0 || (!allow_zero && value == 0.0) || value > 1e9 {
        let bound = if allow_zero { ">= 0" } else { "> 0" };
        bail!("{flag} is {value}; it must be a number of seconds {bound}");
    }
    Ok(Duration::from_secs_f64(value))
}

/// `--reorder-buffer`: enough records that a partition reads a batch before it is held back,
/// few enough that twice as many per partition fit in memory.
fn reorder_buffer(value: u64) -> anyhow::Result<usize> {
    const RANGE: std::ops::RangeInclusive<u64> = 10..=1_000_000;
    if !RANGE.contains(&value) {
        bail!(
            "--reorder-buffer is {value}; it must be {} to {} records per partition (default 2000)",
            RANGE.start(),
            RANGE.end()
        );
    }
    usize::try_from(value).context("--reorder-buffer does not fit this machine's memory")
}

impl ConsumeOptions {
    /// `consume`'s flags on top of the sections it is handed: `[kafka]`, the world and its
    /// master data, and the stats interval of the resolved configuration.
    pub fn new(
        args: &ConsumeArgs,
        kafka: KafkaConfig,
        scenario: String,
        data_dir: PathBuf,
        stats_interval_secs: f64,
    ) -> anyhow::Result<Self> {
        // The configuration checks `[kafka]` only when a run's sinks include Kafka; consume
        // always uses it (an unchecked startup_timeout_secs = 1e300 panicked in Duration).
        kafka.validate(scenario::find(&scenario)?.event_types())?;
        if args.group_id.trim().is_empty() {
            bail!("--group-id is empty; name a consumer group, e.g. kafka-gen-consume");
        }
        Ok(Self {
            kafka,
            scenario,
            data_dir,
            stats_interval_secs,
            group_id: args.group_id.clone(),
            from_beginning: args.from_beginning,
            until_idle: args
                .until_idle
                .map(|s| secs(s, "--until-idle", false))
                .transpose()?,
            reorder_grace: secs(args.reorder_grace, "--reorder-grace", true)?,
            reorder_buffer: reorder_buffer(args.reorder_buffer)?,
            topic_wait: secs(args.topic_wait, "--topic-wait", true)?,
            summary_json: args.summary_json.clone(),
        })
    }
}

/// What a consumer run saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub records: u64,
    pub violations: u64,
    /// Why the check itself failed (no verdict can be given: exit 1), e.g. no partition was
    /// ever assigned, or the run ended before reading what the partitions held.
    pub failure: Option<String>,
}

/// The checks a record goes through, and their counters.
struct Pipeline {
    arrival: ArrivalChecks,
    reorder: Reorder,
    checker: Box<dyn ContractChecker>,
    types: &'static [scenario::EventTypeSpec],
    tally: Tally,
    scratch: Vec<scenario::Violation>,
    /// Records held in the reorder buffer whose shape was reported on arrival (at most as
    /// many as it holds).
    misshapen: std::collections::HashSet<Location>,
}

impl Pipeline {
    fn arrive(&mut self, at: Location, key: Option<&[u8]>, payload: Option<&[u8]>, now: Instant) {
        self.tally.record(&at.topic);
        let arrived = self.arrival.check(&at, key, payload, &mut self.scratch);
        for v in std::mem::take(&mut self.scratch) {
            self.tally.violation(&v, Some(&at));
        }
        if let Some(a) = arrived {
            if a.misshapen {
                self.misshapen.insert(at.clone());
            }
            self.reorder.push(a.time_ms, a.derived, a.event, at, now);
        }
    }

    fn check(&mut self, pending: reorder::Pending) {
        if self.misshapen.remove(&pending.at) {
            self.checker.check_misshapen(&pending.event);
        } else {
            self.checker.check(&pending.event);
        }
        if let Some(t) = pending.event["event_type"]
            .as_str()
            .and_then(|name| self.types.iter().find(|t| t.name == name))
        {
            self.tally.checked(t.name);
        }
        // Taken after every event, so the checker holds none for long: the tally counts
        // them exactly and keeps a few examples of each kind.
        for v in self.checker.take_violations() {
            self.tally.violation(&v, Some(&pending.at));
        }
    }

    fn release(&mut self, now: Instant) {
        while let Some(p) = self.reorder.pop_ready(now) {
            self.check(p);
        }
    }

    fn finish(&mut self) {
        for p in self.reorder.drain() {
            self.check(p);
        }
        self.checker.finish();
        for v in self.checker.take_violations() {
            self.tally.violation(&v, None);
        }
    }
}

/// Consumes and checks until cancelled or, with `until_idle`, until the topics are quiet.
pub async fn consume(opts: &ConsumeOptions, cancel: CancellationToken) -> anyhow::Result<Outcome> {
    // Start-up: what the user gave is checked before the first record (bad input, exit 2),
    // the summary path included; an unreachable broker fails the run (marked where found).
    let summary_file = opts
        .summary_json
        .as_deref()
        .map(SummaryFile::create)
        .transpose()
        .bad_input()?;
    let scenario = scenario::find(&opts.scenario).bad_input()?;
    let types = scenario.event_types();
    let checker = scenario
        .checker(&opts.data_dir, opts.from_beginning)
        .bad_input()?;
    let topics = opts.kafka.topics_for(types);
    let consumer: StreamConsumer<CheckContext> =
        client::consumer_config(&opts.kafka, &opts.group_id, opts.from_beginning)
            .create_with_context(CheckContext::new(opts.from_beginning))
            .context("cannot create the Kafka consumer; check [kafka.librdkafka]")
            .bad_input()?;
    // In an Arc, so that the rebalance callback can split each partition's queue.
    let consumer = Arc::new(consumer);
    consumer.context().queues.attach(&consumer);
    let _clear = ClearQueues(&consumer);
    tokio::task::block_in_place(|| {
        client::wait_for_topics(consumer.client(), &opts.kafka, &topics, opts.topic_wait)
    })
    .bad_input()?;
    let mut unique: Vec<&str> = topics.iter().map(String::as_str).collect();
    unique.sort_unstable();
    unique.dedup();
    consumer
        .subscribe(&unique)
        .with_context(|| format!("cannot subscribe to {}", unique.join(", ")))?;
    tracing::info!(group = %opts.group_id, topics = %unique.join(","), from_beginning = opts.from_beginning, "Consuming.");

    let start = Instant::now();
    let mut pipeline = Pipeline {
        arrival: ArrivalChecks::new(scenario, topics.clone()),
        reorder: Reorder::new(opts.reorder_grace, opts.reorder_buffer),
        checker,
        types,
        tally: Tally::new(start),
        scratch: Vec::new(),
        misshapen: Default::default(),
    };
    let stats_every = Duration::from_secs_f64(opts.stats_interval_secs);
    // Idle time counts only once partitions are assigned (issue 10: a slow group join made
    // `--until-idle` end a run that had read nothing, with exit 0).
    let mut last_record: Option<Instant> = None;
    let mut failure = None;
    let mut errors = 0u64;
    // The assigned partitions' queues; records of a partition read from them, in order.
    let mut reading: Vec<queues::Reading<CheckContext>> = Vec::new();
    // Records read from one queue before the others get their turn; a partition may exceed
    // its bound by less than this before it is held back.
    let batch = (opts.reorder_buffer / 4).clamp(1, 64);
    while !cancel.is_cancelled() {
        // Events (rebalances, statistics, errors) are served on the main queue, so it is read
        // on every round, then each partition queue the flow control does not hold.
        let mut reads = Vec::new();
        if let Some(read) = queues::now(consumer.recv()) {
            reads.push(take(&mut pipeline, &consumer, &mut errors, read));
        }
        for r in reading.iter().filter(|r| !r.held) {
            for _ in 0..batch {
                let Some(read) = queues::now(r.queue.recv()) else {
                    break;
                };
                reads.push(take(&mut pipeline, &consumer, &mut errors, read));
            }
        }
        if reads.is_empty() {
            if let Some(read) = queues::first(&consumer, &reading, TICK).await {
                reads.push(take(&mut pipeline, &consumer, &mut errors, read));
            }
        }
        let now = Instant::now();
        if let Some(fatal) = reads.iter().find_map(|r| r.clone().err()) {
            failure = Some(fatal);
            break;
        }
        if reads.contains(&Ok(true)) {
            last_record = Some(now);
        }
        if let Some(rewound) = consumer.context().take_change() {
            let assigned = tokio::task::block_in_place(|| {
                client::assignment(&*consumer, rewound, opts.from_beginning)
            });
            let backlog: i64 = assigned.iter().map(|a| (a.high - a.start).max(0)).sum();
            tracing::info!(
                partitions = assigned.len(),
                backlog,
                "Reading the assigned partitions."
            );
            if !assigned.is_empty() && last_record.is_none() {
                last_record = Some(now);
            }
            // Both start with every partition read.
            pipeline.reorder.assign(&assigned, now);
            reading = consumer.context().queues.retain(&assigned);
        }
        if let Some(lags) = consumer.context().take_lags() {
            let mut total = 0;
            for ((topic, partition), lag) in lags {
                total += lag.unwrap_or(0).max(0);
                pipeline.reorder.set_lag(&topic, partition, lag, now);
            }
            pipeline.tally.lag = Some(total);
        }
        pipeline.release(now);
        let changes = pipeline.reorder.flow(now);
        for c in &changes {
            // A partition without a queue of its own (librdkafka refused to split it) comes
            // through the main queue, which is always read.
            if let Some(r) = reading
                .iter_mut()
                .find(|r| r.partition == c.partition && r.topic == c.topic)
            {
                r.held = c.pause;
            }
        }
        if last_record.is_some() && changes.iter().any(|c| !c.pause) {
            // A partition read again has records to deliver: idle time counts from here.
            last_record = Some(now);
        }
        if pipeline.tally.due(now, stats_every) {
            pipeline
                .tally
                .line(now, pipeline.reorder.len(), pipeline.reorder.paused());
        }
        let Some(mut idle) = opts.until_idle else {
            continue;
        };
        if pipeline.reorder.paused() > 0 {
            // Held partitions wait for one that holds the watermark, which is released once
            // quiet for the grace (then they are read again): that silence is the buffer's.
            idle = idle.max(opts.reorder_grace + TICK);
        }
        match last_record {
            Some(last) if now.duration_since(last) >= idle => {
                if !pipeline.reorder.caught_up() {
                    failure = Some(format!(
                        "no record arrived for {:.0}s before the assigned partitions were read up \
                         to their end at assignment; the broker may be slow or unreachable",
                        idle.as_secs_f64()
                    ));
                }
                tracing::info!("No records for the idle time; finishing.");
                break;
            }
            None if now.duration_since(start) >= opts.topic_wait + idle => {
                failure = Some(format!(
                    "no partition was assigned to group {} within {:.0}s; another consumer of \
                     the group may hold them (try a new --group-id), or raise --topic-wait",
                    opts.group_id,
                    (opts.topic_wait + idle).as_secs_f64()
                ));
                break;
            }
            _ => {}
        }
    }
    pipeline.finish();
    let tally = &pipeline.tally;
    let (late, unchecked) = (pipeline.reorder.late, pipeline.reorder.unchecked);
    if unchecked > 0 && failure.is_none() {
        failure = Some(format!(
            "{unchecked} records did not fit the reorder buffer ({} per partition) and went \
             unchecked; raise --reorder-buffer",
            2 * opts.reorder_buffer
        ));
    }
    tally.summary(late, unchecked);
    if let Some(file) = summary_file {
        // Opened at start-up; failing to write it now (a full disk) fails the run.
        file.write_value(&tally.json(late, unchecked))?;
    }
    if let Some(why) = &failure {
        tracing::error!(reason = %why, "The check failed; no verdict.");
    }
    // Closing the consumer (on drop) commits the final offsets, as auto-commit is on.
    Ok(Outcome {
        records: tally.records,
        violations: tally.violations(),
        failure,
    })
}

/// Drops the partition queues when the run ends, however it ends: each holds the consumer,
/// whose context holds them, and the consumer must close (committing its offsets).
struct ClearQueues<'a>(&'a StreamConsumer<CheckContext>);

impl Drop for ClearQueues<'_> {
    fn drop(&mut self) {
        self.0.context().queues.clear();
    }
}

/// Takes one read from a queue: a record goes through the pipeline (`Ok(true)`), an error is
/// logged (`Ok(false)`), and a fatal error of the client ends the run (`Err`, why).
fn take(
    pipeline: &mut Pipeline,
    consumer: &StreamConsumer<CheckContext>,
    errors: &mut u64,
    read: KafkaResult<BorrowedMessage<'_>>,
) -> Result<bool, String> {
    match read {
        Err(error) => {
            // A fatal error (e.g. a static member fenced by another with its
            // group.instance.id) stops the client for good: reading on would loop (issue 28).
            if let Some((code, reason)) = consumer.client().fatal_error() {
                return Err(format!(
                    "the Kafka client stopped on a fatal error ({code}: {reason}); if another \
                     consumer uses the same group.instance.id, give each its own"
                ));
            }
            *errors += 1;
            if *errors <= 5 {
                tracing::warn!(%error, "Kafka consumer error.");
            }
            Ok(false)
        }
        Ok(msg) => {
            let at = Location {
                topic: msg.topic().to_string(),
                partition: msg.partition(),
                offset: msg.offset(),
            };
            pipeline.arrive(at, msg.key(), msg.payload(), Instant::now());
            Ok(true)
        }
    }
}
