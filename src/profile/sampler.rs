//! Event times from the profile's intensity: a non-homogeneous Poisson process, drawn by time
//! rescaling. The intensity is constant within each hour, so its integral is piecewise linear
//! and easy to invert. Everything is sequential, so memory stays flat however long the range.

use rand::distr::Distribution;
use rand::RngExt;
use rand_distr::Exp1;

use super::Profile;
use crate::SimRng;

const HOUR_MS: i64 = 3_600_000;

/// Walks the intensity hour by hour, mapping cumulative weight (relative intensity times
/// milliseconds) to time. Calls must ask for non-decreasing weights.
#[derive(Debug, Clone)]
pub struct Cursor {
    profile: Profile,
    end_ms: Option<i64>,
    bucket_start: i64,
    bucket_end: i64,
    cum_start: f64,
    weight: f64,
}

impl Cursor {
    pub fn new(profile: Profile, start_ms: i64, end_ms: Option<i64>) -> Self {
        let mut cursor = Self {
            profile,
            end_ms,
            bucket_start: start_ms,
            bucket_end: start_ms,
            cum_start: 0.0,
            weight: 0.0,
        };
        cursor.load(start_ms);
        cursor
    }

    fn load(&mut self, start: i64) {
        self.bucket_start = start;
        let hour_end = (start.div_euclid(HOUR_MS) + 1) * HOUR_MS;
        self.bucket_end = self.end_ms.map_or(hour_end, |end| hour_end.min(end));
        self.weight =
            self.profile.relative(start) * (self.bucket_end - self.bucket_start).max(0) as f64;
    }

    fn next_bucket(&mut self) -> bool {
        if self.end_ms.is_some_and(|end| self.bucket_end >= end) {
            return false;
        }
        self.cum_start += self.weight;
        self.load(self.bucket_end);
        true
    }

    /// The time (epoch ms, fractional) at which the cumulative weight reaches `w`; `None` past
    /// the end of the range.
    pub fn time_at(&mut self, w: f64) -> Option<f64> {
        while self.weight <= 0.0 || w > self.cum_start + self.weight {
            if !self.next_bucket() {
                return None;
            }
        }
        let frac = ((w - self.cum_start) / self.weight).clamp(0.0, 1.0);
        Some(self.bucket_start as f64 + frac * (self.bucket_end - self.bucket_start) as f64)
    }

    /// The cumulative weight at `at_ms` (at or after the current hour's start); `None` past
    /// the end of the range.
    pub fn weight_at(&self, at_ms: f64) -> Option<f64> {
        let at = at_ms.ceil() as i64;
        if self.end_ms.is_some_and(|end| at >= end) {
            return None;
        }
        if at <= self.bucket_start {
            return Some(self.cum_start);
        }
        Some(self.cum_start + self.total_until(at))
    }

    /// Total weight from the cursor's start to `end_ms` (walks a copy; the cursor is unchanged).
    pub fn total_until(&self, end_ms: i64) -> f64 {
        let mut probe = Self::new(self.profile.clone(), self.bucket_start, Some(end_ms));
        let mut total = probe.weight;
        while probe.next_bucket() {
            total += probe.weight;
        }
        total
    }
}

/// Draws event times in order.
#[derive(Debug, Clone)]
pub enum Sampler {
    /// Exactly `remaining` more times over a bounded range: sorted uniforms (drawn one at a
    /// time, in order) mapped through the cumulative intensity. This is the Poisson process
    /// conditioned on its count.
    Count {
        cursor: Cursor,
        total: f64,
        u: f64,
        remaining: u64,
    },
    /// The Poisson process itself: unit-rate exponential steps in cumulative-weight space.
    Level {
        cursor: Cursor,
        w: f64,
        weight_per_event: f64,
    },
}

impl Sampler {
    /// `count` times spread over [start, end) by the profile. Errors if the profile gives the
    /// range no weight at all.
    pub fn count(profile: Profile, start_ms: i64, end_ms: i64, count: u64) -> anyhow::Result<Self> {
        let cursor = Cursor::new(profile, start_ms, Some(end_ms));
        let total = cursor.total_until(end_ms);
        anyhow::ensure!(
            total > 0.0,
            "the time profile gives the range no events (every hour weighs 0)"
        );
        Ok(Sampler::Count {
            cursor,
            total,
            u: 0.0,
            remaining: count,
        })
    }

    /// A Poisson process averaging `per_day` events a day, from `start_ms` to `end_ms` (or
    /// for ever). "Average" is over the range, or over the week from the start when unbounded.
    pub fn level(
        profile: Profile,
        start_ms: i64,
        end_ms: Option<i64>,
        per_day: f64,
    ) -> anyhow::Result<Self> {
        let cursor = Cursor::new(profile, start_ms, end_ms);
        let span_end = end_ms.unwrap_or(start_ms + 7 * 24 * HOUR_MS);
        let total = cursor.total_until(span_end);
        anyhow::ensure!(
            total > 0.0,
            "the time profile gives the range no events (every hour weighs 0)"
        );
        let mean_relative = total / (span_end - start_ms).max(1) as f64;
        Ok(Sampler::Level {
            cursor,
            w: 0.0,
            weight_per_event: 86_400_000.0 * mean_relative / per_day,
        })
    }

    /// A Poisson process of `per_sec` events a second of event time at relative intensity 1
    /// (an average hour of an ordinary weekday), scaled by the profile hour by hour: unlike
    /// [`Sampler::level`], not renormalised over the range, so a day the profile weighs 1.6
    /// gets 1.6 times an ordinary weekday's events (simtom's `rate_per_second` times its
    /// multipliers). From `start_ms` to `end_ms`, or for ever.
    pub fn at_rate(
        profile: Profile,
        start_ms: i64,
        end_ms: Option<i64>,
        per_sec: f64,
    ) -> anyhow::Result<Self> {
        let cursor = Cursor::new(profile, start_ms, end_ms);
        let week = cursor.total_until(end_ms.unwrap_or(start_ms + 7 * 24 * HOUR_MS));
        anyhow::ensure!(
            week > 0.0 && per_sec > 0.0 && per_sec.is_finite(),
            "the time profile gives the range no events (every hour weighs 0)"
        );
        Ok(Sampler::Level {
            cursor,
            w: 0.0,
            weight_per_event: 1000.0 / per_sec,
        })
    }

    /// Takes back the time last drawn, which the world refused: a count's `n` times are `n`
    /// events, so a refused one is drawn again later in the range (issue 28: a historical
    /// `--count 1000` made 999). The rest are still the count's sorted uniforms, now `k + 1`
    /// of them after the refused one. The level process needs nothing back.
    pub fn give_back(&mut self) {
        if let Sampler::Count { remaining, .. } = self {
            *remaining += 1;
        }
    }

    /// Replaces the time last drawn, before `at_ms` where the world next takes an event, with
    /// one drawn from `at_ms` on: the count's remaining uniforms (that one included) fall
    /// after it, and the level process, memoryless, starts again there. `None` when `at_ms`
    /// is past the range.
    pub fn skip_to(&mut self, at_ms: f64, rng: &mut SimRng) -> Option<f64> {
        match self {
            Sampler::Count {
                cursor,
                total,
                u,
                remaining,
            } => {
                let w = cursor.weight_at(at_ms)?;
                *u = u.max(w / *total);
                *remaining += 1;
            }
            Sampler::Level { cursor, w, .. } => {
                *w = w.max(cursor.weight_at(at_ms)?);
            }
        }
        self.next(rng)
    }

    /// The next event time in epoch milliseconds, or `None` when the range is done.
    pub fn next(&mut self, rng: &mut SimRng) -> Option<f64> {
        match self {
            Sampler::Count {
                cursor,
                total,
                u,
                remaining,
            } => {
                if *remaining == 0 {
                    return None;
                }
                // The minimum of k uniforms on (u, 1) is u + (1 - u)(1 - V^(1/k)).
                let v = 1.0 - rng.random::<f64>();
                *u = 1.0 - (1.0 - *u) * v.powf(1.0 / *remaining as f64);
                *remaining -= 1;
                cursor.time_at(*u * *total)
            }
            Sampler::Level {
                cursor,
                w,
                weight_per_event,
            } => {
                let step: f64 = Exp1.sample(rng);
                *w += step * *weight_per_event;
                cursor.time_at(*w)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{ProfileConfig, RETAIL_PROFILE};
    use rand::SeedableRng;

    fn flat() -> Profile {
        let cfg = ProfileConfig {
            hourly: Some(vec![1.0; 24]),
            weekend_multiplier: Some(1.0),
            ..Default::default()
        };
        let mut p = Profile::new(&RETAIL_PROFILE, &cfg).unwrap();
        p.holidays.clear();
        p
    }

    #[test]
    fn count_gives_exactly_n_ordered_times_in_range() {
        let (start, end) = (1_700_000_000_000, 1_700_000_000_000 + 10 * 86_400_000);
        let mut s = Sampler::count(flat(), start, end, 50_000).unwrap();
        let mut rng = SimRng::seed_from_u64(1);
        let times: Vec<f64> = std::iter::from_fn(|| s.next(&mut rng)).collect();
        assert_eq!(times.len(), 50_000);
        assert!(times.windows(2).all(|w| w[0] <= w[1]));
        assert!(times.iter().all(|t| (start as f64..end as f64).contains(t)));
        // A flat profile spreads them evenly: each day holds about a tenth (5000 +- 5 sigma).
        let first_day = times
            .iter()
            .filter(|t| **t < (start + 86_400_000) as f64)
            .count();
        assert!((4_650..=5_350).contains(&first_day), "{first_day}");
    }

    #[test]
    fn level_averages_per_day() {
        let start = 1_700_000_000_000;
        let end = start + 20 * 86_400_000;
        let mut s = Sampler::level(flat(), start, Some(end), 1_000.0).unwrap();
        let mut rng = SimRng::seed_from_u64(2);
        let n = std::iter::from_fn(|| s.next(&mut rng)).count();
        // Poisson(20,000): sd about 141.
        assert!((19_300..=20_700).contains(&n), "{n}");
    }
}
