//! Waiting for a due time while watching for cancellation, the deadline and stats reports.

use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::Stop;
use crate::sinks::Sink;
use crate::stats::Stats;

/// Waits for a due time while watching for cancellation, the deadline and stats reports.
pub(super) struct Waiter<'a> {
    pub(super) cancel: &'a CancellationToken,
    pub(super) deadline: Option<Instant>,
    pub(super) next_report: Option<Instant>,
    pub(super) every: Option<Duration>,
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
    pub(super) fn poll(&mut self, stats: &mut Stats, sinks: &[Box<dyn Sink>]) -> Option<Stop> {
        self.report_if_due(stats, sinks);
        self.stop_now()
    }

    /// Waits until `at`; `Some` if the run must stop first.
    pub(super) async fn until(
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
