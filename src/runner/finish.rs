//! The end of a bounded run (issue 28, item 8): the follow-ups due before its end time are
//! made whatever happens, and when the count is reached `--on-end` either finishes the chains
//! already started (their follow-ups, no new primary events) or stops at once. What is still
//! pending when the run ends is dropped, and counted in the summary.

use tokio::time::{Duration, Instant};

use super::drive::PhaseEnd;
use super::waiter::Waiter;
use super::{Runner, Stop, MAX_BATCH_RECORDS};
use crate::bounds::LAST_EVENT_MS;
use crate::schedule::{OnEnd, Post, Times};

/// How much event time `finish` covers after the last primary event of a run that has no end
/// time (a count): an hour, so that the follow-ups of a count run that ends now keep within
/// Kafka 4's default limit on future timestamps (`message.timestamp.after.max.ms`), and a
/// chain that never ends (a device reading every 10 s, each reading scheduling the next)
/// ends there.
pub(super) const FINISH_HORIZON_MS: f64 = 3_600_000.0;

impl Runner {
    /// Winds up a phase whose draws ended by its count (`by_count`) or its end time: makes the
    /// follow-ups `--on-end` asks for, then, in real time, waits for the end time.
    pub(super) async fn wind_up(
        &mut self,
        post: &Post,
        times: &Times,
        end_ms: Option<f64>,
        by_count: bool,
        waiter: &mut Waiter<'_>,
    ) -> anyhow::Result<PhaseEnd> {
        let until = match (end_ms, by_count, self.schedule.on_end) {
            (_, true, OnEnd::Stop) => None,
            (Some(end), _, _) => Some(end),
            (None, true, OnEnd::Finish) => self.last_primary.map(|t| t + FINISH_HORIZON_MS),
            (None, false, _) => None,
        };
        if let (Some(until), true) = (until, by_count) {
            // A live run may now wait minutes for its chains: say so, or it looks hung.
            if self
                .generator
                .next_due()
                .is_some_and(|at| (at as f64) < until)
            {
                tracing::info!(
                    pending = self.generator.pending(),
                    until = %crate::timefmt::rfc3339_millis(until as i64),
                    "Count reached; finishing the chains already started, with no new primary \
                     events (--on-end stop ends at once)."
                );
            }
        }
        if let Some(until) = until {
            if let Err(stop) = self.finish_until(until, post, times, waiter).await {
                return Ok(PhaseEnd::Stop(stop));
            }
        }
        if let (Some(end), false) = (end_ms, by_count) {
            // In real time, a run with a duration ends at its end, not at the last event.
            if let Some(due) = post.due(end) {
                if let Some(stop) = waiter.until(due, &mut self.stats, &self.sinks).await {
                    return Ok(PhaseEnd::Stop(stop));
                }
            }
        }
        Ok(PhaseEnd::Stop(Stop::Finished))
    }

    /// Makes the follow-ups due before `until` (event time, exclusive), each posted at its
    /// time where the run posts in real time, and the follow-ups they make in turn.
    async fn finish_until(
        &mut self,
        until: f64,
        post: &Post,
        times: &Times,
        waiter: &mut Waiter<'_>,
    ) -> Result<(), Stop> {
        let last_ms = (until.ceil() as i64 - 1).min(LAST_EVENT_MS);
        // Past a real-time run's deadline, whatever is due before its end is already late.
        let mut in_time = true;
        while let Some(at) = self.generator.next_due().filter(|at| *at <= last_ms) {
            let mut by = last_ms;
            if let Some(due) = in_time.then(|| real_time_due(post, times, at)).flatten() {
                match waiter.until(due, &mut self.stats, &self.sinks).await {
                    None => by = at,
                    Some(Stop::Finished) => in_time = false,
                    Some(stop) => return Err(stop),
                }
            }
            self.batch.clear();
            self.generator
                .follow_ups(by, &mut self.batch, MAX_BATCH_RECORDS);
            self.follow_ups_finished += self.batch.len() as u64;
            self.deliver().await?;
            if let (Some(progress), Some(r)) = (&self.progress, self.batch.get(0)) {
                progress.update(r.time_ms, self.stats.records_total());
            }
            match waiter.poll(&mut self.stats, &self.sinks) {
                None => {}
                Some(Stop::Finished) => in_time = false,
                Some(stop) => return Err(stop),
            }
            tokio::task::yield_now().await;
        }
        Ok(())
    }
}

/// When event time `at_ms` is due in real time, where the run posts in real time: at a speed,
/// or live in batch mode, whose event times are the wall clock's.
fn real_time_due(post: &Post, times: &Times, at_ms: i64) -> Option<Instant> {
    if let Some(due) = post.due(at_ms as f64) {
        return Some(due);
    }
    match times {
        Times::Now { wall0_ms, t0 } => {
            let ahead_ms = u64::try_from(at_ms.saturating_sub(*wall0_ms)).unwrap_or(0);
            Some(*t0 + Duration::from_millis(ahead_ms))
        }
        _ => None,
    }
}
