//! JSON lines to a writer: standard output here, files in `file`. Generic over the writer so
//! tests can pass a `Vec<u8>`. An event counts as delivered once its line is written out (not
//! when it enters the buffer), and a failed write leaves whole lines only (`lines`).

use std::io;
use std::time::Duration;

use async_trait::async_trait;

use super::lines::{LineStore, Lines};
use super::{FlushPolicy, Sink, SinkCounts, SinkError};
use crate::event::Batch;

/// Bytes buffered per output when the policy lets lines wait for a full buffer.
pub const BUFFER: usize = 256 * 1024;

/// One output and the per-type counts of the lines buffered for it.
struct Out<W: LineStore> {
    lines: Lines<W>,
    pending: Vec<u64>,
}

/// Writes each record as one line to one writer, or to one writer per event type.
pub struct JsonLinesSink<W: LineStore> {
    name: &'static str,
    outs: Vec<Out<W>>,
    per_type: bool,
    policy: FlushPolicy,
    counts: SinkCounts,
}

impl JsonLinesSink<io::Stdout> {
    pub fn stdout(types: usize, policy: FlushPolicy) -> Self {
        Self::new("stdout", vec![io::stdout()], false, types, policy)
    }
}

impl<W: LineStore> JsonLinesSink<W> {
    /// `writers` holds one writer, or one per event type when `per_type`; each starts empty.
    pub fn new(
        name: &'static str,
        writers: Vec<W>,
        per_type: bool,
        types: usize,
        policy: FlushPolicy,
    ) -> Self {
        let outs = writers
            .into_iter()
            .map(|w| Out {
                lines: Lines::new(w, BUFFER, 0),
                pending: vec![0; types],
            })
            .collect();
        Self {
            name,
            outs,
            per_type,
            policy,
            counts: SinkCounts::new(types),
        }
    }

    pub fn into_writers(self) -> Vec<W> {
        self.outs
            .into_iter()
            .map(|o| o.lines.into_store())
            .collect()
    }

    /// Writes out output `o`'s buffer: its lines count delivered, or all of them failed.
    fn write_out(&mut self, o: usize) -> Result<(), SinkError> {
        let Some(out) = self.outs.get_mut(o) else {
            return Ok(());
        };
        let result = out.lines.write_out();
        let closed = matches!(&result, Err(e) if e.kind() == io::ErrorKind::BrokenPipe);
        // A reader that went away chose to stop: its lines are neither delivered nor failed.
        let mut counts = match (&result, closed) {
            (Ok(()), _) => Some(&mut self.counts.delivered),
            (Err(_), false) => Some(&mut self.counts.failed),
            (Err(_), true) => None,
        };
        for (ty, n) in out.pending.iter_mut().enumerate() {
            if let Some(counts) = counts.as_deref_mut() {
                counts[ty] += *n;
            }
            *n = 0;
        }
        result.map_err(sink_error)
    }

    fn write_out_all(&mut self) -> Result<(), SinkError> {
        let mut first = Ok(());
        for o in 0..self.outs.len() {
            let result = self.write_out(o);
            if first.is_ok() {
                first = result;
            }
        }
        first
    }
}

fn sink_error(error: io::Error) -> SinkError {
    match error.kind() {
        io::ErrorKind::BrokenPipe => SinkError::Closed,
        _ => SinkError::Fatal(format!("write failed: {error}")),
    }
}

#[async_trait]
impl<W: LineStore> Sink for JsonLinesSink<W> {
    fn name(&self) -> &'static str {
        self.name
    }

    async fn send(&mut self, batch: &Batch) -> Result<(), SinkError> {
        let mut records = batch.iter();
        while let Some(record) = records.next() {
            let ty = usize::from(record.event_type);
            let o = if self.per_type { ty } else { 0 };
            let Some(out) = self.outs.get_mut(o) else {
                continue;
            };
            out.lines.push(record.payload);
            out.pending[ty] += 1;
            if out.lines.is_full() {
                if let Err(error) = self.write_out(o) {
                    if !matches!(error, SinkError::Closed) {
                        // The run stops here: the rest of the batch will never be written.
                        for rest in records {
                            self.counts.failed[usize::from(rest.event_type)] += 1;
                        }
                        for o in 0..self.outs.len() {
                            let _ = self.write_out(o);
                        }
                    }
                    return Err(error);
                }
            }
        }
        if self.policy == FlushPolicy::EachBatch {
            self.write_out_all()?;
        }
        Ok(())
    }

    async fn flush(&mut self, _timeout: Duration) -> Result<(), SinkError> {
        self.write_out_all()
    }

    fn counts(&self) -> SinkCounts {
        self.counts.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Envelope, EventWriter};
    use crate::sinks::lines::tests::FullAfter;
    use rand::SeedableRng;
    use std::io::Write;

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
        let mut sink =
            JsonLinesSink::new("test", vec![Vec::new()], false, 2, FlushPolicy::WhenFull);
        sink.send(&batch()).await.unwrap();
        sink.flush(Duration::ZERO).await.unwrap();
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
        let mut sink = JsonLinesSink::new(
            "test",
            vec![Vec::new(), Vec::new()],
            true,
            2,
            FlushPolicy::WhenFull,
        );
        sink.send(&batch()).await.unwrap();
        sink.flush(Duration::ZERO).await.unwrap();
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
    impl LineStore for Closed {
        fn cut_to(&mut self, _: u64) -> io::Result<bool> {
            Ok(false)
        }
    }

    #[tokio::test]
    async fn broken_pipe_is_closed_not_fatal() {
        let mut sink = JsonLinesSink::new("test", vec![Closed], false, 2, FlushPolicy::EachBatch);
        assert!(matches!(sink.send(&batch()).await, Err(SinkError::Closed)));
    }

    /// Live mode: each batch is on the output when `send` returns, so `tail -f` sees it.
    #[tokio::test]
    async fn each_batch_policy_writes_before_send_returns() {
        let store = FullAfter::new(usize::MAX);
        let mut sink = JsonLinesSink::new(
            "test",
            vec![store.clone()],
            false,
            2,
            FlushPolicy::EachBatch,
        );
        sink.send(&batch()).await.unwrap();
        assert_eq!(store.bytes().iter().filter(|b| **b == b'\n').count(), 3);
        assert_eq!(sink.counts().delivered, vec![2, 1]);
    }

    /// Batch runs keep the big buffer: nothing is written, or counted delivered, before it
    /// fills or the sink is flushed.
    #[tokio::test]
    async fn when_full_policy_counts_only_what_is_written() {
        let store = FullAfter::new(usize::MAX);
        let mut sink =
            JsonLinesSink::new("test", vec![store.clone()], false, 2, FlushPolicy::WhenFull);
        sink.send(&batch()).await.unwrap();
        assert!(store.bytes().is_empty());
        assert_eq!(sink.counts().delivered_total(), 0);
        sink.flush(Duration::ZERO).await.unwrap();
        assert_eq!(sink.counts().delivered, vec![2, 1]);
    }

    /// A disk that fills: whole lines only on disk, delivered == lines on disk, the rest failed.
    #[tokio::test]
    async fn full_disk_counts_only_whole_lines_on_disk() {
        let store = FullAfter::new(700_000);
        let mut sink =
            JsonLinesSink::new("test", vec![store.clone()], false, 2, FlushPolicy::WhenFull);
        let mut sent = 0u64;
        let mut failed = false;
        for _ in 0..100_000 {
            sent += 3;
            if sink.send(&batch()).await.is_err() {
                failed = true;
                break;
            }
        }
        assert!(failed, "the disk never filled");
        let _ = sink.flush(Duration::ZERO).await;
        let bytes = store.bytes();
        assert_eq!(bytes.last(), Some(&b'\n'), "the file ends in a cut line");
        let lines = bytes.iter().filter(|b| **b == b'\n').count() as u64;
        let c = sink.counts();
        assert_eq!(c.delivered_total(), lines);
        assert_eq!(c.delivered_total() + c.failed_total(), sent);
        assert!(c.failed_total() > 0);
    }
}
