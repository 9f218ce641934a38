//! The run loop: paces primary events on a live or simulated clock, hands each batch to every
//! sink, reports stats, and on the way out flushes the sinks and summarises.

use std::time::Duration;

use anyhow::Context;
use rand::SeedableRng;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::event::Batch;
use crate::generator::Generator;
use crate::scenario::{self, EventTypeSpec};
use crate::schedule::{Gaps, Pacing, RateGate};
use crate::sinks::{self, Sink, SinkError};
use crate::stats::{self, SinkReport, Stats};
use crate::SimRng;

/// Primary events per batch on the simulated clock, where nothing waits between them.
const SIMULATED_CHUNK: u64 = 1024;

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

pub struct Runner {
    types: &'static [EventTypeSpec],
    generator: Generator,
    sinks: Vec<Box<dyn Sink>>,
    stats: Stats,
    batch: Batch,
    pacing: Pacing,
    /// Gap draws have their own stream, so pacing does not change what the events are.
    pace_rng: SimRng,
    seed: u64,
    count: Option<u64>,
    duration: Option<Duration>,
    start: Option<chrono::DateTime<chrono::Utc>>,
    stats_every: Option<Duration>,
    flush_timeout: Duration,
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
        let s = &config.schedule;
        Ok(Self {
            types: scenario.event_types(),
            generator,
            sinks,
            stats: Stats::new(scenario.event_types()),
            batch: Batch::new(),
            pacing: Pacing::from_config(s),
            pace_rng: SimRng::seed_from_u64(seed.wrapping_add(1)),
            seed,
            count: s.count,
            duration: s.duration.map(|d| d.0),
            start: s.start,
            stats_every: (config.stats_interval_secs > 0.0)
                .then(|| Duration::from_secs_f64(config.stats_interval_secs)),
            flush_timeout: Duration::from_secs_f64(s.flush_timeout_secs),
        })
    }

    /// The event type table of the scenario being run.
    pub fn types(&self) -> &'static [EventTypeSpec] {
        self.types
    }

    /// Runs until the count, the duration, cancellation or a closed output; then flushes every
    /// sink and reports.
    pub async fn run(mut self, cancel: CancellationToken) -> anyhow::Result<Summary> {
        let stop = match self.start {
            Some(start) => {
                self.run_simulated(start.timestamp_millis(), &cancel)
                    .await?
            }
            None => self.run_live(&cancel).await?,
        };
        for sink in &mut self.sinks {
            match sink.flush(self.flush_timeout).await {
                Ok(()) | Err(SinkError::Closed) => {}
                Err(error) => tracing::error!(sink = sink.name(), %error, "Flush failed."),
            }
        }
        let reports = stats::reports(&self.sinks);
        self.stats.summary(&reports);
        Ok(Summary {
            stop,
            seed: self.seed,
            primary: self.stats.primary().to_vec(),
            derived: self.stats.derived().to_vec(),
            sinks: reports,
        })
    }

    fn remaining(&self) -> u64 {
        self.count
            .map_or(u64::MAX, |c| c.saturating_sub(self.generator.primaries()))
    }

    fn gaps(&self) -> anyhow::Result<Option<Gaps>> {
        match self.pacing {
            Pacing::Gaps { min_secs, max_secs } => Ok(Some(Gaps::new(min_secs, max_secs)?)),
            Pacing::Rate(_) => Ok(None),
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
        Ok(())
    }

    /// Event time advances by the drawn gaps (or 1/rate) without sleeping.
    async fn run_simulated(
        &mut self,
        start_ms: i64,
        cancel: &CancellationToken,
    ) -> anyhow::Result<Stop> {
        let gaps = self.gaps()?;
        let step_ms = match self.pacing {
            Pacing::Rate(rate) => 1000.0 / rate,
            Pacing::Gaps { .. } => 0.0,
        };
        let end_ms = self
            .duration
            .map(|d| start_ms.saturating_add(d.as_millis() as i64));
        let mut next_report = self.stats_every.map(|every| Instant::now() + every);
        let mut now_ms = start_ms as f64;
        loop {
            if cancel.is_cancelled() {
                return Ok(Stop::Cancelled);
            }
            let want = SIMULATED_CHUNK.min(self.remaining());
            let mut finished = want == 0;
            self.batch.clear();
            for _ in 0..want {
                if end_ms.is_some_and(|end| now_ms as i64 >= end) {
                    finished = true;
                    break;
                }
                self.generator.next(now_ms as i64, &mut self.batch);
                now_ms += match &gaps {
                    Some(g) => g.sample(&mut self.pace_rng).as_secs_f64() * 1000.0,
                    None => step_ms,
                };
            }
            if let Err(stop) = self.deliver().await {
                return Ok(stop);
            }
            if self.remaining() == 0 || finished {
                return Ok(Stop::Finished);
            }
            if let Some(at) = next_report.filter(|at| Instant::now() >= *at) {
                self.stats.report(&self.sinks);
                next_report = self.stats_every.map(|every| at + every);
            }
            // Let the signal handler and the sinks' tasks run between chunks.
            tokio::task::yield_now().await;
        }
    }

    /// Real time: sleeps the drawn gaps (realistic) or waits on the rate limiter (batch).
    async fn run_live(&mut self, cancel: &CancellationToken) -> anyhow::Result<Stop> {
        let t0 = Instant::now();
        let wall0 = chrono::Utc::now().timestamp_millis();
        let now_ms = move || wall0 + t0.elapsed().as_millis() as i64;
        let deadline = self.duration.map(|d| t0 + d);
        let mut waiter = Waiter {
            cancel,
            deadline,
            next_report: self.stats_every.map(|e| t0 + e),
            every: self.stats_every,
        };
        let gaps = self.gaps()?;
        let chunk = self.pacing.chunk();
        let gate = match self.pacing {
            Pacing::Rate(rate) => Some(RateGate::new(rate, chunk)?),
            Pacing::Gaps { .. } => None,
        };
        // Realistic mode: the first event comes at once, then one per drawn gap, each gap
        // measured from the previous due time so pacing does not drift.
        let mut due = t0;
        loop {
            if self.remaining() == 0 {
                return Ok(Stop::Finished);
            }
            let n = u64::from(chunk).min(self.remaining());
            if let Some(gate) = &gate {
                if let Err(wait) = gate.try_take(n as u32) {
                    if let Some(stop) = waiter
                        .until(Instant::now() + wait, &mut self.stats, &self.sinks)
                        .await
                    {
                        return Ok(stop);
                    }
                    continue;
                }
                // Under backpressure the gate never makes us wait; still honour stop and stats.
                if let Some(stop) = waiter.poll(&mut self.stats, &self.sinks) {
                    return Ok(stop);
                }
            } else if let Some(stop) = waiter.until(due, &mut self.stats, &self.sinks).await {
                return Ok(stop);
            }
            self.batch.clear();
            let now = now_ms();
            for _ in 0..n {
                self.generator.next(now, &mut self.batch);
            }
            if let Err(stop) = self.deliver().await {
                return Ok(stop);
            }
            if let Some(g) = &gaps {
                due += g.sample(&mut self.pace_rng);
            }
        }
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
