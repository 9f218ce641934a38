//! Counts events and discards them: the ceiling for generator benchmarks.

use std::time::Duration;

use async_trait::async_trait;

use super::{Sink, SinkCounts, SinkError};
use crate::event::Batch;

pub struct NullSink {
    counts: SinkCounts,
    bytes: u64,
}

impl NullSink {
    pub fn new(types: usize) -> Self {
        Self {
            counts: SinkCounts::new(types),
            bytes: 0,
        }
    }

    /// Payload bytes seen, so benchmarks can report MB/s.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }
}

#[async_trait]
impl Sink for NullSink {
    fn name(&self) -> &'static str {
        "null"
    }

    async fn send(&mut self, batch: &Batch) -> Result<(), SinkError> {
        for record in batch.iter() {
            self.counts.delivered[usize::from(record.event_type)] += 1;
        }
        self.bytes += batch.payload_bytes() as u64;
        Ok(())
    }

    async fn flush(&mut self, _timeout: Duration) -> Result<(), SinkError> {
        Ok(())
    }

    fn counts(&self) -> SinkCounts {
        self.counts.clone()
    }
}
