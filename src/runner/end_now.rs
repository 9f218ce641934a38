//! Where a `--count` run with no pacing starts its simulated clock, so that its last event
//! falls on now (issue 10: Kafka 4 refuses timestamps far in the future), its event times
//! keeping the gaps the run draws.

use crate::schedule::{Gaps, ScheduleConfig, Times};
use crate::SimRng;

/// Most gaps drawn ahead by [`start_to_end_now`]: about 0.3 s of work.
const MAX_GAPS_AHEAD: u64 = 100_000_000;

/// The start of a simulated clock on which `count` primary events, spaced by the gaps the run
/// will draw, end now. The gaps are drawn from a copy of the run's own pace stream, so they
/// are the very gaps the run then draws. Event times that end now rather than start now keep
/// within a broker's limit on future timestamps (Kafka 4's `message.timestamp.after.max.ms`
/// is an hour). A count too big to end now (past 10^8 gaps, or back before 1970) starts now.
///
/// With `follow` (the time profile the run's pace follows) each gap is scaled by the
/// intensity where it starts, so the span depends on the start: the start is moved until the
/// last event falls on now (bnpl's 5 events ended 7 s in the future otherwise).
pub(super) fn start_to_end_now(
    s: &ScheduleConfig,
    count: u64,
    pace_rng: &SimRng,
    follow: Option<crate::profile::Profile>,
) -> anyhow::Result<i64> {
    let now_ms = chrono::Utc::now().timestamp_millis();
    if count > MAX_GAPS_AHEAD {
        return Ok(now_ms);
    }
    if let Some(profile) = follow {
        return followed_start(s, count, pace_rng, profile, now_ms);
    }
    if let Some(rate) = s.rate_per_sec {
        // Fixed steps of 1/rate (a world file's own rate).
        let span_ms = (count - 1) as f64 * 1000.0 / rate;
        return Ok(if span_ms > now_ms as f64 {
            now_ms
        } else {
            now_ms - span_ms as i64
        });
    }
    let gaps = Gaps::new(s.min_delta_secs, s.max_delta_secs)?;
    let mut rng = pace_rng.clone();
    let mut next_ms = 0.0;
    for _ in 1..count {
        next_ms += gaps.sample(&mut rng).as_secs_f64() * 1000.0;
        if next_ms > now_ms as f64 {
            return Ok(now_ms);
        }
    }
    Ok(now_ms - next_ms as i64)
}

/// Most events [`followed_start`] replays per try: it replays the run's times a few times.
const MAX_FOLLOWED_AHEAD: u64 = 1_000_000;

/// [`start_to_end_now`] for times scaled by the profile: replays the times the run will draw
/// from a start, and moves the start by how far the last one misses now, until it hits; where
/// the profile makes that impossible, the last event is the latest it can be before now.
fn followed_start(
    s: &ScheduleConfig,
    count: u64,
    pace_rng: &SimRng,
    profile: crate::profile::Profile,
    now_ms: i64,
) -> anyhow::Result<i64> {
    if count > MAX_FOLLOWED_AHEAD {
        return Ok(now_ms);
    }
    let last_from = |start_ms: i64| -> anyhow::Result<f64> {
        let next_ms = start_ms as f64;
        let follow = Some(profile.clone());
        let mut times = match s.rate_per_sec {
            None => Times::Gaps {
                gaps: Gaps::new(s.min_delta_secs, s.max_delta_secs)?,
                next_ms,
                follow,
            },
            Some(rate) => Times::Step {
                step_ms: 1000.0 / rate,
                next_ms,
                follow,
            },
        };
        let mut rng = pace_rng.clone();
        let mut last = next_ms;
        for _ in 0..count {
            last = times.next(&mut rng).unwrap_or(last);
        }
        Ok(last)
    };
    // Moving the start by the miss settles it within an hour of constant intensity; across an
    // hour's change the end can jump past now, so keep the latest start that ends by now,
    // and narrow down between it and one that ends after.
    let now = now_ms as f64;
    let (mut early, mut late): (Option<i64>, Option<i64>) = (None, None);
    let mut start = now_ms;
    for _ in 0..16 {
        let miss = last_from(start)? - now;
        if miss.abs() < 1.0 {
            return Ok(start);
        }
        if miss < 0.0 {
            early = Some(early.map_or(start, |e| e.max(start)));
        } else {
            late = Some(late.map_or(start, |l| l.min(start)));
        }
        start -= miss.round() as i64;
        if start <= 0 {
            return Ok(now_ms);
        }
    }
    let (Some(mut lo), Some(mut hi)) = (early, late) else {
        return Ok(early.unwrap_or(now_ms));
    };
    while hi - lo > 1 && lo < hi {
        let mid = lo + (hi - lo) / 2;
        if last_from(mid)? <= now {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Ok(lo)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    /// A count run whose pace follows the profile (bnpl's world pace) ends now, not seconds
    /// in the future: its start allows for the gaps the profile stretches.
    #[test]
    fn a_followed_pace_still_ends_now() {
        use rand::SeedableRng;
        let profile = Config::default()
            .profile_for(&crate::scenario::retail::Retail)
            .unwrap();
        let rng = SimRng::seed_from_u64(1);
        for (rate, gaps) in [(Some(1.0), (10.0, 60.0)), (None, (10.0, 60.0))] {
            let s = ScheduleConfig {
                rate_per_sec: rate,
                min_delta_secs: gaps.0,
                max_delta_secs: gaps.1,
                follow_profile: true,
                ..ScheduleConfig::default()
            };
            let before = chrono::Utc::now().timestamp_millis();
            let start = start_to_end_now(&s, 50, &rng, Some(profile.clone())).unwrap();
            let after = chrono::Utc::now().timestamp_millis();
            let mut times = match rate {
                Some(r) => Times::Step {
                    step_ms: 1000.0 / r,
                    next_ms: start as f64,
                    follow: Some(profile.clone()),
                },
                None => Times::Gaps {
                    gaps: Gaps::new(gaps.0, gaps.1).unwrap(),
                    next_ms: start as f64,
                    follow: Some(profile.clone()),
                },
            };
            let mut pace = rng.clone();
            let last = (0..50)
                .filter_map(|_| times.next(&mut pace))
                .last()
                .unwrap();
            // Never in the future; at most one gap (60 s at the profile's 0.01 floor) early,
            // where an hour's change in intensity makes the end jump past now.
            let early = 60_000.0 / 0.01;
            assert!(
                (before as f64 - early..=after as f64 + 1.0).contains(&last),
                "rate {rate:?}: last event at {last}, run between {before} and {after}"
            );
        }
    }
}
