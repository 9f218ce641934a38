//! Entity choice for a pick: uniform, Zipf by rank or weighted by a field, among all
//! candidates or those for which its `where` holds. A condition that pins a master-data field
//! is looked up in an index ([`super::index`]); the part of it about the candidate alone is
//! kept as a live set ([`super::filter`]); only what is left is tested per draw.

use rand::RngExt;
use rand_distr::weighted::{WeightedAliasIndex, WeightedIndex};
use rand_distr::{Distribution, Zipf};

use super::compiled::{Compiled, Condition, Read};
use super::expr::{Ctx, Master, State};
use super::filter::{self, Filters};
use super::groups::{Groups, MAX_GROUPS, MAX_MEMBER_GROUPS};
use super::index::FieldIndex;
use super::model::{Model, PickHow, PickModel};
use super::value::Value;
use crate::SimRng;

/// Draws before a pick gives up on chance and scans its candidates.
const TRIES: usize = 32;
/// Draws before a grouped pick tests its groups.
const GROUP_TRIES: usize = 4;

/// Kinds up to this size pick by Zipf rank from an alias table, in O(1) and without the
/// powers that sampling the law directly takes per draw.
const ALIAS_MAX: usize = 1 << 22;

enum Chooser {
    Uniform,
    Zipf(Zipf<f64>),
    Ranked(WeightedAliasIndex<f64>),
    Weighted(WeightedIndex<f64>),
    Empty,
}

/// How one pick of one event type chooses.
pub struct Picker {
    chooser: Chooser,
    /// Candidates by a pinned master-data field (uniform picks only), with its probe.
    index: Option<(FieldIndex, Probe)>,
    /// The live set of candidates for which the conjuncts about the candidate alone hold.
    filter: Option<u16>,
    /// What is left of the condition beside the live set, tested per candidate, compiled.
    rest: Option<Condition>,
    /// Candidates grouped by the master-data fields the condition reads, when it reads the
    /// candidate through nothing else and the groups are few.
    groups: Option<Groups>,
}

/// The value an index is probed with: read in place where it is stored (what the compiled
/// form would give, unless there is nothing there, which no candidate equals), else
/// evaluated.
enum Probe {
    At(Read),
    Code(Compiled),
}

/// What a pick reads.
pub struct Seen<'a> {
    pub master: &'a Master,
    pub state: &'a State,
    pub filters: &'a Filters,
    pub now: i64,
}

impl Picker {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        p: &PickModel,
        event: &str,
        model: &Model,
        master: &Master,
        state: &State,
        filters: &mut Filters,
        rng: &mut SimRng,
    ) -> anyhow::Result<Self> {
        let data = &master.kinds[p.kind as usize];
        let n = data.ids.len();
        let chooser = if n == 0 {
            Chooser::Empty
        } else {
            match &p.how {
                PickHow::Uniform => Chooser::Uniform,
                PickHow::Zipf(s) => {
                    let zipf = Zipf::new(n as f64, *s)
                        .map_err(|err| anyhow::anyhow!("events.{event}: zipf: {err}"))?;
                    let table = (n <= ALIAS_MAX)
                        .then(|| {
                            WeightedAliasIndex::new((1..=n).map(|k| (k as f64).powf(-*s)).collect())
                                .ok()
                        })
                        .flatten();
                    table.map_or(Chooser::Zipf(zipf), Chooser::Ranked)
                }
                PickHow::Weighted(f) => {
                    let w: Vec<f64> = data.fields[*f as usize]
                        .iter()
                        .map(|v| v.as_f64().unwrap_or(0.0).max(0.0))
                        .collect();
                    Chooser::Weighted(WeightedIndex::new(&w).map_err(|_| {
                        anyhow::anyhow!(
                            "events.{event}: pick by weighted field: every `{}` weight is 0 or missing",
                            model.kinds[p.kind as usize].fields[*f as usize].0
                        )
                    })?)
                }
            }
        };
        let index = match (&p.how, &p.cond) {
            (PickHow::Uniform, Some(c)) => super::index::build(c, p.slot, p.kind, master),
            _ => None,
        };
        let (own, rest) = match &p.cond {
            Some(c) if index.is_none() => filter::split(c, p.slot),
            other => (None, other.clone()),
        };
        let filter = own.map(|own| filters.add(p.kind, p.slot, &own, master, state, 0, rng));
        let rest = if filter.is_some() && matches!(p.how, PickHow::Uniform) {
            rest
        } else {
            // A Zipf or weighted pick draws by its own law and tests the whole condition;
            // the live set only tells it at once when nothing qualifies.
            p.cond.clone()
        };
        let groups = match (&p.how, &index, filter, &p.cond) {
            (PickHow::Uniform, None, None, Some(c)) => {
                Groups::build(c, p.slot, p.kind, master, MAX_GROUPS)
            }
            // What is left beside a live set, when it reads the candidate's master data alone:
            // drawn members are tested by group.
            (PickHow::Uniform, None, Some(_), _) => rest
                .as_ref()
                .and_then(|c| Groups::build(c, p.slot, p.kind, master, MAX_MEMBER_GROUPS)),
            _ => None,
        };
        Ok(Picker {
            chooser,
            index: index.map(|i| {
                let probe = match Read::of(&i.probe) {
                    Some(at) => Probe::At(at),
                    None => Probe::Code(Compiled::new(&i.probe)),
                };
                (i, probe)
            }),
            filter,
            rest: rest.as_ref().map(Condition::new),
            groups,
        })
    }

    /// The index of an entity for the pick (of kind `p.kind`), with the event's earlier picks
    /// in `locals`; `None` if no candidate qualifies now.
    pub fn choose(
        &mut self,
        p: &PickModel,
        seen: &Seen<'_>,
        locals: &mut [Value],
        rng: &mut SimRng,
    ) -> Option<u32> {
        let n = seen.master.kinds[p.kind as usize].ids.len();
        // An empty kind (`count: 0`): none qualifies, and each draw below needs one.
        if n == 0 {
            return None;
        }
        let members = self.filter.map(|f| seen.filters.get(f).members());
        if members.is_some_and(<[u32]>::is_empty) {
            return None;
        }
        let ok = |i: u32, rng: &mut SimRng, locals: &mut [Value]| match &self.rest {
            None => true,
            Some(cond) => {
                locals[p.slot as usize] = Value::ent(p.kind, i);
                cond.holds(&ctx(seen, locals), rng)
            }
        };
        if let Some((index, probe)) = &self.index {
            let candidates = match probe {
                Probe::At(at) => index.get(at.get(&ctx(seen, locals))?, seen.master),
                Probe::Code(code) => index.get(&code.eval(&ctx(seen, locals), rng), seen.master),
            }?;
            return pick_among(candidates, 8, rng, locals, ok);
        }
        if let (Some(members), Chooser::Uniform) = (members, &self.chooser) {
            if let Some(groups) = &mut self.groups {
                // The same draws as testing each drawn member: the test is pure, and its
                // verdict is its group's.
                let verdicts = groups.verdicts(seen, rng, locals, ok);
                return pick_among(members, TRIES, rng, locals, |i, _, _| {
                    groups.holds(verdicts, i)
                });
            }
            return pick_among(members, TRIES, rng, locals, ok);
        }
        if let Some(groups) = &mut self.groups {
            let verdicts = groups.verdicts(seen, rng, locals, ok);
            // A few draws first, as when each was tested: most picks end here.
            for _ in 0..GROUP_TRIES {
                let i = rng.random_range(0..n) as u32;
                if groups.holds(verdicts, i) {
                    return Some(i);
                }
            }
            return groups.choose(rng, verdicts);
        }
        for _ in 0..TRIES {
            let i = match &self.chooser {
                Chooser::Empty => return None,
                Chooser::Uniform => rng.random_range(0..n) as u32,
                Chooser::Zipf(z) => (z.sample(rng) as usize).clamp(1, n) as u32 - 1,
                Chooser::Ranked(t) => t.sample(rng) as u32,
                Chooser::Weighted(w) => w.sample(rng) as u32,
            };
            if ok(i, rng, locals) {
                return Some(i);
            }
        }
        // Rare matches: scan once from a random place, so a match is found if one exists.
        match members {
            Some(m) => scan(m, rng, locals, ok),
            None => {
                let start = rng.random_range(0..n);
                (0..n)
                    .map(|step| ((start + step) % n) as u32)
                    .find(|&i| ok(i, rng, locals))
            }
        }
    }
}

/// A uniform choice among `candidates` for which `ok` holds: by chance first, then a scan.
fn pick_among(
    candidates: &[u32],
    tries: usize,
    rng: &mut SimRng,
    locals: &mut [Value],
    mut ok: impl FnMut(u32, &mut SimRng, &mut [Value]) -> bool,
) -> Option<u32> {
    let m = candidates.len();
    if m == 0 {
        return None;
    }
    for _ in 0..m.min(tries) {
        let i = candidates[rng.random_range(0..m)];
        if ok(i, rng, locals) {
            return Some(i);
        }
    }
    scan(candidates, rng, locals, ok)
}

fn scan(
    candidates: &[u32],
    rng: &mut SimRng,
    locals: &mut [Value],
    mut ok: impl FnMut(u32, &mut SimRng, &mut [Value]) -> bool,
) -> Option<u32> {
    let m = candidates.len();
    if m == 0 {
        return None;
    }
    let start = rng.random_range(0..m);
    (0..m)
        .map(|step| candidates[(start + step) % m])
        .find(|&i| ok(i, rng, locals))
}

pub(super) fn ctx<'a>(seen: &'a Seen<'_>, locals: &'a [Value]) -> Ctx<'a> {
    Ctx::plain(seen.master, seen.state, locals, seen.now)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::super::tally::Cause;
    use super::super::{compile_text, trial};

    /// Issue 30, found by the world_file fuzz target: a pick from a kind of `count: 0` whose
    /// `where` is tested by groups of alike entities drew from an empty range and panicked.
    /// Every shape of pick from an empty kind now finds none, which refuses the event.
    #[test]
    fn a_pick_from_an_empty_kind_refuses_the_event() {
        for pick in [
            "r: rooms",
            "r: {from: rooms, where: \"r.floor <= 2\"}",
            // Read through the room's fields only: tested by groups of alike rooms.
            "r: {from: rooms, where: \"g.mood == 0 ? r.colour == 'red' : r.floor <= 2\"}",
        ] {
            let text = format!(
                "world: t
entities:
  rooms:
    count: 0
    id: 'R${{seq}}'
    fields: {{colour: \"${{seq % 2 == 0 ? 'red' : 'blue'}}\", floor: '${{1 + seq % 5}}'}}
  guests: {{count: 2, id: 'G${{seq}}'}}
state:
  guests:
    mood: {{init: 0, min: 0, max: 3}}
events:
  move:
    weight: 1
    pick:
      g: guests
      {pick}
    payload: {{guest: '${{g.id}}', room: '${{r.id}}'}}
"
            );
            let model = compile_text("t.yaml", &text, &Default::default())
                .unwrap_or_else(|e| panic!("{pick}: {e}"));
            let t = trial::run(Arc::new(model), 50).unwrap_or_else(|e| panic!("{pick}: {e:#}"));
            let counts = &t.tally.primary[0];
            assert_eq!(counts.made, 0, "{pick}");
            assert_eq!(counts.refused, [(Cause::Pick(1), 50)], "{pick}");
        }
    }
}
