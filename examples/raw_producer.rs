//! The benchmark's baseline: a raw producer that sends pre-generated events from a JSON-lines
//! file (made by `kafka-gen --sink file --output ...`) with the same rdkafka, the same producer
//! settings (`KafkaConfig::default()`: acks=all, idempotence, lz4, linger, batch and queue
//! bounds), the same topics, keys, headers and timestamps, and no generation at all.
//!
//! The file is loaded and parsed before the clock starts; the timed part is only the sends
//! (many in flight, waiting on a full queue) and the final flush.
//!
//! `--headers all|event_type|none` picks the header set as `--kafka-headers` does (default
//! all). `--plain` sends every record to the first topic with no key and no headers: the
//! cheapest producer, against which the cost of kafka-gen's guarantees shows.
//!
//! cargo run --release --example raw_producer -- --bootstrap 127.0.0.1:9092 --input events.jsonl

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::ValueEnum;
use kafka_gen::scenario::retail::TYPES;
use kafka_gen::sinks::kafka::{HeaderSet, KafkaConfig};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use rdkafka::ClientContext;

struct Counter {
    delivered: AtomicU64,
    failed: AtomicU64,
}

impl ClientContext for Counter {}

impl ProducerContext for Counter {
    type DeliveryOpaque = usize;

    fn delivery(&self, result: &DeliveryResult<'_>, _type_index: usize) {
        let counter = if result.is_ok() {
            &self.delivered
        } else {
            &self.failed
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// One pre-parsed event: where its payload and key are in the loaded text, and its metadata.
struct Event {
    type_index: usize,
    time_ms: i64,
    payload: (usize, usize),
    key: (usize, usize),
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let bootstrap = arg(&args, "--bootstrap").unwrap_or_else(|| "127.0.0.1:9092".into());
    let input = arg(&args, "--input")
        .context("usage: raw_producer --bootstrap HOST:PORT --input FILE.jsonl [--headers all|event_type|none] [--plain]")?;
    let plain = args.iter().any(|a| a == "--plain");
    let header_set = match arg(&args, "--headers") {
        Some(v) => HeaderSet::from_str(&v, true)
            .map_err(|_| anyhow::anyhow!("--headers {v:?}: use all, event_type or none"))?,
        None => HeaderSet::All,
    };

    let text = std::fs::read_to_string(&input).with_context(|| format!("cannot read {input}"))?;
    let mut events = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches('\n');
        let v: serde_json::Value =
            serde_json::from_str(body).with_context(|| format!("bad line at byte {offset}"))?;
        let name = v["event_type"]
            .as_str()
            .context("event without event_type")?;
        let type_index = TYPES
            .iter()
            .position(|t| t.name == name)
            .context("unknown event type")?;
        let key_value = v[TYPES[type_index].key_field]
            .as_str()
            .context("event without its key field")?;
        let needle = format!("\"{}\":\"{}\"", TYPES[type_index].key_field, key_value);
        let at = body.find(&needle).context("key field not found verbatim")? + needle.len()
            - key_value.len()
            - 1;
        let time = v["event_time"]
            .as_str()
            .context("event without event_time")?;
        let time_ms = chrono::DateTime::parse_from_rfc3339(time)?.timestamp_millis();
        events.push(Event {
            type_index,
            time_ms,
            payload: (offset, offset + body.len()),
            key: (offset + at, offset + at + key_value.len()),
        });
        offset += line.len();
    }
    let bytes: usize = events.iter().map(|e| e.payload.1 - e.payload.0).sum();

    let config = KafkaConfig {
        bootstrap_servers: bootstrap.clone(),
        ..KafkaConfig::default()
    };
    let topics = config.topics_for(TYPES);
    // The same header lists the sink builds (sinks::kafka::headers_of), spelt out.
    let version = kafka_gen::event::SCHEMA_VERSION.to_string();
    let producer_header = concat!("kafka-gen/", env!("CARGO_PKG_VERSION"));
    let headers: Vec<Option<OwnedHeaders>> = TYPES
        .iter()
        .map(|t| {
            let event_type = Header {
                key: "event_type",
                value: Some(t.name),
            };
            match header_set {
                HeaderSet::None => None,
                HeaderSet::EventType => Some(OwnedHeaders::new_with_capacity(1).insert(event_type)),
                HeaderSet::All => Some(
                    OwnedHeaders::new_with_capacity(4)
                        .insert(event_type)
                        .insert(Header {
                            key: "schema_version",
                            value: Some(&version),
                        })
                        .insert(Header {
                            key: "content-type",
                            value: Some("application/json"),
                        })
                        .insert(Header {
                            key: "producer",
                            value: Some(producer_header),
                        }),
                ),
            }
        })
        .collect();
    let context = Counter {
        delivered: AtomicU64::new(0),
        failed: AtomicU64::new(0),
    };
    let producer: ThreadedProducer<Counter> =
        config.producer_config().create_with_context(context)?;
    producer
        .client()
        .fetch_metadata(None, Duration::from_secs(5))
        .context("broker unreachable")?;

    let started = Instant::now();
    let raw = text.as_bytes();
    for e in &events {
        let payload = &raw[e.payload.0..e.payload.1];
        let mut record = if plain {
            BaseRecord::with_opaque_to(&topics[0], e.type_index).payload(payload)
        } else {
            let record = BaseRecord::with_opaque_to(&topics[e.type_index], e.type_index)
                .key(&raw[e.key.0..e.key.1])
                .payload(payload)
                .timestamp(e.time_ms);
            match &headers[e.type_index] {
                Some(h) => record.headers(h.clone()),
                None => record,
            }
        };
        loop {
            match producer.send(record) {
                Ok(()) => break,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    record = back;
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err((error, _)) => bail!("send failed: {error}"),
            }
        }
    }
    producer.flush(Duration::from_secs(120))?;
    let secs = started.elapsed().as_secs_f64();
    let ctx = producer.context();
    let (delivered, failed) = (
        ctx.delivered.load(Ordering::Relaxed),
        ctx.failed.load(Ordering::Relaxed),
    );
    println!(
        "{{\"messages\":{},\"delivered\":{delivered},\"failed\":{failed},\"bytes\":{bytes},\"secs\":{secs:.3},\
         \"msgs_per_sec\":{:.0},\"mb_per_sec\":{:.1}}}",
        events.len(),
        events.len() as f64 / secs,
        bytes as f64 / secs / 1e6
    );
    if failed > 0 || delivered != events.len() as u64 {
        bail!("{failed} failed, {delivered} of {} delivered", events.len());
    }
    Ok(())
}
