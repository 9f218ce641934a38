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
        let end = end_ms.unwrap_or_else(|| chrono::Utc::now().timestamp_millis());
        let bar = ProgressBar::with_draw_target(
            Some((end - start_ms).max(1) as u64),
            ProgressDrawTarget::stderr(),
        );
        let style =
            ProgressStyle::with_template("{bar:30.cyan/blue} {percent:>3}% {msg} ETA {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        Some(Self { bar, start_ms })
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

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
