//! The backfill hand-off on a terminal, on tokio's paused clock: the bar ends and the periodic
//! stats lines come back (issue 10: after the hand-off none appeared).

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use super::*;
use crate::schedule::TimeArg;
use crate::sinks::null::NullSink;
use crate::sinks::SinkKind;

/// Log lines, captured.
#[derive(Clone, Default)]
pub(super) struct Captured(pub(super) Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn stats_lines_resume_after_the_backfill_hands_off_from_the_bar() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let now = chrono::Utc::now().timestamp_millis();
    let mut config = Config {
        data_dir: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/master"),
        seed: Some(3),
        sinks: vec![SinkKind::Null],
        stats_interval_secs: 5.0,
        ..Config::default()
    };
    // Ten minutes of backfill at a 1-2 s pace, then live at that pace.
    config.schedule.start =
        chrono::DateTime::from_timestamp_millis(now - 600_000).map(TimeArg::Time);
    config.schedule.min_delta_secs = 1.0;
    config.schedule.max_delta_secs = 2.0;
    let sink = NullSink::new(crate::scenario::retail::TYPES.len());
    let mut runner = Runner::with_sinks(&config, vec![Box::new(sink)]).unwrap();
    // What `with_sinks` does when stderr is a terminal.
    runner.show_progress(Progress::hidden(now - 600_000, None));

    let cancel = CancellationToken::new();
    let stop = cancel.clone();
    tokio::spawn(async move {
        // 60 s of live running on the paused clock: 12 intervals of 5 s.
        tokio::time::sleep(Duration::from_secs(60)).await;
        stop.cancel();
    });
    let summary = runner.run(cancel).await.unwrap();
    assert!(
        summary.handoff_ms.is_some(),
        "the backfill never handed off"
    );

    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    let (before, after) = text
        .split_once("Backfill caught up")
        .unwrap_or_else(|| panic!("no hand-off logged: {text}"));
    assert!(
        !before.contains("Stats."),
        "stats lines under the bar: {before}"
    );
    let stats_after = after.matches("Stats.").count();
    // One line at the hand-off, then one every 5 s of the 60 s (the last may race the stop).
    assert!(
        stats_after >= 12,
        "{stats_after} stats lines after the hand-off: {after}"
    );
}

/// What a run emitted: `(event time, primary, type)` per record, in order, and the largest
/// batch.
#[derive(Clone, Default)]
pub(super) struct Seen(Arc<Mutex<SeenRecords>>);

/// `(event time, primary, type)` per record, and the largest batch.
type SeenRecords = (Vec<(i64, bool, u8)>, usize);

impl Seen {
    /// `(event time, primary)` per record.
    pub(super) fn times(&self) -> Vec<(i64, bool)> {
        let seen = self.0.lock().unwrap();
        seen.0.iter().map(|(t, p, _)| (*t, *p)).collect()
    }

    /// The times of the records of type `ty`.
    pub(super) fn times_of(&self, ty: u8) -> Vec<i64> {
        let seen = self.0.lock().unwrap();
        seen.0.iter().filter(|r| r.2 == ty).map(|r| r.0).collect()
    }

    pub(super) fn largest_batch(&self) -> usize {
        self.0.lock().unwrap().1
    }
}

/// A sink that notes what [`Seen`] holds and delivers everything.
pub(super) struct SeenSink {
    seen: Seen,
    counts: crate::sinks::SinkCounts,
}

impl SeenSink {
    pub(super) fn new(types: usize) -> (Self, Seen) {
        let seen = Seen::default();
        let sink = Self {
            seen: seen.clone(),
            counts: crate::sinks::SinkCounts::new(types),
        };
        (sink, seen)
    }
}

#[async_trait::async_trait]
impl Sink for SeenSink {
    fn name(&self) -> &'static str {
        "seen"
    }

    async fn send(&mut self, batch: &crate::event::Batch) -> Result<(), SinkError> {
        let mut seen = self.seen.0.lock().unwrap();
        seen.1 = seen.1.max(batch.len());
        for r in batch.iter() {
            seen.0.push((r.time_ms, r.primary, r.event_type));
            self.counts.delivered[usize::from(r.event_type)] += 1;
        }
        Ok(())
    }

    async fn flush(&mut self, _timeout: Duration) -> Result<(), SinkError> {
        Ok(())
    }

    fn counts(&self) -> crate::sinks::SinkCounts {
        self.counts.clone()
    }
}

/// Issue 28, item 1: `--start` at the current time with `--continuous` drew its first time
/// after the clock, handed off with no event backfilled, and went live from time 0: events at
/// 1970-01-01T00:00:40Z, flat out. A start from a few seconds ago to now hands off to the
/// real clock.
#[tokio::test(start_paused = true)]
async fn a_backfill_from_now_goes_live_at_the_real_clock() {
    for back_ms in [0, 1_000, 5_000] {
        let now = chrono::Utc::now().timestamp_millis();
        let start = now - back_ms;
        let mut config = Config {
            data_dir: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/master"),
            seed: Some(3),
            sinks: vec![SinkKind::Null],
            stats_interval_secs: 0.0,
            ..Config::default()
        };
        config.schedule.start = chrono::DateTime::from_timestamp_millis(start).map(TimeArg::Time);
        config.schedule.min_delta_secs = 1.0;
        config.schedule.max_delta_secs = 2.0;
        // Before the fix the live times ran from 1970 flat out and never let the clock on.
        config.schedule.max_records = Some(200);
        let (sink, seen) = SeenSink::new(crate::scenario::retail::TYPES.len());
        let runner = Runner::with_sinks(&config, vec![Box::new(sink)]).unwrap();
        let cancel = CancellationToken::new();
        let stop = cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(30)).await;
            stop.cancel();
        });
        let summary = runner.run(cancel).await.unwrap();
        let times = seen.times();
        assert!(
            times.len() >= 10,
            "back {back_ms} ms: {} events",
            times.len()
        );
        // Live event times run ahead of the real clock only by the paused clock's 30 s.
        let later = chrono::Utc::now().timestamp_millis() + 31_000;
        for (t, _) in &times {
            assert!(
                (start..=later).contains(t),
                "back {back_ms} ms: event at {t}, outside the run from {start} to {later}"
            );
        }
        if let Some(h) = summary.handoff_ms {
            assert!(h >= start, "back {back_ms} ms: handed off at {h}");
        }
    }
}
