//! One stream: a generator whose event times follow the time profile, each event sent when
//! tokio's clock reaches its time, as NDJSON chunks down a channel to the response body. A
//! closed channel (the client went away) stops it.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use std::time::Duration;

use rand::SeedableRng;

use super::request::StreamPlan;
use crate::event::Batch;
use crate::generator::Generator;
use crate::profile::sampler::Sampler;
use crate::SimRng;

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

/// Streams open per client address (its `guard::limiter::client_key`; an unknown address
/// counts as one client). An address is kept only while it has a stream, so the map holds at
/// most as many addresses as there are streams and requests taking one.
#[derive(Debug, Default)]
pub struct ClientStreams(Mutex<HashMap<Option<u128>, usize>>);

impl ClientStreams {
    fn open(&self) -> MutexGuard<'_, HashMap<Option<u128>, usize>> {
        match self.0.lock() {
            Ok(map) => map,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Takes one of `client`'s `max` places, or None when all are taken.
    pub fn try_take(self: &Arc<Self>, client: Option<IpAddr>, max: usize) -> Option<ClientSlot> {
        let key = client.map(crate::guard::limiter::client_key);
        let mut open = self.open();
        let n = open.get(&key).copied().unwrap_or(0);
        if n >= max {
            return None;
        }
        open.insert(key, n + 1);
        Some(ClientSlot {
            streams: self.clone(),
            key,
        })
    }

    /// Addresses with a stream open.
    pub fn clients(&self) -> usize {
        self.open().len()
    }
}

/// One client's place, given back when dropped.
#[derive(Debug)]
pub struct ClientSlot {
    streams: Arc<ClientStreams>,
    key: Option<u128>,
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        let mut open = self.streams.open();
        if let Some(n) = open.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.key);
            }
        }
    }
}

/// Most records sent in one chunk: a fast stream's events are gathered until the next one is
/// due later than now, or until this many are waiting.
const MAX_CHUNK: usize = 1000;

/// Generates primaries at the event times the plan's profile draws (a Poisson process of
/// `rate / time_compression` events per second of event time at an ordinary weekday's
/// average hour), sending each when the wall clock reaches it: `time_compression` times
/// slower than event time, counted from the stream's start. So event time keeps pace with the
/// clock, and the pace follows business hours, weekends and holidays as simtom's does.
/// Returns after `plan.total` primaries, at `plan.end_ms`, when the receiver is gone, or when
/// the server shuts down (`stop`), which ends the response.
pub async fn run(
    mut generator: Generator,
    plan: StreamPlan,
    tx: mpsc::Sender<Bytes>,
    _places: (ActiveGuard, ClientSlot),
    stop: CancellationToken,
) {
    let per_sec = plan.rate / plan.time_compression;
    let sampler = Sampler::at_rate(plan.profile.clone(), plan.start_ms, plan.end_ms, per_sec);
    let mut sampler = match sampler {
        Ok(s) => s,
        Err(error) => {
            tracing::warn!(error = %format!("{error:#}"), "Stream stopped.");
            return;
        }
    };
    // Event times from their own stream of the seed, so that the world's draws are the same
    // whatever the profile.
    let mut rng = SimRng::seed_from_u64(plan.seed ^ 0x7133_5eed);
    let started = tokio::time::Instant::now();
    let mut sent = 0u64;
    let mut batch = Batch::new();
    loop {
        if plan.total.is_some_and(|total| sent >= total) {
            break;
        }
        let Some(time) = sampler.next(&mut rng) else {
            break;
        };
        let wall = (time - plan.start_ms as f64) / 1000.0 / plan.time_compression;
        // Past what an Instant can hold (centuries away): as good as never.
        let far = Duration::from_secs(100 * 365 * 86_400);
        let wait = Duration::try_from_secs_f64(wall.max(0.0)).unwrap_or(far);
        let due = (started.checked_add(wait)).unwrap_or(started + far);
        if due > tokio::time::Instant::now() {
            if !batch.is_empty() && !send(&tx, &mut batch, &stop).await {
                return;
            }
            tokio::select! {
                _ = tx.closed() => return,
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep_until(due) => {}
            }
        }
        match generator.next(time as i64, &mut batch) {
            Ok(Some(_)) => sent += 1,
            // The world takes no primary at this time; later ones may.
            Ok(None) => {}
            Err(error) => {
                tracing::warn!(%error, "Stream stopped.");
                // The world can produce nothing more: send what it made, then end the stream.
                break;
            }
        }
        if batch.len() >= MAX_CHUNK && !send(&tx, &mut batch, &stop).await {
            return;
        }
    }
    if !batch.is_empty() {
        send(&tx, &mut batch, &stop).await;
    }
}

/// Sends the batch as NDJSON and clears it; false when the client or the server is gone.
async fn send(tx: &mpsc::Sender<Bytes>, batch: &mut Batch, stop: &CancellationToken) -> bool {
    let mut lines = Vec::with_capacity(batch.payload_bytes() + batch.len());
    for record in batch.iter() {
        lines.extend_from_slice(record.payload);
        lines.push(b'\n');
    }
    batch.clear();
    tokio::select! {
        sent = tx.send(Bytes::from(lines)) => sent.is_ok(),
        _ = stop.cancelled() => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_client_has_its_own_places_and_gives_them_back() {
        let streams = Arc::new(ClientStreams::default());
        let a = Some("192.0.2.1".parse().unwrap());
        let b = Some("192.0.2.2".parse().unwrap());
        let first = streams.try_take(a, 2).unwrap();
        let second = streams.try_take(a, 2).unwrap();
        assert!(streams.try_take(a, 2).is_none());
        let other = streams.try_take(b, 2).unwrap();
        assert_eq!(streams.clients(), 2);
        drop(first);
        let again = streams.try_take(a, 2).unwrap();
        drop((second, again, other));
        assert_eq!(
            streams.clients(),
            0,
            "an address without streams is forgotten"
        );
    }
}
