//! Pacing of primary events: uniform random gaps (realistic mode) or a fixed rate (batch mode),
//! on tokio's clock so tests can pause and advance it.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::Clock;
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};
use rand::distr::{Distribution, Uniform};
use tokio::time::Instant;

use crate::config::ScheduleConfig;
use crate::SimRng;

/// How primary events are spaced.
#[derive(Debug, Clone, Copy)]
pub enum Pacing {
    /// Gaps drawn uniformly from [min, max] seconds.
    Gaps { min_secs: f64, max_secs: f64 },
    /// A fixed number of events per second.
    Rate(f64),
}

impl Pacing {
    pub fn from_config(s: &ScheduleConfig) -> Self {
        match s.rate_per_sec {
            Some(rate) => Pacing::Rate(rate),
            None => Pacing::Gaps {
                min_secs: s.min_delta_secs,
                max_secs: s.max_delta_secs,
            },
        }
    }

    /// Primary events to draw per wake-up: about 100 wake-ups a second at high rates, one
    /// event at a time at low ones.
    pub fn chunk(self) -> u32 {
        match self {
            Pacing::Gaps { .. } => 1,
            Pacing::Rate(rate) => (rate / 100.0).clamp(1.0, 1000.0) as u32,
        }
    }
}

/// Draws the gaps of realistic mode.
pub struct Gaps(Uniform<f64>);

impl Gaps {
    pub fn new(min_secs: f64, max_secs: f64) -> anyhow::Result<Self> {
        Ok(Self(Uniform::new_inclusive(min_secs, max_secs)?))
    }

    pub fn sample(&self, rng: &mut SimRng) -> Duration {
        Duration::from_secs_f64(self.0.sample(rng))
    }
}

/// governor's clock on tokio time, so a paused runtime paces as a running one does.
#[derive(Debug, Clone, Copy)]
pub struct TokioClock {
    origin: Instant,
}

impl Clock for TokioClock {
    type Instant = Nanos;

    fn now(&self) -> Nanos {
        Nanos::from(self.origin.elapsed())
    }
}

/// Batch mode's pacing: a GCRA rate limiter (governor) that hands out chunks of events.
pub struct RateGate {
    limiter: RateLimiter<NotKeyed, InMemoryState, TokioClock, NoOpMiddleware<Nanos>>,
    clock: TokioClock,
}

impl RateGate {
    /// `rate` events per second, handed out `chunk` at a time.
    pub fn new(rate: f64, chunk: u32) -> anyhow::Result<Self> {
        let period = Duration::from_secs_f64(1.0 / rate);
        let burst = NonZeroU32::new(chunk.max(1)).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::with_period(period)
            .ok_or_else(|| anyhow::anyhow!("rate {rate}/s is too high to pace; use at most 1e9"))?
            .allow_burst(burst);
        let clock = TokioClock {
            origin: Instant::now(),
        };
        Ok(Self {
            limiter: RateLimiter::direct_with_clock(quota, clock),
            clock,
        })
    }

    /// Takes `n` (at most the chunk size) permits if they are available now; otherwise says
    /// how long to wait before asking again.
    pub fn try_take(&self, n: u32) -> Result<(), Duration> {
        let Some(n) = NonZeroU32::new(n) else {
            return Ok(());
        };
        match self.limiter.check_n(n) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(not_until)) => Err(not_until
                .wait_time_from(self.clock.now())
                .max(Duration::from_micros(50))),
            // More than the burst: cannot happen as callers ask for at most a chunk.
            Err(_) => Err(Duration::from_millis(1)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[tokio::test(start_paused = true)]
    async fn rate_gate_paces_evenly_without_drift() {
        let rate = 250.0;
        let chunk = Pacing::Rate(rate).chunk();
        let gate = RateGate::new(rate, chunk).unwrap();
        let t0 = Instant::now();
        let mut granted = 0u64;
        while granted < 10_000 {
            match gate.try_take(chunk) {
                Ok(()) => granted += u64::from(chunk),
                Err(wait) => tokio::time::sleep(wait).await,
            }
        }
        // 10,000 events at 250/s take 40 s, less the initial burst of one chunk.
        let secs = t0.elapsed().as_secs_f64();
        let expected = (10_000 - u64::from(chunk)) as f64 / rate;
        assert!(
            (secs - expected).abs() < 0.05,
            "took {secs}s, expected {expected}s"
        );
    }

    #[test]
    fn gaps_stay_in_range() {
        let gaps = Gaps::new(5.0, 30.0).unwrap();
        let mut rng = SimRng::seed_from_u64(1);
        for _ in 0..1000 {
            let g = gaps.sample(&mut rng).as_secs_f64();
            assert!((5.0..=30.0).contains(&g), "{g}");
        }
    }
}
