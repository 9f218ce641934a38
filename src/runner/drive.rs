//! The phases of a run: which clock and pace each plan uses, and the loop that draws event
//! times, waits for them, and hands batches to the sinks.

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::waiter::Waiter;
use super::{Runner, Stop};
use crate::profile::sampler::Sampler;
use crate::schedule::{Gaps, Pacing, Post, RateGate, Times};

/// How a run moves through time, decided once from the config.
#[derive(Debug, Clone, Copy)]
pub(super) enum Plan {
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
pub(super) enum PhaseEnd {
    Stop(Stop),
    /// The backfill caught up with the wall clock after this event time; `None` when it drew
    /// no time before the clock (a start within a gap of now).
    HandOff(Option<f64>),
}

impl Runner {
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
        if !self.generator.draws() {
            // Events come as they fall due on the world's clocks, each at its time: no times
            // are drawn (the phase reads the world's next due time instead).
            let times = Times::Step {
                step_ms: 1000.0,
                next_ms: first_ms,
                follow: None,
            };
            return Ok((times, real_time));
        }
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
        // Without draws there is no rate to post at: events are made as they fall due.
        let posting_rate = posting_rate && self.generator.draws();
        match (posting_rate, self.pacing) {
            (true, Pacing::Rate(rate)) => Ok(Post::Rate(RateGate::new(rate, self.pacing.chunk())?)),
            _ => Ok(Post::Fast),
        }
    }

    pub(super) async fn drive(&mut self, cancel: &CancellationToken) -> anyhow::Result<Stop> {
        let t0 = Instant::now();
        let wall0 = chrono::Utc::now().timestamp_millis();
        let duration = self.schedule.duration.map(|d| d.0);
        let mut waiter = Waiter {
            cancel,
            deadline: None,
            next_report: self.stats_every.map(|e| t0 + e),
            every: self.stats_every,
        };
        let start_ms = match self.plan {
            Plan::Live => wall0,
            Plan::Simulated { start_ms }
            | Plan::Historical { start_ms, .. }
            | Plan::Backfill { start_ms } => start_ms,
        };
        self.generator.begin(start_ms);
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
                        self.handoff_ms = last_ms.map(|ms| ms as i64);
                        // The bar ends before anything is logged, so no line lands on it, and
                        // the stats lines it stood in for come back (issue 10).
                        if let Some(p) = self.progress.take() {
                            p.complete();
                        }
                        tracing::info!(
                            last_event_ms = self.handoff_ms,
                            "Backfill caught up with the clock; continuing live."
                        );
                        self.stats_every = self.stats_interval;
                        self.log_events = self.log_events_live;
                        waiter.every = self.stats_interval;
                        if let Some(every) = self.stats_interval {
                            // One line for the backfill; the next interval is the live pace.
                            self.stats.report(&self.sinks);
                            waiter.next_report = Some(Instant::now() + every);
                        }
                        let t0 = Instant::now();
                        let wall0 = chrono::Utc::now().timestamp_millis();
                        // The first live event follows the last backfilled one by one drawn gap
                        // (or comes now in batch mode): no gap beyond a drawn one, no overlap.
                        // With none backfilled it comes now (issue 28: it came at time 0).
                        let first_ms = last_ms.unwrap_or(wall0 as f64);
                        let (mut times, mut post) = self.live_clock(first_ms, wall0, t0)?;
                        if let (Times::Gaps { .. } | Times::Step { .. }, Some(_)) =
                            (&times, last_ms)
                        {
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::sinks::null::NullSink;
    use crate::sinks::SinkKind;

    /// Event times drawn, world redraws and records for `count` primary events of the web
    /// world file with 2 users on the simulated clock at `rate` events a second.
    async fn web_work(rate: f64, count: u64) -> (u64, u64, u64) {
        // The shipped file with 2 users by default: a copy, as the parameters of a world found
        // by name are process-wide (`worldfile::set_params`) and other tests run beside this.
        let b = crate::worldfile::builtin::get("web").unwrap();
        let text = b
            .text
            .replace("num_users: {default: 10,", "num_users: {default: 2,");
        assert_ne!(text, b.text, "worlds/web.yaml's num_users line changed");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("web2.yaml");
        std::fs::write(&path, text).unwrap();
        let config = Config {
            scenario: path.display().to_string(),
            data_dir: dir.path().join("none"),
            seed: Some(3),
            sinks: vec![SinkKind::Null],
            stats_interval_secs: 0.0,
            ..Config::default()
        };
        let mut config = config;
        config.schedule.start = Some("2026-01-05T00:00:00Z".parse().unwrap());
        config.schedule.rate_per_sec = Some(rate);
        config.schedule.count = Some(count);
        // The work up to the count; finishing the sessions after it depends on where the
        // last primary event falls, which the rate moves.
        config.schedule.on_end = crate::schedule::OnEnd::Stop;
        let types = crate::scenario::find(&config.scenario)
            .unwrap()
            .event_types()
            .len();
        let mut runner = Runner::with_sinks(&config, vec![Box::new(NullSink::new(types))]).unwrap();
        let stop = runner.drive(&CancellationToken::new()).await.unwrap();
        assert_eq!(stop, Stop::Finished);
        assert_eq!(runner.generator.primaries(), count);
        let records = runner.stats.records_total();
        (runner.time_draws, runner.generator.redraws(), records)
    }

    /// Issue 10: web on the simulated clock with --rate stepped through every 1/rate while all
    /// users were in a session (109 s for 2,000 sessions at 1000/s). The work per event must
    /// not depend on the rate: at most one time draw per record, and the same refused draws
    /// at every rate. (The Rust web world refused none; the file world refuses draws while
    /// both users are in a session and no follow-up is due, the same number at any rate.)
    #[tokio::test]
    async fn web_work_per_event_does_not_grow_with_the_rate() {
        let base = web_work(1.0, 12).await;
        for rate in [1.0, 100.0, 10_000.0] {
            let (draws, redraws, records) = web_work(rate, 12).await;
            assert!(
                draws <= records,
                "rate {rate}: {draws} time draws for {records} records"
            );
            assert_eq!(
                (draws, redraws, records),
                base,
                "rate {rate}: not the work of the --rate 1 run"
            );
        }
    }
}
