//! JSON lines to a writer: standard output here, files in `file`. Generic over the writer so
//! tests can pass a `Vec<u8>`.

use std::io::{self, BufWriter, Write};
use std::time::Duration;

use async_trait::async_trait;

use super::{Sink, SinkCounts, SinkError};
use crate::event::Batch;

/// Writes each record as one line to one writer, or to one writer per event type.
pub struct JsonLinesSink<W: Write + Send> {
    name: &'static str,
    writers: Vec<W>,
    per_type: bool,
    counts: SinkCounts,
}

impl JsonLinesSink<BufWriter<io::Stdout>> {
    pub fn stdout(types: usize) -> Self {
        Self::new(
            "stdout",
            vec![BufWriter::with_capacity(256 * 1024, io::stdout())],
            false,
            types,
        )
    }
}

impl<W: Write + Send> JsonLinesSink<W> {
    /// `writers` holds one writer, or one per event type when `per_type`.
    pub fn new(name: &'static str, writers: Vec<W>, per_type: bool, types: usize) -> Self {
        Self {
            name,
            writers,
            per_type,
            counts: SinkCounts::new(types),
        }
    }

    pub fn into_writers(self) -> Vec<W> {
        self.writers
    }
}

fn sink_error(error: io::Error) -> SinkError {
    match error.kind() {
        io::ErrorKind::BrokenPipe => SinkError::Closed,
        _ => SinkError::Fatal(format!("write failed: {error}")),
    }
}

#[async_trait]
impl<W: Write + Send> Sink for JsonLinesSink<W> {
    fn name(&self) -> &'static str {
        self.name
    }

    async fn send(&mut self, batch: &Batch) -> Result<(), SinkError> {
        for record in batch.iter() {
            let ty = usize::from(record.event_type);
            let writer = &mut self.writers[if self.per_type { ty } else { 0 }];
            writer.write_all(record.payload).map_err(sink_error)?;
            writer.write_all(b"\n").map_err(sink_error)?;
            self.counts.delivered[ty] += 1;
        }
        Ok(())
    }

    async fn flush(&mut self, _timeout: Duration) -> Result<(), SinkError> {
        for writer in &mut self.writers {
            writer.flush().map_err(sink_error)?;
        }
        Ok(())
    }

    fn counts(&self) -> SinkCounts {
        self.counts.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Envelope, EventWriter};
    use rand::SeedableRng;

    fn batch() -> Batch {
        let mut batch = Batch::new();
        let mut rng = crate::SimRng::seed_from_u64(1);
        let mut w = EventWriter::new(&mut batch, "t");
        for ty in [0u8, 1, 0] {
            let env = Envelope {
                event_type: ty,
                type_name: "x",
                time_ms: 1,
                caused_by: None,
                key: "k",
            };
            w.emit(&mut rng, env, &serde_json::json!({ "n": ty }));
        }
        batch
    }

    #[tokio::test]
    async fn writes_one_line_per_record_and_counts_by_type() {
        let mut sink = JsonLinesSink::new("test", vec![Vec::new()], false, 2);
        sink.send(&batch()).await.unwrap();
        assert_eq!(sink.counts().delivered, vec![2, 1]);
        let out = String::from_utf8(sink.into_writers().remove(0)).unwrap();
        let ns: Vec<u64> = out
            .lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["n"]
                    .as_u64()
                    .unwrap()
            })
            .collect();
        assert_eq!(ns, vec![0, 1, 0]);
    }

    #[tokio::test]
    async fn per_type_routes_by_type() {
        let mut sink = JsonLinesSink::new("test", vec![Vec::new(), Vec::new()], true, 2);
        sink.send(&batch()).await.unwrap();
        let w = sink.into_writers();
        assert_eq!(
            w[0].split(|b| *b == b'\n')
                .filter(|l| !l.is_empty())
                .count(),
            2
        );
        assert_eq!(
            w[1].split(|b| *b == b'\n')
                .filter(|l| !l.is_empty())
                .count(),
            1
        );
    }

    struct Closed;
    impl Write for Closed {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn broken_pipe_is_closed_not_fatal() {
        let mut sink = JsonLinesSink::new("test", vec![Closed], false, 2);
        assert!(matches!(sink.send(&batch()).await, Err(SinkError::Closed)));
    }
}
