//! `[ingest]` in the config file: the ingest API's address, limits and windows.

use std::net::SocketAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::guard::{Limits, Listener};

/// The ingest API service (`kafka-gen ingest`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IngestConfig {
    /// Address the API listens on (`--listen`, `KAFKA_GEN_INGEST_LISTEN`); this host only
    /// unless told otherwise.
    pub listen: SocketAddr,
    /// Largest request body in bytes; a larger one is answered 413.
    pub max_body_bytes: usize,
    /// How long an acknowledged event id or `Idempotency-Key` is remembered, in seconds; a
    /// repeat within the window is acknowledged without producing it again.
    pub idempotency_window_secs: f64,
    /// Most keys remembered; beyond it the oldest are forgotten first.
    pub idempotency_max_keys: usize,
    /// How long a request waits for Kafka to confirm its events before answering 503, in ms.
    /// Keep it below the client's own timeout (the `http` sink's `timeout_ms`, 20 s), so a
    /// client hears the 503 rather than giving up on a request that may still succeed.
    pub ack_timeout_ms: u64,
    /// How long a client may take to send a request's headers, in ms; then the connection is
    /// closed (slow clients must not hold connections for ever). 100..=600000.
    pub header_read_timeout_ms: u64,
    /// How long a client may take to send a request's body, in ms; then it is answered 408.
    /// 100..=3600000.
    pub body_read_timeout_ms: u64,
    /// Requests handled at once (bodies being read or waiting for Kafka); one more is answered
    /// 503 at once. Bodies in memory are bounded by this times `max_body_bytes`. 1..=10000.
    pub max_concurrent_requests: usize,
    /// How often Kafka connectivity is checked (for `/health` and the quick 503), in ms.
    pub health_interval_ms: u64,
    /// Requests per second one client address may make on average, every path counted (more
    /// get 429 with `Retry-After`, which the `http` sink honours); 0 for no limit. 0.01 to 1e6.
    /// Behind a proxy every request comes from the proxy's address.
    pub client_requests_per_sec: f64,
    /// Requests one client address may make at once above that rate. 1 to 1000000.
    pub client_burst: u32,
}

impl Default for IngestConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            max_body_bytes: 16 * 1024 * 1024,
            idempotency_window_secs: 600.0,
            idempotency_max_keys: 1_000_000,
            ack_timeout_ms: 15_000,
            header_read_timeout_ms: 10_000,
            body_read_timeout_ms: 30_000,
            max_concurrent_requests: 32,
            health_interval_ms: 2_000,
            client_requests_per_sec: 1_000.0,
            client_burst: 2_000,
        }
    }
}

impl IngestConfig {
    /// Checks the options; messages name the option and the bad value.
    pub fn validate(&self) -> anyhow::Result<()> {
        use crate::bounds::{check, check_whole, MAX_TIMEOUT_MS};
        const FIX: &str = "config file [ingest]";
        let body = (1024, 1 << 30);
        check_whole(
            self.max_body_bytes as u64,
            body,
            "ingest.max_body_bytes",
            "bytes",
            FIX,
        )?;
        let w = self.idempotency_window_secs;
        check(
            w,
            (0.0, 7.0 * 86_400.0),
            "ingest.idempotency_window_secs",
            "seconds",
            FIX,
        )?;
        let keys = self.idempotency_max_keys as u64;
        check_whole(
            keys,
            (1, 100_000_000),
            "ingest.idempotency_max_keys",
            "keys",
            FIX,
        )?;
        let ms = (1, i128::from(MAX_TIMEOUT_MS));
        check_whole(self.ack_timeout_ms, ms, "ingest.ack_timeout_ms", "ms", FIX)?;
        check_whole(
            self.health_interval_ms,
            ms,
            "ingest.health_interval_ms",
            "ms",
            FIX,
        )?;
        check_whole(
            self.header_read_timeout_ms,
            (100, 600_000),
            "ingest.header_read_timeout_ms",
            "ms",
            FIX,
        )?;
        check_whole(
            self.body_read_timeout_ms,
            (100, 3_600_000),
            "ingest.body_read_timeout_ms",
            "ms",
            FIX,
        )?;
        check_whole(
            self.max_concurrent_requests as u64,
            (1, 10_000),
            "ingest.max_concurrent_requests",
            "requests",
            FIX,
        )?;
        self.limits().validate(|f| Listener::Ingest.setting(f), FIX)
    }

    /// The guard's limits: per client address; `POST /events` bounds its own concurrency.
    pub fn limits(&self) -> Limits {
        Limits {
            client_requests_per_sec: self.client_requests_per_sec,
            client_burst: self.client_burst,
            max_concurrent_requests: None,
        }
    }

    /// `validate` bounds the window; a value past `Duration`'s range still gives a week.
    pub fn window(&self) -> Duration {
        Duration::try_from_secs_f64(self.idempotency_window_secs)
            .unwrap_or(Duration::from_secs(7 * 86_400))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slow_client_bounds_are_range_checked() {
        IngestConfig::default().validate().unwrap();
        let c = IngestConfig {
            header_read_timeout_ms: 0,
            ..IngestConfig::default()
        };
        let e = c.validate().unwrap_err().to_string();
        assert!(
            e.contains("header_read_timeout_ms is 0") && e.contains("100 to 600000"),
            "{e}"
        );
        let c = IngestConfig {
            max_concurrent_requests: 0,
            ..IngestConfig::default()
        };
        assert!(c
            .validate()
            .unwrap_err()
            .to_string()
            .contains("max_concurrent_requests is 0"));
        let c = IngestConfig {
            body_read_timeout_ms: 4_000_000,
            ..IngestConfig::default()
        };
        assert!(c
            .validate()
            .unwrap_err()
            .to_string()
            .contains("body_read_timeout_ms"));
        let c = IngestConfig {
            client_requests_per_sec: 2e6,
            ..IngestConfig::default()
        };
        let e = c.validate().unwrap_err().to_string();
        assert!(
            e.contains("ingest.client_requests_per_sec is 2e6; it must be 0.01 to 1e6"),
            "{e}"
        );
        let c = IngestConfig {
            client_requests_per_sec: 0.0,
            client_burst: 0,
            ..IngestConfig::default()
        };
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains("ingest.client_burst is 0"), "{e}");
    }

    /// Issue 10: the `http` sink gave up on a request (10 s) before ingest answered it
    /// (15 s), so a slow Kafka made our own sink send the same events twice.
    #[test]
    fn the_sink_waits_longer_than_ingest_holds_a_request() {
        let sink = crate::sinks::http::HttpSinkConfig::default().timeout();
        let ack = Duration::from_millis(IngestConfig::default().ack_timeout_ms);
        assert!(sink >= ack + Duration::from_secs(5), "{sink:?} vs {ack:?}");
    }
}
