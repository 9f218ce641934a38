//! The flags of a run, each naming its `KAFKA_GEN_*` variable, grouped under `--help`
//! headings.

use std::path::PathBuf;

use clap::Args;

use super::shared::{
    AuthArgs, BrokerArgs, ConfigArgs, FlushArgs, LogArgs, MetricsArgs, ProduceArgs, StatsArgs,
    TlsArgs,
};
use crate::schedule::{HumanDuration, TimeArg};
use crate::sinks::http::BodyFormat;
use crate::sinks::SinkKind;

/// Flags of a run. Each overrides the config file and the `KAFKA_GEN_*` environment.
#[derive(Debug, Default, Clone, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Scenario to simulate: retail, music, tutoring, web, bnpl, or a world file's path
    /// [default: retail] [env: KAFKA_GEN_SCENARIO]
    #[arg(help_heading = "Mode", long)]
    pub scenario: Option<String>,
    /// World file to simulate (worlds/README.md): a path, or a shipped world's name (music)
    /// [env: KAFKA_GEN_WORLD]
    #[arg(
        help_heading = "Mode",
        long,
        value_name = "FILE",
        conflicts_with = "scenario"
    )]
    pub world: Option<PathBuf>,
    /// Set a world parameter, e.g. --set num_users=50, or a key of the world's source config
    /// (--set user_behavior.time_per_page_max=180), or all keys of its YAML file (--set @FILE);
    /// repeat for more [env: KAFKA_GEN_SET] (NAME=VALUE,...; or KAFKA_GEN_PARAM_<NAME>=VALUE)
    #[arg(help_heading = "Mode", long = "set", value_name = "NAME=VALUE")]
    pub set: Vec<String>,
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
    /// When --count is reached: finish the chains already started (their follow-ups, no new
    /// primary events, up to --end or an hour past the last event) or stop at once; either way
    /// follow-ups due before the end time are made [default: finish] [env: KAFKA_GEN_ON_END]
    #[arg(help_heading = "Mode", long, value_name = "WHAT", value_enum)]
    pub on_end: Option<crate::schedule::OnEnd>,
    /// Stop after N records in all, primary and follow-up (--count counts primary events only)
    /// [env: KAFKA_GEN_MAX_RECORDS]
    #[arg(
        help_heading = "Mode",
        long,
        value_name = "N",
        allow_negative_numbers = true,
        value_parser = whole::<u64>("--max-records", ">= 1")
    )]
    pub max_records: Option<u64>,
    /// Batch mode: N primary events per second, paced evenly [env: KAFKA_GEN_RATE]
    #[arg(
        help_heading = "Pacing",
        long,
        value_name = "N",
        allow_negative_numbers = true
    )]
    pub rate: Option<f64>,
    /// Events per minute, paced evenly: the same as --rate N/60 (the song-play simulator's flag;
    /// with music its own --volume, a total in historical mode) [env: KAFKA_GEN_VOLUME]
    #[arg(
        help_heading = "Pacing",
        long,
        value_name = "N",
        conflicts_with = "rate",
        allow_negative_numbers = true
    )]
    pub volume: Option<f64>,
    /// Concurrent sequences inside the simulated world, not OS threads: the world file's
    /// parameter for them (music's threads, tutoring's STREAM_COUNT, web's num_users)
    /// [default: per scenario]
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
    #[command(flatten)]
    pub stats: StatsArgs,
    /// Log "Event #N: <type> generated" for each primary event (--log-events=false: never)
    /// [default: on when slower than one event a second] [env: KAFKA_GEN_LOG_EVENTS]
    #[arg(help_heading = "Observability", long, value_name = "BOOL", num_args = 0..=1,
        require_equals = true, default_missing_value = "true")]
    pub log_events: Option<bool>,
    #[command(flatten)]
    pub flush: FlushArgs,
    #[command(flatten)]
    pub log: LogArgs,
    #[command(flatten)]
    pub brokers: BrokerArgs,
    #[command(flatten)]
    pub produce: ProduceArgs,
    /// Append events Kafka would not take to this JSON-lines file
    /// [default: kafka-gen-dead-letter.jsonl] [env: KAFKA_GEN_DEAD_LETTER]
    #[arg(help_heading = "Kafka", long, value_name = "PATH")]
    pub dead_letter: Option<PathBuf>,
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
    #[command(flatten)]
    pub metrics: MetricsArgs,
    #[command(flatten)]
    pub auth: AuthArgs,
    #[command(flatten)]
    pub tls: TlsArgs,
}

/// A parser for a whole-number flag that says what it wants, such as
/// `--count must be a whole number >= 1; got -5`, instead of "invalid digit found in string". Ranges are checked with the rest
/// of the configuration.
pub(super) fn whole<T: std::str::FromStr>(
    flag: &'static str,
    range: &'static str,
) -> impl Fn(&str) -> Result<T, String> + Clone + Send + Sync + 'static {
    move |text| {
        text.trim()
            .parse()
            .map_err(|_| format!("{flag} must be a whole number {range}; got {text}"))
    }
}
