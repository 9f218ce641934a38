//! Command-line arguments. Their `///` comments are the `--help` text. Nothing past
//! `config::resolve` sees these types.

use std::path::PathBuf;

use std::ffi::OsString;

use clap::{Args, CommandFactory, Parser, Subcommand};

use crate::config::{HumanDuration, LogFormat, SinkKind, TimeArg};
use crate::master::Format;
use crate::sinks::http::BodyFormat;
use crate::sinks::kafka::HeaderSet;

#[derive(Debug, Parser)]
#[command(
    name = "kafka-gen",
    version,
    about = "Simulates a business and streams its events.",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub run: RunArgs,
}

impl Cli {
    /// Parses `args` (the program name first) as clap does, but also accepts a run's flags
    /// before a subcommand, as in `kafka-gen --config x.toml config` or
    /// `kafka-gen --scenario music master` (issue 10: they gave "cannot be used with"). Those
    /// flags are moved after the subcommand's name, where its own parser reads them, so a flag
    /// the subcommand does not take is still reported by name.
    pub fn parse_args<T: Into<OsString>>(args: impl IntoIterator<Item = T>) -> Self {
        Self::parse_from(subcommand_first(args.into_iter().map(Into::into).collect()))
    }

    /// [`Cli::parse_args`] returning the error instead of exiting, for tests.
    pub fn try_parse_args<T: Into<OsString>>(
        args: impl IntoIterator<Item = T>,
    ) -> Result<Self, clap::Error> {
        Self::try_parse_from(subcommand_first(args.into_iter().map(Into::into).collect()))
    }
}

/// `args` with a subcommand that follows top-level flags moved to the front. The scan knows
/// which flags take a value from clap's own definitions, so a value such as
/// `--weights master=1` is never taken for a subcommand.
fn subcommand_first(args: Vec<OsString>) -> Vec<OsString> {
    let command = Cli::command();
    let mut i = 1;
    while let Some(token) = args.get(i).and_then(|t| t.to_str()) {
        if token == "--" {
            break;
        }
        if let Some(long) = token.strip_prefix("--") {
            let takes_value = !long.contains('=')
                && command.get_arguments().any(|a| {
                    let named = a.get_long() == Some(long)
                        || a.get_all_aliases()
                            .is_some_and(|names| names.contains(&long));
                    named && a.get_action().takes_values()
                });
            i += if takes_value { 2 } else { 1 };
            continue;
        }
        if token.starts_with('-') {
            i += 1;
            continue;
        }
        if i > 1 && command.find_subcommand(token).is_some() {
            let mut moved = vec![args[0].clone(), args[i].clone()];
            moved.extend(args[1..i].iter().cloned());
            moved.extend(args[i + 1..].iter().cloned());
            return moved;
        }
        break;
    }
    args
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Generate events (what `kafka-gen` with no command does).
    Run(RunArgs),
    /// Write master data (stores, products, customers) for a first run or a bigger world.
    Master(MasterArgs),
    /// List the scenarios with their master data, event types, default weights and topics.
    Scenarios,
    /// Serve events over HTTP: POST /stream/{scenario} answers NDJSON at the requested rate.
    Serve(ServeArgs),
    /// Print the effective configuration (defaults < file < environment < flags).
    Config(RunArgs),
    /// Consume the scenario's topics and check the data contract live
    Consume(ConsumeArgs),
    /// Serve the ingest API: POST /events validates events and produces them to Kafka.
    Ingest(IngestArgs),
    /// Send the Kafka events of a dead-letter file again (skips `unknown` ones by default)
    Replay(ReplayArgs),
}

/// Flags of a run. Each overrides the config file and the `KAFKA_GEN_*` environment.
#[derive(Debug, Default, Clone, Args)]
pub struct RunArgs {
    /// Config file [default: config/generator.toml if present] [env: KAFKA_GEN_CONFIG]
    #[arg(help_heading = "Mode", long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Scenario to simulate [default: retail] [env: KAFKA_GEN_SCENARIO]
    #[arg(help_heading = "Mode", long)]
    pub scenario: Option<String>,
    /// Directory with the master data [default: data for retail, data/<scenario> otherwise]
    /// [env: KAFKA_GEN_DATA_DIR]
    #[arg(help_heading = "Mode", long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Sinks, comma-separated: kafka, stdout, file, null, http [default: kafka]
    /// [env: KAFKA_GEN_SINK]
    #[arg(help_heading = "Output", long, value_delimiter = ',', value_enum)]
    pub sink: Option<Vec<SinkKind>>,
    /// Output path of the file sink (JSON lines); implies --sink file when --sink is not given
    /// [env: KAFKA_GEN_OUTPUT]
    #[arg(help_heading = "Output", long, value_name = "PATH")]
    pub output: Option<PathBuf>,
    /// Write one file per event type, named PATH with the type before the extension
    /// [env: KAFKA_GEN_OUTPUT_PER_TYPE]
    #[arg(help_heading = "Output", long)]
    pub output_per_type: bool,
    /// Run until SIGINT/SIGTERM (also the default when neither --duration nor --count is given)
    /// [env: KAFKA_GEN_CONTINUOUS]
    #[arg(help_heading = "Mode", long, conflicts_with_all = ["duration", "count"])]
    pub continuous: bool,
    /// Stop after this long: 120 (minutes), 90s, 30m, 2h, 1d [env: KAFKA_GEN_DURATION]
    #[arg(
        help_heading = "Mode",
        long,
        value_name = "DURATION",
        allow_hyphen_values = true
    )]
    pub duration: Option<HumanDuration>,
    /// Stop after N primary events. With no pacing (--min-delta, --max-delta, --rate, --speed,
    /// --follow-profile, --duration) they go out as fast as the sinks take them, their times
    /// spaced by the drawn gaps on a simulated clock that ends now [env: KAFKA_GEN_COUNT]
    #[arg(
        help_heading = "Mode",
        long,
        value_name = "N",
        allow_negative_numbers = true,
        value_parser = whole::<u64>("--count", ">= 1")
    )]
    pub count: Option<u64>,
    /// Batch mode: N primary events per second, paced evenly [env: KAFKA_GEN_RATE]
    #[arg(
        help_heading = "Pacing",
        long,
        value_name = "N",
        allow_negative_numbers = true
    )]
    pub rate: Option<f64>,
    /// Events per minute, paced evenly: the same as --rate N/60 (the song-play simulator's flag)
    /// [env: KAFKA_GEN_VOLUME]
    #[arg(
        help_heading = "Pacing",
        long,
        value_name = "N",
        conflicts_with = "rate",
        allow_negative_numbers = true
    )]
    pub volume: Option<f64>,
    /// Concurrent sequences inside the simulated world, not OS threads: listening sessions
    /// (music), operation streams (tutoring), users (web) [default: per scenario]
    /// [env: KAFKA_GEN_STREAMS]
    #[arg(help_heading = "Mode", long, visible_aliases = ["threads", "users"], value_name = "N",
        value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub streams: Option<u32>,
    /// Realistic mode: shortest gap between events, seconds [default: 10]
    /// [env: KAFKA_GEN_MIN_DELTA]
    #[arg(
        help_heading = "Pacing",
        long,
        value_name = "SECS",
        allow_negative_numbers = true
    )]
    pub min_delta: Option<f64>,
    /// Realistic mode: longest gap between events, seconds [default: 60] [env: KAFKA_GEN_MAX_DELTA]
    #[arg(
        help_heading = "Pacing",
        long,
        value_name = "SECS",
        allow_negative_numbers = true
    )]
    pub max_delta: Option<f64>,
    /// Seed for reproducible draws [env: KAFKA_GEN_SEED]
    #[arg(help_heading = "Mode", long, allow_negative_numbers = true,
        value_parser = whole::<u64>("--seed", "from 0 to 18446744073709551615"))]
    pub seed: Option<u64>,
    /// Simulated clock from this date or RFC 3339 time; with --end, a historical range; with
    /// no --end, --count or --duration, backfill to now and continue live [env: KAFKA_GEN_START]
    #[arg(help_heading = "Mode", long, value_name = "TIME")]
    pub start: Option<TimeArg>,
    /// Historical mode: end of the range (a date means the end of that day) [env: KAFKA_GEN_END]
    #[arg(
        help_heading = "Mode",
        long,
        value_name = "TIME",
        requires = "start",
        conflicts_with = "continuous"
    )]
    pub end: Option<TimeArg>,
    /// Historical mode: mean primary events per day (instead of --count)
    /// [env: KAFKA_GEN_EVENTS_PER_DAY]
    #[arg(
        help_heading = "Pacing",
        long,
        value_name = "N",
        conflicts_with = "count",
        allow_negative_numbers = true
    )]
    pub events_per_day: Option<f64>,
    /// Simulated time runs X times faster than real time (3600 = an hour a second)
    /// [env: KAFKA_GEN_SPEED]
    #[arg(
        help_heading = "Pacing",
        long,
        value_name = "X",
        allow_negative_numbers = true
    )]
    pub speed: Option<f64>,
    /// Live modes scale their pace by the time profile (hour, weekday, holidays)
    /// [env: KAFKA_GEN_FOLLOW_PROFILE]
    #[arg(help_heading = "Pacing", long)]
    pub follow_profile: bool,
    /// Time zone of the time profile, an IANA name [default: UTC] [env: KAFKA_GEN_TIMEZONE]
    #[arg(help_heading = "Pacing", long, value_name = "TZ")]
    pub timezone: Option<String>,
    /// Event type weights, e.g. sale=0.6,price_change=0.05 [env: KAFKA_GEN_WEIGHTS]
    #[arg(help_heading = "Mode", long, value_name = "TYPE=W,...")]
    pub weights: Option<String>,
    /// Seconds between stats lines on stderr; 0 turns them off [default: 10]
    /// [env: KAFKA_GEN_STATS_INTERVAL]
    #[arg(
        help_heading = "Observability",
        long,
        value_name = "SECS",
        allow_negative_numbers = true
    )]
    pub stats_interval: Option<f64>,
    /// Log "Event #N: <type> generated" for each primary event (--log-events=false: never)
    /// [default: on when slower than one event a second] [env: KAFKA_GEN_LOG_EVENTS]
    #[arg(help_heading = "Observability", long, value_name = "BOOL", num_args = 0..=1,
        require_equals = true, default_missing_value = "true")]
    pub log_events: Option<bool>,
    /// Seconds to wait for sinks to deliver at shutdown [default: 30]
    /// [env: KAFKA_GEN_FLUSH_TIMEOUT]
    #[arg(
        help_heading = "Output",
        long,
        value_name = "SECS",
        allow_negative_numbers = true
    )]
    pub flush_timeout: Option<f64>,
    /// Log format on stderr [default: text] [env: KAFKA_GEN_LOG_FORMAT]
    #[arg(help_heading = "Observability", long, value_enum)]
    pub log_format: Option<LogFormat>,
    /// Kafka brokers, HOST:PORT,... [default: 127.0.0.1:9092] [env: KAFKA_GEN_BOOTSTRAP_SERVERS]
    #[arg(help_heading = "Kafka", long, value_name = "HOSTS")]
    pub bootstrap_servers: Option<String>,
    /// Create missing Kafka topics at start-up (partitions and replication from [kafka])
    /// [env: KAFKA_GEN_CREATE_TOPICS]
    #[arg(help_heading = "Kafka", long)]
    pub create_topics: bool,
    /// Append events Kafka would not take to this JSON-lines file
    /// [default: kafka-gen-dead-letter.jsonl] [env: KAFKA_GEN_DEAD_LETTER]
    #[arg(help_heading = "Kafka", long, value_name = "PATH")]
    pub dead_letter: Option<PathBuf>,
    /// Headers on each Kafka record: all (event_type, schema_version, content-type, producer),
    /// event_type or none [default: all] [env: KAFKA_GEN_KAFKA_HEADERS]
    #[arg(help_heading = "Kafka", long, value_enum, value_name = "SET")]
    pub kafka_headers: Option<HeaderSet>,
    /// After the run, write per-type generated/delivered/failed counts to PATH as JSON
    /// [env: KAFKA_GEN_SUMMARY_JSON]
    #[arg(help_heading = "Observability", long, value_name = "PATH")]
    pub summary_json: Option<PathBuf>,
    /// URL the http sink POSTs events to [env: KAFKA_GEN_HTTP_ENDPOINT]
    #[arg(help_heading = "HTTP", long, value_name = "URL")]
    pub http_endpoint: Option<String>,
    /// Requests the http sink keeps in flight at once [default: 8]
    /// [env: KAFKA_GEN_HTTP_CONCURRENCY]
    #[arg(help_heading = "HTTP", long, value_name = "N", allow_negative_numbers = true,
        value_parser = whole::<u32>("--http-concurrency", ">= 1"))]
    pub http_concurrency: Option<u32>,
    /// Events per HTTP request; 1 posts single events [default: 500]
    /// [env: KAFKA_GEN_HTTP_BATCH_SIZE]
    #[arg(help_heading = "HTTP", long, value_name = "N", allow_negative_numbers = true,
        value_parser = whole::<u32>("--http-batch-size", ">= 1"))]
    pub http_batch_size: Option<u32>,
    /// Encoding of batched HTTP requests [default: array] [env: KAFKA_GEN_HTTP_FORMAT]
    #[arg(help_heading = "HTTP", long, value_enum)]
    pub http_format: Option<BodyFormat>,
    /// Serve Prometheus metrics and /health on this IP:PORT, e.g. 0.0.0.0:9464
    /// [env: KAFKA_GEN_METRICS_LISTEN]
    #[arg(help_heading = "Observability", long, value_name = "ADDR")]
    pub metrics_listen: Option<std::net::SocketAddr>,
}

/// A parser for a whole-number flag that says what it wants, such as
/// `--count must be a whole number >= 1; got -5`, instead of "invalid digit found in string". Ranges are checked with the rest
/// of the configuration.
fn whole<T: std::str::FromStr>(
    flag: &'static str,
    range: &'static str,
) -> impl Fn(&str) -> Result<T, String> + Clone + Send + Sync + 'static {
    move |text| {
        text.trim()
            .parse()
            .map_err(|_| format!("{flag} must be a whole number {range}; got {text}"))
    }
}

/// Flags of the ingest service. The Kafka connection and topics come from the same config
/// file and `KAFKA_GEN_*` variables as a run.
#[derive(Debug, Default, Clone, Args)]
pub struct IngestArgs {
    /// Address to serve the API on [default: 0.0.0.0:8080] [env: KAFKA_GEN_INGEST_LISTEN]
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<std::net::SocketAddr>,
    /// Config file [default: config/generator.toml if present] [env: KAFKA_GEN_CONFIG]
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Scenario whose event schema requests are checked against [default: retail]
    #[arg(long)]
    pub scenario: Option<String>,
    /// Kafka brokers, HOST:PORT,... [default: 127.0.0.1:9092] [env: KAFKA_GEN_BOOTSTRAP_SERVERS]
    #[arg(long, value_name = "HOSTS")]
    pub bootstrap_servers: Option<String>,
    /// Create missing Kafka topics at start-up
    #[arg(long)]
    pub create_topics: bool,
    /// Also serve /metrics and /health on this IP:PORT (the API port serves them too)
    #[arg(long, value_name = "ADDR")]
    pub metrics_listen: Option<std::net::SocketAddr>,
    /// Log format on stderr [default: text]
    #[arg(long, value_enum)]
    pub log_format: Option<LogFormat>,
}

/// Flags of `kafka-gen replay`.
#[derive(Debug, Clone, Args)]
pub struct ReplayArgs {
    /// The dead-letter file to replay (it is read, not changed)
    #[arg(value_name = "DEAD_LETTER_FILE")]
    pub file: PathBuf,
    /// Also send events whose delivery is unknown; they may already be on the topic, so this
    /// can duplicate them
    #[arg(long)]
    pub include_unknown: bool,
    /// Config file for the Kafka settings [default: config/generator.toml if present] [env: KAFKA_GEN_CONFIG]
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Kafka brokers, HOST:PORT,... [default: 127.0.0.1:9092] [env: KAFKA_GEN_BOOTSTRAP_SERVERS]
    #[arg(long, value_name = "HOSTS")]
    pub bootstrap_servers: Option<String>,
    /// Log format on stderr [default: text]
    #[arg(long, value_enum)]
    pub log_format: Option<LogFormat>,
}

#[derive(Debug, Clone, Args)]
pub struct MasterArgs {
    /// Scenario whose master data to write; `kafka-gen scenarios` lists them [default: retail]
    #[arg(long)]
    pub scenario: Option<String>,
    /// Records per kind, KIND=N,... (e.g. songs=1000,users=5000); kinds not named keep their
    /// defaults (`kafka-gen scenarios` lists them)
    #[arg(long, value_name = "KIND=N,...")]
    pub size: Option<String>,
    /// Number of stores (retail; the same as --size stores=N) [default: 50]
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub stores: Option<u32>,
    /// Number of products (retail) [default: 500]
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub products: Option<u32>,
    /// Number of customers (retail, bnpl) [default: 5000]
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    pub customers: Option<u32>,
    /// Seed; the same seed gives byte-identical files
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Directory to write to (created if missing). Without it, master refuses to replace the
    /// scenario's shipped data (data for retail, data/<scenario> otherwise) unless --force
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// With no --out, overwrite the scenario's data directory
    #[arg(long)]
    pub force: bool,
    /// File format
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub format: Format,
}

/// Flags of `kafka-gen consume`. Brokers, security and topic names come from the same config
/// file and `KAFKA_GEN_*` variables as a run.
#[derive(Debug, Clone, Args)]
pub struct ConsumeArgs {
    /// Config file [default: config/generator.toml if present] [env: KAFKA_GEN_CONFIG]
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Scenario whose topics and data contract to check [default: retail]
    #[arg(long)]
    pub scenario: Option<String>,
    /// Master data the events must refer to [default: data]
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Kafka brokers, HOST:PORT,... [default: 127.0.0.1:9092] [env: KAFKA_GEN_BOOTSTRAP_SERVERS]
    #[arg(long, value_name = "HOSTS")]
    pub bootstrap_servers: Option<String>,
    /// Consumer group to join
    #[arg(long, default_value = "kafka-gen-consume")]
    pub group_id: String,
    /// Read every partition from its beginning, so the starting stock and prices are known;
    /// otherwise resume from the group's offsets (or the end) and learn them as events arrive
    #[arg(long)]
    pub from_beginning: bool,
    /// Exit once no record arrived for SECS since partitions were assigned, with a summary
    /// (exit 1 if any violation was seen, or if nothing was assigned or read to the end)
    #[arg(long, value_name = "SECS", allow_negative_numbers = true)]
    pub until_idle: Option<f64>,
    /// Seconds a caught-up partition may stay silent before it stops holding back older
    /// records of other topics in the reorder buffer
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 2.0,
        allow_negative_numbers = true
    )]
    pub reorder_grace: f64,
    /// Seconds to wait for the topics to exist, and (with --until-idle) for partitions to be
    /// assigned, before giving up
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 60.0,
        allow_negative_numbers = true
    )]
    pub topic_wait: f64,
    /// Seconds between stats lines on stderr; 0 turns them off [default: 10]
    #[arg(long, value_name = "SECS", allow_negative_numbers = true)]
    pub stats_interval: Option<f64>,
    /// Log format on stderr [default: text]
    #[arg(long, value_enum)]
    pub log_format: Option<LogFormat>,
    /// At the end, write records per topic and violations by kind to PATH as JSON
    #[arg(long, value_name = "PATH")]
    pub summary_json: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on, HOST:PORT
    #[arg(long, default_value = "0.0.0.0:8000")]
    pub listen: String,
    /// Highest rate a client may ask for, events per second
    #[arg(long, default_value_t = 10_000.0)]
    pub max_rate: f64,
    /// Most primary events one stream may ask for
    #[arg(long, default_value_t = 10_000_000)]
    pub max_total: u64,
    /// Most streams open at once
    #[arg(long, default_value_t = 64)]
    pub max_streams: usize,
    /// Directory the scenarios' data directories (data, data/music, ...) are relative to
    /// [default: the working directory]
    #[arg(long, value_name = "DIR")]
    pub data_root: Option<PathBuf>,
}
