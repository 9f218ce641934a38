//! One librdkafka queue per assigned partition, so the reorder buffer's flow control can stop
//! reading a partition without pausing it (issue 28).
//!
//! Pausing and resuming makes librdkafka fetch again from the consumer position, which lies
//! inside a record batch; Tansu 0.6 answers such a fetch with the *next* batch, so the rest of
//! the batch was lost. A partition split into its own queue is fetched only while that queue
//! holds less than `queued.max.messages.kbytes` (per partition once split): a queue the
//! checker does not read fills up and its partition simply stops being fetched, with no seek
//! and no re-fetch.
//!
//! Queues are split in the rebalance callback *before* the partitions are assigned, so that no
//! record of theirs can reach the main queue first (a record left there could be read after a
//! later one of its partition). Splitting sets librdkafka's "forwarded by the application" flag
//! on the partition's fetch queue, which the assignment then leaves alone. A partition keeps its
//! queue across rebalances while it stays assigned: dropping an old handle of a partition's
//! queue after splitting a new one would turn off the new one's wake-ups, which they share.

use std::collections::HashMap;
use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use rdkafka::consumer::stream_consumer::StreamPartitionQueue;
use rdkafka::consumer::{ConsumerContext, StreamConsumer};
use rdkafka::error::KafkaResult;
use rdkafka::message::BorrowedMessage;
use rdkafka::TopicPartitionList;

use super::reorder::Assigned;

/// A partition's own queue.
pub type Queue<C> = Arc<StreamPartitionQueue<C>>;

/// The partition queues of one consumer, kept in its context so that the rebalance callback
/// can split them before assigning.
pub struct Split<C: ConsumerContext + 'static> {
    consumer: OnceLock<Weak<StreamConsumer<C>>>,
    queues: Mutex<HashMap<(String, i32), Queue<C>>>,
}

impl<C: ConsumerContext + 'static> Default for Split<C> {
    fn default() -> Self {
        Self {
            consumer: OnceLock::new(),
            queues: Mutex::new(HashMap::new()),
        }
    }
}

impl<C: ConsumerContext + 'static> Split<C> {
    /// Gives the callback the consumer to split queues of (a weak reference: the consumer
    /// owns its context).
    pub fn attach(&self, consumer: &Arc<StreamConsumer<C>>) {
        let _ = self.consumer.set(Arc::downgrade(consumer));
    }

    /// Splits a queue for each partition of `tpl` that has none yet; call before assigning.
    pub fn split(&self, tpl: &TopicPartitionList) {
        let Some(consumer) = self.consumer.get().and_then(Weak::upgrade) else {
            return;
        };
        let Ok(mut queues) = self.queues.lock() else {
            return;
        };
        for e in tpl.elements() {
            let key = (e.topic().to_string(), e.partition());
            if queues.contains_key(&key) {
                continue;
            }
            match consumer.split_partition_queue(e.topic(), e.partition()) {
                Some(q) => {
                    queues.insert(key, Arc::new(q));
                }
                // Its records then come through the main queue, which is read as well.
                None => tracing::warn!(
                    topic = e.topic(),
                    partition = e.partition(),
                    "Cannot give a partition its own queue."
                ),
            }
        }
    }

    /// Keeps the queues of the partitions in `assigned` only, and returns them.
    pub fn retain(&self, assigned: &[Assigned]) -> Vec<Reading<C>> {
        let Ok(mut queues) = self.queues.lock() else {
            return Vec::new();
        };
        queues.retain(|(topic, partition), _| {
            assigned
                .iter()
                .any(|a| a.topic == *topic && a.partition == *partition)
        });
        queues
            .iter()
            .map(|((topic, partition), queue)| Reading {
                topic: topic.clone(),
                partition: *partition,
                queue: queue.clone(),
                held: false,
            })
            .collect()
    }

    /// Drops every queue: each holds the consumer, which owns this context (call at the end).
    pub fn clear(&self) {
        if let Ok(mut queues) = self.queues.lock() {
            queues.clear();
        }
    }
}

/// A partition queue the consumer loop reads, unless the reorder buffer holds it.
pub struct Reading<C: ConsumerContext + 'static> {
    pub topic: String,
    pub partition: i32,
    pub queue: Queue<C>,
    /// The partition has enough records waiting in the reorder buffer: leave its queue unread.
    pub held: bool,
}

/// The output of `fut` if it is ready now, without waiting.
pub fn now<F: Future>(fut: F) -> Option<F::Output> {
    let fut = pin!(fut);
    match fut.poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(out) => Some(out),
        Poll::Pending => None,
    }
}

/// The first message (or error) of the main queue or of any partition queue not held, waiting
/// at most `tick`; None when nothing came.
pub async fn first<'a, C: ConsumerContext + 'static>(
    consumer: &'a StreamConsumer<C>,
    reading: &'a [Reading<C>],
    tick: Duration,
) -> Option<KafkaResult<BorrowedMessage<'a>>> {
    let mut main = pin!(consumer.recv());
    let mut parts: Vec<Pin<Box<_>>> = reading
        .iter()
        .filter(|r| !r.held)
        .map(|r| Box::pin(r.queue.recv()))
        .collect();
    let any = std::future::poll_fn(|cx| {
        if let Poll::Ready(out) = main.as_mut().poll(cx) {
            return Poll::Ready(out);
        }
        for p in &mut parts {
            if let Poll::Ready(out) = p.as_mut().poll(cx) {
                return Poll::Ready(out);
            }
        }
        Poll::Pending
    });
    tokio::time::timeout(tick, any).await.ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn now_takes_what_is_ready_and_never_waits() {
        assert_eq!(now(async { 7 }), Some(7));
        assert_eq!(now(std::future::pending::<u8>()), None);
        // A future that is woken later (as a queue that fills) is left for a later round.
        let mut polled = false;
        let later = std::future::poll_fn(|cx| {
            if std::mem::replace(&mut polled, true) {
                Poll::Ready(1)
            } else {
                cx.waker().wake_by_ref();
                Poll::Pending
            }
        });
        assert_eq!(now(later), None);
    }
}
