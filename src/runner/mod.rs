//! The run loop: draws event times (live, simulated, historical, or a backfill that turns
//! live), posts events at the chosen pace, hands each batch to every sink, reports stats, and on
//! the way out flushes the sinks and summarises.

use std::time::Duration;

use anyhow::Context;
use rand::SeedableRng;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::event::Batch;
use crate::generator::Generator;
use crate::metrics::RunMetrics;
use crate::profile::Profile;
use crate::progress::Progress;
use crate::scenario::{self, EventTypeSpec};
use crate::schedule::Pacing;
use crate::schedule::ScheduleConfig;
use crate::sinks::{self, Sink, SinkError};
use crate::stats::{self, SinkReport, Stats};
use crate::SimRng;

mod drive;
mod end_now;
#[cfg(test)]
mod end_tests;
mod finish;
mod log_events;
mod phase;
#[cfg(test)]
mod tests;
mod waiter;

use drive::Plan;

/// Primary events per batch on the simulated clock, where nothing waits between them.
const SIMULATED_CHUNK: u32 = 1024;

/// Most records a batch collects before it goes to the sinks: a primary event's follow-ups
/// are unbounded in number (a day of readings between two events of a sparse range), so the
/// chunk of primary events alone does not bound a batch's memory (issue 28).
const MAX_BATCH_RECORDS: usize = 16_384;

/// Records a historical range may imply before the run says so at start-up.
const LARGE_RUN_RECORDS: f64 = 10_000_000.0;

/// Why a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// `--count` or `--duration` reached.
    Finished,
    /// SIGINT or SIGTERM.
    Cancelled,
    /// The reader closed the output (`kafka-gen | head`).
    OutputClosed,
    /// A sink failed for good.
    SinkFailed(String),
    /// The input made it impossible to go on: a world that can produce nothing more, or an
    /// event time past what an event can carry. Reported as bad input after the flush.
    Halted(String),
}

/// The estimate of the records a historical range implies: a mark after its first day, the
/// estimate from the pace after it.
#[derive(Debug, Clone, Copy)]
enum Estimate {
    Waiting,
    Marked { t: i64, made: u64 },
    Done,
}

/// What a run did.
#[derive(Debug, Clone)]
pub struct Summary {
    pub stop: Stop,
    pub seed: u64,
    pub primary: Vec<u64>,
    pub derived: Vec<u64>,
    pub sinks: Vec<SinkReport>,
    /// For a backfill that went live: the time of the last backfilled event.
    pub handoff_ms: Option<i64>,
    /// Follow-up events made after the draws of primary events ended (`--on-end finish`, or
    /// those due before the end time), and those still pending when the run ended, dropped.
    pub follow_ups: FollowUps,
}

/// What became of the follow-ups when the run ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FollowUps {
    /// `--on-end`, as configured.
    pub on_end: crate::schedule::OnEnd,
    /// Follow-up events made after the last primary draw.
    pub finished: u64,
    /// Follow-up events still pending when the run ended, never made.
    pub dropped: u64,
}

impl Summary {
    /// Events some sink accepted but could not deliver.
    pub fn undelivered(&self) -> u64 {
        self.sinks
            .iter()
            .map(|s| {
                s.counts.failed_total() + s.counts.unknown_total() + s.counts.in_flight_total()
            })
            .sum()
    }
}

pub struct Runner {
    types: &'static [EventTypeSpec],
    generator: Generator,
    sinks: Vec<Box<dyn Sink>>,
    stats: Stats,
    batch: Batch,
    pacing: Pacing,
    plan: Plan,
    profile: Profile,
    schedule: ScheduleConfig,
    /// Time draws have their own stream, so pacing does not change what the events are.
    pace_rng: SimRng,
    seed: u64,
    /// The configured interval of stats lines (`--stats-interval`).
    stats_interval: Option<Duration>,
    /// Stats lines now: none while a progress bar shows.
    stats_every: Option<Duration>,
    progress: Option<Progress>,
    /// Event times drawn: the work per event, which must not grow with the rate.
    time_draws: u64,
    /// Time of the last event drawn, for the backfill hand-off.
    last_time: Option<f64>,
    handoff_ms: Option<i64>,
    /// Prometheus metrics, when `--metrics-listen` serves them.
    metrics: Option<RunMetrics>,
    /// Log each primary event (`--log-events`); after a backfill hands off, `log_events_live`.
    log_events: bool,
    log_events_live: bool,
    /// Time of the last primary event made, where `--on-end finish` measures its hour from.
    last_primary: Option<f64>,
    /// Follow-up events made after the last primary draw.
    follow_ups_finished: u64,
    /// How far the estimate of the records a historical range implies has got.
    estimate: Estimate,
}

impl Runner {
    /// Loads the master data, builds the world and opens the configured sinks.
    pub fn new(config: &Config) -> anyhow::Result<Self> {
        let policy = sinks::FlushPolicy::for_live(config.schedule.is_live());
        let types = scenario::find(&config.scenario)?.event_types();
        let sinks = sinks::build(&config.sinks, config.sink_sections(), policy, types)?;
        Self::with_sinks(config, sinks)
    }

    /// Like [`Runner::new`] with sinks supplied by the caller (tests, benchmarks).
    pub fn with_sinks(config: &Config, sinks: Vec<Box<dyn Sink>>) -> anyhow::Result<Self> {
        config.validate()?;
        let scenario = scenario::find(&config.scenario)?;
        let (start, end) = config.time_range(scenario)?;
        let s = &config.schedule;
        let seed = config.seed.unwrap_or_else(rand::random);
        if config.seed.is_none() {
            tracing::info!(
                seed,
                "No seed configured; pass --seed {seed} to repeat this run."
            );
        }
        let pace_rng = SimRng::seed_from_u64(seed.wrapping_add(1));
        let plan = match (start, end) {
            (Some(start_ms), Some(end_ms)) => Plan::Historical { start_ms, end_ms },
            (Some(start_ms), None) if s.count.is_none() && s.duration.is_none() => {
                Plan::Backfill { start_ms }
            }
            (Some(start_ms), None) => Plan::Simulated { start_ms },
            (None, _) => match s.count.filter(|_| s.ends_now) {
                Some(count) => Plan::Simulated {
                    start_ms: end_now::start_to_end_now(
                        s,
                        count,
                        &pace_rng,
                        (s.follow_profile)
                            .then(|| config.profile_for(scenario))
                            .transpose()?,
                    )?,
                },
                None => Plan::Live,
            },
        };
        let (log_events, log_events_live) = match config.log_events {
            Some(on) => (on, on),
            None => log_events::by_default(plan, Pacing::from_config(s), s),
        };
        let generator = Generator::new(scenario, config, seed).with_context(|| {
            format!("cannot load master data from {}", config.data_dir.display())
        })?;
        let progress = match plan {
            Plan::Historical { start_ms, end_ms } => Progress::for_terminal(start_ms, Some(end_ms)),
            Plan::Backfill { start_ms } => Progress::for_terminal(start_ms, None),
            _ => None,
        };
        let stats_interval = (config.stats_interval_secs > 0.0)
            .then(|| Duration::from_secs_f64(config.stats_interval_secs));
        let metrics = config.metrics_listen.map(|_| {
            let target = match Pacing::from_config(s) {
                Pacing::Rate(rate) => rate,
                Pacing::Gaps { min_secs, max_secs } => 2.0 / (min_secs + max_secs).max(1e-9),
            };
            RunMetrics::new(scenario.event_types(), &sinks, target)
        });
        let mut runner = Self {
            metrics,
            types: scenario.event_types(),
            generator,
            sinks,
            stats: Stats::new(scenario.event_types()),
            batch: Batch::new(),
            pacing: Pacing::from_config(s),
            plan,
            profile: config.profile_for(scenario)?,
            schedule: s.clone(),
            pace_rng,
            seed,
            stats_interval,
            stats_every: stats_interval,
            progress: None,
            time_draws: 0,
            last_time: None,
            handoff_ms: None,
            log_events,
            log_events_live,
            last_primary: None,
            follow_ups_finished: 0,
            estimate: Estimate::Waiting,
        };
        if let Some(progress) = progress {
            runner.show_progress(progress);
        }
        Ok(runner)
    }

    /// Shows `progress`, which replaces the periodic stats lines until it is done.
    fn show_progress(&mut self, progress: Progress) {
        self.progress = Some(progress);
        self.stats_every = None;
    }

    /// The event type table of the scenario being run.
    pub fn types(&self) -> &'static [EventTypeSpec] {
        self.types
    }

    /// Runs until the count, the duration or range, cancellation or a closed output; then
    /// flushes every sink and reports.
    pub async fn run(mut self, cancel: CancellationToken) -> anyhow::Result<Summary> {
        for sink in &mut self.sinks {
            sink.watch_stop(cancel.clone());
        }
        let stop = self.drive(&cancel).await?;
        if let Some(progress) = &self.progress {
            progress.finish();
        }
        let flush_timeout = Duration::from_secs_f64(self.schedule.flush_timeout_secs);
        for sink in &mut self.sinks {
            match sink.flush(flush_timeout).await {
                Ok(()) | Err(SinkError::Closed) => {}
                Err(error) => tracing::error!(sink = sink.name(), %error, "Flush failed."),
            }
        }
        if let Some(m) = &mut self.metrics {
            m.update(&self.stats, &self.sinks, true);
        }
        let follow_ups = FollowUps {
            on_end: self.schedule.on_end,
            finished: self.follow_ups_finished,
            dropped: self.generator.pending(),
        };
        if let Some(wanted) = self.schedule.count {
            let made = self.generator.primaries();
            let historical = matches!(self.plan, Plan::Historical { .. });
            let below_max =
                (self.schedule.max_records).is_none_or(|max| self.stats.records_total() < max);
            if made < wanted && stop == Stop::Finished && historical && below_max {
                tracing::warn!(
                    made,
                    wanted,
                    "The range ended before the count: the world refused every draw in its last \
                     stretch. Give a longer range (--end) or a smaller --count."
                );
            }
        }
        let reports = stats::reports(&self.sinks);
        self.stats
            .summary(&reports, (follow_ups.finished, follow_ups.dropped));
        Ok(Summary {
            stop,
            seed: self.seed,
            primary: self.stats.primary().to_vec(),
            derived: self.stats.derived().to_vec(),
            sinks: reports,
            handoff_ms: self.handoff_ms,
            follow_ups,
        })
    }

    fn remaining(&self) -> u64 {
        self.schedule
            .count
            .map_or(u64::MAX, |c| c.saturating_sub(self.generator.primaries()))
    }

    /// Hands the current batch to every sink, cut at `--max-records`. `Err` ends the run.
    async fn deliver(&mut self) -> Result<(), Stop> {
        let records_left = self
            .schedule
            .max_records
            .map(|max| max.saturating_sub(self.stats.records_total()));
        let at_max = records_left.is_some_and(|left| self.batch.len() as u64 >= left);
        if let Some(left) = records_left.filter(|_| at_max) {
            self.batch.truncate(left as usize);
        }
        self.estimate_records();
        self.stats.record(&self.batch);
        for sink in &mut self.sinks {
            match sink.send(&self.batch).await {
                Ok(()) => {}
                Err(SinkError::Closed) => return Err(Stop::OutputClosed),
                Err(error) => {
                    tracing::error!(sink = sink.name(), %error, "Sink failed; stopping.");
                    return Err(Stop::SinkFailed(format!("{}: {error}", sink.name())));
                }
            }
        }
        if let Some(m) = &mut self.metrics {
            m.update(&self.stats, &self.sinks, false);
        }
        if at_max {
            return Err(Stop::Finished);
        }
        Ok(())
    }

    /// Early in a historical range, says how many records the whole range implies when it is
    /// many (issue 28: 10 meters reading every 10 s over 10 years are 315M records, where
    /// `--count` counts primary events only). The pace is measured after the range's first
    /// day (or hundredth), once chains that start slowly (meters installed one by one) run.
    fn estimate_records(&mut self) {
        let drive::Plan::Historical { start_ms, end_ms } = self.plan else {
            return;
        };
        let Some(last) = self
            .batch
            .len()
            .checked_sub(1)
            .and_then(|i| self.batch.get(i))
        else {
            return;
        };
        let (t, span) = (last.time_ms, (end_ms - start_ms) as f64);
        let covered = (t - start_ms) as f64;
        let made = self.stats.records_total() + self.batch.len() as u64;
        let mark = match self.estimate {
            Estimate::Done => return,
            Estimate::Waiting if covered >= (span / 100.0).min(86_400_000.0) => {
                self.estimate = Estimate::Marked { t, made };
                return;
            }
            Estimate::Waiting => return,
            Estimate::Marked { t, made } => (t, made),
        };
        if covered < (span / 10.0).min(3.0 * 86_400_000.0) || t <= mark.0 {
            return;
        }
        self.estimate = Estimate::Done;
        let pace = (made - mark.1) as f64 / (t - mark.0) as f64;
        let records = made + (pace * (end_ms - t) as f64).round() as u64;
        let unbounded = self.schedule.max_records.is_none_or(|max| records > max);
        if records as f64 >= LARGE_RUN_RECORDS && unbounded {
            tracing::warn!(
                records,
                days = format_args!("{:.0}", span / 86_400_000.0),
                "This range implies about {records} records at the pace so far; bound the \
                 total with --max-records N, or shorten the range."
            );
        }
    }
}
