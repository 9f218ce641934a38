//! One stream: a generator paced by a rate limiter on tokio's clock, its events sent as NDJSON
//! chunks down a channel to the response body. A closed channel (the client went away) stops it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::request::StreamPlan;
use crate::event::Batch;
use crate::generator::Generator;
use crate::schedule::RateGate;

/// Counts a stream as active from creation until it is dropped, however its task ends.
pub struct ActiveGuard(Arc<AtomicUsize>);

impl ActiveGuard {
    /// Takes one of `max` places, or None when all are taken. Checking and taking are one
    /// atomic step, so simultaneous requests cannot overshoot the cap (issue 10).
    pub fn try_new(active: Arc<AtomicUsize>, max: usize) -> Option<Self> {
        active
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < max).then_some(n + 1)
            })
            .ok()?;
        Some(Self(active))
    }
}

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Generates `plan.total` primaries at `plan.rate` and sends them; returns when done, when
/// the receiver is gone, or when the server shuts down (`stop`), which ends the response.
pub async fn run(
    mut generator: Generator,
    plan: StreamPlan,
    tx: mpsc::Sender<Bytes>,
    _guard: ActiveGuard,
    stop: CancellationToken,
) {
    let chunk = (plan.rate / 100.0).clamp(1.0, 1000.0) as u32;
    let Ok(mut gate) = RateGate::new(plan.rate, chunk) else {
        return;
    };
    let step_ms = 1000.0 * plan.time_compression / plan.rate;
    let mut time = plan.start_ms as f64;
    let end = plan.end_ms.map_or(f64::INFINITY, |e| e as f64);
    let mut sent = 0u64;
    let mut batch = Batch::new();
    while sent < plan.total && time < end {
        let n = u64::from(chunk).min(plan.total - sent) as u32;
        while let Err(wait) = gate.try_take(n) {
            tokio::select! {
                _ = tx.closed() => return,
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(wait) => {}
            }
        }
        batch.clear();
        let mut halted = false;
        for _ in 0..n {
            if time >= end {
                break;
            }
            if let Err(error) = generator.next(time as i64, &mut batch) {
                tracing::warn!(%error, "Stream stopped.");
                halted = true;
                break;
            }
            time += step_ms;
        }
        let mut lines = Vec::with_capacity(batch.payload_bytes() + batch.len());
        for record in batch.iter() {
            lines.extend_from_slice(record.payload);
            lines.push(b'\n');
        }
        if halted {
            // The world can produce nothing more: send what it made, then end the stream.
            let _ = tx.send(Bytes::from(lines)).await;
            return;
        }
        tokio::select! {
            sent = tx.send(Bytes::from(lines)) => {
                if sent.is_err() {
                    return;
                }
            }
            _ = stop.cancelled() => return,
        }
        sent += u64::from(n);
    }
}
