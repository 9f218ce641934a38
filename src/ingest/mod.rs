//! The ingest API (`kafka-gen ingest`): what the generator's `http` sink talks to in the
//! compose stack, so events that travel generator -> HTTP -> ingest -> Kafka land on the same
//! topics, byte for byte, as events produced directly.
//!
//! - `complete`: fields a document's own body lacks (`{event_type, payload}`), assigned.
//! - `config`: `[ingest]` options.
//! - `parse`: request bodies (one event, an array, NDJSON) and their validation.
//! - `idempotency`: the window of acknowledged and reserved keys.
//! - `producer`: the Kafka side, with the Kafka sink's settings.
//! - `state`: Kafka's state for `/health` and quick 503s, and rebuilding a failed producer.
//! - `server`: `POST /events`: reading the body within its bounds.
//!
//! `POST /events` answers 200 only once Kafka confirmed every new event of the request
//! (at-least-once: no acknowledged event is lost), 400 naming the first bad field, 413 for an
//! oversized body, 408 for a body not sent within `body_read_timeout_ms`, 422 for an
//! `Idempotency-Key` reused with a different body, 503 (with `Retry-After`) when Kafka is down,
//! slow or missing a topic, or when `max_concurrent_requests` are already in progress, so the
//! client retries. Events whose id (or the request's `Idempotency-Key`) was acknowledged within
//! the window are acknowledged again without being produced twice; a copy of a request still in
//! flight waits for the first one's outcome. `GET /health` reports Kafka's state; `GET /metrics`
//! serves Prometheus metrics. Every path is behind the listener's guard (`crate::guard`): 401
//! without an accepted bearer token when tokens are configured, 429 past a client address's
//! `client_requests_per_sec`.

pub mod complete;
pub mod config;
pub mod idempotency;
pub mod parse;
pub mod producer;
mod server;
pub mod state;

use std::collections::HashSet;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::json;
use tokio::sync::{watch, Semaphore};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

pub use config::IngestConfig;
use idempotency::{Key, Seen, Window};
use parse::Incoming;
use producer::{IngestProducer, Outgoing};
use state::{Health, KafkaState};

use crate::exit::BadInputExt;
use crate::guard::{Guard, Listener};
use crate::scenario::Scenario;
use crate::sinks::kafka::KafkaConfig;

/// Seconds a client is told to wait before retrying a 503.
const RETRY_AFTER_SECS: &str = "1";

/// How long shutdown waits for Kafka to confirm what is still in flight.
const SHUTDOWN_FLUSH: Duration = Duration::from_secs(10);

/// Acknowledged event ids, and `Idempotency-Key`s with the fingerprint of their body (kept
/// apart: the `http` sink uses an event's id as the key of a request carrying that one event).
struct Windows {
    events: Window,
    requests: Window,
}

/// What the service is handed: its own section, the Kafka sink's section it produces with
/// (so records match a run's byte for byte), and the world whose schema requests are checked
/// against. Nothing else of the run's configuration reaches it.
#[derive(Clone)]
pub struct Service {
    /// `[ingest]`.
    pub section: IngestConfig,
    /// `[kafka]`.
    pub kafka: KafkaConfig,
    /// The scenario or world file whose event types are accepted.
    pub world: &'static dyn Scenario,
    /// Also serve `/metrics` and `/health` here (`--metrics-listen`).
    pub metrics_listen: Option<std::net::SocketAddr>,
    /// `[metrics]`: that listener's bounds.
    pub metrics: crate::metrics::MetricsConfig,
    /// Who may use both listeners (`[auth]`, loaded).
    pub access: crate::guard::Access,
    /// `[tls]`: HTTPS, and client certificates, on the API and its metrics listener.
    pub tls: crate::listen::TlsConfig,
}

/// The service's state, shared by every request.
pub struct Ingest {
    scenario: &'static dyn Scenario,
    producer: Arc<IngestProducer>,
    health: Arc<Health>,
    windows: Mutex<Windows>,
    ack_timeout: Duration,
    pub(crate) body_timeout: Duration,
    pub(crate) max_body_bytes: usize,
    pub(crate) requests: Arc<Semaphore>,
    pub(crate) max_requests: usize,
    /// The last cause a request failed for, logged once until it changes or a request succeeds.
    last_failure: Mutex<Option<String>>,
    /// Assigns what a document's own body lacks (`complete`).
    assigner: complete::Assigner,
}

/// What a request does after looking at the windows.
enum Step {
    /// Produce these events (indices into the request), holding their reservation.
    Produce(Vec<usize>, Reservation),
    /// The `Idempotency-Key` was acknowledged for this very body.
    Repeat,
    /// The `Idempotency-Key` belongs to a different body.
    Conflict,
    /// Another request in flight holds some of the keys; wait for its outcome.
    Wait(watch::Receiver<()>),
}

/// Keys a request reserved; settled when it ends, however it ends (a dropped request, e.g. a
/// client that hung up, frees its keys for a retry).
struct Reservation {
    request: Option<Key>,
    events: Vec<Key>,
    acked: bool,
    windows: Arc<Ingest>,
    _settled: watch::Sender<()>,
}

impl Drop for Reservation {
    fn drop(&mut self) {
        let now = Instant::now();
        let mut w = self.windows.windows();
        for key in &self.events {
            w.events.settle(*key, self.acked, now);
        }
        if let Some(key) = self.request {
            w.requests.settle(key, self.acked, now);
        }
        // `_settled` drops after this, waking the requests waiting on these keys.
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    match m.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

impl Ingest {
    /// Connects to Kafka (checking the cluster and topics like the Kafka sink does).
    pub fn open(service: &Service) -> anyhow::Result<Self> {
        let scenario = service.world;
        let producer = IngestProducer::open(&service.kafka, scenario.event_types())?;
        let i = &service.section;
        let window = || Window::new(i.window(), i.idempotency_max_keys);
        Ok(Self {
            scenario,
            producer: Arc::new(producer),
            health: Arc::new(Health::new()),
            windows: Mutex::new(Windows {
                events: window(),
                requests: window(),
            }),
            ack_timeout: Duration::from_millis(i.ack_timeout_ms),
            body_timeout: Duration::from_millis(i.body_read_timeout_ms),
            max_body_bytes: i.max_body_bytes,
            requests: Arc::new(Semaphore::new(i.max_concurrent_requests)),
            max_requests: i.max_concurrent_requests,
            last_failure: Mutex::new(None),
            assigner: complete::Assigner::default(),
        })
    }

    fn windows(&self) -> MutexGuard<'_, Windows> {
        lock(&self.windows)
    }

    fn health(&self) -> (bool, serde_json::Value) {
        let state = self.health.get();
        let up = state == KafkaState::Up;
        let body = json!({
            "status": if up { "ok" } else { "unavailable" },
            "kafka": state.label(),
            "reason": state.reason(),
            "producer_rebuilds": self.health.rebuilds(),
            "kafka_queue_depth": self.producer.queue_depth(),
        });
        (up, body)
    }

    /// Looks the request's keys up and, when it may go ahead, reserves the new ones.
    fn step(self: &Arc<Self>, events: &[Incoming<'_>], request: Option<(Key, Key)>) -> Step {
        let now = Instant::now();
        let mut w = self.windows();
        if let Some((key, fingerprint)) = request {
            match w.requests.get(key, now) {
                Seen::New => {}
                Seen::Acked { fingerprint: f } | Seen::Pending { fingerprint: f, .. }
                    if f != fingerprint =>
                {
                    return Step::Conflict
                }
                Seen::Acked { .. } => return Step::Repeat,
                Seen::Pending { settled, .. } => return Step::Wait(settled),
            }
        }
        let mut fresh = Vec::with_capacity(events.len());
        let mut keys = Vec::with_capacity(events.len());
        let mut in_request = HashSet::with_capacity(events.len());
        for (i, e) in events.iter().enumerate() {
            let key = w.events.key(&e.event_id);
            match w.events.get(key, now) {
                Seen::Acked { .. } => {}
                Seen::Pending { settled, .. } => return Step::Wait(settled),
                Seen::New => {
                    if in_request.insert(key) {
                        fresh.push(i);
                        keys.push(key);
                    }
                }
            }
        }
        let (settled, _) = watch::channel(());
        for key in &keys {
            w.events.reserve(*key, 0, &settled);
        }
        if let Some((key, fingerprint)) = request {
            w.requests.reserve(key, fingerprint, &settled);
        }
        let reservation = Reservation {
            request: request.map(|(k, _)| k),
            events: keys,
            acked: false,
            windows: self.clone(),
            _settled: settled,
        };
        Step::Produce(fresh, reservation)
    }

    pub(crate) async fn handle(self: &Arc<Self>, headers: &HeaderMap, body: &[u8]) -> Response {
        if let Some(reason) = self.health.get().reason() {
            return unavailable(format!("{reason}; retry later"));
        }
        let cx = parse::Context {
            assigner: &self.assigner,
            key: headers.get("idempotency-key").and_then(|v| v.to_str().ok()),
        };
        let events = match parse::events(body, self.scenario, cx) {
            Ok(events) => events,
            Err(error) => {
                metrics::counter!("kafka_gen_ingest_events_rejected_total").increment(1);
                return (StatusCode::BAD_REQUEST, Json(json!({ "error": error }))).into_response();
            }
        };
        let request = headers
            .get("idempotency-key")
            .and_then(|v| v.to_str().ok())
            .filter(|k| !k.is_empty())
            .map(|k| {
                let w = self.windows();
                (w.requests.key(k), w.requests.fingerprint(body))
            });
        let (fresh, mut reservation) = loop {
            match self.step(&events, request) {
                Step::Produce(fresh, reservation) => break (fresh, reservation),
                Step::Repeat => {
                    self.count(&[], events.len());
                    let n = events.len();
                    let body = json!({ "accepted": n, "produced": 0, "duplicates": n });
                    return (StatusCode::OK, Json(body)).into_response();
                }
                Step::Conflict => {
                    let error = "this Idempotency-Key was used for a different body; use a new key for new events";
                    return (
                        StatusCode::UNPROCESSABLE_ENTITY,
                        Json(json!({ "error": error })),
                    )
                        .into_response();
                }
                Step::Wait(mut settled) => {
                    // The owner settles within its ack timeout (or is dropped): bounded.
                    if tokio::time::timeout(self.ack_timeout, settled.changed())
                        .await
                        .is_err()
                    {
                        return unavailable(
                            "an earlier request with the same events is still waiting for Kafka; retry later".into(),
                        );
                    }
                }
            }
        };
        let duplicates = events.len() - fresh.len();
        let fresh: Vec<_> = fresh.iter().filter_map(|i| events.get(*i)).collect();
        let payloads: Vec<_> = fresh.iter().map(|e| e.payload(&self.assigner)).collect();
        let outgoing: Vec<Outgoing<'_>> = (fresh.iter().zip(&payloads))
            .map(|(e, payload)| Outgoing {
                type_index: e.type_index,
                key: &e.key,
                payload,
                time_ms: e.time_ms,
            })
            .collect();
        if let Err(error) = self.produce(&outgoing).await {
            return unavailable(format!("{error}; retry later"));
        }
        reservation.acked = true;
        drop(reservation);
        self.count(
            &outgoing.iter().map(|e| e.type_index).collect::<Vec<_>>(),
            duplicates,
        );
        let body =
            json!({ "accepted": events.len(), "produced": fresh.len(), "duplicates": duplicates });
        (StatusCode::OK, Json(body)).into_response()
    }

    /// Produces and waits for Kafka, giving up early when the health check finds a cause that
    /// will not clear by waiting (a missing topic, a fatal error), which it logs. Any other
    /// cause is logged here, once until it changes or a request succeeds.
    async fn produce(&self, outgoing: &[Outgoing<'_>]) -> Result<(), String> {
        let mut state = self.health.subscribe();
        let hopeless =
            |s: &KafkaState| matches!(s, KafkaState::TopicsMissing(_) | KafkaState::Fatal(_));
        let produced = self.producer.produce(outgoing, self.ack_timeout);
        let result = tokio::select! {
            result = produced => result.map_err(|e| (e.to_string(), false)),
            Ok(s) = state.wait_for(hopeless) => Err((s.reason().unwrap_or_default(), true)),
        };
        let mut last = lock(&self.last_failure);
        match result {
            Ok(()) => {
                *last = None;
                Ok(())
            }
            Err((cause, logged)) => {
                // Let the health check find out why (topic missing, broker down, fatal).
                self.health.check_now();
                if !logged && last.as_deref() != Some(cause.as_str()) {
                    tracing::warn!(%cause, events = outgoing.len(),
                        "Kafka did not take a request's events; answering 503 (repeats of this cause are not logged).");
                    *last = Some(cause.clone());
                }
                Err(cause)
            }
        }
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

pub(crate) fn unavailable(error: String) -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [("retry-after", RETRY_AFTER_SECS)],
        Json(json!({ "error": error })),
    )
        .into_response()
}

/// The service's routes: `POST /events`, `GET /health`, `GET /metrics`.
pub fn router(app: Arc<Ingest>) -> Router {
    let health_app = app.clone();
    let health: crate::metrics::HealthFn = Arc::new(move || health_app.health());
    Router::new()
        .route("/events", post(server::post_events))
        .with_state(app)
        .merge(crate::metrics::routes(health))
}

/// Serves the API on `listener` until `cancel`, then lets Kafka confirm what is in flight.
pub async fn serve(
    service: &Service,
    listener: tokio::net::TcpListener,
    cancel: CancellationToken,
) -> anyhow::Result<()> {
    // A bad certificate is found before Kafka is asked anything.
    let tls = crate::listen::start_tls(&service.tls, &cancel)?;
    // Bad settings, a missing topic: bad input. An unreachable broker is marked a failure of
    // the run where it is found, which `bad_input` keeps.
    let app = Arc::new(Ingest::open(service).bad_input()?);
    state::watch(
        app.producer.clone(),
        app.health.clone(),
        Duration::from_millis(service.section.health_interval_ms),
        cancel.clone(),
    );
    if let Some(addr) = service.metrics_listen {
        let health_app = app.clone();
        let access = service.access.clone();
        let guard = Guard::new(Listener::Metrics, access, service.metrics.limits());
        let health = Arc::new(move || health_app.health());
        crate::metrics::serve(addr, health, guard, tls.clone(), cancel.clone()).await?;
    }
    let address = listener.local_addr()?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    tracing::info!(%address, scheme, scenario = app.scenario.name(),
        topics = %distinct(app.producer.topics()), "Ingest API ready.");
    let guard = Guard::new(
        Listener::Ingest,
        service.access.clone(),
        service.section.limits(),
    );
    guard.announce(
        address,
        tls.as_ref().is_some_and(crate::listen::Tls::mutual),
    );
    let header_timeout = Duration::from_millis(service.section.header_read_timeout_ms);
    let routes = guard.wrap(router(app.clone()));
    crate::listen::serve(listener, routes, tls, header_timeout, cancel).await;
    app.producer.flush(SHUTDOWN_FLUSH).await;
    tracing::info!("Ingest API stopped.");
    Ok(())
}

/// Each topic once, in the order of the first type that uses it: a world whose types share
/// one topic logged it once per type (issue 28).
fn distinct(topics: &[String]) -> String {
    let mut seen = Vec::new();
    for t in topics {
        if !seen.contains(&t.as_str()) {
            seen.push(t.as_str());
        }
    }
    seen.join(",")
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_ready_line_names_each_topic_once() {
        let topics: Vec<String> = ["w.all", "w.all", "w.calls", "w.all"]
            .iter()
            .map(|t| t.to_string())
            .collect();
        assert_eq!(super::distinct(&topics), "w.all,w.calls");
    }
}
