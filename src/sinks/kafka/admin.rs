//! Start-up checks against the cluster: is it reachable, do the topics exist, and (with
//! `--create-topics`) creating the missing ones. Everything here fails fast with a message
//! that says what to check, instead of a hang or a timeout after the first send.

use std::time::Duration;

use anyhow::{bail, Context};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::{Client, ClientContext, DefaultClientContext};
use rdkafka::config::FromClientConfigAndContext;
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::metadata::Metadata;
use rdkafka::producer::{Producer, ProducerContext};

use super::config::KafkaConfig;
use crate::exit::RunFailedExt;
use crate::scenario::EventTypeSpec;

/// Creates a producer with the sink's settings, checks that the cluster answers and that the
/// topics exist (creating them if configured), and returns it with the topic of each type.
/// Errors name the address and what to check.
pub fn connect<C, PC, P>(
    config: &KafkaConfig,
    types: &[EventTypeSpec],
    context: C,
) -> anyhow::Result<(P, Vec<String>)>
where
    C: ClientContext,
    PC: ProducerContext,
    P: Producer<PC> + FromClientConfigAndContext<C>,
{
    config.validate(types)?;
    let producer: P = config
        .producer_config()
        .create_with_context(context)
        .with_context(|| {
            format!(
                "invalid Kafka client settings for {}",
                config.bootstrap_servers
            )
        })?;
    let topics = config.topics_for(types);
    let metadata = check_reachable(producer.client(), config)?;
    ensure_topics(&metadata, config, &topics)?;
    Ok((producer, topics))
}

/// Asks the cluster for its metadata, bounded by `startup_timeout_secs`.
pub fn check_reachable<C: ClientContext>(
    client: &Client<C>,
    config: &KafkaConfig,
) -> anyhow::Result<Metadata> {
    let timeout = Duration::from_secs_f64(config.startup_timeout_secs);
    // All topics (None): asking for our topics by name could make a broker auto-create them.
    // A broker that does not answer fails the run (exit 1), even at start-up: the address may
    // be right and the broker down.
    let metadata = client.fetch_metadata(None, timeout).map_err(|error| {
        anyhow::anyhow!(
            "cannot reach Kafka at {} within {:.0}s ({error}); check that the broker is up, that the \
             address is right (--bootstrap-servers or KAFKA_GEN_BOOTSTRAP_SERVERS), and that the \
             security settings ([kafka.security]) match the broker's listener",
            config.bootstrap_servers,
            timeout.as_secs_f64()
        )
    });
    metadata.run_failed()
}

/// Topics of `wanted` the metadata does not list.
pub fn missing_topics(metadata: &Metadata, wanted: &[String]) -> Vec<String> {
    let mut missing: Vec<String> = wanted
        .iter()
        .filter(|t| {
            !metadata
                .topics()
                .iter()
                .any(|m| m.name() == t.as_str() && m.error().is_none())
        })
        .cloned()
        .collect();
    missing.sort();
    missing.dedup();
    missing
}

/// Makes sure every topic exists, creating missing ones when the config allows it.
pub fn ensure_topics(
    metadata: &Metadata,
    config: &KafkaConfig,
    topics: &[String],
) -> anyhow::Result<()> {
    let missing = missing_topics(metadata, topics);
    if missing.is_empty() {
        return Ok(());
    }
    if !config.create_topics {
        bail!(
            "topic(s) {} do not exist at {}; create them, or pass --create-topics (or set \
             kafka.create_topics = true) to let kafka-gen create them with {} partition(s), \
             replication factor {}",
            missing.join(", "),
            config.bootstrap_servers,
            config.partitions,
            config.replication_factor
        );
    }
    create_topics(config, &missing)
}

/// Creates `names` through the admin API; topics that appeared meanwhile are fine.
fn create_topics(config: &KafkaConfig, names: &[String]) -> anyhow::Result<()> {
    let admin: AdminClient<DefaultClientContext> =
        config.client_config().create().with_context(|| {
            format!(
                "cannot create a Kafka admin client for {}",
                config.bootstrap_servers
            )
        })?;
    let timeout = Duration::from_secs_f64(config.startup_timeout_secs.max(10.0));
    let new: Vec<NewTopic<'_>> = names
        .iter()
        .map(|n| {
            NewTopic::new(
                n,
                config.partitions,
                TopicReplication::Fixed(config.replication_factor),
            )
        })
        .collect();
    let options = AdminOptions::new()
        .request_timeout(Some(timeout))
        .operation_timeout(Some(timeout));
    // The admin future is completed by librdkafka's own thread; any executor can wait for it.
    // A private one on a scoped thread keeps this callable from sync code inside tokio.
    let results = std::thread::scope(|s| {
        s.spawn(|| {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            anyhow::Ok(runtime.block_on(admin.create_topics(&new, &options)))
        })
        .join()
        .map_err(|_| anyhow::anyhow!("topic creation thread panicked"))?
    })?
    .with_context(|| format!("cannot create topics at {}", config.bootstrap_servers))?;
    for result in results {
        match result {
            Ok(topic) => tracing::info!(
                topic,
                partitions = config.partitions,
                replication_factor = config.replication_factor,
                "Created topic."
            ),
            Err((topic, RDKafkaErrorCode::TopicAlreadyExists)) => {
                tracing::info!(topic, "Topic already exists; left alone.")
            }
            Err((topic, code)) => bail!(
                "cannot create topic {topic} at {} ({code}); check the broker's permissions and that \
                 the replication factor ({}) is not above the number of brokers",
                config.bootstrap_servers,
                config.replication_factor
            ),
        }
    }
    Ok(())
}
