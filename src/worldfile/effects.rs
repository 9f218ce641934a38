//! A world file's effects: state writes and window counts, applied only when every declared
//! bound holds afterwards, and the live candidate sets they touch kept current.

use super::expr::{binary, Arg, Ctx};
use super::filter::Reads;
use super::model::Model;
use super::model::{Effect, EventModel, Target};
use super::parse::BinOp;
use super::runtime::Run;
use super::value::Value;
use crate::SimRng;

impl Run {
    /// Applies the effects if every declared bound still holds afterwards; else changes nothing
    /// and returns the index of the effect that would have broken its bound.
    pub(super) fn apply(
        &mut self,
        model: &Model,
        ev: &EventModel,
        locals: &[Value],
        time: i64,
        rng: &mut SimRng,
    ) -> Result<(), u16> {
        if ev.effects.is_empty() {
            return Ok(());
        }
        // Reused between events, so effects allocate nothing per event.
        let (mut writes, mut counts) = std::mem::take(&mut self.effect_buf);
        writes.clear();
        counts.clear();
        let done = self.apply_with(model, ev, locals, time, rng, &mut writes, &mut counts);
        self.effect_buf = (writes, counts);
        done
    }

    #[allow(clippy::too_many_arguments)]
    fn apply_with(
        &mut self,
        model: &Model,
        ev: &EventModel,
        locals: &[Value],
        time: i64,
        rng: &mut SimRng,
        writes: &mut Vec<(Slot, Value)>,
        counts: &mut Vec<(u16, u16, u32)>,
    ) -> Result<(), u16> {
        let c = Ctx::plain(&self.master, &self.state, locals, time);
        for (k, (eff, x)) in ev.effects.iter().zip(&ev.code.effects).enumerate() {
            let value = |rng: &mut SimRng| x.as_ref().map_or(Value::Null, |x| x.value(&c, rng));
            let (target, value, add) = match eff {
                Effect::Set(t, _) => (t, value(rng), false),
                Effect::Add(t, _) => (t, value(rng), true),
                Effect::Count(ent, k, w) => {
                    if let Some((_, i)) = c.entity(ent, rng) {
                        counts.push((*k, *w, i));
                    }
                    continue;
                }
            };
            let Some(slot) = self.slot(target, &c, rng) else {
                return Err(k as u16);
            };
            let new = if add {
                // Several effects on one variable see each other's writes.
                let current = writes
                    .iter()
                    .rev()
                    .find(|(s, _)| *s == slot)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_else(|| self.read(slot));
                binary(BinOp::Add, &current, &value, &self.master)
            } else {
                value
            };
            let var = match slot {
                Slot::Ent(k, v, _) => &model.kinds[k as usize].state[v as usize],
                Slot::Global(v) => &model.globals[v as usize],
                Slot::Pair(..) => {
                    writes.push((slot, new));
                    continue;
                }
            };
            if !var.allows(&new) || (add && new == Value::Null) {
                return Err(k as u16);
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
            self.state.windows[k as usize].push(i, w, time);
            touch(k, i, Reads::window(w));
        }
        for &(k, i, r) in &touched {
            self.filters
                .refresh(k, i, r, &self.master, &self.state, time, rng);
        }
        self.touched = touched;
        Ok(())
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
}

pub(super) type EffectBuf = (Vec<(Slot, Value)>, Vec<(u16, u16, u32)>);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Slot {
    Ent(u16, u16, u32),
    Global(u16),
    Pair(u16, u16, u32, u32),
}
