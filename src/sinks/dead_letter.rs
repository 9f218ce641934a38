//! The dead-letter file: events a sink could not deliver (Kafka would not take them, the HTTP
//! endpoint refused them or never answered), one JSON object per line, exactly as they would
//! have been sent. Shared by the `kafka` and `http` sinks. Opened on the first failure,
//! appended to (never truncated, so an earlier run's dead letters survive), flushed at shutdown.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Thread-safe: the Kafka delivery callback (librdkafka's polling thread), HTTP request tasks
/// and `send` all write.
pub struct DeadLetter {
    path: PathBuf,
    writer: Mutex<Option<BufWriter<File>>>,
    written: AtomicU64,
    lost: AtomicU64,
}

impl DeadLetter {
    pub fn new(path: PathBuf) -> Self {
        Self {
            path,
            writer: Mutex::new(None),
            written: AtomicU64::new(0),
            lost: AtomicU64::new(0),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Events written to the file.
    pub fn written(&self) -> u64 {
        self.written.load(Ordering::Relaxed)
    }

    /// Events that could not be written either (the file could not be opened or written).
    pub fn lost(&self) -> u64 {
        self.lost.load(Ordering::Relaxed)
    }

    /// Appends one event. Never panics: a failure to write is logged and counted.
    pub fn write(&self, payload: &[u8]) {
        let mut guard = match self.writer.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        if guard.is_none() {
            match OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)
            {
                Ok(file) => {
                    tracing::warn!(path = %self.path.display(), "Writing undeliverable events to the dead-letter file.");
                    *guard = Some(BufWriter::with_capacity(64 * 1024, file));
                }
                Err(error) => {
                    tracing::error!(path = %self.path.display(), %error, "Cannot open the dead-letter file; check --dead-letter.");
                    self.lost.fetch_add(1, Ordering::Relaxed);
                    return;
                }
            }
        }
        let Some(writer) = guard.as_mut() else { return };
        // Both sinks append to the same file through their own buffers: each buffer is
        // written out holding whole lines only, so lines from the two never interleave.
        let spare = writer.capacity() - writer.buffer().len();
        let flushed = if spare <= payload.len() {
            writer.flush()
        } else {
            Ok(())
        };
        match flushed
            .and_then(|()| writer.write_all(payload))
            .and_then(|()| writer.write_all(b"\n"))
        {
            Ok(()) => {
                self.written.fetch_add(1, Ordering::Relaxed);
            }
            Err(error) => {
                tracing::error!(path = %self.path.display(), %error, "Cannot write to the dead-letter file.");
                self.lost.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Pushes buffered lines to the file.
    pub fn flush(&self) -> std::io::Result<()> {
        let mut guard = match self.writer.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        match guard.as_mut() {
            Some(writer) => writer.flush(),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_lazily_and_appends() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dl.jsonl");
        let dl = DeadLetter::new(path.clone());
        dl.flush().unwrap();
        assert!(!path.exists(), "nothing failed, so no file");
        dl.write(br#"{"a":1}"#);
        dl.write(br#"{"a":2}"#);
        dl.flush().unwrap();
        let again = DeadLetter::new(path.clone());
        again.write(br#"{"a":3}"#);
        again.flush().unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n"
        );
        assert_eq!((dl.written(), again.written(), dl.lost()), (2, 1, 0));
    }

    #[test]
    fn unwritable_path_counts_lost() {
        let dl = DeadLetter::new("/nonexistent-dir/dl.jsonl".into());
        dl.write(b"{}");
        assert_eq!((dl.written(), dl.lost()), (0, 1));
    }
}
