//! One stream: a generator paced by a rate limiter on tokio's clock, its events sent as NDJSON
//! chunks down a channel to the response body. A closed channel (the client went away) stops it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::mpsc;

use super::request::StreamPlan;
use crate::event::Batch;
use crate::generator::Generator;
use crate::schedule::RateGate;

/// Counts a stream as active from creation until it is dropped, however its task ends.
pub struct ActiveGuard(Arc<AtomicUsize>);

impl ActiveGuard {
    pub fn new(active: Arc<AtomicUsize>) -> Self {
        active.fetch_add(1, Ordering::SeqCst);
        Self(active)
    }
}

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Generates `plan.total` primaries at `plan.rate` and sends them; returns when done or when
/// the receiver is gone.
pub async fn run(
    mut generator: Generator,
    plan: StreamPlan,
    tx: mpsc::Sender<Bytes>,
    _guard: ActiveGuard,
) {
    let chunk = (plan.rate / 100.0).clamp(1.0, 1000.0) as u32;
    let Ok(mut gate) = RateGate::new(plan.rate, chunk) else {
        return;
    };
    let step_ms = 1000.0 / plan.rate;
    let mut time = plan.start_ms as f64;
    let mut sent = 0u64;
    let mut batch = Batch::new();
    while sent < plan.total {
        let n = u64::from(chunk).min(plan.total - sent) as u32;
        while let Err(wait) = gate.try_take(n) {
            tokio::select! {
                _ = tx.closed() => return,
                _ = tokio::time::sleep(wait) => {}
            }
        }
        batch.clear();
        for _ in 0..n {
            generator.next(time as i64, &mut batch);
            time += step_ms;
        }
        let mut lines = Vec::with_capacity(batch.payload_bytes() + batch.len());
        for record in batch.iter() {
            lines.extend_from_slice(record.payload);
            lines.push(b'\n');
        }
        if tx.send(Bytes::from(lines)).await.is_err() {
            return;
        }
        sent += u64::from(n);
    }
}
