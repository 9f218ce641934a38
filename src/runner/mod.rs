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
mod log_events;
#[cfg(test)]
mod tests;
mod waiter;

use drive::Plan;

/// Primary events per batch on the simulated clock, where nothing waits between them.
const SIMULATED_CHUNK: u32 = 1024;

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
        let reports = stats::reports(&self.sinks);
        self.stats.summary(&reports);
        Ok(Summary {
            stop,
            seed: self.seed,
            primary: self.stats.primary().to_vec(),
            derived: self.stats.derived().to_vec(),
            sinks: reports,
            handoff_ms: self.handoff_ms,
        })
    }

    fn remaining(&self) -> u64 {
        self.schedule
            .count
            .map_or(u64::MAX, |c| c.saturating_sub(self.generator.primaries()))
    }

    /// Hands the current batch to every sink. `Err` ends the run.
    async fn deliver(&mut self) -> Result<(), Stop> {
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
        Ok(())
    }
}
