//! A world file's world: state, entity choice, guards, effects within bounds, payloads, and
//! follow-ups that fall due later.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::sync::Arc;

use rand::RngExt;
use rand_distr::weighted::WeightedIndex;
use rand_distr::{Distribution, Zipf};
use uuid::Uuid;

use super::expr::{binary, Ctx, Expr, Master, State};
use super::model::{Effect, EventModel, Model, PickHow, Target};
use super::parse::BinOp;
use super::template::write_fields;
use super::value::Value;
use crate::event::{Envelope, EventWriter};
use crate::scenario::{EventTypeId, World};
use crate::SimRng;

/// A follow-up waiting for its time.
struct Pending {
    event: u16,
    locals: Vec<Value>,
    filled: Vec<bool>,
    cause: Uuid,
    /// Occurrences still to come after this one, and the gap between them.
    repeats: u32,
    every_ms: i64,
}

enum Chooser {
    Uniform,
    Zipf(Zipf<f64>),
    Weighted(WeightedIndex<f64>),
    Empty,
}

pub struct FileWorld {
    model: Arc<Model>,
    master: Arc<Master>,
    state: State,
    names: Vec<&'static str>,
    /// `choosers[event][pick]`.
    choosers: Vec<Vec<Chooser>>,
    /// `indexes[event][pick]`: candidates by a pinned master field, for uniform picks.
    indexes: Vec<Vec<Option<super::index::FieldIndex>>>,
    queue: BinaryHeap<Reverse<(i64, u64)>>,
    pending: std::collections::HashMap<u64, Pending>,
    next: u64,
    /// Follow-ups dropped because their guard failed at their time.
    pub dropped: u64,
    /// Reused slot tables of primary events, so a primary allocates nothing here.
    scratch: (Vec<Value>, Vec<bool>),
    /// The planned writes and window counts of one event's effects, reused.
    effect_buf: EffectBuf,
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
            let mut vars = Vec::with_capacity(kind.state.len());
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
                vars.push(col);
            }
            state.ent.push(vars);
            state
                .windows
                .push(vec![vec![VecDeque::new(); n]; kind.windows.len()]);
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
        let mut choosers = Vec::new();
        for e in &model.events {
            let mut cs = Vec::new();
            for p in &e.picks {
                let data = &master.kinds[p.kind as usize];
                let n = data.ids.len();
                cs.push(if n == 0 {
                    Chooser::Empty
                } else {
                    match &p.how {
                        PickHow::Uniform => Chooser::Uniform,
                        PickHow::Zipf(s) => Chooser::Zipf(Zipf::new(n as f64, *s).map_err(|err| anyhow::anyhow!("events.{}: zipf: {err}", e.name))?),
                        PickHow::Weighted(f) => {
                            let w: Vec<f64> = data.fields[*f as usize].iter().map(|v| v.as_f64().unwrap_or(0.0).max(0.0)).collect();
                            Chooser::Weighted(WeightedIndex::new(&w).map_err(|_| {
                                anyhow::anyhow!("events.{}: pick by weighted field: every `{}` weight is 0 or missing", e.name, model.kinds[p.kind as usize].fields[*f as usize].0)
                            })?)
                        }
                    }
                });
            }
            choosers.push(cs);
        }
        let indexes = model
            .events
            .iter()
            .map(|e| {
                e.picks
                    .iter()
                    .map(|p| match (&p.how, &p.cond) {
                        (PickHow::Uniform, Some(c)) => {
                            super::index::build(c, p.slot, p.kind, &master)
                        }
                        _ => None,
                    })
                    .collect()
            })
            .collect();
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
        Ok(Self {
            model,
            master,
            state,
            names,
            choosers,
            indexes,
            queue: BinaryHeap::new(),
            pending: Default::default(),
            next: 0,
            dropped: 0,
            scratch: Default::default(),
            effect_buf: Default::default(),
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
        given: Option<(Vec<Value>, Vec<bool>, Uuid)>,
        out: &mut EventWriter<'_>,
    ) -> bool {
        let model = Arc::clone(&self.model);
        let ev = &model.events[e as usize];
        let primary = given.is_none();
        if primary && self.exhausted[e as usize] {
            return false;
        }
        let (mut locals, filled, cause) = match given {
            Some((l, f, c)) => (l, f, Some(c)),
            None => {
                // Reused, so a primary event allocates no slot table.
                let (mut l, mut f) = std::mem::take(&mut self.scratch);
                l.clear();
                l.resize(ev.locals.len(), Value::Null);
                f.clear();
                f.resize(ev.locals.len(), false);
                (l, f, None)
            }
        };
        let done = self.fire_with(rng, e, ev, &mut locals, &filled, cause, time, out);
        if primary {
            self.scratch = (locals, filled);
        }
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
        for (pi, p) in ev.picks.iter().enumerate() {
            if filled[p.slot as usize] {
                continue;
            }
            match self.choose(rng, e, pi, locals, time) {
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
            let mut key = None;
            if standard {
                if !ev.payload.is_empty() {
                    buf.push(b',');
                }
                write_fields(&ev.payload, &c, rng, buf, &ev.key_path, &mut key);
            } else {
                buf.push(b'{');
                write_fields(&ev.payload, &c, rng, buf, &ev.key_path, &mut key);
                buf.push(b'}');
            }
            if ev.key_path.is_empty() {
                None
            } else {
                key
            }
        });
        self.schedule(rng, ev, locals, time, id);
        true
    }

    fn choose(
        &self,
        rng: &mut SimRng,
        e: u16,
        pi: usize,
        locals: &mut [Value],
        time: i64,
    ) -> Option<Value> {
        let ev = &self.model.events[e as usize];
        let p = &ev.picks[pi];
        let n = self.master.kinds[p.kind as usize].ids.len();
        let draw = |rng: &mut SimRng| -> Option<u32> {
            Some(match &self.choosers[e as usize][pi] {
                Chooser::Empty => return None,
                Chooser::Uniform => rng.random_range(0..n) as u32,
                Chooser::Zipf(z) => (z.sample(rng) as usize).clamp(1, n) as u32 - 1,
                Chooser::Weighted(w) => w.sample(rng) as u32,
            })
        };
        let Some(cond) = &p.cond else {
            return draw(rng).map(|i| Value::Ent(p.kind, i));
        };
        let ok = |i: u32, rng: &mut SimRng, locals: &mut [Value]| {
            locals[p.slot as usize] = Value::Ent(p.kind, i);
            ctx(&self.master, &self.state, locals, time)
                .eval(cond, rng)
                .truthy()
        };
        if let Some(index) = &self.indexes[e as usize][pi] {
            let probe = ctx(&self.master, &self.state, locals, time).eval(&index.probe, rng);
            let candidates = super::index::Key::of(&probe).and_then(|k| index.by_key.get(&k))?;
            let m = candidates.len();
            for _ in 0..m.min(8) {
                let i = candidates[rng.random_range(0..m)];
                if ok(i, rng, locals) {
                    return Some(Value::Ent(p.kind, i));
                }
            }
            let start = rng.random_range(0..m);
            for step in 0..m {
                let i = candidates[(start + step) % m];
                if ok(i, rng, locals) {
                    return Some(Value::Ent(p.kind, i));
                }
            }
            return None;
        }
        for _ in 0..32 {
            let i = draw(rng)?;
            if ok(i, rng, locals) {
                return Some(Value::Ent(p.kind, i));
            }
        }
        // Rare matches: scan once from a random place, so a match is found if one exists.
        let start = rng.random_range(0..n);
        for step in 0..n {
            let i = ((start + step) % n) as u32;
            if ok(i, rng, locals) {
                return Some(Value::Ent(p.kind, i));
            }
        }
        None
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
                    if let Value::Ent(_, i) = c.eval(ent, rng) {
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
                binary(BinOp::Add, current, value)
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
        for (slot, v) in writes.drain(..) {
            match slot {
                Slot::Ent(k, var, i) => self.state.ent[k as usize][var as usize][i as usize] = v,
                Slot::Global(var) => self.state.global[var as usize] = v,
                Slot::Pair(p, var, a, b) => {
                    let (map, defaults) = &mut self.state.pairs[p as usize];
                    map.entry((a, b)).or_insert_with(|| defaults.clone())[var as usize] = v;
                }
            }
        }
        for (k, w, i) in counts.drain(..) {
            let len = self.model.kinds[k as usize].windows[w as usize].1;
            let times = &mut self.state.windows[k as usize][w as usize][i as usize];
            times.push_back(time);
            while times.front().is_some_and(|&t| t <= time - len) {
                times.pop_front();
            }
        }
        true
    }

    fn slot(&self, t: &Target, c: &Ctx<'_>, rng: &mut SimRng) -> Option<Slot> {
        Some(match t {
            Target::State(ent, _, v) => match c.eval(ent, rng) {
                Value::Ent(k, i) => Slot::Ent(k, *v, i),
                _ => return None,
            },
            Target::Global(v) => Slot::Global(*v),
            Target::Pair(a, b, p, v) => match (c.eval(a, rng), c.eval(b, rng)) {
                (Value::Ent(_, i), Value::Ent(_, j)) => Slot::Pair(*p, *v, i, j),
                _ => return None,
            },
        })
    }

    fn read(&self, slot: Slot) -> Value {
        match slot {
            Slot::Ent(k, v, i) => self.state.ent[k as usize][v as usize][i as usize].clone(),
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
            let target = &self.model.events[f.target as usize];
            let mut carried = vec![Value::Null; target.locals.len()];
            let mut filled = vec![false; target.locals.len()];
            for &(from, to) in &f.carry {
                carried[to as usize] = locals[from as usize].clone();
                filled[to as usize] = true;
            }
            let due = time.saturating_add(after);
            self.push(
                due,
                Pending {
                    event: f.target,
                    locals: carried,
                    filled,
                    cause: id,
                    repeats: times - 1,
                    every_ms,
                },
            );
        }
    }

    fn push(&mut self, due: i64, p: Pending) {
        let n = self.next;
        self.next += 1;
        self.pending.insert(n, p);
        self.queue.push(Reverse((due, n)));
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
    Ctx {
        master,
        state,
        locals,
        now,
        event_id: Uuid::nil(),
        caused_by: None,
        event_type: "",
        seq: 0,
    }
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
        while let Some(&Reverse((due, n))) = self.queue.peek() {
            if due > now_ms {
                break;
            }
            self.queue.pop();
            let Some(p) = self.pending.remove(&n) else {
                continue;
            };
            if p.repeats > 0 {
                let again = Pending {
                    locals: p.locals.clone(),
                    filled: p.filled.clone(),
                    repeats: p.repeats - 1,
                    ..p
                };
                self.push(due.saturating_add(again.every_ms), again);
            }
            let event = p.event;
            if !self.fire(rng, event, due, Some((p.locals, p.filled, p.cause)), out) {
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
        self.queue.peek().map(|Reverse((due, _))| *due)
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
