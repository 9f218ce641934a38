//! Who may use an HTTP listener, and how much: one axum middleware in front of the ingest
//! API, `kafka-gen serve` and the metrics listener (issue 30). In order, a request
//!
//! 1. takes a token from its client address's bucket (`limiter`), else 429 with
//!    `Retry-After`;
//! 2. shows a bearer token the listener accepts (`tokens`), unless none are configured or it
//!    asks for `GET /health` with `health_open`; else 401 with `WWW-Authenticate`;
//! 3. takes one of the listener's concurrent-request permits, where it has them; else 503.
//!
//! The `Authorization` header is removed before the request goes on, so nothing behind the
//! guard can log it. The client address is the `ConnectInfo<SocketAddr>` extension that the
//! accept loop inserts (axum's `into_make_service_with_connect_info`, or the ingest API's own
//! loop).
//!
//! - `config`: `[auth]`, the loaded [`Access`], and the per-listener [`Limits`].
//! - `tokens`: reading tokens and comparing them in constant time.
//! - `limiter`: the per-address token buckets, bounded in memory.

pub mod config;
pub mod limiter;
pub mod tokens;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::{AUTHORIZATION, RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde_json::json;
use tokio::sync::Semaphore;

pub use config::{Access, AuthConfig, Limits};
use limiter::ClientLimiter;
use tokens::Presented;

/// The listener a guard stands in front of: it names the listener's settings in answers and
/// says what it exposes in the start-up warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listener {
    Ingest,
    Serve,
    Metrics,
}

impl Listener {
    fn name(self) -> &'static str {
        match self {
            Self::Ingest => "ingest",
            Self::Serve => "serve",
            Self::Metrics => "metrics",
        }
    }

    fn exposes(self) -> &'static str {
        match self {
            Self::Ingest => "accepts writes to Kafka",
            Self::Serve => "streams generated events, on this host's CPU,",
            Self::Metrics => "shows this process's metrics and health",
        }
    }

    /// A limit's name where the user sets it: `[ingest] client_burst`, `--client-burst`.
    pub fn setting(self, field: &str) -> String {
        match self {
            Self::Serve => format!("--{}", field.replace('_', "-")),
            other => format!("{}.{field}", other.name()),
        }
    }
}

/// One listener's access rule and limits, shared by every request to it.
#[derive(Debug)]
pub struct Guard {
    listener: Listener,
    access: Access,
    limits: Limits,
    limiter: Option<ClientLimiter>,
    requests: Option<Arc<Semaphore>>,
    /// A refused token is logged once per listener; the rest are counted.
    warned: AtomicBool,
}

impl Guard {
    /// `limits` are checked at load (`Limits::validate`).
    pub fn new(listener: Listener, access: Access, limits: Limits) -> Arc<Self> {
        let limiter = (limits.client_requests_per_sec > 0.0)
            .then(|| ClientLimiter::new(limits.client_requests_per_sec, limits.client_burst));
        let requests = (limits.max_concurrent_requests).map(|n| Arc::new(Semaphore::new(n)));
        Arc::new(Self {
            listener,
            access,
            limits,
            limiter,
            requests,
            warned: AtomicBool::new(false),
        })
    }

    /// `router` behind this guard, its fallback included.
    pub fn wrap(self: &Arc<Self>, router: Router) -> Router {
        router.layer(axum::middleware::from_fn_with_state(self.clone(), check))
    }

    /// Logs how the listener on `addr` is protected: a warning naming what it exposes when it
    /// takes requests from beyond this host with neither a token nor, `client_certs`, a client
    /// certificate (mTLS) required.
    pub fn announce(&self, addr: SocketAddr, client_certs: bool) {
        let name = self.listener.name();
        if self.access.tokens.is_none() && client_certs {
            tracing::info!(listener = name, address = %addr,
                "Requests need a client certificate from the --tls-client-ca CA; no bearer token is asked.");
        } else if let Some(tokens) = &self.access.tokens {
            let health = if self.access.health_open {
                " (GET /health without one)"
            } else {
                ""
            };
            tracing::info!(listener = name, address = %addr, tokens = tokens.len(),
                "Requests need a bearer token{health}.");
        } else if !addr.ip().is_loopback() {
            tracing::warn!(
                "{name} on {addr} {} for anyone who can reach it; set --auth-token-file or \
                 KAFKA_GEN_AUTH_TOKENS (README: \"Securing the services\"), or listen on \
                 127.0.0.1",
                self.listener.exposes()
            );
        }
    }

    fn refuse(&self, reason: &'static str, peer: Option<SocketAddr>) {
        metrics::counter!("kafka_gen_http_refused_total", "listener" => self.listener.name(), "reason" => reason)
            .increment(1);
        if reason == "token" && !self.warned.swap(true, Ordering::Relaxed) {
            let client = peer.map_or("an unknown address".into(), |p| p.ip().to_string());
            tracing::warn!(listener = self.listener.name(), %client,
                "Refused a request without a valid bearer token (further refusals are counted in kafka_gen_http_refused_total, not logged).");
        }
    }

    fn too_many(&self, wait: Duration) -> Response {
        let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
        let l = self.listener;
        let error = format!(
            "too many requests from this address: {} {} a second, {} {} at once; retry after \
             {secs} s",
            l.setting("client_requests_per_sec"),
            crate::bounds::Num(self.limits.client_requests_per_sec),
            l.setting("client_burst"),
            self.limits.client_burst
        );
        let after = secs.to_string();
        let status = StatusCode::TOO_MANY_REQUESTS;
        (
            status,
            [(RETRY_AFTER, after)],
            Json(json!({ "error": error })),
        )
            .into_response()
    }

    fn busy(&self, max: usize) -> Response {
        let error = format!(
            "{max} requests are already in progress ({}); retry later",
            self.listener.setting("max_concurrent_requests")
        );
        let status = StatusCode::SERVICE_UNAVAILABLE;
        (
            status,
            [(RETRY_AFTER, "1")],
            Json(json!({ "error": error })),
        )
            .into_response()
    }
}

/// RFC 6750: no error code when no token was given, `invalid_token` when a wrong one was.
fn unauthorized(given: bool) -> Response {
    let (challenge, error) = if given {
        (
            r#"Bearer realm="kafka-gen", error="invalid_token""#,
            "the bearer token is not one this service accepts; send one it was started with",
        )
    } else {
        (
            r#"Bearer realm="kafka-gen""#,
            "this service needs a bearer token: send Authorization: Bearer <token>",
        )
    };
    let status = StatusCode::UNAUTHORIZED;
    (
        status,
        [(WWW_AUTHENTICATE, challenge)],
        Json(json!({ "error": error })),
    )
        .into_response()
}

/// The middleware: rate, then token, then a permit (see the module's notes).
async fn check(State(guard): State<Arc<Guard>>, mut request: Request, next: Next) -> Response {
    let peer = (request.extensions().get::<ConnectInfo<SocketAddr>>()).map(|c| c.0);
    if let Some(limiter) = &guard.limiter {
        let now = tokio::time::Instant::now();
        if let Err(wait) = limiter.take(peer.map(|p| p.ip()), now) {
            guard.refuse("rate", peer);
            return guard.too_many(wait);
        }
    }
    let open = guard.access.health_open && request.uri().path() == "/health";
    if let Some(tokens) = guard.access.tokens.as_ref().filter(|_| !open) {
        let given = match tokens::presented(request.headers()) {
            Presented::Nothing => false,
            Presented::Bearer(token) if tokens.accepts(token) => true,
            Presented::Bearer(_) => {
                guard.refuse("token", peer);
                return unauthorized(true);
            }
        };
        if !given {
            guard.refuse("token", peer);
            return unauthorized(false);
        }
    }
    request.headers_mut().remove(AUTHORIZATION);
    let _permit = match &guard.requests {
        None => None,
        Some(permits) => match permits.clone().try_acquire_owned() {
            Ok(permit) => Some(permit),
            Err(_) => {
                guard.refuse("busy", peer);
                let max = guard.limits.max_concurrent_requests.unwrap_or_default();
                return guard.busy(max);
            }
        },
    };
    next.run(request).await
}

#[cfg(test)]
mod tests;
