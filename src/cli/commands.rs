//! The flags of the subcommands other than a run: `ingest`, `replay`, `master`, `consume` and
//! `serve`. Those that resolve through the run's configuration reuse its flags' names and
//! variables.

use std::path::PathBuf;

use clap::Args;

use super::shared::{
    AuthArgs, BrokerArgs, ConfigArgs, FlushArgs, LogArgs, MetricsArgs, ProduceArgs, StatsArgs,
    TlsArgs,
};
use crate::master::Format;

/// Flags of the ingest service. The Kafka connection and topics come from the same config
/// file and `KAFKA_GEN_*` variables as a run.
#[derive(Debug, Default, Clone, Args)]
pub struct IngestArgs {
    /// Address to serve the API on; 0.0.0.0:8080 for every interface (then require a token,
    /// --auth-token-file) [default: 127.0.0.1:8080] [env: KAFKA_GEN_INGEST_LISTEN]
    #[arg(help_heading = "Service", long, value_name = "ADDR")]
    pub listen: Option<std::net::SocketAddr>,
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Scenario whose event schema requests are checked against, or a world file
    /// (--world FILE) [default: retail] [env: KAFKA_GEN_SCENARIO]
    #[arg(help_heading = "Service", long, alias = "world")]
    pub scenario: Option<String>,
    /// Set a world parameter, e.g. --set num_users=50, or a key of the world's source config,
    /// or all keys of its YAML file (--set @FILE), as a run takes them; repeat for more
    /// [env: KAFKA_GEN_SET]
    #[arg(help_heading = "Mode", long = "set", value_name = "NAME=VALUE")]
    pub set: Vec<String>,
    #[command(flatten)]
    pub brokers: BrokerArgs,
    #[command(flatten)]
    pub produce: ProduceArgs,
    #[command(flatten)]
    pub metrics: MetricsArgs,
    #[command(flatten)]
    pub auth: AuthArgs,
    #[command(flatten)]
    pub tls: TlsArgs,
    #[command(flatten)]
    pub log: LogArgs,
}

/// Flags of `kafka-gen replay`.
#[derive(Debug, Clone, Args)]
pub struct ReplayArgs {
    /// The dead-letter file to replay (it is read, not changed)
    #[arg(value_name = "DEAD_LETTER_FILE")]
    pub file: PathBuf,
    /// Also send events whose delivery is unknown; they may already be on the topic, so this
    /// can duplicate them
    #[arg(help_heading = "Replay", long)]
    pub include_unknown: bool,
    /// Replay the whole file, ignoring the progress an earlier replay recorded beside it
    /// (`FILE.replayed`)
    #[arg(help_heading = "Replay", long)]
    pub restart: bool,
    #[command(flatten)]
    pub config: ConfigArgs,
    #[command(flatten)]
    pub brokers: BrokerArgs,
    #[command(flatten)]
    pub flush: FlushArgs,
    #[command(flatten)]
    pub log: LogArgs,
}

#[derive(Debug, Clone, Args)]
pub struct MasterArgs {
    /// Scenario whose master data to write, or a world file (--world FILE); `kafka-gen
    /// scenarios` lists them [default: retail]
    #[arg(help_heading = "Mode", long, alias = "world")]
    pub scenario: Option<String>,
    /// Set a world parameter, e.g. --set num_customers=50; repeat for more
    #[arg(help_heading = "Mode", long = "set", value_name = "NAME=VALUE")]
    pub set: Vec<String>,
    /// Seed; the same seed gives byte-identical files [default: the world's `master_seed`,
    /// which a run uses to make the same data in memory; 42 for retail]
    #[arg(help_heading = "Mode", long)]
    pub seed: Option<u64>,
    /// Records per kind, KIND=N,... (e.g. songs=1000,users=5000); kinds not named keep their
    /// defaults (`kafka-gen scenarios` lists them)
    #[arg(help_heading = "Sizes", long, value_name = "KIND=N,...")]
    pub size: Option<String>,
    /// Number of stores (retail; the same as --size stores=N) [default: 50]
    #[arg(help_heading = "Sizes", long, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub stores: Option<u32>,
    /// Number of products (retail) [default: 500]
    #[arg(help_heading = "Sizes", long, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub products: Option<u32>,
    /// Number of customers (retail, bnpl) [default: 5000]
    #[arg(help_heading = "Sizes", long, value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    pub customers: Option<u32>,
    /// Directory to write to (created if missing). Without it, master refuses to replace the
    /// scenario's shipped data (data for retail, data/<scenario> otherwise) unless --force
    #[arg(help_heading = "Output", long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// With no --out, overwrite the scenario's data directory
    #[arg(help_heading = "Output", long)]
    pub force: bool,
    /// File format
    #[arg(help_heading = "Output", long, value_enum, default_value_t = Format::Json)]
    pub format: Format,
}

/// Flags of `kafka-gen consume`. Brokers, security and topic names come from the same config
/// file and `KAFKA_GEN_*` variables as a run.
#[derive(Debug, Clone, Args)]
pub struct ConsumeArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Scenario whose topics and data contract to check, or a world file (--world FILE)
    /// [default: retail] [env: KAFKA_GEN_SCENARIO]
    #[arg(help_heading = "Mode", long, alias = "world")]
    pub scenario: Option<String>,
    /// Set a world parameter, e.g. --set num_users=50, or a key of the world's source config,
    /// or all keys of its YAML file (--set @FILE), as a run takes them; repeat for more
    /// [env: KAFKA_GEN_SET]
    #[arg(help_heading = "Mode", long = "set", value_name = "NAME=VALUE")]
    pub set: Vec<String>,
    /// Master data the events must refer to [default: data for retail, data/<scenario>
    /// otherwise] [env: KAFKA_GEN_DATA_DIR]
    #[arg(help_heading = "Mode", long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    #[command(flatten)]
    pub brokers: BrokerArgs,
    /// Consumer group to join
    #[arg(help_heading = "Kafka", long, default_value = "kafka-gen-consume")]
    pub group_id: String,
    /// Read every partition from its beginning, so the starting stock and prices are known;
    /// otherwise resume from the group's offsets (or the end) and learn them as events arrive
    #[arg(help_heading = "Kafka", long)]
    pub from_beginning: bool,
    /// Exit once no record arrived for SECS since partitions were assigned, with a summary
    /// (exit 1 if any violation was seen, or if nothing was assigned or read to the end)
    #[arg(
        help_heading = "Check",
        long,
        value_name = "SECS",
        allow_negative_numbers = true
    )]
    pub until_idle: Option<f64>,
    /// Seconds a caught-up partition may stay silent before it stops holding back older
    /// records of other topics in the reorder buffer
    #[arg(
        help_heading = "Check",
        long,
        value_name = "SECS",
        default_value_t = 2.0,
        allow_negative_numbers = true
    )]
    pub reorder_grace: f64,
    /// Records one partition may have waiting in the reorder buffer before it stops being read,
    /// so that the partitions behind in event time are read first (10 to 1000000; twice as
    /// many per partition at most, past which records go unchecked and the run fails)
    #[arg(
        help_heading = "Check",
        long,
        value_name = "RECORDS",
        default_value_t = 2_000
    )]
    pub reorder_buffer: u64,
    /// Seconds to wait for the topics to exist, and (with --until-idle) for partitions to be
    /// assigned, before giving up
    #[arg(
        help_heading = "Check",
        long,
        value_name = "SECS",
        default_value_t = 60.0,
        allow_negative_numbers = true
    )]
    pub topic_wait: f64,
    #[command(flatten)]
    pub stats: StatsArgs,
    #[command(flatten)]
    pub log: LogArgs,
    /// At the end, write records per topic and violations by kind to PATH as JSON (the path
    /// is checked at start-up)
    #[arg(help_heading = "Observability", long, value_name = "PATH")]
    pub summary_json: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on, HOST:PORT; 0.0.0.0:8000 for every interface (then require a
    /// token, --auth-token-file) [default: 127.0.0.1:8000, or simtom's SIMTOM_HOST and
    /// SIMTOM_PORT where set]
    #[arg(help_heading = "Service", long, value_name = "HOST:PORT")]
    pub listen: Option<String>,
    /// Directory the scenarios' data directories (data, data/music, ...) are relative to
    /// [default: the working directory]
    #[arg(help_heading = "Service", long, value_name = "DIR")]
    pub data_root: Option<PathBuf>,
    /// Also serve this world file's world, at /stream/<its name>; repeat for more
    #[arg(help_heading = "Service", long, value_name = "FILE")]
    pub world: Vec<PathBuf>,
    /// Set a world parameter, e.g. --set num_users=50; repeat for more
    #[arg(help_heading = "Service", long = "set", value_name = "NAME=VALUE")]
    pub set: Vec<String>,
    /// Highest rate a stream may ask for, events per second (0.1 to 1000, simtom's top)
    #[arg(help_heading = "Limits", long, value_name = "RATE",
          default_value_t = crate::serve::Limits::default().max_rate, allow_negative_numbers = true)]
    pub max_rate: f64,
    /// Most primary events one stream may ask for (1 to 1000000, simtom's top)
    #[arg(help_heading = "Limits", long, value_name = "N",
          default_value_t = crate::serve::Limits::default().max_total)]
    pub max_total: u64,
    /// Most streams open at once; one more gets 503 (1 to 10000)
    #[arg(help_heading = "Limits", long, value_name = "N",
          default_value_t = crate::serve::Limits::default().max_streams)]
    pub max_streams: usize,
    /// Most streams one client address may have open at once; one more gets 429 (1 to 10000)
    #[arg(help_heading = "Limits", long, value_name = "N",
          default_value_t = crate::serve::Limits::default().max_streams_per_client)]
    pub max_streams_per_client: usize,
    /// Largest request body, bytes; a larger one gets 413 (1024 to 16777216)
    #[arg(help_heading = "Limits", long, value_name = "BYTES",
          default_value_t = crate::serve::Limits::default().max_body_bytes)]
    pub max_body_bytes: usize,
    /// Requests handled at once (a stream until its first byte); one more gets 503
    /// (1 to 10000)
    #[arg(help_heading = "Limits", long, value_name = "N", default_value_t = 64)]
    pub max_concurrent_requests: usize,
    /// Requests per second one client address may make on average; more get 429 with
    /// Retry-After (0.01 to 1e6, or 0 for no limit)
    #[arg(
        help_heading = "Limits",
        long,
        value_name = "RATE",
        default_value_t = 50.0,
        allow_negative_numbers = true
    )]
    pub client_requests_per_sec: f64,
    /// Requests one client address may make at once above that rate (1 to 1000000)
    #[arg(help_heading = "Limits", long, value_name = "N", default_value_t = 100)]
    pub client_burst: u32,
    #[command(flatten)]
    pub auth: AuthArgs,
    #[command(flatten)]
    pub tls: TlsArgs,
}

/// Flags of `kafka-gen check`.
#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    /// The world file
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Set a world parameter, e.g. --set num_users=50; repeat for more
    #[arg(long = "set", value_name = "NAME=VALUE")]
    pub set: Vec<String>,
    /// Primary draws of the trial run that names types that never happen (0 skips it)
    #[arg(long, value_name = "DRAWS", default_value_t = crate::worldfile::trial::DEFAULT_DRAWS,
          value_parser = clap::value_parser!(u64).range(0..=crate::worldfile::trial::MAX_DRAWS))]
    pub trial: u64,
}

/// Flags of `kafka-gen schema`.
#[derive(Debug, Clone, Args)]
pub struct SchemaArgs {
    /// The world file whose event types to describe
    #[arg(long, value_name = "FILE", required_unless_present = "format")]
    pub world: Option<PathBuf>,
    /// Print the JSON Schema of the world-file format itself (for editors)
    #[arg(long)]
    pub format: bool,
    /// Set a world parameter, e.g. --set num_users=50; repeat for more
    #[arg(long = "set", value_name = "NAME=VALUE")]
    pub set: Vec<String>,
}
