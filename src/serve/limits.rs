//! What `kafka-gen serve` allows a client to ask for, from its flags, each checked at start-up
//! against its stated range (issue 30).

use super::request;

/// What the server allows a client to ask for.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Highest `rate`, events per second.
    pub max_rate: f64,
    /// Highest `total`, primary events per stream.
    pub max_total: u64,
    /// Most streams open at once; more get 503.
    pub max_streams: usize,
    /// Most streams one client address may have open at once; more get 429.
    pub max_streams_per_client: usize,
    /// Largest request body, bytes; larger get 413.
    pub max_body_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_rate: request::RATE.1,
            max_total: request::MAX_TOTAL,
            max_streams: 64,
            max_streams_per_client: 8,
            max_body_bytes: 64 * 1024,
        }
    }
}

impl Limits {
    /// Checks each bound, naming its flag: a bound past simtom's own would promise what a
    /// request can never get.
    pub fn validate(&self) -> anyhow::Result<()> {
        use crate::bounds::{check, check_whole};
        let (lo, hi) = request::RATE;
        check(
            self.max_rate,
            (lo, hi),
            "max rate",
            "events per second (simtom's bounds)",
            "--max-rate",
        )?;
        let total = i128::from(request::MAX_TOTAL);
        check_whole(
            self.max_total,
            (1, total),
            "max total",
            "events (simtom's top)",
            "--max-total",
        )?;
        let streams = (1, 10_000);
        check_whole(
            self.max_streams as u64,
            streams,
            "max streams",
            "streams",
            "--max-streams",
        )?;
        let (what, flag) = ("max streams per client", "--max-streams-per-client");
        check_whole(
            self.max_streams_per_client as u64,
            streams,
            what,
            "streams",
            flag,
        )?;
        let body = (1024, 16 * 1024 * 1024);
        check_whole(
            self.max_body_bytes as u64,
            body,
            "max body bytes",
            "bytes",
            "--max-body-bytes",
        )
    }
}
