//! `[kafka]` in the config file: typed options for what kafka-gen relies on, plus a raw
//! `librdkafka` map applied last for everything else. Secrets print as `***redacted***`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::bail;
use rdkafka::ClientConfig;
use serde::{Deserialize, Serialize};

pub use super::security::{RawOptions, Secret, SecurityConfig, REDACTED};
use crate::scenario::EventTypeSpec;

/// Acknowledgements the producer waits for (`acks`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Acks {
    /// Every in-sync replica has the record; required for idempotence.
    All,
    /// The partition leader has it.
    Leader,
    /// Fire and forget.
    None,
}

/// Batch compression (`compression.type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    None,
    Gzip,
    Snappy,
    Lz4,
    Zstd,
}

/// Which headers each record carries (`headers`, `--kafka-headers`,
/// `KAFKA_GEN_KAFKA_HEADERS`). Every value is also in the JSON payload; headers let a consumer
/// route or filter without parsing it, and cost producer throughput (about a third of a plain
/// producer's on one broker; issue 10).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum HeaderSet {
    /// `event_type`, `schema_version`, `content-type` and `producer`.
    #[default]
    All,
    /// Only `event_type`, enough to route by type.
    #[value(name = "event_type", alias = "event-type")]
    EventType,
    /// No headers.
    None,
}

/// The `kafka` sink (`[kafka]` in the config file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KafkaConfig {
    /// Comma-separated `host:port` list (`--bootstrap-servers`, `KAFKA_GEN_BOOTSTRAP_SERVERS`).
    pub bootstrap_servers: String,
    /// Topic per event type name; unnamed types use the scenario's default topic.
    pub topics: BTreeMap<String, String>,
    /// Create missing topics at start-up (`--create-topics`); existing ones are left alone.
    pub create_topics: bool,
    /// Partitions of topics kafka-gen creates.
    pub partitions: i32,
    /// Replication factor of topics kafka-gen creates.
    pub replication_factor: i32,
    /// Acknowledgements to wait for: `all`, `leader` or `none`.
    pub acks: Acks,
    /// Idempotent producer: retries never duplicate or reorder records. Needs `acks = "all"`.
    pub enable_idempotence: bool,
    /// Batch compression: `none`, `gzip`, `snappy`, `lz4` or `zstd`.
    pub compression: Compression,
    /// How long to wait for more records before sending a batch, in milliseconds.
    pub linger_ms: u32,
    /// Largest batch sent to one partition, in bytes.
    pub batch_size_bytes: u32,
    /// Most records held by the producer (queued or in flight); beyond this the generator waits.
    pub queue_max_messages: u32,
    /// Most record bytes held by the producer, in KiB; beyond this the generator waits.
    pub queue_max_kbytes: u32,
    /// How long a record may take to be acknowledged, retries included, before it fails, in ms.
    pub message_timeout_ms: u32,
    /// How long the start-up check may wait for the cluster to answer, in seconds.
    pub startup_timeout_secs: f64,
    /// Where undeliverable events are appended as JSON lines (`--dead-letter`); created only
    /// when something fails.
    pub dead_letter_path: PathBuf,
    /// TLS and SASL.
    pub security: SecurityConfig,
    /// Headers on each record: `all` (event_type, schema_version, content-type, producer),
    /// `event_type`, or `none`.
    pub headers: HeaderSet,
    /// Any other librdkafka property, applied last. Keys set by a typed option are rejected.
    pub librdkafka: RawOptions,
}

impl Default for KafkaConfig {
    fn default() -> Self {
        Self {
            bootstrap_servers: "127.0.0.1:9092".into(),
            topics: BTreeMap::new(),
            create_topics: false,
            partitions: 3,
            replication_factor: 1,
            acks: Acks::All,
            enable_idempotence: true,
            compression: Compression::Lz4,
            linger_ms: 5,
            batch_size_bytes: 1_000_000,
            queue_max_messages: 100_000,
            queue_max_kbytes: 65_536,
            message_timeout_ms: 300_000,
            startup_timeout_secs: 5.0,
            dead_letter_path: PathBuf::from("kafka-gen-dead-letter.jsonl"),
            security: SecurityConfig::default(),
            headers: HeaderSet::All,
            librdkafka: RawOptions::default(),
        }
    }
}

/// librdkafka keys the typed options own, with the option to use instead. Aliases included.
const TYPED_KEYS: &[(&str, &str)] = &[
    ("bootstrap.servers", "bootstrap_servers"),
    ("metadata.broker.list", "bootstrap_servers"),
    ("acks", "acks"),
    ("request.required.acks", "acks"),
    ("enable.idempotence", "enable_idempotence"),
    ("compression.type", "compression"),
    ("compression.codec", "compression"),
    ("linger.ms", "linger_ms"),
    ("queue.buffering.max.ms", "linger_ms"),
    ("batch.size", "batch_size_bytes"),
    ("queue.buffering.max.messages", "queue_max_messages"),
    ("queue.buffering.max.kbytes", "queue_max_kbytes"),
    ("message.timeout.ms", "message_timeout_ms"),
    ("delivery.timeout.ms", "message_timeout_ms"),
    // Delivery counting needs a report for every record, successes included.
    (
        "delivery.report.only.error",
        "(none: kafka-gen needs every delivery report)",
    ),
];

/// Keys the security options own when they are set.
const SECURITY_KEYS: &[(&str, &str)] = &[
    ("security.protocol", "security.protocol"),
    ("sasl.mechanism", "security.sasl_mechanism"),
    ("sasl.mechanisms", "security.sasl_mechanism"),
    ("sasl.username", "security.sasl_username"),
    ("sasl.password", "security.sasl_password"),
    ("ssl.ca.location", "security.ssl_ca_path"),
    ("ssl.certificate.location", "security.ssl_certificate_path"),
    ("ssl.key.location", "security.ssl_key_path"),
    ("ssl.key.password", "security.ssl_key_password"),
];

impl KafkaConfig {
    /// The topic of each event type, in the scenario's table order.
    pub fn topics_for(&self, types: &[EventTypeSpec]) -> Vec<String> {
        types
            .iter()
            .map(|t| {
                self.topics
                    .get(t.name)
                    .cloned()
                    .unwrap_or_else(|| t.default_topic.to_string())
            })
            .collect()
    }

    /// Checks the options; messages name the option and the bad value.
    pub fn validate(&self, types: &[EventTypeSpec]) -> anyhow::Result<()> {
        if self.bootstrap_servers.trim().is_empty() {
            bail!("kafka bootstrap servers are empty; pass --bootstrap-servers HOST:PORT");
        }
        for (name, topic) in &self.topics {
            if !types.iter().any(|t| t.name == *name) {
                let known: Vec<_> = types.iter().map(|t| t.name).collect();
                bail!(
                    "[kafka.topics] names unknown event type {name:?}; known types: {}",
                    known.join(", ")
                );
            }
            if topic.is_empty()
                || topic.len() > 249
                || !topic
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
            {
                bail!("topic {topic:?} for {name:?} is not a valid Kafka topic name (1-249 of a-z A-Z 0-9 . _ -)");
            }
        }
        self.check_ranges()?;
        if self.enable_idempotence && self.acks != Acks::All {
            bail!(
                "kafka.enable_idempotence needs kafka.acks = \"all\" (it is {:?})",
                self.acks
            );
        }
        let security_set = self.security_properties();
        for key in self.librdkafka.0.keys() {
            if let Some((_, typed)) = TYPED_KEYS.iter().find(|(k, _)| k == key) {
                bail!("[kafka.librdkafka] sets {key:?}, which the typed option kafka.{typed} controls; set that instead");
            }
            if let Some((k, typed)) = SECURITY_KEYS.iter().find(|(k, _)| k == key) {
                if security_set.iter().any(|(set, _)| {
                    set == k || (k.starts_with("sasl.mechanism") && set == &"sasl.mechanism")
                }) {
                    bail!("[kafka.librdkafka] sets {key:?}, which kafka.{typed} also sets; keep only one");
                }
            }
        }
        Ok(())
    }

    /// Every number in range: librdkafka's own ranges where it has them, so a bad value is
    /// named here rather than by the client at connect time.
    /// The section's numbers, which hold whether or not a run produces: a config file's
    /// `[kafka]` is checked at load even when the sink is not used (issue 28).
    pub fn check_ranges(&self) -> anyhow::Result<()> {
        use crate::bounds::{check, check_whole};
        const FIX: &str = "config file [kafka]";
        const I32: i128 = i32::MAX as i128;
        let whole = |v: i128, range, what, unit| check_whole(v, range, what, unit, FIX);
        whole(
            self.partitions.into(),
            (1, 100_000),
            "kafka.partitions",
            "partitions",
        )?;
        whole(
            self.replication_factor.into(),
            (1, 32_767),
            "kafka.replication_factor",
            "replicas",
        )?;
        whole(self.linger_ms.into(), (0, 900_000), "kafka.linger_ms", "ms")?;
        whole(
            self.batch_size_bytes.into(),
            (1, I32),
            "kafka.batch_size_bytes",
            "bytes",
        )?;
        whole(
            self.queue_max_messages.into(),
            (1, I32),
            "kafka.queue_max_messages",
            "messages",
        )?;
        whole(
            self.queue_max_kbytes.into(),
            (1, I32),
            "kafka.queue_max_kbytes",
            "KiB",
        )?;
        whole(
            self.message_timeout_ms.into(),
            (0, I32),
            "kafka.message_timeout_ms",
            "ms",
        )?;
        let startup = self.startup_timeout_secs;
        check(
            startup,
            (0.1, 3600.0),
            "kafka.startup_timeout_secs",
            "seconds",
            FIX,
        )
    }

    fn security_properties(&self) -> Vec<(&'static str, String)> {
        let s = &self.security;
        let path = |p: &Option<PathBuf>| p.as_ref().map(|p| p.display().to_string());
        [
            ("security.protocol", s.protocol.clone()),
            ("sasl.mechanism", s.sasl_mechanism.clone()),
            ("sasl.username", s.sasl_username.clone()),
            (
                "sasl.password",
                s.sasl_password.as_ref().map(|p| p.expose().to_string()),
            ),
            ("ssl.ca.location", path(&s.ssl_ca_path)),
            ("ssl.certificate.location", path(&s.ssl_certificate_path)),
            ("ssl.key.location", path(&s.ssl_key_path)),
            (
                "ssl.key.password",
                s.ssl_key_password.as_ref().map(|p| p.expose().to_string()),
            ),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect()
    }

    /// Connection settings shared by the producer and the admin client.
    pub fn client_config(&self) -> ClientConfig {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", &self.bootstrap_servers)
            .set("client.id", "kafka-gen");
        for (k, v) in self.security_properties() {
            c.set(k, v);
        }
        for (k, v) in &self.librdkafka.0 {
            c.set(k, v);
        }
        c
    }

    /// Producer settings: the connection, the typed options, then the raw map.
    pub fn producer_config(&self) -> ClientConfig {
        let mut c = self.client_config();
        let acks = match self.acks {
            Acks::All => "all",
            Acks::Leader => "1",
            Acks::None => "0",
        };
        let compression = match self.compression {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Snappy => "snappy",
            Compression::Lz4 => "lz4",
            Compression::Zstd => "zstd",
        };
        c.set("acks", acks)
            .set("enable.idempotence", self.enable_idempotence.to_string())
            .set("compression.type", compression)
            .set("linger.ms", self.linger_ms.to_string())
            .set("batch.size", self.batch_size_bytes.to_string())
            .set(
                "queue.buffering.max.messages",
                self.queue_max_messages.to_string(),
            )
            .set(
                "queue.buffering.max.kbytes",
                self.queue_max_kbytes.to_string(),
            )
            .set("message.timeout.ms", self.message_timeout_ms.to_string());
        // The raw map goes last so it wins over client defaults such as client.id.
        for (k, v) in &self.librdkafka.0 {
            c.set(k, v);
        }
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::retail::TYPES;

    #[test]
    fn defaults_are_the_issue_topics_and_safe_delivery() {
        let c = KafkaConfig::default();
        let topics = c.topics_for(TYPES);
        assert_eq!(topics[0], "retail-sales-transactions");
        assert_eq!(topics[4], "retail-restock-alerts");
        let p = c.producer_config();
        assert_eq!(p.get("acks"), Some("all"));
        assert_eq!(p.get("enable.idempotence"), Some("true"));
        assert_eq!(p.get("compression.type"), Some("lz4"));
        c.validate(TYPES).unwrap();
    }

    #[test]
    fn raw_keys_clashing_with_typed_ones_are_rejected() {
        let mut c = KafkaConfig::default();
        c.librdkafka.0.insert("linger.ms".into(), "50".into());
        let e = c.validate(TYPES).unwrap_err().to_string();
        assert!(
            e.contains("linger.ms") && e.contains("kafka.linger_ms"),
            "{e}"
        );

        let mut c = KafkaConfig::default();
        c.librdkafka.0.insert("sasl.password".into(), "x".into());
        c.validate(TYPES).unwrap();
        c.security.sasl_password = Some(Secret::new("y"));
        assert!(c
            .validate(TYPES)
            .unwrap_err()
            .to_string()
            .contains("sasl.password"));

        let mut c = KafkaConfig::default();
        c.topics.insert("refund".into(), "t".into());
        assert!(c
            .validate(TYPES)
            .unwrap_err()
            .to_string()
            .contains("\"refund\""));
    }

    #[test]
    fn secrets_are_redacted_in_debug_and_toml() {
        let mut c = KafkaConfig::default();
        c.security.sasl_password = Some(Secret::new("hunter2"));
        c.librdkafka
            .0
            .insert("ssl.keystore.password".into(), "hunter3".into());
        c.librdkafka
            .0
            .insert("socket.keepalive.enable".into(), "true".into());
        let printed = format!("{c:?}\n{}", toml::to_string(&c).unwrap());
        assert!(!printed.contains("hunter"), "{printed}");
        assert!(printed.contains(REDACTED) && printed.contains("socket.keepalive.enable"));
        assert_eq!(c.producer_config().get("sasl.password"), Some("hunter2"));
    }
}
