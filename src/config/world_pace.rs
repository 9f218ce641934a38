//! A world file's default pace (`pace:`, see `worldfile::pace`) put into the schedule where
//! the user gave none: its rate or gaps, its run length, its historical total, and its speed
//! (a live run whose event time runs faster than the wall clock).

use std::time::Duration;

use super::env::Env;
use super::{Config, HumanDuration, Note, ScheduleConfig, TimeArg};
use crate::cli::RunArgs;

/// Event time a live run at a world's speed covers when nothing bounds it: a century.
const UNBOUNDED_SECS: f64 = 100.0 * 365.0 * 86_400.0;

/// What the user gave, from any source (file, environment, flags).
pub(super) struct Given {
    /// A pace: gaps, a rate (or volume), a speed, or events per day. `--follow-profile` is
    /// not one: it scales whichever pace applies, the world's included.
    pub pace: bool,
    /// A run length: `--continuous` (`--count`, `--duration` and `--end` are read from the
    /// schedule itself).
    pub continuous: bool,
}

impl Given {
    pub(super) fn new(file: &ScheduleConfig, env: &Env, a: &RunArgs) -> Self {
        let d = ScheduleConfig::default();
        let file_paces = file.min_delta_secs != d.min_delta_secs
            || file.max_delta_secs != d.max_delta_secs
            || file.rate_per_sec.is_some()
            || file.speed.is_some()
            || file.events_per_day.is_some();
        let env_paces = env.min_delta.is_some()
            || env.max_delta.is_some()
            || env.rate.is_some()
            || env.volume.is_some()
            || env.speed.is_some()
            || env.events_per_day.is_some();
        let flags_pace = a.min_delta.is_some()
            || a.max_delta.is_some()
            || a.rate.is_some()
            || a.volume.is_some()
            || a.speed.is_some()
            || a.events_per_day.is_some();
        Self {
            pace: file_paces || env_paces || flags_pace,
            continuous: a.continuous || env.continuous == Some(true),
        }
    }
}

/// Applies the world's pace to `config.schedule` where `given` leaves room.
pub(super) fn apply(config: &mut Config, given: &Given, notes: &mut Vec<Note>) {
    let Ok(scenario) = crate::scenario::find(&config.scenario) else {
        return; // reported by validation
    };
    let pace = scenario.default_pace();
    if pace.is_empty() {
        return;
    }
    let s = &mut config.schedule;
    let live = s.start.is_none() && s.end.is_none();
    // In a historical range a rate would be a posting rate; the range has its own total.
    let range = s.start.is_some() && s.end.is_some();
    let mut used = vec![];
    if !given.pace && !range {
        if let Some(rate) = pace.rate {
            s.rate_per_sec = Some(rate);
            used.push(format!("{rate:.6} primary events a second"));
        }
        if let Some((lo, hi)) = pace.deltas {
            (s.min_delta_secs, s.max_delta_secs) = (lo, hi);
            used.push(format!("gaps of {lo}-{hi} s"));
        }
        if pace.follow_profile == Some(true) && !s.follow_profile {
            s.follow_profile = true;
            used.push("following the time profile".into());
        }
    }
    let length_given = given.continuous || s.count.is_some() || s.duration.is_some();
    if let Some(secs) = pace
        .duration_secs
        .filter(|d| *d > 0.0 && live && !length_given)
    {
        s.duration = Some(HumanDuration(Duration::from_secs_f64(secs)));
        used.push(format!("for {secs} s"));
    }
    if let Some(n) = pace.historical_count {
        if range && s.count.is_none() && s.events_per_day.is_none() {
            s.count = Some(n);
            used.push(format!("{n} events over the range"));
        }
    }
    if let Some(speed) = pace.speed.filter(|f| *f > 1.0) {
        if !given.pace && live && s.count.is_none() {
            // The run's clock runs `speed` times faster than the wall clock. Bounded, it
            // starts in the past so that its last event time is the wall clock at its end.
            let now_ms = chrono::Utc::now().timestamp_millis() as f64;
            let real_secs = s.duration.map(|d| d.0.as_secs_f64());
            let span_secs = real_secs.map_or(UNBOUNDED_SECS, |r| r * speed);
            let start_ms = now_ms + real_secs.map_or(0.0, |r| (r - span_secs) * 1000.0);
            s.start = chrono::DateTime::from_timestamp_millis(start_ms as i64).map(TimeArg::Time);
            s.duration = Some(HumanDuration(Duration::from_secs_f64(span_secs)));
            s.speed = Some(speed);
            used.push(format!("event time at {speed:.2}x the wall clock"));
            if real_secs.is_none() {
                used.push("event times running ahead of the clock (no run length)".into());
            }
        }
    }
    if !used.is_empty() {
        notes.push(Note::WorldPace(format!(
            "{}: {}",
            scenario.name(),
            used.join(", ")
        )));
    }
}
