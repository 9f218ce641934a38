//! Per-entity clocks in the running world: every entity's first tick, a tick made as the
//! event of that entity (a primary event), and its next tick drawn after it.

use rand::{RngExt, SeedableRng};

use super::Run;
use crate::event::EventWriter;
use crate::worldfile::compiled::Compiled;
use crate::worldfile::model::Model;
use crate::worldfile::value::Value;
use crate::SimRng;

/// Gaps drawn for an entity's first tick when `start` is not given ([`Run::phase_ms`]): the
/// first tick's distribution is the steady one's to within a few percent.
const PHASE_DRAWS: usize = 8;

/// Gaps drawn (over the entities in turn) to estimate a clock's mean gap for the start-up
/// log line: within about 1% for exponential gaps.
const RATE_SAMPLE: usize = 10_000;

/// Most milliseconds a drawn gap may be: past this a due time would leave what an event time
/// can carry, so the clock stops (as a gap that is not a number does).
const MAX_GAP_MS: f64 = 1e14;

impl Run {
    /// Gives every entity of every per-entity type its first tick, `start` (or one draw of
    /// `every`) after `start_ms`. Once a run: later calls do nothing.
    pub(super) fn begin(&mut self, model: &Model, rng: &mut SimRng, start_ms: i64) {
        if self.ticks.started {
            return;
        }
        self.ticks.started = true;
        for (e, ev) in model.events.iter().enumerate() {
            let Some(per) = &ev.code.per else {
                continue;
            };
            let n = self.master.kinds[per.kind as usize].ids.len();
            self.log_rate(&ev.name, per.kind, &per.every, n, start_ms);
            self.ticks.reserve(n);
            for i in 0..n as u32 {
                let first = match &per.start {
                    Some(start) => self.gap_ms(start, per.kind, i, start_ms, rng),
                    None => self.phase_ms(&per.every, per.kind, i, start_ms, rng),
                };
                if let Some(ms) = first {
                    self.ticks.push(start_ms.saturating_add(ms), e as u16, i);
                }
            }
        }
    }

    /// Milliseconds `x` gives for entity `i` of `kind` at `now`; `None` when it gives no
    /// number in 0..[`MAX_GAP_MS`].
    fn gap_ms(&self, x: &Compiled, kind: u16, i: u32, now: i64, rng: &mut SimRng) -> Option<i64> {
        let locals = [Value::ent(kind, i)];
        let ctx = super::ctx(&self.master, &self.state, &locals, now);
        let secs = x.eval(&ctx, rng).as_f64()?;
        let ms = (secs * 1000.0).round();
        (0.0..=MAX_GAP_MS).contains(&ms).then_some(ms as i64)
    }

    /// Where entity `i` would be in a clock that has long been running: a uniform point in
    /// [`PHASE_DRAWS`] gaps of `every` laid end to end, which falls in a gap in proportion to
    /// its length, and the time from there to that gap's end. Constant gaps of 10 s start
    /// uniformly over the first 10 s; exponential gaps (memoryless) start as exponential
    /// gaps; the rate is the steady one from the start, with no burst.
    fn phase_ms(
        &self,
        every: &Compiled,
        kind: u16,
        i: u32,
        now: i64,
        rng: &mut SimRng,
    ) -> Option<i64> {
        let gaps: Vec<i64> = (0..PHASE_DRAWS)
            .filter_map(|_| self.gap_ms(every, kind, i, now, rng))
            .collect();
        let total: i64 = gaps.iter().sum();
        if gaps.is_empty() {
            return None;
        }
        let mut at = (rng.random::<f64>() * total as f64) as i64;
        for g in gaps {
            if at < g {
                return Some(g - at);
            }
            at -= g;
        }
        Some(0)
    }

    /// Makes the earliest due tick's event for its entity, unless `until` stops its clock,
    /// and schedules the entity's next tick `every` after this one (at least 1 ms later, so
    /// a clock always moves on). A refused tick (`when`, a pick, a bound) is counted as a
    /// refused primary and the clock goes on.
    pub(super) fn tick(
        &mut self,
        model: &Model,
        rng: &mut SimRng,
        now_ms: i64,
        out: &mut EventWriter<'_>,
    ) {
        let Some((due, e, i)) = self.ticks.pop_due(now_ms) else {
            return;
        };
        let Some(per) = &model.events[e as usize].code.per else {
            return;
        };
        let entity = [Value::ent(per.kind, i)];
        if let Some(until) = &per.until {
            let ctx = super::ctx(&self.master, &self.state, &entity, due);
            if until.holds(&ctx, rng) {
                return;
            }
        }
        let [entity] = entity;
        if self.fire(model, rng, e, due, None, Some(entity), out) {
            self.ticks.spend();
        }
        if let Some(gap) = self.gap_ms(&per.every, per.kind, i, due, rng) {
            self.ticks.push(due.saturating_add(gap.max(1)), e, i);
        }
    }

    /// Logs the rate a per-entity type implies, entities over their mean gap, from
    /// [`RATE_SAMPLE`] gaps `every` draws (with a draw stream of its own, so the log changes
    /// no event).
    fn log_rate(&self, name: &str, kind: u16, every: &Compiled, n: usize, now: i64) {
        let mut rng = SimRng::seed_from_u64(0x7a7e);
        if n == 0 {
            return;
        }
        let sample: Vec<f64> = (0..RATE_SAMPLE)
            .filter_map(|j| self.gap_ms(every, kind, (j % n) as u32, now, &mut rng))
            .map(|ms| ms as f64 / 1000.0)
            .collect();
        if sample.is_empty() {
            return;
        }
        let mean_gap_secs = sample.iter().sum::<f64>() / sample.len() as f64;
        if mean_gap_secs <= 0.0 {
            return;
        }
        let per_sec = n as f64 / mean_gap_secs;
        tracing::info!(
            event_type = name,
            entities = n,
            mean_gap_secs = format_args!("{mean_gap_secs:.6}"),
            events_per_sec = format_args!("{per_sec:.6}"),
            events_per_day = format_args!("{:.0}", per_sec * 86_400.0),
            "Per-entity event type runs about {per_sec:.3} events a second: {n} entities, one \
             every {mean_gap_secs:.3} s each on average."
        );
    }
}
