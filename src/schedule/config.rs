//! `[schedule]`: how primary events are paced and when a run stops, with its defaults and the
//! ranges checked at load.

use anyhow::bail;
use serde::{Deserialize, Serialize};

use super::{HumanDuration, TimeArg};
use crate::bounds::{self, Num, LAST_EVENT_MS, LAST_EVENT_TIME};
use crate::profile::Profile;

/// How primary events are paced (`[schedule]` in the config file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScheduleConfig {
    /// Realistic mode: shortest gap between primary events, in seconds (0 to a year).
    pub min_delta_secs: f64,
    /// Realistic mode: longest gap between primary events, in seconds (0.001 to a year).
    pub max_delta_secs: f64,
    /// Batch mode: primary events per second (1e-6 to 1e9), paced evenly. Unset means
    /// realistic mode.
    pub rate_per_sec: Option<f64>,
    /// Stop after this many primary events. Unset (and no duration) runs until stopped.
    pub count: Option<u64>,
    /// Stop after this long: `"90s"`, `"2h"`, or a bare number of minutes.
    pub duration: Option<HumanDuration>,
    /// Run on a simulated clock from here: an RFC 3339 time, or a date (local midnight in the
    /// profile's time zone). With `end`, the historical range; with neither `end`, `count` nor
    /// `duration`, a backfill from here to now that then continues live.
    pub start: Option<TimeArg>,
    /// Historical mode: the end of the range (exclusive; a date means the end of that day).
    pub end: Option<TimeArg>,
    /// Historical mode: mean primary events per day (0.001 to 8.64e13), instead of a `count`.
    pub events_per_day: Option<f64>,
    /// Simulated time runs this many times faster than real time (3600: an hour a second;
    /// 1e-6 to 1e9).
    pub speed: Option<f64>,
    /// Live modes scale their pace by the time profile's intensity.
    pub follow_profile: bool,
    /// At shutdown, how long to wait for the sinks to deliver what they hold, in seconds (at
    /// most a day).
    pub flush_timeout_secs: f64,
    /// What a bounded run does with the follow-ups its chains still have to come when it
    /// reaches its count: `finish` them (no new primary events; up to the end time, or an hour
    /// of event time past the last primary event with none) or `stop` at once. Follow-ups due
    /// before the end time are made either way; what is left is dropped and counted.
    pub on_end: OnEnd,
    /// Stop after this many records in all, primary and follow-up (1 or more). Unset: no bound.
    pub max_records: Option<u64>,
    /// Set by `resolve`, never read from a file: a `count` with no pacing posts as fast as the
    /// sinks take events, on a simulated clock whose drawn gaps end now (issue 10).
    #[serde(skip)]
    pub ends_now: bool,
}

/// What a bounded run does with the follow-ups still to come when it reaches its count
/// (`--on-end`; issue 28: they were dropped without a word).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum OnEnd {
    /// Make the follow-ups of the chains already started, with no new primary events: what a
    /// test fixture expects (every request gets its answer).
    #[default]
    Finish,
    /// Stop at once.
    Stop,
}

impl OnEnd {
    pub fn name(self) -> &'static str {
        match self {
            OnEnd::Finish => "finish",
            OnEnd::Stop => "stop",
        }
    }
}

impl Default for ScheduleConfig {
    fn default() -> Self {
        Self {
            min_delta_secs: 10.0,
            max_delta_secs: 60.0,
            rate_per_sec: None,
            count: None,
            duration: None,
            start: None,
            end: None,
            events_per_day: None,
            speed: None,
            follow_profile: false,
            flush_timeout_secs: 30.0,
            on_end: OnEnd::Finish,
            max_records: None,
            ends_now: false,
        }
    }
}

impl ScheduleConfig {
    /// Whether the run posts on the wall clock: live, or a backfill that turns live.
    pub fn is_live(&self) -> bool {
        self.start.is_none()
            || (self.end.is_none() && self.count.is_none() && self.duration.is_none())
    }

    /// Whether this section sets a pace of its own: gaps other than the defaults, a rate, a
    /// speed, the profile, or a run length. The shipped file states the default gaps (10-60 s);
    /// those alone do not count, so `--count N` runs at once beside it.
    pub fn paces(&self) -> bool {
        self.paces_beyond(&Self::default())
    }

    /// Whether this section's pace differs from `base`'s: other gaps, or a rate, speed,
    /// profile or run length that `base` does not have.
    pub fn paces_beyond(&self, base: &Self) -> bool {
        self.min_delta_secs != base.min_delta_secs
            || self.max_delta_secs != base.max_delta_secs
            || self.rate_per_sec != base.rate_per_sec
            || self.speed != base.speed
            || self.follow_profile != base.follow_profile
            || self.duration != base.duration
    }

    /// Checks the ranges that need nothing but this section.
    pub fn validate(&self) -> anyhow::Result<()> {
        let (lo, hi) = (self.min_delta_secs, self.max_delta_secs);
        let longest = bounds::MAX_DELTA_SECS;
        bounds::check(lo, (0.0, longest), "min delta", "seconds", "--min-delta")?;
        bounds::check(hi, (1e-3, longest), "max delta", "seconds", "--max-delta")?;
        if lo > hi {
            bail!(
                "min delta {}s is greater than max delta {}s; set --min-delta <= --max-delta",
                Num(lo),
                Num(hi)
            );
        }
        if let Some(rate) = self.rate_per_sec {
            bounds::check(
                rate,
                (bounds::MIN_RATE, bounds::MAX_RATE),
                "rate",
                "events per second",
                "--rate; for slower pacing use --min-delta/--max-delta",
            )?;
        }
        if self.count == Some(0) {
            bail!(
                "count is 0; it must be at least 1, or leave it out to run until stopped (--count)"
            );
        }
        if self.max_records == Some(0) {
            bail!("max records is 0; it must be at least 1, or leave it out for no bound (--max-records)");
        }
        let flush = self.flush_timeout_secs;
        let fix = "--flush-timeout";
        bounds::check(
            flush,
            (0.0, bounds::DAY_SECS),
            "flush timeout",
            "seconds",
            fix,
        )
    }

    /// Validates the time options and resolves `start` and `end` to epoch milliseconds, dates
    /// read in `profile`'s time zone.
    pub fn time_range(&self, profile: &Profile) -> anyhow::Result<(Option<i64>, Option<i64>)> {
        let s = self;
        let start = s.start.map(|t| t.start_ms(profile)).transpose()?;
        let end = s.end.map(|t| t.end_ms(profile)).transpose()?;
        let now = chrono::Utc::now().timestamp_millis();
        let valid = |ms: i64| (0..253_402_300_800_000).contains(&ms);
        if let (Some(t), Some(ms)) = (s.start, start) {
            if !valid(ms) {
                bail!("start {t} is outside 1970..9999; pick a start in that range (--start)");
            }
            if end.is_none() {
                s.check_run_fits(t, ms)?;
            }
        }
        if let Some(speed) = s.speed {
            let fix = "--speed; 3600 runs an hour a second";
            bounds::check(speed, bounds::SPEED, "speed", "times real time", fix)?;
            if start.is_none() {
                bail!("--speed needs a simulated clock; give --start too");
            }
        }
        if let Some(per_day) = s.events_per_day {
            let what = "events per day";
            bounds::check(
                per_day,
                bounds::EVENTS_PER_DAY,
                what,
                "",
                "--events-per-day",
            )?;
            if s.count.is_some() {
                bail!("--count and --events-per-day both set the volume; give one of them");
            }
            if start.is_none() {
                bail!("--events-per-day needs a historical range or backfill; give --start too");
            }
        }
        if let (Some(t), Some(ms)) = (s.end, end) {
            let Some(from) = start else {
                bail!(
                    "--end {t} needs --start; historical mode covers a range from --start to --end"
                );
            };
            if ms <= from {
                bail!(
                    "end {t} is not after start {}; give an --end later than --start",
                    s.start.map(|t| t.to_string()).unwrap_or_default()
                );
            }
            if ms > now {
                bail!("end {t} is in the future; historical mode covers the past (use --start with --continuous to backfill and then go live)");
            }
        }
        let backfill =
            start.is_some() && end.is_none() && s.count.is_none() && s.duration.is_none();
        if backfill && start.is_some_and(|ms| ms > now) {
            bail!("start {} is in the future; to backfill, start in the past, or give --count or --duration to run a simulated clock", s.start.map(|t| t.to_string()).unwrap_or_default());
        }
        Ok((start, end))
    }

    /// Checks up front that a run on a simulated clock from `start` (`start_ms`) cannot carry event
    /// times past [`LAST_EVENT_MS`], judging by its duration or its count at the longest gap. The
    /// generator refuses such times too, for runs whose gaps stretch (`--follow-profile`).
    fn check_run_fits(&self, start: TimeArg, start_ms: i64) -> anyhow::Result<()> {
        let s = self;
        let by_duration = s
            .duration
            .map(|d| (d.0.as_secs_f64() * 1000.0, format!("--duration {d}")));
        let by_count = s.count.map(|n| {
            let gap = s.rate_per_sec.map_or(s.max_delta_secs, |rate| 1.0 / rate);
            let what = format!("--count {n} at up to {}s apart", Num(gap));
            (n as f64 * gap * 1000.0, what)
        });
        let shortest = match (by_duration, by_count) {
            (Some(d), Some(c)) => Some(if d.0 <= c.0 { d } else { c }),
            (d, c) => d.or(c),
        };
        if let Some((span_ms, what)) = shortest {
            if start_ms as f64 + span_ms > LAST_EVENT_MS as f64 {
                bail!(
                    "a run from --start {start} with {what} would pass {LAST_EVENT_TIME}, the last \
                     time an event can carry; start earlier or shorten the run"
                );
            }
        }
        Ok(())
    }
}
