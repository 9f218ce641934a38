//! A progress bar for historical runs and backfills when stderr is a terminal: simulated date,
//! events, rate and ETA. Elsewhere the periodic stats line does this job.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Progress {
    bar: ProgressBar,
    start_ms: i64,
}

impl Progress {
    /// A bar over simulated time from `start_ms` to `end_ms` (or to now, for a backfill);
    /// `None` unless stderr is a terminal.
    pub fn for_terminal(start_ms: i64, end_ms: Option<i64>) -> Option<Self> {
        if !std::io::stderr().is_terminal() {
            return None;
        }
        Some(Self::new(start_ms, end_ms, ProgressDrawTarget::stderr()))
    }

    /// The same bar drawn nowhere, for tests of what a run does around it.
    pub fn hidden(start_ms: i64, end_ms: Option<i64>) -> Self {
        Self::new(start_ms, end_ms, ProgressDrawTarget::hidden())
    }

    fn new(start_ms: i64, end_ms: Option<i64>, target: ProgressDrawTarget) -> Self {
        let end = end_ms.unwrap_or_else(|| chrono::Utc::now().timestamp_millis());
        let bar = ProgressBar::with_draw_target(Some((end - start_ms).max(1) as u64), target);
        let style =
            ProgressStyle::with_template("{bar:30.cyan/blue} {percent:>3}% {msg} ETA {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        Self { bar, start_ms }
    }

    /// Simulated time reached, and events so far.
    pub fn update(&self, sim_ms: i64, events: u64) {
        self.bar
            .set_position((sim_ms - self.start_ms).max(0) as u64);
        let date = chrono::DateTime::from_timestamp_millis(sim_ms)
            .map(|t| t.format("%Y-%m-%d %H:%M").to_string());
        let rate = events as f64 / self.bar.elapsed().as_secs_f64().max(1e-3);
        self.bar.set_message(format!(
            "{} · {events} events · {rate:.0}/s",
            date.unwrap_or_default()
        ));
    }

    /// Removes the bar (a run that ends or is stopped).
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }

    /// Ends the bar at 100% and leaves it on screen, so that the log lines after it start on
    /// a line of their own (the backfill hand-off). Issue 10: the bar stayed at its last drawn
    /// value (98%) and "Backfill caught up" was written over it.
    pub fn complete(self) {
        if let Some(len) = self.bar.length() {
            self.bar.set_position(len);
        }
        self.bar.finish();
    }
}
