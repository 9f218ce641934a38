//! `[ingest]` in the config file: the ingest API's address, limits and windows.

use std::net::SocketAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The ingest API service (`kafka-gen ingest`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IngestConfig {
    /// Address the API listens on (`--listen`, `KAFKA_GEN_INGEST_LISTEN`).
    pub listen: SocketAddr,
    /// Largest request body in bytes; a larger one is answered 413.
    pub max_body_bytes: usize,
    /// How long an acknowledged event id or `Idempotency-Key` is remembered, in seconds; a
    /// repeat within the window is acknowledged without producing it again.
    pub idempotency_window_secs: f64,
    /// Most keys remembered; beyond it the oldest are forgotten first.
    pub idempotency_max_keys: usize,
    /// How long a request waits for Kafka to confirm its events before answering 503, in ms.
    pub ack_timeout_ms: u64,
    /// How often Kafka connectivity is checked (for `/health` and the quick 503), in ms.
    pub health_interval_ms: u64,
}

impl Default for IngestConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([0, 0, 0, 0], 8080)),
            max_body_bytes: 16 * 1024 * 1024,
            idempotency_window_secs: 600.0,
            idempotency_max_keys: 1_000_000,
            ack_timeout_ms: 15_000,
            health_interval_ms: 2_000,
        }
    }
}

impl IngestConfig {
    /// Checks the options; messages name the option and the bad value.
    pub fn validate(&self) -> anyhow::Result<()> {
        use crate::config::bounds::{check, check_whole, MAX_TIMEOUT_MS};
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
        )
    }

    /// `validate` bounds the window; a value past `Duration`'s range still gives a week.
    pub fn window(&self) -> Duration {
        Duration::try_from_secs_f64(self.idempotency_window_secs)
            .unwrap_or(Duration::from_secs(7 * 86_400))
    }
}
