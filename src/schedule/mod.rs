//! Pacing: where event times come from ([`Times`]: random gaps, fixed steps, the time profile,
//! or the wall clock) and how fast events are posted ([`Post`]: as fast as possible, an
//! absolute rate schedule, or a speed factor against real time). All on tokio's clock, so
//! tests can pause it.
//!
//! - `config`: the `[schedule]` section, its defaults and checks.
//! - `duration`, `time`: `HumanDuration` and `TimeArg`, lengths and instants as people type them.

use std::time::Duration;

use rand::distr::{Distribution, Uniform};
use tokio::time::Instant;

use crate::profile::sampler::Sampler;
use crate::profile::Profile;
use crate::SimRng;

mod config;
mod duration;
mod time;

pub use config::{OnEnd, ScheduleConfig};
pub use duration::HumanDuration;
pub use time::TimeArg;

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

/// Most lateness the rate gate makes up with a burst: a stall longer than this (a sink that
/// blocked, a suspended process) restarts the schedule instead of flooding the sinks.
const MAX_CATCH_UP: Duration = Duration::from_secs(10);

/// Batch mode's pacing against an absolute schedule: event `k` is due at `start + k / rate`,
/// and a chunk goes when its first event is due. A late wake (timer rounding, a busy machine)
/// is made up by the next chunks instead of being lost, so error never accumulates (issue 10:
/// per-wait pacing lost ~10% at 1000/s). Lateness beyond [`MAX_CATCH_UP`] is forgiven.
pub struct RateGate {
    /// Events handed out per permit request.
    pub chunk: u32,
    rate: f64,
    start: Instant,
    /// Events handed out since `start`.
    granted: u64,
}

impl RateGate {
    /// `rate` events per second, handed out `chunk` at a time.
    pub fn new(rate: f64, chunk: u32) -> anyhow::Result<Self> {
        if !(rate.is_finite() && (1e-6..=1e9).contains(&rate)) {
            anyhow::bail!("rate {rate}/s cannot be paced; use a rate between 0.000001 and 1e9");
        }
        Ok(Self {
            chunk: chunk.max(1),
            rate,
            start: Instant::now(),
            granted: 0,
        })
    }

    /// When event number `k` is due.
    fn due(&self, k: u64) -> Instant {
        // Past the representable range means never (a century is as good).
        let never = Duration::from_secs(100 * 365 * 86_400);
        let offset = Duration::try_from_secs_f64(k as f64 / self.rate).unwrap_or(never);
        self.start
            .checked_add(offset.min(never))
            .unwrap_or(self.start)
    }

    /// Takes `n` (at most the chunk size) permits if the first of them is due; otherwise says
    /// how long to wait before asking again.
    pub fn try_take(&mut self, n: u32) -> Result<(), Duration> {
        let now = Instant::now();
        let due = self.due(self.granted);
        if now < due {
            return Err(due - now);
        }
        if now - due > MAX_CATCH_UP {
            // Too far behind to catch up: start the schedule again from now.
            let behind_secs = (now - due).as_secs_f64();
            tracing::debug!(behind_secs, "Rate schedule restarted after a stall.");
            self.start = now;
            self.granted = 0;
        }
        self.granted += u64::from(n);
        Ok(())
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

    /// Jumps to `at_ms` when these times can (drawn gaps, fixed steps, the profile's draws)
    /// and returns the next event time from there (infinity when a sampled range has none
    /// left, which ends it); `None` for the wall clock, which cannot jump.
    /// Used when the world takes nothing before `at_ms`, so that a high rate does not step
    /// through millions of times it would refuse.
    pub fn skip_to(&mut self, at_ms: f64, rng: &mut SimRng) -> Option<f64> {
        match self {
            Times::Gaps { next_ms, .. } | Times::Step { next_ms, .. } => {
                *next_ms = next_ms.max(at_ms);
                self.next(rng)
            }
            Times::Sampled(sampler) => Some(sampler.skip_to(at_ms, rng).unwrap_or(f64::INFINITY)),
            Times::Now { .. } => None,
        }
    }

    /// Takes back the time last drawn, which the world refused, where the times are a count's
    /// (see [`Sampler::give_back`]); other times are not counted, so they need nothing back.
    pub fn give_back(&mut self) {
        if let Times::Sampled(sampler) = self {
            sampler.give_back();
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

    /// Takes `total` events from a gate at `rate` on the paused clock, spending `work` after
    /// each chunk and stalling for `stall` once, a quarter of the way in. Returns the seconds
    /// taken and the gate's chunk.
    async fn pace(rate: f64, total: u64, work: Duration, stall: Duration) -> (f64, u32) {
        let chunk = Pacing::Rate(rate).chunk();
        let mut gate = RateGate::new(rate, chunk).unwrap();
        let t0 = Instant::now();
        let (mut granted, mut stalled) = (0u64, false);
        while granted < total {
            match gate.try_take(chunk) {
                Ok(()) => {
                    granted += u64::from(chunk);
                    tokio::time::sleep(work).await;
                    if !stalled && granted >= total / 4 {
                        stalled = true;
                        tokio::time::sleep(stall).await;
                    }
                }
                Err(wait) => tokio::time::sleep(wait).await,
            }
        }
        (t0.elapsed().as_secs_f64(), chunk)
    }

    /// Issue 10: `--rate` under-delivered ~10% at 1000/s because each wait was measured from
    /// the late wake of the one before. N events at rate R take N/R (less the first chunk,
    /// which goes at once) within 1%, at rates whose chunk interval is not a whole number of
    /// milliseconds, with some work per chunk.
    #[tokio::test(start_paused = true)]
    async fn rate_gate_meets_the_rate_within_one_percent() {
        for rate in [100.0, 1000.0, 1234.0, 2000.0, 7777.0] {
            let total = (rate * 10.0) as u64;
            let (secs, chunk) = pace(rate, total, Duration::from_micros(700), Duration::ZERO).await;
            let expected = (total - u64::from(chunk)) as f64 / rate;
            assert!(
                (secs - expected).abs() <= expected * 0.01,
                "rate {rate}: {total} events took {secs:.3} s, expected {expected:.3} s"
            );
        }
    }

    /// A late wake (here a 400 ms stall) is made up by the following chunks, not lost.
    #[tokio::test(start_paused = true)]
    async fn rate_gate_catches_up_after_a_late_wake() {
        let (rate, total) = (1000.0, 10_000);
        let (secs, chunk) = pace(rate, total, Duration::ZERO, Duration::from_millis(400)).await;
        let expected = (total - u64::from(chunk)) as f64 / rate;
        assert!(
            (secs - expected).abs() <= expected * 0.01,
            "took {secs:.3} s after a 0.4 s stall, expected {expected:.3} s"
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
