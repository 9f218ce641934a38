//! A world file's world: state, entity choice, guards, effects within bounds, payloads, and
//! follow-ups that fall due later.

use std::sync::Arc;

use rand::RngExt;
use uuid::Uuid;

use super::compiled::Compiled;
use super::expr::{Ctx, Expr, Master, State};
use super::filter::{Filters, Reads};
use super::model::{EventModel, Model, MAX_REPEAT_TIMES};
use super::pick::{Picker, Seen};
use super::program::Program;
use super::queue::Queue;
use super::rows::Rows;
use super::tally::Cause;
use super::value::Value;
use super::window::Windows;
use crate::event::{Envelope, EventWriter};
use crate::scenario::EventTypeId;
use crate::SimRng;

// The world as the generator sees it, and follow-ups falling due: beside this file so that
// it stays small, a child module so that it reads the run's private fields.
#[path = "runtime_world.rs"]
mod world;
// Per-entity clocks: their first ticks, and a tick made (issue 29, item 4).
#[path = "runtime_per.rs"]
mod per;

/// What a follow-up is given by its cause.
struct Given<'a> {
    /// The follow-up rule's `(cause slot, slot)` pairs, in the order of `values`.
    carry: &'a [(u16, u16)],
    values: &'a mut [Value],
    cause: Uuid,
    /// Which occurrence this is, from 1.
    occurrence: u32,
    /// The last occurrence, which may take the values rather than copy them.
    last: bool,
}

pub struct FileWorld {
    model: Arc<Model>,
    run: Run,
}

/// A world's run: everything an event reads and changes, beside the model it reads only. The
/// two are apart so that making an event borrows the model without counting a reference.
pub(super) struct Run {
    pub(super) master: Arc<Master>,
    pub(super) state: State,
    names: Vec<&'static str>,
    /// `pickers[event][pick]`.
    pickers: Vec<Vec<Picker>>,
    /// Each event type's payload, flattened for writing.
    programs: Vec<Program>,
    /// Live candidate sets of picks, kept current by every state write.
    pub(super) filters: Filters,
    queue: Queue,
    /// The next tick of every per-entity clock.
    ticks: super::ticks::Ticks,
    /// The carried values of the follow-up being made, reused.
    given: Vec<Value>,
    /// Follow-ups dropped because their guard failed at their time.
    pub dropped: u64,
    /// Reused slot tables of primary events, so a primary allocates nothing here.
    scratch: (Vec<Value>, Vec<bool>),
    /// The planned writes and window counts of one event's effects, reused.
    pub(super) effect_buf: super::effects::EffectBuf,
    /// The entities one event's effects wrote, and what of each, reused.
    pub(super) touched: Vec<(u16, u32, Reads)>,
    /// Primary types whose pick found no candidate at all since the state last changed, and
    /// the types with a weight: when every weighted type is exhausted, the world takes no
    /// primary until a follow-up changes it, and says when that is (`ready_at`).
    exhausted: Vec<bool>,
    /// Per type, the pick that exhausted it, for the refusals it causes.
    exhausted_by: Vec<u16>,
    weighted: Vec<bool>,
    /// Draws and refusals per type and cause (`check`'s trial run, the "cannot draw" error).
    pub(super) tally: super::tally::Tally,
    /// `settled[event][pick]`: the pick's candidates depend only on the state (not on time,
    /// draws or the event's other picks), so "none now" holds until the state changes.
    settled: Vec<Vec<bool>>,
    /// Whether events have the standard envelope.
    standard: bool,
    /// Kinds with enough entities that what an event reads of one may be out of cache
    /// ([`PREFETCH_MIN`]); only these are prefetched.
    far: Vec<bool>,
}

/// Entities of a kind from which [`Run::prefetch`] asks for an entity's lines ahead of use.
/// A smaller kind's rows (under a few hundred kB for a few thousand) stay in cache between
/// the events that read them, and the hints cost more than they save: 90 instructions a
/// call, 3% of tutoring's file, whose streams, markets and tutors number 50, 45 and 900.
const PREFETCH_MIN: usize = 4096;

impl FileWorld {
    /// The model, the state and the refusals, read by `snapshot` for `kafka-gen soak`.
    pub(super) fn parts(&self) -> (&Model, &super::tables::State, &super::tally::Tally) {
        (&self.model, &self.run.state, &self.run.tally)
    }

    /// Entities of kind `k` in the master data.
    pub(super) fn master_kind_len(&self, k: usize) -> usize {
        self.run.master.kinds.get(k).map_or(0, |d| d.ids.len())
    }

    /// Draws and refusals per event type so far.
    pub fn tally(&self) -> &super::tally::Tally {
        &self.run.tally
    }

    /// Which primary types may be drawn (their weights in this run).
    pub fn with_weights(mut self, weights: &[f64]) -> Self {
        self.run.weighted = weights.iter().map(|w| *w > 0.0).collect();
        self
    }

    pub fn new(
        model: Arc<Model>,
        master: Arc<Master>,
        names: Vec<&'static str>,
        rng: &mut SimRng,
    ) -> anyhow::Result<Self> {
        let mut state = State::default();
        for (k, kind) in model.kinds.iter().enumerate() {
            let data = &master.kinds[k];
            let n = data.ids.len();
            let mut columns = Vec::with_capacity(kind.state.len());
            for var in &kind.state {
                let mut col = Vec::with_capacity(n);
                for i in 0..n {
                    let row: Vec<Value> = data.fields.iter().map(|c| c[i].clone()).collect();
                    let v = ctx(&master, &state, &row, 0).eval(&var.init, rng);
                    if !var.allows(&v) {
                        anyhow::bail!(
                            "state.{}.{}: init gives {v} for {}, outside its bounds",
                            kind.name,
                            var.name,
                            data.ids[i]
                        );
                    }
                    col.push(v);
                }
                columns.push(col);
            }
            state.ent.push(Rows::from_columns(&columns));
            let lens = kind.windows.iter().map(|(_, len)| *len).collect();
            state.windows.push(Windows::new(n, lens));
        }
        for g in &model.globals {
            let v = ctx(&master, &state, &[], 0).eval(&g.init, rng);
            state.global.push(v);
        }
        state.pairs = model
            .pairs
            .iter()
            .map(|(_, d)| (Default::default(), d.clone()))
            .collect();
        let mut filters = Filters::new(model.kinds.len());
        let mut pickers = Vec::with_capacity(model.events.len());
        for e in &model.events {
            let mut ps = Vec::with_capacity(e.picks.len());
            for p in &e.picks {
                ps.push(Picker::new(
                    p,
                    &e.name,
                    &model,
                    &master,
                    &state,
                    &mut filters,
                    rng,
                )?);
            }
            pickers.push(ps);
        }
        let exhausted = vec![false; model.events.len()];
        let weighted = model.events.iter().map(|e| e.weight > 0.0).collect();
        let settled = model
            .events
            .iter()
            .map(|e| {
                e.picks
                    .iter()
                    .map(|p| p.cond.as_ref().is_none_or(|c| settled(c, p.slot)))
                    .collect()
            })
            .collect();
        let standard = model.envelope == super::format::EnvelopeKind::Standard;
        let programs = model
            .events
            .iter()
            .zip(&names)
            .map(|(e, name)| Program::payload(&e.payload, &e.key_path, standard, name))
            .collect();
        let far = master
            .kinds
            .iter()
            .map(|d| d.ids.len() >= PREFETCH_MIN)
            .collect();
        let run = Run {
            far,
            programs,
            master,
            state,
            names,
            pickers,
            filters,
            queue: Queue::default(),
            ticks: Default::default(),
            given: Vec::new(),
            dropped: 0,
            scratch: Default::default(),
            effect_buf: Default::default(),
            touched: Vec::new(),
            exhausted_by: vec![0; model.events.len()],
            tally: super::tally::Tally::new(model.events.len()),
            exhausted,
            weighted,
            settled,
            standard,
        };
        Ok(FileWorld { model, run })
    }
}

impl Run {
    /// Makes one event of type `e` at `time`, from scratch, with what its cause gave, or for
    /// the entity whose clock ticked (`ticked`, the event's slot 0). Returns false when it
    /// cannot happen now.
    #[allow(clippy::too_many_arguments)]
    fn fire(
        &mut self,
        model: &Model,
        rng: &mut SimRng,
        e: u16,
        time: i64,
        given: Option<Given<'_>>,
        ticked: Option<Value>,
        out: &mut EventWriter<'_>,
    ) -> bool {
        let ev = &model.events[e as usize];
        if given.is_none() && self.exhausted[e as usize] {
            self.refuse_exhausted(e);
            return false;
        }
        self.expire(time);
        // Reused, so an event allocates no slot table.
        let (mut locals, mut filled) = std::mem::take(&mut self.scratch);
        locals.clear();
        locals.resize(ev.locals.len(), Value::Null);
        filled.clear();
        filled.resize(ev.locals.len(), false);
        if let Some(v) = ticked {
            if let Some((k, i)) = v.as_ent() {
                self.prefetch(k, i);
            }
            locals[0] = v;
            filled[0] = true;
        }
        let occurrence = given.as_ref().map_or(1, |g| g.occurrence);
        let cause = given.map(|g| {
            for (&(_, slot), v) in g.carry.iter().zip(g.values.iter_mut()) {
                // The last occurrence takes the values: no shared text is counted up here and
                // down again when the list is emptied.
                if let Some((k, i)) = v.as_ent() {
                    self.prefetch(k, i);
                }
                locals[slot as usize] = if g.last {
                    std::mem::replace(v, Value::Null)
                } else {
                    v.clone()
                };
                filled[slot as usize] = true;
            }
            g.cause
        });
        if let Some(slot) = ev.occurrence {
            let n = occurrence;
            locals[slot as usize] = Value::Int(n.into());
        }
        let done = self.fire_with(model, rng, e, ev, &mut locals, &filled, cause, time, out);
        self.scratch = (locals, filled);
        if done && self.exhausted.iter().any(|x| *x) {
            // The state changed: a candidate may have come free.
            self.exhausted.iter_mut().for_each(|x| *x = false);
        }
        done
    }

    #[allow(clippy::too_many_arguments)]
    fn fire_with(
        &mut self,
        model: &Model,
        rng: &mut SimRng,
        e: u16,
        ev: &EventModel,
        locals: &mut [Value],
        filled: &[bool],
        cause: Option<Uuid>,
        time: i64,
        out: &mut EventWriter<'_>,
    ) -> bool {
        if ev.picks.iter().any(|p| !filled[p.slot as usize]) {
            self.filters.catch_up(time, &self.master, &self.state, rng);
        }
        for (pi, p) in ev.picks.iter().enumerate() {
            if filled[p.slot as usize] {
                continue;
            }
            let seen = Seen {
                master: &self.master,
                state: &self.state,
                filters: &self.filters,
                now: time,
            };
            match self.pickers[e as usize][pi].choose(p, &seen, locals, rng) {
                Some(i) => {
                    self.prefetch(p.kind, i);
                    locals[p.slot as usize] = Value::ent(p.kind, i);
                }
                None => {
                    if cause.is_none() && self.settled[e as usize][pi] {
                        self.exhausted[e as usize] = true;
                        self.exhausted_by[e as usize] = pi as u16;
                    }
                    self.tally
                        .refuse(e, cause.is_none(), Cause::Pick(pi as u16));
                    return false;
                }
            }
        }
        let code = &ev.code;
        for (slot, x) in &code.lets {
            if !filled[*slot as usize] {
                let v = x.eval(&ctx(&self.master, &self.state, locals, time), rng);
                locals[*slot as usize] = v;
            }
        }
        if let Some(w) = &code.when {
            if !w.holds(&ctx(&self.master, &self.state, locals, time), rng) {
                self.tally.refuse(e, cause.is_none(), Cause::When);
                return false;
            }
        }
        if let Err(k) = self.apply(model, ev, locals, time, rng) {
            self.tally.refuse(e, cause.is_none(), Cause::Effect(k));
            return false;
        }
        let master = &*self.master;
        let state = &self.state;
        let programs = &self.programs;
        let standard = self.standard;
        let envelope = Envelope {
            event_type: e as EventTypeId,
            type_name: self.names[e as usize],
            time_ms: time,
            caused_by: cause,
            key: "",
        };
        let event_id = crate::event::new_event_id(rng, time);
        let id = out.emit_with(event_id, envelope, standard, |buf, event_id| {
            let c = Ctx {
                master,
                state,
                locals,
                now: time,
                event_id,
                caused_by: cause,
                event_type: self.names[e as usize],
                seq: 0,
            };
            programs[e as usize].write(&c, rng, buf)
        });
        self.schedule(rng, e, ev, locals, time, id);
        true
    }

    /// Counts a draw of primary type `e` refused because a pick found nothing before.
    #[cold]
    fn refuse_exhausted(&mut self, e: u16) {
        let pick = self.exhausted_by[e as usize];
        self.tally.refuse(e, true, Cause::Pick(pick));
    }

    /// Starts loading what an event reads of entity `i` of kind `k` (its fields, state and
    /// window counts) as soon as the event names it.
    #[inline]
    fn prefetch(&self, k: u16, i: u32) {
        if self.far.get(k as usize) == Some(&true) {
            self.prefetch_far(k, i);
        }
    }

    fn prefetch_far(&self, k: u16, i: u32) {
        if let Some(data) = self.master.kinds.get(k as usize) {
            data.prefetch(i);
        }
        if let Some(rows) = self.state.ent.get(k as usize) {
            rows.prefetch(i);
        }
        if let Some(windows) = self.state.windows.get(k as usize) {
            windows.prefetch(i);
        }
        self.filters.prefetch(k, i);
    }

    /// Takes the counted times that have left their windows by `time` out of the counts; the
    /// live sets that read a window re-test those entities at their next catch-up.
    fn expire(&mut self, time: i64) {
        let filters = &mut self.filters;
        for (k, windows) in self.state.windows.iter_mut().enumerate() {
            windows.expire(time, |w, i, leaves| filters.left(k as u16, w, i, leaves));
        }
    }

    fn schedule(
        &mut self,
        rng: &mut SimRng,
        e: u16,
        ev: &EventModel,
        locals: &[Value],
        time: i64,
        id: Uuid,
    ) {
        for (k, (f, code)) in ev.follow.iter().zip(&ev.code.follow).enumerate() {
            let c = ctx(&self.master, &self.state, locals, time);
            if let Some(p) = &code.probability {
                let p = p.eval(&c, rng).as_f64().unwrap_or(0.0);
                if rng.random::<f64>() >= p {
                    continue;
                }
            }
            let secs = |x: &Compiled, rng: &mut SimRng| {
                x.eval(&c, rng)
                    .as_f64()
                    .filter(|s| s.is_finite() && *s >= 0.0)
                    .map(|s| (s * 1000.0).min(1e14) as i64)
            };
            let Some(after) = secs(&code.after, rng) else {
                continue;
            };
            let times = code
                .times
                .as_ref()
                .and_then(|t| t.eval(&c, rng).as_f64())
                .map_or(1, |n| n.clamp(1.0, f64::from(MAX_REPEAT_TIMES)) as u32);
            let every_ms = code
                .every
                .as_ref()
                .and_then(|x| secs(x, rng))
                .unwrap_or(0)
                .max(1);
            self.queue.push(
                time.saturating_add(after),
                f.target,
                (e, k as u16),
                id,
                times - 1,
                every_ms,
                f.carry
                    .iter()
                    .map(|&(from, _)| locals[from as usize].clone()),
            );
        }
    }
}

fn ctx<'a>(master: &'a Master, state: &'a State, locals: &'a [Value], now: i64) -> Ctx<'a> {
    Ctx::plain(master, state, locals, now)
}

/// Whether a pick's condition reads nothing but the candidate, master data, state and
/// constants: no time, no draw, no other pick or value of the event.
fn settled(e: &Expr, slot: u16) -> bool {
    !e.any(&mut |n| match n {
        Expr::Local(s) => *s != slot,
        Expr::Now | Expr::EventTime | Expr::EventId | Expr::CausedBy | Expr::Window(..) => true,
        Expr::Call(f, _) => !f.pure(),
        _ => false,
    })
}
