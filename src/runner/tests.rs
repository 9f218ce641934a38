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
struct Captured(Arc<Mutex<Vec<u8>>>);

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
