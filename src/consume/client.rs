//! The Kafka side of the checking consumer: its librdkafka settings, a context that keeps the
//! per-partition lag from client statistics, rewinds the first assignment for
//! `--from-beginning` and gives each assigned partition its own queue, and waiting (bounded)
//! for the scenario's topics to exist.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rdkafka::client::ClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, RebalanceProtocol};
use rdkafka::error::KafkaError;
use rdkafka::statistics::Statistics;
use rdkafka::types::RDKafkaRespErr;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

use super::queues::Split;
use super::reorder::Assigned;
use crate::sinks::kafka::{admin, KafkaConfig};

/// Lag per (topic, partition): high watermark minus the next offset the application reads.
pub type Lags = HashMap<(String, i32), Option<i64>>;

/// Callbacks librdkafka runs on its own threads.
pub struct CheckContext {
    from_beginning: bool,
    rewound: AtomicBool,
    /// The assignment changed since the consumer loop last looked.
    changed: AtomicBool,
    /// The latest assignment was rewound to the beginning (`--from-beginning`).
    rewound_latest: AtomicBool,
    lags: Mutex<Option<Lags>>,
    /// Each assigned partition's own queue, split before it is assigned.
    pub queues: Split<CheckContext>,
}

impl CheckContext {
    pub fn new(from_beginning: bool) -> Self {
        Self {
            from_beginning,
            rewound: AtomicBool::new(false),
            changed: AtomicBool::new(false),
            rewound_latest: AtomicBool::new(false),
            lags: Mutex::new(None),
            queues: Split::default(),
        }
    }

    /// Whether the assignment changed since the last call, and whether that assignment was
    /// rewound to the beginning.
    pub fn take_change(&self) -> Option<bool> {
        self.changed
            .swap(false, Ordering::AcqRel)
            .then(|| self.rewound_latest.swap(false, Ordering::AcqRel))
    }

    /// The lags of the latest statistics, once (None when no new statistics arrived).
    pub fn take_lags(&self) -> Option<Lags> {
        self.lags.lock().ok().and_then(|mut l| l.take())
    }
}

impl ClientContext for CheckContext {
    fn stats(&self, statistics: Statistics) {
        let mut lags = Lags::new();
        for (name, topic) in statistics.topics {
            for (id, p) in topic.partitions {
                // Partition -1 is librdkafka's internal UA partition; skip unassigned ones.
                if id < 0 || p.fetch_state == "none" {
                    continue;
                }
                // Before the first record, a rewound partition reads from its start, whatever
                // the group committed earlier.
                let read_from = if p.app_offset >= 0 {
                    p.app_offset
                } else if self.from_beginning {
                    p.lo_offset
                } else {
                    p.lo_offset.max(p.committed_offset)
                };
                let lag = (p.hi_offset >= 0 && read_from >= 0).then(|| p.hi_offset - read_from);
                lags.insert((name.clone(), id), lag);
            }
        }
        if let Ok(mut slot) = self.lags.lock() {
            *slot = Some(lags);
        }
    }

    fn error(&self, error: KafkaError, reason: &str) {
        tracing::warn!(target: "librdkafka", %error, reason, "Kafka client error.");
    }
}

impl ConsumerContext for CheckContext {
    /// The default assignment, except that with `--from-beginning` the first assignment starts
    /// every partition at its beginning, whatever offsets the group committed before.
    fn rebalance(
        &self,
        consumer: &BaseConsumer<Self>,
        err: RDKafkaRespErr,
        tpl: &mut TopicPartitionList,
    ) {
        let cooperative = matches!(
            consumer.rebalance_protocol(),
            RebalanceProtocol::Cooperative
        );
        let result = match err {
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS => {
                if self.from_beginning && !self.rewound.swap(true, Ordering::Relaxed) {
                    match tpl.set_all_offsets(Offset::Beginning) {
                        Ok(()) => self.rewound_latest.store(true, Ordering::Release),
                        Err(error) => {
                            tracing::warn!(%error, "Cannot rewind the assignment to the beginning.")
                        }
                    }
                }
                tracing::info!(partitions = tpl.count(), "Partitions assigned.");
                // Before assigning, so that no record of theirs reaches the main queue.
                self.queues.split(tpl);
                if cooperative {
                    consumer.incremental_assign(tpl)
                } else {
                    consumer.assign(tpl)
                }
            }
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS => {
                tracing::info!(partitions = tpl.count(), "Partitions revoked.");
                if cooperative {
                    consumer.incremental_unassign(tpl)
                } else {
                    consumer.unassign()
                }
            }
            other => {
                tracing::error!(error = ?other, "Consumer group rebalance failed.");
                Ok(())
            }
        };
        if let Err(error) = result {
            tracing::error!(%error, "Cannot apply the partition assignment.");
        }
        self.changed.store(true, Ordering::Release);
    }
}

/// The consumer's current assignment, each partition with the offset reading starts from and
/// its high watermark now, so the reorder buffer knows how far it must read to catch up.
/// `rewound`: the assignment starts at the beginning; otherwise at the group's committed
/// offset, or where `auto.offset.reset` puts it (`earliest` with `--from-beginning`).
pub fn assignment<C: ConsumerContext, K: Consumer<C>>(
    consumer: &K,
    rewound: bool,
    earliest: bool,
) -> Vec<Assigned> {
    const TIMEOUT: Duration = Duration::from_secs(10);
    let tpl = match consumer.assignment() {
        Ok(tpl) => tpl,
        Err(error) => {
            tracing::warn!(%error, "Cannot read the partition assignment.");
            return Vec::new();
        }
    };
    let committed = if rewound {
        None
    } else {
        consumer.committed_offsets(tpl.clone(), TIMEOUT).ok()
    };
    let mut out = Vec::new();
    for e in tpl.elements() {
        let (topic, partition) = (e.topic(), e.partition());
        let (low, high) = match consumer.fetch_watermarks(topic, partition, TIMEOUT) {
            Ok(w) => w,
            Err(error) => {
                // Unknown: the partition then counts as caught up, as before issue 10.
                tracing::warn!(%error, topic, partition, "Cannot read a partition's watermarks.");
                (0, 0)
            }
        };
        let stored = committed
            .as_ref()
            .and_then(|c| c.find_partition(topic, partition))
            .and_then(|p| match p.offset() {
                Offset::Offset(n) => Some(n),
                _ => None,
            });
        let start = match stored {
            Some(n) => n,
            None if rewound || earliest => low,
            None => high,
        };
        out.push(Assigned {
            topic: topic.to_string(),
            partition,
            start,
            high,
        });
    }
    out
}

/// `queued.max.messages.kbytes` of the checking consumer: the most one partition's queue holds
/// before librdkafka stops fetching it (README, consume section). A queued record costs more
/// than its bytes (a librdkafka op each, and it keeps its whole fetch response alive): on a
/// 33-partition backfill, 2 MB peaked at 643 MB RSS, 1 MB at 392 MB (1.14x the time), 512 KB at
/// 330 MB (1.25x the time).
pub const QUEUED_KBYTES: &str = "1024";

/// librdkafka settings of the checking consumer: the shared connection settings, then the
/// group and what the checker needs.
pub fn consumer_config(kafka: &KafkaConfig, group_id: &str, from_beginning: bool) -> ClientConfig {
    let mut c = kafka.client_config();
    c.set("group.id", group_id)
        .set("client.id", "kafka-gen-consume")
        .set("enable.auto.commit", "true")
        .set(
            "auto.offset.reset",
            if from_beginning { "earliest" } else { "latest" },
        )
        .set("statistics.interval.ms", "1000")
        // A partition the reorder buffer reads again is fetched only once the fetch in flight
        // returns, and a fetch of caught-up partitions waits this long for data: librdkafka's
        // 500 ms made a backfill read through a small buffer crawl at ~80 records/s (issue 28).
        .set("fetch.wait.max.ms", "100")
        // Each partition has its own queue, and this bounds each (librdkafka's 64 MB default
        // would be 64 MB per partition): a partition whose queue the reorder buffer leaves
        // unread stops being fetched once its queue holds this much, plus the fetch in flight
        // (max.partition.fetch.bytes, 1 MB).
        .set("queued.max.messages.kbytes", QUEUED_KBYTES)
        .set("enable.partition.eof", "false");
    // The raw map goes last, as for the producer.
    for (k, v) in &kafka.librdkafka.0 {
        c.set(k, v);
    }
    c
}

/// Waits until every topic exists, polling the metadata once a second, for at most `wait`.
pub fn wait_for_topics<C: ClientContext>(
    client: &rdkafka::client::Client<C>,
    kafka: &KafkaConfig,
    topics: &[String],
    wait: Duration,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + wait;
    let mut logged = false;
    loop {
        let metadata = admin::check_reachable(client, kafka)?;
        let missing = admin::missing_topics(&metadata, topics);
        if missing.is_empty() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            anyhow::bail!(
                "topics {} do not exist on {} after waiting {:.0}s; start the generator with \
                 --create-topics, or raise --topic-wait",
                missing.join(", "),
                kafka.bootstrap_servers,
                wait.as_secs_f64()
            );
        }
        if !logged {
            tracing::info!(missing = %missing.join(","), "Waiting for the topics to be created.");
            logged = true;
        }
        std::thread::sleep(Duration::from_secs(1));
    }
}
