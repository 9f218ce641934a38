//! A world file's world: state, entity choice, guards, effects within bounds, payloads, and
//! follow-ups that fall due later.

use std::collections::{BinaryHeap, VecDeque};
use std::sync::Arc;

use rand::RngExt;
use uuid::Uuid;

use super::expr::{binary, Ctx, Expr, Master, State};
use super::filter::{Filters, Reads};
use super::model::{Effect, EventModel, Model, Target};
use super::parse::BinOp;
use super::pick::{Picker, Seen};
use super::program::Program;
use super::rows::Rows;
use super::value::Value;
use crate::event::{Envelope, EventWriter};
use crate::scenario::{EventTypeId, World};
use crate::SimRng;

/// A follow-up waiting for its time. The queue orders by `(due, seq)`, earliest first; `seq`
/// keeps follow-ups due at the same time in the order they were made.
struct Pending {
    due: i64,
    seq: u64,
    event: u16,
    /// What the cause gave: (slot in the follow-up, value). Shared by the repeats.
    carried: Arc<[(u16, Value)]>,
    cause: Uuid,
    /// Occurrences still to come after this one, and the gap between them.
    repeats: u32,
    every_ms: i64,
}

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        (self.due, self.seq) == (other.due, other.seq)
    }
}

impl Eq for Pending {}

impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Pending {
    /// Reversed, so that [`BinaryHeap`] (a max-heap) yields the earliest first.
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (other.due, other.seq).cmp(&(self.due, self.seq))
    }
}

pub struct FileWorld {
    model: Arc<Model>,
    master: Arc<Master>,
    state: State,
    names: Vec<&'static str>,
    /// `pickers[event][pick]`.
    pickers: Vec<Vec<Picker>>,
    /// Each event type's payload, flattened for writing.
    programs: Vec<Program>,
    /// Live candidate sets of picks, kept current by every state write.
    filters: Filters,
    queue: BinaryHeap<Pending>,
    next: u64,
    /// Follow-ups dropped because their guard failed at their time.
    pub dropped: u64,
    /// Reused slot tables of primary events, so a primary allocates nothing here.
    scratch: (Vec<Value>, Vec<bool>),
    /// The planned writes and window counts of one event's effects, reused.
    effect_buf: EffectBuf,
    /// The entities one event's effects wrote, and what of each, reused.
    touched: Vec<(u16, u32, Reads)>,
    /// Primary types whose pick found no candidate at all since the state last changed, and
    /// the types with a weight: when every weighted type is exhausted, the world takes no
    /// primary until a follow-up changes it, and says when that is (`ready_at`).
    exhausted: Vec<bool>,
    weighted: Vec<bool>,
    /// `settled[event][pick]`: the pick's candidates depend only on the state (not on time,
    /// draws or the event's other picks), so "none now" holds until the state changes.
    settled: Vec<Vec<bool>>,
}

impl FileWorld {
    /// Which primary types may be drawn (their weights in this run).
    pub fn with_weights(mut self, weights: &[f64]) -> Self {
        self.weighted = weights.iter().map(|w| *w > 0.0).collect();
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
            state
                .windows
                .push(Rows::filled(n, kind.windows.len(), VecDeque::new()));
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
            .map(|e| Program::payload(&e.payload, &e.key_path, standard))
            .collect();
        Ok(Self {
            programs,
            model,
            master,
            state,
            names,
            pickers,
            filters,
            queue: BinaryHeap::new(),
            next: 0,
            dropped: 0,
            scratch: Default::default(),
            effect_buf: Default::default(),
            touched: Vec::new(),
            exhausted,
            weighted,
            settled,
        })
    }

    /// Makes one event of type `e` at `time`, from scratch or with what its cause gave.
    /// Returns false when it cannot happen now.
    fn fire(
        &mut self,
        rng: &mut SimRng,
        e: u16,
        time: i64,
        given: Option<(&[(u16, Value)], Uuid)>,
        out: &mut EventWriter<'_>,
    ) -> bool {
        let model = Arc::clone(&self.model);
        let ev = &model.events[e as usize];
        if given.is_none() && self.exhausted[e as usize] {
            return false;
        }
        // Reused, so an event allocates no slot table.
        let (mut locals, mut filled) = std::mem::take(&mut self.scratch);
        locals.clear();
        locals.resize(ev.locals.len(), Value::Null);
        filled.clear();
        filled.resize(ev.locals.len(), false);
        let cause = given.map(|(carried, cause)| {
            for (slot, v) in carried {
                locals[*slot as usize] = v.clone();
                filled[*slot as usize] = true;
            }
            cause
        });
        let done = self.fire_with(rng, e, ev, &mut locals, &filled, cause, time, out);
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
                Some(v) => locals[p.slot as usize] = v,
                None => {
                    if cause.is_none() && self.settled[e as usize][pi] {
                        self.exhausted[e as usize] = true;
                    }
                    return false;
                }
            }
        }
        for (slot, x) in &ev.lets {
            if !filled[*slot as usize] {
                let v = ctx(&self.master, &self.state, locals, time).eval(x, rng);
                locals[*slot as usize] = v;
            }
        }
        if let Some(w) = &ev.when {
            if !ctx(&self.master, &self.state, locals, time)
                .eval(w, rng)
                .truthy()
            {
                return false;
            }
        }
        if !self.apply(ev, locals, time, rng) {
            return false;
        }
        let master = Arc::clone(&self.master);
        let state = &self.state;
        let programs = &self.programs;
        let standard = self.model.envelope == super::format::EnvelopeKind::Standard;
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
                master: &master,
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
        self.schedule(rng, ev, locals, time, id);
        true
    }

    /// Applies the effects if every declared bound still holds afterwards; else changes nothing.
    fn apply(&mut self, ev: &EventModel, locals: &[Value], time: i64, rng: &mut SimRng) -> bool {
        if ev.effects.is_empty() {
            return true;
        }
        // Reused between events, so effects allocate nothing per event.
        let (mut writes, mut counts) = std::mem::take(&mut self.effect_buf);
        writes.clear();
        counts.clear();
        let done = self.apply_with(ev, locals, time, rng, &mut writes, &mut counts);
        self.effect_buf = (writes, counts);
        done
    }

    fn apply_with(
        &mut self,
        ev: &EventModel,
        locals: &[Value],
        time: i64,
        rng: &mut SimRng,
        writes: &mut Vec<(Slot, Value)>,
        counts: &mut Vec<(u16, u16, u32)>,
    ) -> bool {
        for eff in &ev.effects {
            let c = ctx(&self.master, &self.state, locals, time);
            let (target, value, add) = match eff {
                Effect::Set(t, x) => (t, c.eval(x, rng), false),
                Effect::Add(t, x) => (t, c.eval(x, rng), true),
                Effect::Count(ent, k, w) => {
                    if let Some((_, i)) = c.entity(ent, rng) {
                        counts.push((*k, *w, i));
                    }
                    continue;
                }
            };
            let Some(slot) = self.slot(target, &c, rng) else {
                return false;
            };
            // Several effects on one variable see each other's writes.
            let current = writes
                .iter()
                .rev()
                .find(|(s, _)| *s == slot)
                .map(|(_, v)| v.clone())
                .unwrap_or_else(|| self.read(slot));
            let new = if add {
                binary(BinOp::Add, &current, &value)
            } else {
                value
            };
            let var = match slot {
                Slot::Ent(k, v, _) => &self.model.kinds[k as usize].state[v as usize],
                Slot::Global(v) => &self.model.globals[v as usize],
                Slot::Pair(..) => {
                    writes.push((slot, new));
                    continue;
                }
            };
            if !var.allows(&new) || (add && new == Value::Null) {
                return false;
            }
            writes.push((slot, new));
        }
        // Each entity written is re-tested once, for what was written to it.
        let mut touched: Vec<(u16, u32, Reads)> = std::mem::take(&mut self.touched);
        touched.clear();
        let mut touch = |k: u16, i: u32, r: Reads| match touched
            .iter_mut()
            .find(|(tk, ti, _)| (*tk, *ti) == (k, i))
        {
            Some(t) => t.2 = t.2.with(r),
            None => touched.push((k, i, r)),
        };
        for (slot, v) in writes.drain(..) {
            match slot {
                Slot::Ent(k, var, i) => {
                    if let Some(slot) = self.state.ent[k as usize].get_mut(i, var) {
                        *slot = v;
                    }
                    touch(k, i, Reads::state(var));
                }
                Slot::Global(var) => self.state.global[var as usize] = v,
                Slot::Pair(p, var, a, b) => {
                    let (map, defaults) = &mut self.state.pairs[p as usize];
                    map.entry((a, b)).or_insert_with(|| defaults.clone())[var as usize] = v;
                }
            }
        }
        for (k, w, i) in counts.drain(..) {
            let len = self.model.kinds[k as usize].windows[w as usize].1;
            let Some(times) = self.state.windows[k as usize].get_mut(i, w) else {
                continue;
            };
            times.push_back(time);
            while times.front().is_some_and(|&t| t <= time - len) {
                times.pop_front();
            }
            touch(k, i, Reads::window(w));
            self.filters.counted(k, w, i, time.saturating_add(len));
        }
        for &(k, i, r) in &touched {
            self.filters
                .refresh(k, i, r, &self.master, &self.state, time, rng);
        }
        self.touched = touched;
        true
    }

    fn slot(&self, t: &Target, c: &Ctx<'_>, rng: &mut SimRng) -> Option<Slot> {
        Some(match t {
            Target::State(ent, _, v) => {
                let (k, i) = c.entity(ent, rng)?;
                Slot::Ent(k, *v, i)
            }
            Target::Global(v) => Slot::Global(*v),
            Target::Pair(a, b, p, v) => {
                let ((_, i), (_, j)) = (c.entity(a, rng)?, c.entity(b, rng)?);
                Slot::Pair(*p, *v, i, j)
            }
        })
    }

    fn read(&self, slot: Slot) -> Value {
        match slot {
            Slot::Ent(k, v, i) => self.state.ent[k as usize]
                .get(i, v)
                .cloned()
                .unwrap_or(Value::Null),
            Slot::Global(v) => self.state.global[v as usize].clone(),
            Slot::Pair(p, v, a, b) => {
                let (map, defaults) = &self.state.pairs[p as usize];
                map.get(&(a, b)).unwrap_or(defaults)[v as usize].clone()
            }
        }
    }

    fn schedule(
        &mut self,
        rng: &mut SimRng,
        ev: &EventModel,
        locals: &[Value],
        time: i64,
        id: Uuid,
    ) {
        for f in &ev.follow {
            let c = ctx(&self.master, &self.state, locals, time);
            if let Some(p) = &f.probability {
                let p = c.eval(p, rng).as_f64().unwrap_or(0.0);
                if rng.random::<f64>() >= p {
                    continue;
                }
            }
            let secs = |x: &Expr, rng: &mut SimRng| {
                c.eval(x, rng)
                    .as_f64()
                    .filter(|s| s.is_finite() && *s >= 0.0)
                    .map(|s| (s * 1000.0).min(1e14) as i64)
            };
            let Some(after) = secs(&f.after, rng) else {
                continue;
            };
            let times = f
                .times
                .as_ref()
                .and_then(|t| c.eval(t, rng).as_f64())
                .map_or(1, |n| n.clamp(1.0, 100_000.0) as u32);
            let every_ms = f
                .every
                .as_ref()
                .and_then(|x| secs(x, rng))
                .unwrap_or(0)
                .max(1);
            let carried: Arc<[(u16, Value)]> = f
                .carry
                .iter()
                .map(|&(from, to)| (to, locals[from as usize].clone()))
                .collect();
            let seq = self.next;
            self.next += 1;
            self.queue.push(Pending {
                due: time.saturating_add(after),
                seq,
                event: f.target,
                carried,
                cause: id,
                repeats: times - 1,
                every_ms,
            });
        }
    }
}

type EffectBuf = (Vec<(Slot, Value)>, Vec<(u16, u16, u32)>);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Ent(u16, u16, u32),
    Global(u16),
    Pair(u16, u16, u32, u32),
}

fn ctx<'a>(master: &'a Master, state: &'a State, locals: &'a [Value], now: i64) -> Ctx<'a> {
    Ctx::plain(master, state, locals, now)
}

impl World for FileWorld {
    fn primary(
        &mut self,
        rng: &mut SimRng,
        event_type: EventTypeId,
        now_ms: i64,
        out: &mut EventWriter<'_>,
    ) -> bool {
        self.fire(rng, event_type as u16, now_ms, None, out)
    }

    fn due(&mut self, rng: &mut SimRng, now_ms: i64, out: &mut EventWriter<'_>) {
        while self.queue.peek().is_some_and(|p| p.due <= now_ms) {
            let Some(p) = self.queue.pop() else {
                break;
            };
            if p.repeats > 0 {
                let seq = self.next;
                self.next += 1;
                self.queue.push(Pending {
                    due: p.due.saturating_add(p.every_ms),
                    seq,
                    carried: Arc::clone(&p.carried),
                    repeats: p.repeats - 1,
                    ..p
                });
            }
            if !self.fire(rng, p.event, p.due, Some((&p.carried, p.cause)), out) {
                self.dropped += 1;
            }
        }
    }

    fn has_scheduled(&self) -> bool {
        !self.queue.is_empty()
    }

    fn ready_at(&self) -> Option<i64> {
        let blocked = self
            .weighted
            .iter()
            .zip(&self.exhausted)
            .all(|(w, x)| !w || *x);
        if !blocked {
            return None;
        }
        self.queue.peek().map(|p| p.due)
    }
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
