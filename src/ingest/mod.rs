//! The ingest API (`kafka-gen ingest`): what the generator's `http` sink talks to in the
//! compose stack, so events that travel generator -> HTTP -> ingest -> Kafka land on the same
//! topics, byte for byte, as events produced directly.
//!
//! - `config`: `[ingest]` options.
//! - `parse`: request bodies (one event, an array, NDJSON) and their validation.
//! - `idempotency`: the window of acknowledged keys.
//! - `producer`: the Kafka side, with the Kafka sink's settings, and the health check.
//!
//! `POST /events` answers 200 only once Kafka confirmed every new event of the request
//! (at-least-once: no acknowledged event is lost), 400 naming the first bad field, 413 for an
//! oversized body, 503 (with `Retry-After`) when Kafka is down or slow so the client retries.
//! Events whose id (or the request's `Idempotency-Key`) was acknowledged within the window are
//! acknowledged again without being produced twice. `GET /health` reports Kafka connectivity;
//! `GET /metrics` serves Prometheus metrics.

pub mod config;
pub mod idempotency;
pub mod parse;
pub mod producer;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use bytes::Bytes;
use serde_json::json;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

pub use config::IngestConfig;
use idempotency::Window;
use producer::{IngestProducer, Outgoing};

use crate::config::Config;
use crate::scenario::{self, Scenario};

/// Seconds a client is told to wait before retrying a 503.
const RETRY_AFTER_SECS: &str = "1";

/// How long shutdown waits for Kafka to confirm what is still in flight.
const SHUTDOWN_FLUSH: Duration = Duration::from_secs(10);

/// The service's state, shared by every request.
pub struct Ingest {
    scenario: &'static dyn Scenario,
    producer: IngestProducer,
    window: Mutex<Window>,
    ack_timeout: Duration,
}

impl Ingest {
    /// Connects to Kafka (checking the cluster and topics like the Kafka sink does).
    pub fn open(config: &Config) -> anyhow::Result<Self> {
        let scenario = scenario::find(&config.scenario)?;
        let producer = IngestProducer::open(&config.kafka, scenario.event_types())?;
        let i = &config.ingest;
        Ok(Self {
            scenario,
            producer,
            window: Mutex::new(Window::new(i.window(), i.idempotency_max_keys)),
            ack_timeout: Duration::from_millis(i.ack_timeout_ms),
        })
    }

    fn window(&self) -> std::sync::MutexGuard<'_, Window> {
        match self.window.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    fn health(&self) -> (bool, serde_json::Value) {
        let up = self.producer.is_up();
        let body = json!({
            "status": if up { "ok" } else { "unavailable" },
            "kafka": if up { "up" } else { "down" },
            "kafka_queue_depth": self.producer.queue_depth(),
        });
        (up, body)
    }

    async fn handle(&self, headers: &HeaderMap, body: &[u8]) -> Response {
        if !self.producer.is_up() {
            return unavailable("Kafka is unavailable; retry later".into());
        }
        let events = match parse::events(body, self.scenario) {
            Ok(events) => events,
            Err(error) => {
                metrics::counter!("kafka_gen_ingest_events_rejected_total").increment(1);
                return (StatusCode::BAD_REQUEST, Json(json!({ "error": error }))).into_response();
            }
        };
        let request_key = headers
            .get("idempotency-key")
            .and_then(|v| v.to_str().ok())
            .filter(|k| !k.is_empty());
        let now = Instant::now();
        let mut fresh = Vec::with_capacity(events.len());
        {
            let mut window = self.window();
            let repeat = request_key.is_some_and(|k| {
                let key = window.key(k);
                window.contains(key, now)
            });
            if !repeat {
                let mut in_request = HashSet::with_capacity(events.len());
                for e in &events {
                    let key = window.key(e.event_id);
                    if !window.contains(key, now) && in_request.insert(key) {
                        fresh.push((key, e));
                    }
                }
            }
        }
        let duplicates = events.len() - fresh.len();
        let outgoing: Vec<Outgoing<'_>> = fresh
            .iter()
            .map(|(_, e)| Outgoing {
                type_index: e.type_index,
                key: &e.key,
                payload: e.raw,
                time_ms: e.time_ms,
            })
            .collect();
        if let Err(error) = self.producer.produce(&outgoing, self.ack_timeout).await {
            tracing::warn!(%error, events = outgoing.len(), "Kafka did not confirm a request; answering 503.");
            return unavailable(format!("{error}; retry later"));
        }
        {
            let mut window = self.window();
            let now = Instant::now();
            for (key, _) in &fresh {
                window.insert(*key, now);
            }
            if let Some(k) = request_key {
                let key = window.key(k);
                window.insert(key, now);
            }
        }
        self.count(
            &fresh.iter().map(|(_, e)| e.type_index).collect::<Vec<_>>(),
            duplicates,
        );
        let body =
            json!({ "accepted": events.len(), "produced": fresh.len(), "duplicates": duplicates });
        (StatusCode::OK, Json(body)).into_response()
    }

    /// Metrics of one acknowledged request: produced events per type, and duplicates.
    fn count(&self, produced_types: &[usize], duplicates: usize) {
        let types = self.scenario.event_types();
        let mut per_type = vec![0u64; types.len()];
        for t in produced_types {
            if let Some(n) = per_type.get_mut(*t) {
                *n += 1;
            }
        }
        for (t, n) in types.iter().zip(per_type) {
            if n > 0 {
                metrics::counter!("kafka_gen_ingest_events_produced_total", "event_type" => t.name)
                    .increment(n);
            }
        }
        if duplicates > 0 {
            metrics::counter!("kafka_gen_ingest_events_duplicate_total")
                .increment(duplicates as u64);
        }
    }
}

fn unavailable(error: String) -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [("retry-after", RETRY_AFTER_SECS)],
        Json(json!({ "error": error })),
    )
        .into_response()
}

async fn post_events(State(app): State<Arc<Ingest>>, headers: HeaderMap, body: Bytes) -> Response {
    let started = std::time::Instant::now();
    let response = app.handle(&headers, &body).await;
    metrics::histogram!("kafka_gen_ingest_request_duration_seconds")
        .record(started.elapsed().as_secs_f64());
    metrics::counter!("kafka_gen_ingest_requests_total", "status" => response.status().as_u16().to_string())
        .increment(1);
    response
}

/// The service's routes: `POST /events`, `GET /health`, `GET /metrics`.
pub fn router(app: Arc<Ingest>, max_body_bytes: usize) -> Router {
    let health_app = app.clone();
    let health: crate::metrics::HealthFn = Arc::new(move || health_app.health());
    Router::new()
        .route("/events", post(post_events))
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .with_state(app)
        .merge(crate::metrics::routes(health))
}

/// Serves the API on `listener` until `cancel`, then lets Kafka confirm what is in flight.
pub async fn serve(
    config: &Config,
    listener: tokio::net::TcpListener,
    cancel: CancellationToken,
) -> anyhow::Result<()> {
    let app = Arc::new(Ingest::open(config)?);
    app.producer.watch(
        Duration::from_millis(config.ingest.health_interval_ms),
        cancel.clone(),
    );
    if let Some(addr) = config.metrics_listen {
        let health_app = app.clone();
        crate::metrics::serve(addr, Arc::new(move || health_app.health()), cancel.clone()).await?;
    }
    tracing::info!(address = %listener.local_addr()?, scenario = app.scenario.name(),
        topics = %app.producer.topics().join(","), "Ingest API ready.");
    axum::serve(listener, router(app.clone(), config.ingest.max_body_bytes))
        .with_graceful_shutdown(cancel.cancelled_owned())
        .await?;
    app.producer.flush(SHUTDOWN_FLUSH).await;
    tracing::info!("Ingest API stopped.");
    Ok(())
}
