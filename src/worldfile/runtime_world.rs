//! [`FileWorld`] as a [`World`]: primaries drawn, follow-ups made when they fall due, when
//! the world may next take a primary, and what blocks it.

use super::{FileWorld, Given, Run};
use crate::event::EventWriter;
use crate::scenario::{EventTypeId, World};
use crate::worldfile::model::Model;
use crate::SimRng;

impl World for FileWorld {
    fn primary(
        &mut self,
        rng: &mut SimRng,
        event_type: EventTypeId,
        now_ms: i64,
        out: &mut EventWriter<'_>,
    ) -> bool {
        // A type with no candidate is refused here, before the call: a world whose users
        // are all in a session refuses most draws, and `fire` costs a hundred instructions
        // to enter and leave.
        if self.run.exhausted.get(event_type as usize) == Some(&true) {
            self.run.refuse_exhausted(event_type as u16);
            return false;
        }
        self.run.begin(&self.model, rng, now_ms);
        self.run
            .fire(&self.model, rng, event_type as u16, now_ms, None, None, out)
    }

    fn due(&mut self, rng: &mut SimRng, now_ms: i64, out: &mut EventWriter<'_>) {
        self.run.due(&self.model, rng, now_ms, out, usize::MAX);
    }

    fn due_some(
        &mut self,
        rng: &mut SimRng,
        now_ms: i64,
        out: &mut EventWriter<'_>,
        max: usize,
    ) -> bool {
        self.run.due(&self.model, rng, now_ms, out, max)
    }

    fn next_due(&self) -> Option<i64> {
        self.run.next_due()
    }

    fn pending(&self) -> u64 {
        self.run.queue.pending_events()
    }

    fn has_scheduled(&self) -> bool {
        !self.run.queue.is_empty() || self.run.ticks.next_due().is_some()
    }

    fn begin(&mut self, rng: &mut SimRng, start_ms: i64) {
        self.run.begin(&self.model, rng, start_ms);
    }

    fn limit_clocks(&mut self, left: u64) {
        self.run.ticks.limit(left);
    }

    fn blocked(&self) -> Option<String> {
        let why =
            crate::worldfile::tally::blocked(&self.model, &self.run.tally, &self.run.weighted);
        Some(format!(
            "{why}; give weight to other event types (--weights), or change what refuses them \
             (`kafka-gen check FILE` shows a trial run)"
        ))
    }

    fn snapshot(&self) -> Option<crate::scenario::snapshot::WorldSnapshot> {
        Some(self.state_snapshot())
    }

    fn ready_at(&self) -> Option<i64> {
        let run = &self.run;
        let blocked = run
            .weighted
            .iter()
            .zip(&run.exhausted)
            .all(|(w, x)| !w || *x);
        if !blocked {
            return None;
        }
        run.next_due()
    }
}

impl Run {
    /// When the earliest follow-up or tick falls due.
    fn next_due(&self) -> Option<i64> {
        match (self.queue.next_due(), self.ticks.next_due()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Makes the follow-ups and ticks due by `now_ms`, in time order (a follow-up before a
    /// tick due at the same time), at most `max` of them; says whether more are due by then.
    fn due(
        &mut self,
        model: &Model,
        rng: &mut SimRng,
        now_ms: i64,
        out: &mut EventWriter<'_>,
        max: usize,
    ) -> bool {
        self.begin(model, rng, now_ms);
        let mut given = std::mem::take(&mut self.given);
        let mut made = 0;
        while made < max {
            let follow = self.queue.next_due().filter(|at| *at <= now_ms);
            let tick = self.ticks.next_due().filter(|at| *at <= now_ms);
            if tick.is_some_and(|t| follow.is_none_or(|f| t < f)) {
                made += 1;
                self.tick(model, rng, now_ms, out);
                continue;
            }
            let Some(d) = self.queue.pop_due(now_ms, &mut given) else {
                break;
            };
            made += 1;
            let carry = &model.events[d.rule.0 as usize].follow[d.rule.1 as usize].carry;
            if !self.fire(
                model,
                rng,
                d.event,
                d.due,
                Some(Given {
                    carry,
                    values: &mut given,
                    cause: d.cause,
                    occurrence: d.occurrence,
                    last: !d.more,
                }),
                None,
                out,
            ) {
                self.dropped += 1;
            }
            self.queue.done(&d, &mut given);
        }
        self.given = given;
        self.next_due().is_some_and(|at| at <= now_ms)
    }
}
