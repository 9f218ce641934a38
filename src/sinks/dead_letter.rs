//! The dead-letter file: events a sink could not deliver (Kafka would not take them, the HTTP
//! endpoint refused them or never answered), one JSON object per line, labelled with where it
//! was going and why it is here:
//!
//! `{"sink":"kafka","topic":"...","key":"...","outcome":"failed","error":"...","headers":{...},"event":{...}}`
//!
//! `outcome` is `failed` (certainly not delivered) or `unknown` (it was in flight when it was
//! given up on, so it may have arrived; replaying it may duplicate it). `event` is the event
//! exactly as it would have been sent. Shared by the `kafka` and `http` sinks through one
//! instance. Opened on the first failure, appended to (never truncated, so an earlier run's dead
//! letters survive), written in whole lines only, flushed at shutdown.

use std::fs::OpenOptions;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::lines::{LineStore, Lines};

/// Bytes of lines buffered before they are written to the file.
const BUFFER: usize = 64 * 1024;

/// What became of an event that was not confirmed delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Certainly not delivered.
    Failed,
    /// Possibly delivered (purged or timed out while in flight).
    Unknown,
}

/// One line of the file, except the event.
#[derive(Debug, Serialize)]
pub struct Label<'a> {
    pub sink: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topic: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    pub outcome: Outcome,
    pub error: &'a str,
    /// Kafka record headers, name to value (as text).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub headers: Option<serde_json::Map<String, serde_json::Value>>,
    /// Kafka record timestamp, milliseconds since the epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp_ms: Option<i64>,
}

#[derive(Serialize)]
struct Line<'a> {
    #[serde(flatten)]
    label: &'a Label<'a>,
    event: &'a RawValue,
}

/// One line, encoded. An event that is not JSON (never made by kafka-gen) is kept as a string.
pub fn encode(label: &Label<'_>, event: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(event);
    let quoted: Box<RawValue>;
    let raw: &RawValue = match serde_json::from_str::<&RawValue>(&text) {
        Ok(raw) => raw,
        Err(_) => match serde_json::value::to_raw_value(&text) {
            Ok(q) => {
                quoted = q;
                &quoted
            }
            Err(_) => return Vec::new(),
        },
    };
    serde_json::to_vec(&Line { label, event: raw }).unwrap_or_default()
}

/// Thread-safe: the Kafka delivery callback (librdkafka's polling thread), HTTP request tasks
/// and `send` all write.
pub struct DeadLetter {
    path: PathBuf,
    writer: Mutex<Writer>,
    written: AtomicU64,
    lost: AtomicU64,
}

enum Writer {
    /// Not opened yet (nothing has failed).
    Closed,
    Open {
        lines: Lines<Box<dyn LineStore>>,
        /// Lines in the buffer, not yet in the file.
        pending: u64,
    },
    /// Could not be opened; every event is counted lost.
    Unopenable,
}

impl DeadLetter {
    pub fn new(path: PathBuf) -> Self {
        Self {
            path,
            writer: Mutex::new(Writer::Closed),
            written: AtomicU64::new(0),
            lost: AtomicU64::new(0),
        }
    }

    /// Writes into `store` instead of the file (tests).
    #[cfg(test)]
    fn with_store(store: Box<dyn LineStore>) -> Self {
        let dl = Self::new("test".into());
        *dl.lock() = Writer::Open {
            lines: Lines::new(store, BUFFER, 0),
            pending: 0,
        };
        dl
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Lines written to the file (flushed).
    pub fn written(&self) -> u64 {
        self.written.load(Ordering::Relaxed)
    }

    /// Events that could not be written (the file could not be opened or written).
    pub fn lost(&self) -> u64 {
        self.lost.load(Ordering::Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Writer> {
        match self.writer.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Appends one event. Never panics: a failure to write is counted, and logged once.
    pub fn write(&self, label: &Label<'_>, event: &[u8]) {
        let line = encode(label, event);
        let mut guard = self.lock();
        if matches!(*guard, Writer::Closed) {
            *guard = self.open();
        }
        match &mut *guard {
            Writer::Open { lines, pending } => {
                lines.push(&line);
                *pending += 1;
                if lines.is_full() {
                    self.write_out(lines, pending);
                }
            }
            _ => self.count_lost(1, None),
        }
    }

    fn open(&self) -> Writer {
        let opened = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&self.path)
            .and_then(|mut file| {
                let len = repair(&mut file, &self.path)?;
                Ok((file, len))
            });
        match opened {
            Ok((file, len)) => {
                tracing::warn!(path = %self.path.display(), "Writing undeliverable events to the dead-letter file.");
                Writer::Open {
                    lines: Lines::new(Box::new(file), BUFFER, len),
                    pending: 0,
                }
            }
            Err(error) => {
                tracing::error!(path = %self.path.display(), %error, "Cannot open the dead-letter file; check --dead-letter. Undeliverable events are counted, not kept.");
                Writer::Unopenable
            }
        }
    }

    fn write_out(&self, lines: &mut Lines<Box<dyn LineStore>>, pending: &mut u64) {
        let n = std::mem::take(pending);
        match lines.write_out() {
            Ok(()) => {
                self.written.fetch_add(n, Ordering::Relaxed);
            }
            Err(error) => self.count_lost(n, Some(&error)),
        }
    }

    /// Counts `n` lost; logs only the first loss (the total is logged by [`DeadLetter::flush`]).
    fn count_lost(&self, n: u64, error: Option<&std::io::Error>) {
        if self.lost.fetch_add(n, Ordering::Relaxed) == 0 {
            if let Some(error) = error {
                tracing::error!(path = %self.path.display(), %error, "Cannot write to the dead-letter file; further losses are counted, not logged.");
            }
        }
    }

    /// Pushes buffered lines to the file; logs one line with the total lost, if any.
    pub fn flush(&self) {
        let mut guard = self.lock();
        if let Writer::Open { lines, pending } = &mut *guard {
            self.write_out(lines, pending);
        }
        let lost = self.lost();
        if lost > 0 {
            tracing::error!(path = %self.path.display(), lost, written = self.written(), "Some undeliverable events could not be written to the dead-letter file either.");
        }
    }
}

/// Makes the file end in a whole line: a line cut by an earlier run (a full disk, a kill) is
/// removed, so appending cannot glue a new record onto it. Returns the file's length.
fn repair(file: &mut std::fs::File, path: &Path) -> std::io::Result<u64> {
    let meta = file.metadata()?;
    let len = meta.len();
    if !meta.is_file() || len == 0 {
        return Ok(len);
    }
    // Read backwards in blocks to the last newline.
    let mut end = len;
    let mut block = vec![0u8; 64 * 1024];
    while end > 0 {
        let start = end.saturating_sub(block.len() as u64);
        let part = &mut block[..(end - start) as usize];
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(part)?;
        if end == len && part.last() == Some(&b'\n') {
            return Ok(len);
        }
        if let Some(at) = part.iter().rposition(|b| *b == b'\n') {
            end = start + at as u64 + 1;
            break;
        }
        end = start;
    }
    file.set_len(end)?;
    tracing::warn!(path = %path.display(), removed_bytes = len - end, "The dead-letter file ended in a cut line (an earlier run was stopped mid-write); removed it.");
    Ok(end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sinks::lines::tests::FullAfter;

    fn label(outcome: Outcome) -> Label<'static> {
        Label {
            sink: "kafka",
            topic: Some("t"),
            endpoint: None,
            key: Some("k1".into()),
            outcome,
            error: "boom",
            headers: None,
            timestamp_ms: None,
        }
    }

    #[test]
    fn opens_lazily_and_appends_labelled_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dl.jsonl");
        let dl = DeadLetter::new(path.clone());
        dl.flush();
        assert!(!path.exists(), "nothing failed, so no file");
        dl.write(&label(Outcome::Failed), br#"{"a":1}"#);
        dl.write(&label(Outcome::Unknown), br#"{"a":2}"#);
        dl.flush();
        let again = DeadLetter::new(path.clone());
        again.write(&label(Outcome::Failed), br#"{"a":3}"#);
        again.flush();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            concat!(
                r#"{"sink":"kafka","topic":"t","key":"k1","outcome":"failed","error":"boom","event":{"a":1}}"#,
                "\n",
                r#"{"sink":"kafka","topic":"t","key":"k1","outcome":"unknown","error":"boom","event":{"a":2}}"#,
                "\n",
                r#"{"sink":"kafka","topic":"t","key":"k1","outcome":"failed","error":"boom","event":{"a":3}}"#,
                "\n",
            )
        );
        assert_eq!((dl.written(), again.written(), dl.lost()), (2, 1, 0));
    }

    #[test]
    fn unwritable_path_counts_lost() {
        let dl = DeadLetter::new("/nonexistent-dir/dl.jsonl".into());
        dl.write(&label(Outcome::Failed), b"{}");
        dl.write(&label(Outcome::Failed), b"{}");
        assert_eq!((dl.written(), dl.lost()), (0, 2));
    }

    /// A disk that fills part-way through a buffer: the file keeps whole lines only, and
    /// written + lost equals the events given.
    #[test]
    fn full_disk_keeps_whole_lines_and_counts_match() {
        let store = FullAfter::new(300_000);
        let dl = DeadLetter::with_store(Box::new(store.clone()));
        let event = format!(r#"{{"pad":"{}"}}"#, "x".repeat(200));
        for _ in 0..5_000 {
            dl.write(&label(Outcome::Failed), event.as_bytes());
        }
        dl.flush();
        let bytes = store.bytes();
        assert_eq!(bytes.last(), Some(&b'\n'), "the file ends in a cut line");
        let on_disk = bytes
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .count() as u64;
        assert_eq!(dl.written(), on_disk);
        assert_eq!(dl.written() + dl.lost(), 5_000);
        assert!(dl.lost() > 0 && dl.written() > 0);
        // That the loss is logged once with a total is checked on the binary, in
        // tests/dead_letter.rs (a_full_dead_letter_device_logs_once_with_a_total).
    }

    #[test]
    fn a_cut_last_line_is_removed_before_appending() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dl.jsonl");
        std::fs::write(&path, "{\"a\":1}\n{\"a\":2, \"cut").unwrap();
        let dl = DeadLetter::new(path.clone());
        dl.write(&label(Outcome::Failed), br#"{"a":3}"#);
        dl.flush();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert_eq!(lines[0], "{\"a\":1}");
        assert!(lines[1].ends_with(r#""event":{"a":3}}"#), "{text}");
    }

    #[test]
    fn dev_full_logs_and_counts_without_panicking() {
        if !Path::new("/dev/full").exists() {
            return;
        }
        let dl = DeadLetter::new("/dev/full".into());
        for _ in 0..1000 {
            dl.write(&label(Outcome::Failed), b"{}");
        }
        dl.flush();
        assert_eq!((dl.written(), dl.lost()), (0, 1000));
    }
}
