//! Pacing: where event times come from ([`Times`]: random gaps, fixed steps, the time profile,
//! or the wall clock) and how fast events are posted ([`Post`]: as fast as possible, a rate
//! limiter, or a speed factor against real time). All on tokio's clock, so tests can pause it.

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
use crate::profile::sampler::Sampler;
use crate::profile::Profile;
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
    /// Events handed out per permit request.
    pub chunk: u32,
    limiter: RateLimiter<NotKeyed, InMemoryState, TokioClock, NoOpMiddleware<Nanos>>,
    clock: TokioClock,
}

impl RateGate {
    /// `rate` events per second, handed out `chunk` at a time.
    pub fn new(rate: f64, chunk: u32) -> anyhow::Result<Self> {
        // The configuration bounds the rate; this keeps a stray one an error, not a panic.
        let period = Duration::try_from_secs_f64(1.0 / rate)
            .map_err(|_| anyhow::anyhow!("rate {rate}/s is too low to pace; use at least 1e-6"))?;
        let burst = NonZeroU32::new(chunk.max(1)).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::with_period(period)
            .ok_or_else(|| anyhow::anyhow!("rate {rate}/s is too high to pace; use at most 1e9"))?
            .allow_burst(burst);
        let clock = TokioClock {
            origin: Instant::now(),
        };
        Ok(Self {
            chunk: chunk.max(1),
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

/// Where event times come from.
pub enum Times {
    /// Uniform random gaps (realistic mode), optionally scaled by the profile's intensity.
    Gaps {
        gaps: Gaps,
        next_ms: f64,
        follow: Option<Profile>,
    },
    /// Fixed steps of 1/rate, optionally scaled by the profile's intensity.
    Step {
        step_ms: f64,
        next_ms: f64,
        follow: Option<Profile>,
    },
    /// Drawn from the profile's non-homogeneous Poisson process.
    Sampled(Sampler),
    /// The wall clock at the moment of drawing (live batch mode, paced by the rate limiter).
    Now { wall0_ms: i64, t0: Instant },
}

/// The profile's relative intensity at `ms`, floored so a silent hour delays but never stalls.
fn intensity(profile: &Option<Profile>, ms: f64) -> f64 {
    profile
        .as_ref()
        .map_or(1.0, |p| p.relative(ms as i64).max(0.01))
}

impl Times {
    /// The next event time in epoch milliseconds; `None` when a bounded range is used up.
    pub fn next(&mut self, rng: &mut SimRng) -> Option<f64> {
        match self {
            Times::Gaps {
                gaps,
                next_ms,
                follow,
            } => {
                let t = *next_ms;
                *next_ms += gaps.sample(rng).as_secs_f64() * 1000.0 / intensity(follow, t);
                Some(t)
            }
            Times::Step {
                step_ms,
                next_ms,
                follow,
            } => {
                let t = *next_ms;
                *next_ms += *step_ms / intensity(follow, t);
                Some(t)
            }
            Times::Sampled(sampler) => sampler.next(rng),
            Times::Now { wall0_ms, t0 } => Some(*wall0_ms as f64 + t0.elapsed().as_millis() as f64),
        }
    }
}

/// How fast events are handed to the sinks.
pub enum Post {
    /// As fast as the sinks take them.
    Fast,
    /// At most `rate` a second (batch mode, or a posting rate that spares a server).
    Rate(RateGate),
    /// Event time `t` is posted at `t0 + (t - sim0_ms) / factor`: 1.0 is real time.
    Speed {
        factor: f64,
        sim0_ms: f64,
        t0: Instant,
    },
}

impl Post {
    /// Events per batch: one at a time when each has its own due time.
    pub fn chunk(&self, fast: u32) -> u32 {
        match self {
            Post::Fast => fast,
            Post::Rate(gate) => gate.chunk,
            Post::Speed { .. } => 1,
        }
    }

    /// When event time `t_ms` is due, for `Speed`.
    pub fn due(&self, t_ms: f64) -> Option<Instant> {
        match self {
            Post::Speed {
                factor,
                sim0_ms,
                t0,
            } => {
                let offset = ((t_ms - sim0_ms) / factor).max(0.0);
                Some(*t0 + Duration::from_secs_f64(offset / 1000.0))
            }
            _ => None,
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
