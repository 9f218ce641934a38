//! The run loop: draws event times (live, simulated, historical, or a backfill that turns
//! live), posts events at the chosen pace, hands each batch to every sink, reports stats, and on
//! the way out flushes the sinks and summarises.

use std::time::Duration;

use anyhow::Context;
use rand::SeedableRng;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::config::{Config, ScheduleConfig};
use crate::event::Batch;
use crate::generator::Generator;
use crate::metrics::RunMetrics;
use crate::profile::sampler::Sampler;
use crate::profile::Profile;
use crate::progress::Progress;
use crate::scenario::{self, EventTypeSpec};
use crate::schedule::{Gaps, Pacing, Post, RateGate, Times};
use crate::sinks::{self, Sink, SinkError};
use crate::stats::{self, SinkReport, Stats};
use crate::SimRng;

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
            .map(|s| s.counts.failed_total() + s.counts.in_flight_total())
            .sum()
    }
}

/// How a run moves through time, decided once from the config.
#[derive(Debug, Clone, Copy)]
enum Plan {
    /// Event times are wall-clock times.
    Live,
    /// A simulated clock from `start_ms`: drawn gaps or 1/rate steps, bounded by a count or
    /// duration.
    Simulated { start_ms: i64 },
    /// A past range, its event times drawn from the time profile.
    Historical { start_ms: i64, end_ms: i64 },
    /// From `start_ms` to now by the time profile, then live on the same world.
    Backfill { start_ms: i64 },
}

/// How a phase of the run ended.
enum PhaseEnd {
    Stop(Stop),
    /// The backfill caught up with the wall clock at this event time.
    HandOff(f64),
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
    stats_every: Option<Duration>,
    progress: Option<Progress>,
    /// Time of the last event drawn, for the backfill hand-off.
    last_time: Option<f64>,
    handoff_ms: Option<i64>,
    /// Prometheus metrics, when `--metrics-listen` serves them.
    metrics: Option<RunMetrics>,
}

impl Runner {
    /// Loads the master data, builds the world and opens the configured sinks.
    pub fn new(config: &Config) -> anyhow::Result<Self> {
        let sinks = sinks::build(config, scenario::find(&config.scenario)?.event_types())?;
        Self::with_sinks(config, sinks)
    }

    /// Like [`Runner::new`] with sinks supplied by the caller (tests, benchmarks).
    pub fn with_sinks(config: &Config, sinks: Vec<Box<dyn Sink>>) -> anyhow::Result<Self> {
        config.validate()?;
        let scenario = scenario::find(&config.scenario)?;
        let (start, end) = config.time_range(scenario)?;
        let s = &config.schedule;
        let plan = match (start, end) {
            (Some(start_ms), Some(end_ms)) => Plan::Historical { start_ms, end_ms },
            (Some(start_ms), None) if s.count.is_none() && s.duration.is_none() => {
                Plan::Backfill { start_ms }
            }
            (Some(start_ms), None) => Plan::Simulated { start_ms },
            (None, _) => Plan::Live,
        };
        let seed = config.seed.unwrap_or_else(rand::random);
        if config.seed.is_none() {
            tracing::info!(
                seed,
                "No seed configured; pass --seed {seed} to repeat this run."
            );
        }
        let generator = Generator::new(scenario, config, seed).with_context(|| {
            format!("cannot load master data from {}", config.data_dir.display())
        })?;
        let progress = match plan {
            Plan::Historical { start_ms, end_ms } => Progress::for_terminal(start_ms, Some(end_ms)),
            Plan::Backfill { start_ms } => Progress::for_terminal(start_ms, None),
            _ => None,
        };
        let metrics = config.metrics_listen.map(|_| {
            let target = match Pacing::from_config(s) {
                Pacing::Rate(rate) => rate,
                Pacing::Gaps { min_secs, max_secs } => 2.0 / (min_secs + max_secs).max(1e-9),
            };
            RunMetrics::new(scenario.event_types(), &sinks, target)
        });
        Ok(Self {
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
            pace_rng: SimRng::seed_from_u64(seed.wrapping_add(1)),
            seed,
            // A progress bar on a terminal replaces the periodic stats lines.
            stats_every: (config.stats_interval_secs > 0.0 && progress.is_none())
                .then(|| Duration::from_secs_f64(config.stats_interval_secs)),
            progress,
            last_time: None,
            handoff_ms: None,
        })
    }

    /// The event type table of the scenario being run.
    pub fn types(&self) -> &'static [EventTypeSpec] {
        self.types
    }

    /// Runs until the count, the duration or range, cancellation or a closed output; then
    /// flushes every sink and reports.
    pub async fn run(mut self, cancel: CancellationToken) -> anyhow::Result<Summary> {
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

    /// The mean level of live pacing, in primary events per day: what a backfill (or a range
    /// with neither --count nor --events-per-day) produces on average.
    fn live_level_per_day(&self) -> f64 {
        self.schedule.events_per_day.unwrap_or(match self.pacing {
            Pacing::Rate(rate) => rate * 86_400.0,
            Pacing::Gaps { min_secs, max_secs } => {
                86_400.0 / ((min_secs + max_secs) / 2.0).max(1e-3)
            }
        })
    }

    /// Event times and posting pace of live mode, the first event at `first_ms`.
    fn live_clock(
        &mut self,
        first_ms: f64,
        wall0_ms: i64,
        t0: Instant,
    ) -> anyhow::Result<(Times, Post)> {
        let follow = self.schedule.follow_profile.then(|| self.profile.clone());
        let real_time = Post::Speed {
            factor: 1.0,
            sim0_ms: wall0_ms as f64,
            t0,
        };
        Ok(match self.pacing {
            Pacing::Gaps { min_secs, max_secs } => (
                Times::Gaps {
                    gaps: Gaps::new(min_secs, max_secs)?,
                    next_ms: first_ms,
                    follow,
                },
                real_time,
            ),
            Pacing::Rate(rate) if follow.is_some() => (
                Times::Step {
                    step_ms: 1000.0 / rate,
                    next_ms: first_ms,
                    follow,
                },
                real_time,
            ),
            Pacing::Rate(rate) => {
                let gate = RateGate::new(rate, self.pacing.chunk())?;
                (Times::Now { wall0_ms, t0 }, Post::Rate(gate))
            }
        })
    }

    /// Posting pace of the simulated and historical clocks.
    fn simulated_post(&self, start_ms: i64, posting_rate: bool) -> anyhow::Result<Post> {
        if let Some(factor) = self.schedule.speed {
            return Ok(Post::Speed {
                factor,
                sim0_ms: start_ms as f64,
                t0: Instant::now(),
            });
        }
        match (posting_rate, self.pacing) {
            (true, Pacing::Rate(rate)) => Ok(Post::Rate(RateGate::new(rate, self.pacing.chunk())?)),
            _ => Ok(Post::Fast),
        }
    }

    async fn drive(&mut self, cancel: &CancellationToken) -> anyhow::Result<Stop> {
        let t0 = Instant::now();
        let wall0 = chrono::Utc::now().timestamp_millis();
        let duration = self.schedule.duration.map(|d| d.0);
        let mut waiter = Waiter {
            cancel,
            deadline: None,
            next_report: self.stats_every.map(|e| t0 + e),
            every: self.stats_every,
        };
        let end = match self.plan {
            Plan::Live => {
                waiter.deadline = duration.map(|d| t0 + d);
                let (mut times, mut post) = self.live_clock(wall0 as f64, wall0, t0)?;
                let end = duration.map(|d| wall0 as f64 + d.as_secs_f64() * 1000.0);
                self.phase(&mut times, &mut post, end, false, &mut waiter)
                    .await?
            }
            Plan::Simulated { start_ms } => {
                let (min_secs, max_secs, step) = match self.pacing {
                    Pacing::Gaps { min_secs, max_secs } => (min_secs, max_secs, None),
                    Pacing::Rate(rate) => (0.0, 0.0, Some(1000.0 / rate)),
                };
                let follow = self.schedule.follow_profile.then(|| self.profile.clone());
                let next_ms = start_ms as f64;
                let mut times = match step {
                    Some(step_ms) => Times::Step {
                        step_ms,
                        next_ms,
                        follow,
                    },
                    None => Times::Gaps {
                        gaps: Gaps::new(min_secs, max_secs)?,
                        next_ms,
                        follow,
                    },
                };
                let mut post = self.simulated_post(start_ms, false)?;
                let end = duration.map(|d| start_ms as f64 + d.as_secs_f64() * 1000.0);
                self.phase(&mut times, &mut post, end, false, &mut waiter)
                    .await?
            }
            Plan::Historical { start_ms, end_ms } => {
                let profile = self.profile.clone();
                let sampler = match self.schedule.count {
                    Some(count) => Sampler::count(profile, start_ms, end_ms, count)?,
                    None => {
                        Sampler::level(profile, start_ms, Some(end_ms), self.live_level_per_day())?
                    }
                };
                let mut post = self.simulated_post(start_ms, true)?;
                self.phase(
                    &mut Times::Sampled(sampler),
                    &mut post,
                    Some(end_ms as f64),
                    false,
                    &mut waiter,
                )
                .await?
            }
            Plan::Backfill { start_ms } => {
                let sampler = Sampler::level(
                    self.profile.clone(),
                    start_ms,
                    None,
                    self.live_level_per_day(),
                )?;
                let mut post = self.simulated_post(start_ms, false)?;
                match self
                    .phase(
                        &mut Times::Sampled(sampler),
                        &mut post,
                        None,
                        true,
                        &mut waiter,
                    )
                    .await?
                {
                    PhaseEnd::HandOff(last_ms) => {
                        self.handoff_ms = Some(last_ms as i64);
                        tracing::info!(
                            last_event_ms = last_ms as i64,
                            "Backfill caught up with the clock; continuing live."
                        );
                        if let Some(p) = &self.progress {
                            p.finish();
                        }
                        let t0 = Instant::now();
                        let wall0 = chrono::Utc::now().timestamp_millis();
                        // The first live event follows the last backfilled one by one drawn gap
                        // (or comes now in batch mode): no gap beyond a drawn one, no overlap.
                        let (mut times, mut post) = self.live_clock(last_ms, wall0, t0)?;
                        if let Times::Gaps { .. } | Times::Step { .. } = times {
                            times.next(&mut self.pace_rng);
                        }
                        self.phase(&mut times, &mut post, None, false, &mut waiter)
                            .await?
                    }
                    end => end,
                }
            }
        };
        Ok(match end {
            PhaseEnd::Stop(stop) => stop,
            PhaseEnd::HandOff(_) => Stop::Finished,
        })
    }

    /// Draws and delivers events from `times` at the pace of `post` until the end time, the
    /// count, a stop, or (when `hand_off`) an event time past the wall clock.
    async fn phase(
        &mut self,
        times: &mut Times,
        post: &mut Post,
        end_ms: Option<f64>,
        hand_off: bool,
        waiter: &mut Waiter<'_>,
    ) -> anyhow::Result<PhaseEnd> {
        let chunk = post.chunk(SIMULATED_CHUNK);
        loop {
            if self.remaining() == 0 {
                return Ok(PhaseEnd::Stop(Stop::Finished));
            }
            if let Some(stop) = waiter.poll(&mut self.stats, &self.sinks) {
                return Ok(PhaseEnd::Stop(stop));
            }
            let n = u64::from(chunk).min(self.remaining());
            if let Post::Rate(gate) = post {
                if let Err(wait) = gate.try_take(n as u32) {
                    if let Some(stop) = waiter
                        .until(Instant::now() + wait, &mut self.stats, &self.sinks)
                        .await
                    {
                        return Ok(PhaseEnd::Stop(stop));
                    }
                    continue;
                }
            }
            let wall_now = hand_off.then(|| chrono::Utc::now().timestamp_millis() as f64);
            self.batch.clear();
            let mut ended = None;
            let mut last = None;
            for _ in 0..n {
                let Some(t) = times.next(&mut self.pace_rng) else {
                    ended = Some(PhaseEnd::Stop(Stop::Finished));
                    break;
                };
                if let Some(end) = end_ms.filter(|end| t >= *end) {
                    // In real time, a run with a duration ends at its end, not at the last event.
                    if let Some(due) = post.due(end) {
                        if let Some(stop) = waiter.until(due, &mut self.stats, &self.sinks).await {
                            return Ok(PhaseEnd::Stop(stop));
                        }
                    }
                    ended = Some(PhaseEnd::Stop(Stop::Finished));
                    break;
                }
                if wall_now.is_some_and(|now| t > now) {
                    ended = Some(PhaseEnd::HandOff(last.unwrap_or(t)));
                    break;
                }
                if let Some(due) = post.due(t) {
                    if let Some(stop) = waiter.until(due, &mut self.stats, &self.sinks).await {
                        return Ok(PhaseEnd::Stop(stop));
                    }
                }
                self.generator.next(t as i64, &mut self.batch);
                last = Some(t);
            }
            if let Err(stop) = self.deliver().await {
                return Ok(PhaseEnd::Stop(stop));
            }
            if let (Some(progress), Some(t)) = (&self.progress, last) {
                progress.update(t as i64, self.stats.records_total());
            }
            if let Some(end) = ended {
                return Ok(match end {
                    PhaseEnd::HandOff(_) => {
                        PhaseEnd::HandOff(last.or(self.last_time).unwrap_or_default())
                    }
                    other => other,
                });
            }
            if last.is_some() {
                self.last_time = last;
            }
            // Let the signal handler and the sinks' tasks run between chunks.
            tokio::task::yield_now().await;
        }
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

/// Waits for a due time while watching for cancellation, the deadline and stats reports.
struct Waiter<'a> {
    cancel: &'a CancellationToken,
    deadline: Option<Instant>,
    next_report: Option<Instant>,
    every: Option<Duration>,
}

impl Waiter<'_> {
    fn stop_now(&self) -> Option<Stop> {
        if self.cancel.is_cancelled() {
            return Some(Stop::Cancelled);
        }
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            return Some(Stop::Finished);
        }
        None
    }

    fn report_if_due(&mut self, stats: &mut Stats, sinks: &[Box<dyn Sink>]) {
        if let (Some(at), Some(every)) = (self.next_report, self.every) {
            if Instant::now() >= at {
                stats.report(sinks);
                self.next_report = Some(at + every);
            }
        }
    }

    /// Checks without waiting.
    fn poll(&mut self, stats: &mut Stats, sinks: &[Box<dyn Sink>]) -> Option<Stop> {
        self.report_if_due(stats, sinks);
        self.stop_now()
    }

    /// Waits until `at`; `Some` if the run must stop first.
    async fn until(
        &mut self,
        at: Instant,
        stats: &mut Stats,
        sinks: &[Box<dyn Sink>],
    ) -> Option<Stop> {
        let far = Instant::now() + Duration::from_secs(86_400 * 365);
        loop {
            if let Some(stop) = self.poll(stats, sinks) {
                return Some(stop);
            }
            if Instant::now() >= at {
                return None;
            }
            let report_at = self.next_report.unwrap_or(far);
            tokio::select! {
                biased;
                _ = self.cancel.cancelled() => return Some(Stop::Cancelled),
                _ = tokio::time::sleep_until(self.deadline.unwrap_or(far)) => return Some(Stop::Finished),
                _ = tokio::time::sleep_until(report_at), if report_at < at => {}
                _ = tokio::time::sleep_until(at) => return None,
            }
        }
    }
}
