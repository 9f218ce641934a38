//! `[ingest]` in the config file: the ingest API's address, limits and windows.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::bail;
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
        if self.max_body_bytes < 1024 {
            bail!(
                "ingest.max_body_bytes is {}; it must be at least 1024",
                self.max_body_bytes
            );
        }
        let w = self.idempotency_window_secs;
        if !(w.is_finite() && w >= 0.0) {
            bail!("ingest.idempotency_window_secs is {w}; it must be seconds >= 0");
        }
        if self.ack_timeout_ms == 0 || self.health_interval_ms == 0 {
            bail!("ingest.ack_timeout_ms and ingest.health_interval_ms must be at least 1");
        }
        Ok(())
    }

    pub fn window(&self) -> Duration {
        Duration::from_secs_f64(self.idempotency_window_secs)
    }
}
