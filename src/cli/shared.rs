//! Flags that several commands take, each declared once here and flattened into the commands
//! that use it (issue 11: "shared run flags are declared once"), so a flag reads, parses and
//! documents itself the same way in a run, `consume`, `ingest`, `replay` and `serve`.

use std::path::PathBuf;

use clap::Args;

use crate::logging::LogFormat;
use crate::sinks::kafka::HeaderSet;

/// Where the configuration comes from: a run, `config`, `consume`, `ingest` and `replay`.
#[derive(Debug, Default, Clone, Args)]
pub struct ConfigArgs {
    /// Config file [default: config/generator.toml if present] [env: KAFKA_GEN_CONFIG]
    #[arg(help_heading = "Config", long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Set any config field by its path, e.g. --conf kafka.linger_ms=5 or
    /// --conf schedule.rate_per_sec=100; repeat for more. Beats the other flags
    /// [env: KAFKA_GEN__<SECTION>__<FIELD>=VALUE]
    #[arg(help_heading = "Config", long = "conf", value_name = "PATH=VALUE")]
    pub conf: Vec<String>,
}

/// The Kafka brokers: a run, `consume`, `ingest` and `replay`.
#[derive(Debug, Default, Clone, Args)]
pub struct BrokerArgs {
    /// Kafka brokers, HOST:PORT,... [default: 127.0.0.1:9092] [env: KAFKA_GEN_BOOTSTRAP_SERVERS]
    #[arg(help_heading = "Kafka", long, value_name = "HOSTS")]
    pub bootstrap_servers: Option<String>,
}

/// How records are produced: a run and `ingest` (both produce with the Kafka sink's settings).
#[derive(Debug, Default, Clone, Args)]
pub struct ProduceArgs {
    /// Create missing Kafka topics at start-up (partitions and replication from [kafka])
    /// [env: KAFKA_GEN_CREATE_TOPICS]
    #[arg(help_heading = "Kafka", long)]
    pub create_topics: bool,
    /// Headers on each Kafka record: all (event_type, schema_version, content-type, producer),
    /// event_type or none [default: all] [env: KAFKA_GEN_KAFKA_HEADERS]
    #[arg(help_heading = "Kafka", long, value_enum, value_name = "SET")]
    pub kafka_headers: Option<HeaderSet>,
}

/// The log format: every command that resolves the configuration.
#[derive(Debug, Default, Clone, Args)]
pub struct LogArgs {
    /// Log format on stderr [default: text] [env: KAFKA_GEN_LOG_FORMAT]
    #[arg(help_heading = "Observability", long, value_enum)]
    pub log_format: Option<LogFormat>,
}

/// The Prometheus endpoint: a run and `ingest`.
#[derive(Debug, Default, Clone, Args)]
pub struct MetricsArgs {
    /// Serve Prometheus metrics and /health on this IP:PORT, e.g. 127.0.0.1:9464 (0.0.0.0:9464
    /// for every interface) [env: KAFKA_GEN_METRICS_LISTEN]
    #[arg(help_heading = "Observability", long, value_name = "ADDR")]
    pub metrics_listen: Option<std::net::SocketAddr>,
}

/// Bearer tokens for the HTTP listeners: a run's metrics listener, `ingest` and `serve`. A
/// token itself is never a flag (`ps` shows flags): it comes from the file or the environment.
#[derive(Debug, Default, Clone, Args)]
pub struct AuthArgs {
    /// Require a bearer token from this file on every request to the HTTP listeners: one token
    /// a line, blank lines and # comments skipped. Tokens in KAFKA_GEN_AUTH_TOKENS (comma- or
    /// newline-separated) count too [env: KAFKA_GEN_AUTH_TOKEN_FILE]
    #[arg(help_heading = "Security", long, value_name = "FILE")]
    pub auth_token_file: Option<PathBuf>,
    /// With tokens required, still answer GET /health without one (for load balancers)
    /// [env: KAFKA_GEN_AUTH_HEALTH_OPEN]
    #[arg(help_heading = "Security", long)]
    pub auth_health_open: bool,
}

/// Stats lines: a run and `consume`.
#[derive(Debug, Default, Clone, Args)]
pub struct StatsArgs {
    /// Seconds between stats lines on stderr; 0 turns them off [default: 10]
    /// [env: KAFKA_GEN_STATS_INTERVAL]
    #[arg(
        help_heading = "Observability",
        long,
        value_name = "SECS",
        allow_negative_numbers = true
    )]
    pub stats_interval: Option<f64>,
}

/// The shutdown flush: a run and `replay`.
#[derive(Debug, Default, Clone, Args)]
pub struct FlushArgs {
    /// Seconds to wait for sinks to deliver (Kafka to confirm) at the end or after a signal
    /// [default: 30] [env: KAFKA_GEN_FLUSH_TIMEOUT]
    #[arg(
        help_heading = "Output",
        long,
        value_name = "SECS",
        allow_negative_numbers = true
    )]
    pub flush_timeout: Option<f64>,
}

/// TLS for the process's listeners: a run (its metrics listener), `ingest` and `serve`.
#[derive(Debug, Default, Clone, Args)]
pub struct TlsArgs {
    /// Serve HTTPS with this certificate chain (PEM); needs --tls-key. Reloaded on SIGHUP and
    /// when the file changes [env: KAFKA_GEN_TLS_CERT]
    #[arg(help_heading = "TLS", long, value_name = "FILE")]
    pub tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM, not encrypted) [env: KAFKA_GEN_TLS_KEY]
    #[arg(help_heading = "TLS", long, value_name = "FILE")]
    pub tls_key: Option<PathBuf>,
    /// Require client certificates signed by a CA in this PEM file (mTLS)
    /// [env: KAFKA_GEN_TLS_CLIENT_CA]
    #[arg(help_heading = "TLS", long, value_name = "FILE")]
    pub tls_client_ca: Option<PathBuf>,
}
