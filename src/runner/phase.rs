//! One phase of a run: the loop that draws event times, waits for them, makes the follow-ups
//! due by each and then the primary event, and hands bounded batches to the sinks.

use tokio::time::Instant;

use super::drive::PhaseEnd;
use super::waiter::Waiter;
use super::{Runner, Stop, MAX_BATCH_RECORDS, SIMULATED_CHUNK};
use crate::schedule::{Post, Times};

/// Why the draws of a phase ended.
pub(super) enum Ending {
    /// The count is reached.
    Count,
    /// The next time is at or past the end time, or the range is used up.
    EndTime,
    /// Nothing more is made: a stop, a failure, or the backfill's hand-off.
    Now(PhaseEnd),
}

/// What a stop seen while drawing means: the deadline of a run in real time is its end time,
/// whose follow-ups are still made; any other stop ends the run now.
fn on_stop(stop: Stop) -> Ending {
    match stop {
        Stop::Finished => Ending::EndTime,
        other => Ending::Now(PhaseEnd::Stop(other)),
    }
}

impl Runner {
    /// Draws and delivers events from `times` at the pace of `post` until the end time, the
    /// count, a stop, or (when `hand_off`) an event time past the wall clock; then winds up
    /// the follow-ups by `--on-end` ([`Runner::wind_up`]).
    pub(super) async fn phase(
        &mut self,
        times: &mut Times,
        post: &mut Post,
        end_ms: Option<f64>,
        hand_off: bool,
        waiter: &mut Waiter<'_>,
    ) -> anyhow::Result<PhaseEnd> {
        let chunk = post.chunk(SIMULATED_CHUNK);
        let ending = loop {
            if self.remaining() == 0 {
                break Ending::Count;
            }
            if let Some(stop) = waiter.poll(&mut self.stats, &self.sinks) {
                break on_stop(stop);
            }
            let n = u64::from(chunk).min(self.remaining());
            if let Post::Rate(gate) = post {
                if let Err(wait) = gate.try_take(n as u32) {
                    if let Some(stop) = waiter
                        .until(Instant::now() + wait, &mut self.stats, &self.sinks)
                        .await
                    {
                        break on_stop(stop);
                    }
                    continue;
                }
            }
            let wall_now = hand_off.then(|| chrono::Utc::now().timestamp_millis() as f64);
            self.batch.clear();
            let mut ended = None;
            let mut last = None;
            let draws = self.generator.draws();
            for _ in 0..n {
                if self.remaining() == 0 {
                    // Reached on the world's clocks within this chunk.
                    ended = Some(Ending::Count);
                    break;
                }
                let next = if draws {
                    self.next_time(times)
                } else {
                    // No draws: the next event is whatever falls due next on the world's
                    // clocks or chains; with nothing left, the run is over.
                    self.generator.next_due().map(|at| at as f64)
                };
                let Some(t) = next else {
                    ended = Some(Ending::EndTime);
                    break;
                };
                if end_ms.is_some_and(|end| t >= end) {
                    ended = Some(Ending::EndTime);
                    break;
                }
                if wall_now.is_some_and(|now| t > now) {
                    ended = Some(Ending::Now(PhaseEnd::HandOff(None)));
                    break;
                }
                if let Some(due) = post.due(t) {
                    if let Some(stop) = waiter.until(due, &mut self.stats, &self.sinks).await {
                        ended = Some(on_stop(stop));
                        break;
                    }
                }
                if let Err(stop) = self.follow_ups_by(t as i64).await {
                    return Ok(PhaseEnd::Stop(stop));
                }
                if !draws {
                    self.last_primary = Some(t);
                    last = Some(t);
                    if self.batch.len() >= MAX_BATCH_RECORDS {
                        break;
                    }
                    continue;
                }
                match self.generator.next(t as i64, &mut self.batch) {
                    Err(error) => {
                        ended = Some(Ending::Now(PhaseEnd::Stop(Stop::Halted(error.to_string()))));
                        break;
                    }
                    Ok(Some(ty)) => {
                        self.last_primary = Some(t);
                        if self.log_events {
                            let n = self.generator.primaries();
                            let name = self.types[ty as usize].name;
                            tracing::info!("Event #{n}: {name} generated");
                        }
                    }
                    // Refused: a count's time is drawn again, so the count stays exact.
                    Ok(None) => times.give_back(),
                }
                last = Some(t);
                if self.batch.len() >= MAX_BATCH_RECORDS {
                    break;
                }
            }
            if let Err(stop) = self.deliver().await {
                return Ok(PhaseEnd::Stop(stop));
            }
            if let (Some(progress), Some(t)) = (&self.progress, last) {
                progress.update(t as i64, self.stats.records_total());
            }
            if let Some(ending) = ended {
                break match ending {
                    Ending::Now(PhaseEnd::HandOff(_)) => {
                        Ending::Now(PhaseEnd::HandOff(last.or(self.last_time)))
                    }
                    other => other,
                };
            }
            if last.is_some() {
                self.last_time = last;
            }
            // Let the signal handler and the sinks' tasks run between chunks.
            tokio::task::yield_now().await;
        };
        match ending {
            Ending::Now(end) => Ok(end),
            Ending::Count => self.wind_up(post, times, end_ms, true, waiter).await,
            Ending::EndTime => self.wind_up(post, times, end_ms, false, waiter).await,
        }
    }

    /// The next primary event's time drawn from `times`, moved on to when the world can take
    /// one; `None` when the times are used up.
    fn next_time(&mut self, times: &mut Times) -> Option<f64> {
        let mut t = times.next(&mut self.pace_rng)?;
        self.time_draws += 1;
        // A world that takes nothing before `at` (every web user in a session): jump there, so
        // the cost per event does not grow with the rate (issue 10).
        if let Some(at) = self.generator.ready_at().map(|at| at as f64) {
            if at > t {
                if let Some(skipped) = times.skip_to(at, &mut self.pace_rng) {
                    t = skipped;
                }
            }
        }
        Some(t)
    }

    /// Makes the follow-ups due by `t_ms` before the primary event at `t_ms`, handing them to
    /// the sinks in batches of at most [`MAX_BATCH_RECORDS`]: between two primary events of a
    /// sparse range a world can owe a day of readings (issue 28: one batch held them all, 3.4
    /// GB for a year).
    pub(super) async fn follow_ups_by(&mut self, t_ms: i64) -> Result<(), Stop> {
        while self.generator.next_due().is_some_and(|at| at <= t_ms) {
            let room = MAX_BATCH_RECORDS.saturating_sub(self.batch.len());
            if room == 0 {
                self.deliver().await?;
                self.batch.clear();
                continue;
            }
            self.generator.follow_ups(t_ms, &mut self.batch, room);
        }
        Ok(())
    }
}
