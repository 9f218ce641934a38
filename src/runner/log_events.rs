//! Per-event log lines (`--log-events`, issue 12): the source document logs
//! `Event #N: <type> generated` for every event. That reads well at its pace of one event every
//! 10-60 s and floods the log at thousands a second, so by default it is on only when events
//! come slower than one a second of real time.

use super::drive::Plan;
use crate::schedule::Pacing;
use crate::schedule::ScheduleConfig;

/// Whether per-event lines are on by default: for the plan's first phase, and for the live
/// phase after a backfill hands off (the same as the first for other plans).
pub(super) fn by_default(plan: Plan, pacing: Pacing, s: &ScheduleConfig) -> (bool, bool) {
    let slow = |rate: Option<f64>| rate.is_some_and(|r| r < 1.0);
    let live = match pacing {
        Pacing::Rate(rate) => rate,
        Pacing::Gaps { min_secs, max_secs } => 2.0 / (min_secs + max_secs).max(1e-9),
    };
    // Simulated time goes as fast as the sinks take events unless --speed ties it to the
    // clock; then the real rate is the simulated rate times the speed.
    let sped = |simulated: f64| s.speed.map(|factor| simulated * factor);
    let level = s.events_per_day.unwrap_or(live * 86_400.0) / 86_400.0;
    let first = match plan {
        Plan::Live => Some(live),
        Plan::Simulated { .. } => sped(live),
        Plan::Historical { start_ms, end_ms } => sped(match s.count {
            Some(count) => count as f64 * 1000.0 / (end_ms - start_ms).max(1) as f64,
            None => level,
        }),
        Plan::Backfill { .. } => sped(level),
    };
    let after = match plan {
        Plan::Backfill { .. } => Some(live),
        _ => first,
    };
    (slow(first), slow(after))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decide(plan: Plan, edit: impl FnOnce(&mut ScheduleConfig)) -> (bool, bool) {
        let mut s = ScheduleConfig::default();
        edit(&mut s);
        by_default(plan, Pacing::from_config(&s), &s)
    }

    #[test]
    fn on_at_a_pace_slower_than_one_event_a_second_off_when_faster_or_simulated() {
        // Realistic mode with the default gaps (10-60 s): on.
        assert_eq!(decide(Plan::Live, |_| {}), (true, true));
        // Gaps averaging one second, or a rate of one a second or more: off.
        let fast_gaps = |s: &mut ScheduleConfig| (s.min_delta_secs, s.max_delta_secs) = (0.0, 2.0);
        assert_eq!(decide(Plan::Live, fast_gaps), (false, false));
        assert_eq!(
            decide(Plan::Live, |s| s.rate_per_sec = Some(1.0)),
            (false, false)
        );
        assert_eq!(
            decide(Plan::Live, |s| s.rate_per_sec = Some(0.5)),
            (true, true)
        );
        // A simulated clock runs as fast as the sinks take events, whatever the gaps.
        let simulated = Plan::Simulated { start_ms: 0 };
        assert_eq!(decide(simulated, |_| {}), (false, false));
        // ... unless --speed ties it to the clock: 35 s gaps at 10x are one event in 3.5 s.
        assert_eq!(decide(simulated, |s| s.speed = Some(10.0)), (true, true));
        assert_eq!(decide(simulated, |s| s.speed = Some(100.0)), (false, false));
        // A day of history with 100 events at 1x speed: slow; as fast as possible: off.
        let day = Plan::Historical {
            start_ms: 0,
            end_ms: 86_400_000,
        };
        assert_eq!(decide(day, |s| s.count = Some(100)), (false, false));
        let real_time = |s: &mut ScheduleConfig| (s.count, s.speed) = (Some(100), Some(1.0));
        assert_eq!(decide(day, real_time), (true, true));
        // A backfill runs fast, then goes on live at the realistic pace.
        assert_eq!(
            decide(Plan::Backfill { start_ms: 0 }, |_| {}),
            (false, true)
        );
    }
}
