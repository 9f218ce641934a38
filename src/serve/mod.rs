//! `kafka-gen serve`: a streaming HTTP API over the scenarios.
//!
//! Every path is behind the listener's guard (`crate::guard`, applied where it is served);
//! streams are bounded here: `max_streams` at once (503), `max_streams_per_client` per client
//! address (429), request bodies `max_body_bytes` (413).
//!
//! - `GET /health`: status, the number of active streams, the version, the worlds served and
//!   the uptime, as simtom's `/health` reports them.
//! - `GET /scenarios`: names, descriptions, event types and the options each stream takes.
//! - `POST /stream/{scenario}`: NDJSON events, generated as they are sent, at the requested
//!   rate shaped by the world's time profile (business hours, weekends, holidays), with
//!   simtom's defaults (1 a second, unbounded) and bounds. Bad options get 422 naming the field
//!   and its range; a client that disconnects stops its generator.
//!
//! - `limits`: the server's bounds, checked at start-up.
//! - `request`: parsing and validating a stream request.
//! - `schema`: the request's fields, defaults and bounds, as `/scenarios` lists them.
//! - `simtom`: simtom's time-profile fields and per-stream parameters.
//! - `stream`: the generator behind one response, paced by the time profile.

mod limits;
pub mod request;
pub mod schema;
mod simtom;
pub mod stream;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use bytes::Bytes;
use serde_json::json;
use tokio_stream::StreamExt;
use tokio_util::sync::CancellationToken;

use crate::generator::Generator;
use crate::scenario::{self, Master};

pub use limits::Limits;

/// Shared server state.
#[derive(Clone)]
pub struct AppState {
    limits: Limits,
    /// Each scenario's master data, loaded once at start-up (issue 10: it was read from disk,
    /// blocking, on every request), or why it could not be loaded.
    masters: Arc<HashMap<&'static str, Result<Master, String>>>,
    /// The scenarios served: the built-in ones and the world files given with `--world`.
    /// A request names one of these; it never names a file.
    scenarios: Arc<Vec<&'static dyn scenario::Scenario>>,
    active: Arc<AtomicUsize>,
    /// Streams open per client address, for `max_streams_per_client`.
    clients: Arc<stream::ClientStreams>,
    /// Cancelled when the server stops: every open stream ends, so a graceful shutdown does
    /// not wait for them to run out (issue 10).
    shutdown: CancellationToken,
    /// When the server started, for `/health`'s uptime.
    started: std::time::Instant,
}

impl AppState {
    /// Loads every scenario's master data from its directory under `data_root` (the working
    /// directory if unset). A scenario whose data cannot be loaded answers its requests with
    /// the reason.
    pub fn new(limits: Limits, data_root: Option<PathBuf>) -> Self {
        Self::with_worlds(limits, data_root, Vec::new())
    }

    /// [`AppState::new`] serving these world files' worlds too, by their names.
    pub fn with_worlds(
        limits: Limits,
        data_root: Option<PathBuf>,
        worlds: Vec<&'static dyn scenario::Scenario>,
    ) -> Self {
        let mut all: Vec<&'static dyn scenario::Scenario> = (scenario::names().into_iter())
            .filter_map(|name| {
                scenario::find(name)
                    .map_err(|e| tracing::warn!(scenario = name, error = %format!("{e:#}"), "Cannot load the world; it is not served."))
                    .ok()
            })
            .collect();
        // A world file given by path replaces the shipped world of its name.
        all.retain(|s| !worlds.iter().any(|w| w.name() == s.name()));
        all.extend(worlds);
        let masters = all
            .iter()
            .map(|s| {
                let dir = s.default_data_dir();
                let dir = data_root.as_ref().map_or(dir.clone(), |root| root.join(dir));
                let loaded = s.load_master(&dir).map_err(|e| {
                    tracing::warn!(scenario = s.name(), error = %format!("{e:#}"), "Cannot load master data; its streams will fail.");
                    format!("{e:#}")
                });
                (s.name(), loaded)
            })
            .collect();
        Self {
            limits,
            masters: Arc::new(masters),
            scenarios: Arc::new(all),
            active: Arc::new(AtomicUsize::new(0)),
            clients: Arc::default(),
            shutdown: CancellationToken::new(),
            started: std::time::Instant::now(),
        }
    }

    /// The token that stops every stream: cancel it when the server shuts down.
    pub fn shutdown(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Streams whose generator is still running.
    pub fn active_streams(&self) -> usize {
        self.active.load(Ordering::SeqCst)
    }
}

/// Where `serve` listens: `--listen`, else simtom's `SIMTOM_HOST` and `SIMTOM_PORT` (each
/// optional, issue 29: they were ignored silently), else `127.0.0.1:8000`: this host only
/// unless told otherwise (issue 30).
pub fn listen_address(
    flag: Option<&str>,
    env: impl Fn(&str) -> Option<String>,
) -> anyhow::Result<std::net::SocketAddr> {
    if let Some(flag) = flag {
        return flag.parse().map_err(|_| {
            anyhow::anyhow!(
                "listen address {flag:?} is not HOST:PORT, e.g. 0.0.0.0:8000 (--listen)"
            )
        });
    }
    let host = env("SIMTOM_HOST").unwrap_or_else(|| "127.0.0.1".into());
    let port = match env("SIMTOM_PORT") {
        Some(p) => p.trim().parse::<u16>().map_err(|_| {
            anyhow::anyhow!(
                "SIMTOM_PORT is {p:?}; it must be a port, 0 to 65535 (or pass --listen HOST:PORT)"
            )
        })?,
        None => 8000,
    };
    let host_ip: std::net::IpAddr = host.trim().parse().map_err(|_| {
        anyhow::anyhow!("SIMTOM_HOST is {host:?}; it must be an IP address such as 0.0.0.0 or 127.0.0.1 (or pass --listen HOST:PORT)")
    })?;
    Ok(std::net::SocketAddr::new(host_ip, port))
}

/// The routes, with request bodies bounded by `max_body_bytes` (413 past it).
pub fn router(state: AppState) -> Router {
    let body_limit = axum::extract::DefaultBodyLimit::max(state.limits.max_body_bytes);
    Router::new()
        .route("/health", get(health))
        .route("/scenarios", get(scenarios))
        // simtom's name for the same list (issue 29).
        .route("/generators", get(scenarios))
        .route("/stream/{scenario}", post(stream_events))
        .layer(body_limit)
        .with_state(state)
}

async fn health(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(json!({
        "status": "ok",
        "active_streams": state.active_streams(),
        "version": env!("CARGO_PKG_VERSION"),
        "generators_available": state.scenarios.len(),
        "uptime_secs": (state.started.elapsed().as_secs_f64() * 10.0).round() / 10.0,
    }))
}

async fn scenarios(State(state): State<AppState>) -> Json<serde_json::Value> {
    let list: Vec<_> = state
        .scenarios
        .iter()
        .map(|s| {
            let types: Vec<_> = s
                .event_types()
                .iter()
                .map(|t| json!({"name": t.name, "default_weight": t.default_weight, "topic": t.default_topic, "key": t.key_field}))
                .collect();
            json!({"name": s.name(), "description": s.description(), "event_types": types,
                "config_schema": schema::schema(*s, &state.limits)})
        })
        .collect();
    Json(json!(list))
}

fn error(status: StatusCode, field: Option<&str>, message: String) -> Response {
    (status, Json(json!({"error": message, "field": field}))).into_response()
}

async fn stream_events(
    State(state): State<AppState>,
    Path(name): Path<String>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            let max = state.limits.max_body_bytes;
            let message = format!("the body is larger than {max} bytes (--max-body-bytes)");
            return error(StatusCode::PAYLOAD_TOO_LARGE, Some("body"), message);
        }
        Err(e) => return error(e.status(), Some("body"), e.body_text()),
    };
    let Some(scenario) = state.scenarios.iter().copied().find(|s| s.name() == name) else {
        let known: Vec<_> = state.scenarios.iter().map(|s| s.name()).collect();
        return error(
            StatusCode::NOT_FOUND,
            None,
            format!("unknown scenario {name:?}; known: {}", known.join(", ")),
        );
    };
    let plan = match request::plan(scenario, &body, &state.limits) {
        Ok(plan) => plan,
        Err(bad) => {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(&bad.field),
                bad.message,
            )
        }
    };
    // A server without the client's address (a test's) counts every client as one.
    let client = peer.map(|Extension(ConnectInfo(p))| p.ip());
    let max = state.limits.max_streams_per_client;
    let Some(slot) = state.clients.try_take(client, max) else {
        return error(
            StatusCode::TOO_MANY_REQUESTS,
            None,
            format!(
                "this address has {max} streams open, the most one client may \
                 (--max-streams-per-client); close one, or retry later"
            ),
        );
    };
    let Some(guard) = stream::ActiveGuard::try_new(state.active.clone(), state.limits.max_streams)
    else {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            None,
            format!(
                "{} streams are open, the most this server allows; retry later",
                state.limits.max_streams
            ),
        );
    };
    let master = state.masters.get(scenario.name()).cloned();
    let master = master.unwrap_or_else(|| Err("not loaded".into()));
    let generator = master.and_then(|m| {
        let world = plan
            .config
            .world_section(scenario)
            .and_then(|section| match &plan.model {
                Some(model) => simtom::world_from(model, scenario, &m, &section),
                None => scenario.world_from(&m, &section),
            })
            .map_err(|e| format!("{e:#}"))?;
        let weights = plan
            .config
            .weights_for(scenario)
            .map_err(|e| format!("{e:#}"))?;
        Generator::with_world(scenario, world, weights, plan.seed).map_err(|e| format!("{e:#}"))
    });
    let generator = match generator {
        Ok(g) => g,
        Err(e) => {
            tracing::error!(scenario = %name, error = %e, "Cannot start a stream.");
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                None,
                format!("cannot start a {name} stream: {e}"),
            );
        }
    };
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(4);
    tracing::info!(scenario = %name, rate = plan.rate, total = ?plan.total, seed = plan.seed, "Stream opened.");
    tokio::spawn(stream::run(
        generator,
        plan,
        tx,
        (guard, slot),
        state.shutdown(),
    ));
    let body = Body::from_stream(
        tokio_stream::wrappers::ReceiverStream::new(rx).map(Ok::<_, std::convert::Infallible>),
    );
    ([(header::CONTENT_TYPE, "application/x-ndjson")], body).into_response()
}

#[cfg(test)]
mod listen_tests {
    use super::listen_address;

    #[test]
    fn simtoms_host_and_port_are_honoured_below_the_flag() {
        let none = |_: &str| None;
        let simtom = |name: &str| match name {
            "SIMTOM_HOST" => Some("127.0.0.1".to_string()),
            "SIMTOM_PORT" => Some("9123".to_string()),
            _ => None,
        };
        let port_only = |name: &str| (name == "SIMTOM_PORT").then(|| "9124".to_string());
        let addr = |flag, env: &dyn Fn(&str) -> Option<String>| {
            listen_address(flag, env).map(|a| a.to_string())
        };
        assert_eq!(addr(None, &none).unwrap(), "127.0.0.1:8000");
        assert_eq!(addr(None, &simtom).unwrap(), "127.0.0.1:9123");
        assert_eq!(addr(None, &port_only).unwrap(), "127.0.0.1:9124");
        let everywhere = |name: &str| (name == "SIMTOM_HOST").then(|| "0.0.0.0".to_string());
        assert_eq!(addr(None, &everywhere).unwrap(), "0.0.0.0:8000");
        assert_eq!(addr(Some("127.0.0.1:1"), &simtom).unwrap(), "127.0.0.1:1");
        let bad_port = |name: &str| (name == "SIMTOM_PORT").then(|| "80000".to_string());
        let err = addr(None, &bad_port).unwrap_err().to_string();
        assert!(err.contains("SIMTOM_PORT is \"80000\""), "{err}");
        let bad_host = |name: &str| (name == "SIMTOM_HOST").then(|| "example".to_string());
        let err = addr(None, &bad_host).unwrap_err().to_string();
        assert!(err.contains("SIMTOM_HOST is \"example\""), "{err}");
        assert!(addr(Some("nope"), &none).is_err());
    }
}
