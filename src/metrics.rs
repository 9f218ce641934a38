//! Prometheus metrics and `/health`, for the generator (`--metrics-listen`, bounded by
//! `[metrics]`) and the ingest service. The recorder is the `metrics` crate's global one, rendered by
//! `metrics-exporter-prometheus`; axum serves it.
//!
//! The generator's hot path stays cheap: [`RunMetrics`] copies the run's cumulative counts
//! (the same ones the stats line and the summary show) into registered handles at most every
//! [`UPDATE_EVERY`] and once more after the final flush, so a scrape agrees with the summary.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::routing::get;
use axum::Router;
use metrics::{Counter, Gauge};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use serde::{Deserialize, Serialize};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::guard::{Guard, Limits, Listener};
use crate::scenario::EventTypeSpec;
use crate::sinks::Sink;
use crate::stats::Stats;

/// Most often the generator's metrics are refreshed from its counts.
pub const UPDATE_EVERY: Duration = Duration::from_millis(250);

/// Latency buckets in seconds, for every `*_duration_seconds` histogram.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

static HANDLE: OnceLock<Result<PrometheusHandle, String>> = OnceLock::new();

/// Installs the global recorder once per process and returns its handle.
pub fn install() -> anyhow::Result<PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("duration_seconds".into()), LATENCY_BUCKETS)
                .and_then(|b| b.install_recorder())
                .map_err(|e| e.to_string())
        })
        .clone()
        .map_err(|e| anyhow::anyhow!("cannot install the metrics recorder: {e}"))
}

/// The text exposition of every metric; empty when no recorder was installed.
pub fn render() -> String {
    match HANDLE.get() {
        Some(Ok(handle)) => {
            handle.run_upkeep();
            handle.render()
        }
        _ => String::new(),
    }
}

/// What `/health` answers: healthy or not, and a JSON body.
pub type HealthFn = Arc<dyn Fn() -> (bool, serde_json::Value) + Send + Sync>;

/// `/metrics` and `/health`, to serve alone or merge into another router.
pub fn routes(health: HealthFn) -> Router {
    Router::new()
        .route(
            "/metrics",
            get(|| async {
                (
                    [("content-type", "text/plain; version=0.0.4; charset=utf-8")],
                    render(),
                )
            }),
        )
        .route(
            "/health",
            get(move || {
                let (ok, body) = health();
                let status = if ok {
                    axum::http::StatusCode::OK
                } else {
                    axum::http::StatusCode::SERVICE_UNAVAILABLE
                };
                async move { (status, axum::Json(body)) }
            }),
        )
}

/// The metrics listener's bounds (`[metrics]`), per client address and at once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// Requests per second one client address may make on average (more get 429); 0 for no
    /// limit. 0.01 to 1e6. A scrape every few seconds needs far less.
    pub client_requests_per_sec: f64,
    /// Requests one client address may make at once above that rate. 1 to 1000000.
    pub client_burst: u32,
    /// Requests answered at once; one more gets 503. 1 to 10000.
    pub max_concurrent_requests: usize,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        Self {
            client_requests_per_sec: 20.0,
            client_burst: 40,
            max_concurrent_requests: 8,
        }
    }
}

impl MetricsConfig {
    /// The guard's limits.
    pub fn limits(&self) -> Limits {
        Limits {
            client_requests_per_sec: self.client_requests_per_sec,
            client_burst: self.client_burst,
            max_concurrent_requests: Some(self.max_concurrent_requests),
        }
    }

    /// Checks each bound, naming it as `metrics.<field>`.
    pub fn validate(&self) -> anyhow::Result<()> {
        (self.limits()).validate(|f| Listener::Metrics.setting(f), "config file [metrics]")
    }
}

/// Binds `addr` and serves [`routes`] behind `guard` until `cancel`, over TLS when `tls` is
/// given. Returns the bound address.
pub async fn serve(
    addr: SocketAddr,
    health: HealthFn,
    guard: Arc<Guard>,
    tls: Option<crate::listen::Tls>,
    cancel: CancellationToken,
) -> anyhow::Result<SocketAddr> {
    install()?;
    let listener = crate::listen::bind(addr, "--metrics-listen").await?;
    let bound = listener.local_addr()?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    let client_certs = tls.as_ref().is_some_and(crate::listen::Tls::mutual);
    tokio::spawn(crate::listen::serve(
        listener,
        guard.wrap(routes(health)),
        tls,
        crate::listen::DEFAULT_HEADER_READ_TIMEOUT,
        cancel,
    ));
    tracing::info!(address = %bound, scheme, "Serving /metrics and /health.");
    guard.announce(bound, client_certs);
    Ok(bound)
}

/// Handles of one sink's metrics, per event type.
struct SinkHandles {
    delivered: Vec<Counter>,
    failed: Vec<Counter>,
    unknown: Vec<Counter>,
    retried: Vec<Counter>,
    in_flight: Gauge,
}

/// The generator's metrics, refreshed from its counts.
pub struct RunMetrics {
    generated: Vec<Counter>,
    sinks: Vec<SinkHandles>,
    kafka_queue: Option<Gauge>,
    achieved: Gauge,
    last_at: Instant,
    last_events: u64,
}

impl RunMetrics {
    /// Registers the metrics of a run with `target_per_sec` primary events per second.
    pub fn new(
        types: &'static [EventTypeSpec],
        sinks: &[Box<dyn Sink>],
        target_per_sec: f64,
    ) -> Self {
        let per_type = |name: &'static str, sink: &'static str| -> Vec<Counter> {
            types
                .iter()
                .map(|t| metrics::counter!(name, "sink" => sink, "event_type" => t.name))
                .collect()
        };
        metrics::gauge!("kafka_gen_target_rate_per_second").set(target_per_sec);
        Self {
            generated: types
                .iter()
                .map(|t| metrics::counter!("kafka_gen_events_generated_total", "event_type" => t.name))
                .collect(),
            sinks: sinks
                .iter()
                .map(|s| SinkHandles {
                    delivered: per_type("kafka_gen_events_delivered_total", s.name()),
                    failed: per_type("kafka_gen_events_failed_total", s.name()),
                    unknown: per_type("kafka_gen_events_unknown_total", s.name()),
                    retried: per_type("kafka_gen_events_retried_total", s.name()),
                    in_flight: metrics::gauge!("kafka_gen_events_in_flight", "sink" => s.name()),
                })
                .collect(),
            kafka_queue: sinks
                .iter()
                .any(|s| s.name() == "kafka")
                .then(|| metrics::gauge!("kafka_gen_kafka_queue_depth")),
            achieved: metrics::gauge!("kafka_gen_achieved_rate_per_second"),
            last_at: Instant::now(),
            last_events: 0,
        }
    }

    /// Copies the counts in, unless the last update was less than [`UPDATE_EVERY`] ago and
    /// `force` is false.
    pub fn update(&mut self, stats: &Stats, sinks: &[Box<dyn Sink>], force: bool) {
        let now = Instant::now();
        let since = now.duration_since(self.last_at);
        if !force && since < UPDATE_EVERY {
            return;
        }
        for (i, c) in self.generated.iter().enumerate() {
            c.absolute(stats.primary()[i] + stats.derived()[i]);
        }
        // Rates count primary events, like --rate.
        let events = stats.primary_total();
        if !since.is_zero() {
            let rate = (events - self.last_events) as f64 / since.as_secs_f64();
            self.achieved.set(rate);
        }
        self.last_at = now;
        self.last_events = events;
        for (sink, handles) in sinks.iter().zip(&self.sinks) {
            let counts = sink.counts();
            for i in 0..counts.delivered.len().min(handles.delivered.len()) {
                handles.delivered[i].absolute(counts.delivered[i]);
                handles.failed[i].absolute(counts.failed[i]);
                handles.unknown[i].absolute(counts.unknown[i]);
                handles.retried[i].absolute(counts.retried[i]);
            }
            let in_flight = counts.in_flight_total() as f64;
            handles.in_flight.set(in_flight);
            if sink.name() == "kafka" {
                if let Some(g) = &self.kafka_queue {
                    g.set(in_flight);
                }
            }
        }
    }
}
