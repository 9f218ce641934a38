//! Entity choice for a pick: uniform, Zipf by rank or weighted by a field, among all
//! candidates or those for which its `where` holds. A condition that pins a master-data field
//! is looked up in an index ([`super::index`]); the part of it about the candidate alone is
//! kept as a live set ([`super::filter`]); only what is left is tested per draw.

use std::collections::HashMap;

use rand::RngExt;
use rand_distr::weighted::{WeightedAliasIndex, WeightedIndex};
use rand_distr::{Distribution, Zipf};

use super::compiled::{Compiled, Condition};
use super::expr::{Ctx, Expr, Master, State};
use super::filter::{self, Filters};
use super::index::{FieldIndex, Key};
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
    /// Candidates by a pinned master-data field (uniform picks only).
    /// With its probe compiled.
    index: Option<(FieldIndex, Compiled)>,
    /// The live set of candidates for which the conjuncts about the candidate alone hold.
    filter: Option<u16>,
    /// What is left of the condition beside the live set, tested per candidate, compiled.
    rest: Option<Condition>,
    /// Candidates grouped by the master-data fields the condition reads, when it reads the
    /// candidate through nothing else and the groups are few.
    groups: Option<Groups>,
}

/// Candidates grouped by the values of the master-data fields a condition reads of them.
/// The condition holds for all of a group or none, so it is tested once per group: a pick
/// such as `where: ... ? target.page_type == 'cart' : ...` costs a test per page type, not
/// a test per drawn page.
///
/// The verdicts on all groups depend only on the values of the condition's parts that do not
/// read the candidate (`probes`): web's `journey == 'random'`, `u.step + 1 == u.pages`, ...
/// So they are worked out once per set of those values and kept (`memo`); a pick whose
/// values were seen before tests nothing and reads its verdicts. The draws are the same as
/// testing each time: the condition draws nothing (its calls are pure).
struct Groups {
    members: Vec<Vec<u32>>,
    /// Each candidate's group.
    group_of: Vec<u8>,
    /// What the condition reads beside the candidate, compiled.
    probes: Vec<Compiled>,
    /// Which groups qualify (bit `g` for group `g`) by the probes' values.
    memo: HashMap<Box<[Probe]>, u64, foldhash::fast::FixedState>,
    /// The probes' values of the pick being made, reused.
    key: Vec<Probe>,
}

/// A probe's value as the memo keys it: numbers by their bits, so `0.0` and `-0.0` are two
/// keys (which costs a test, and is never wrong) and every key equals itself.
#[derive(Debug, PartialEq, Eq, Hash)]
enum Probe {
    Null,
    Bool(bool),
    Int(i64),
    Float(u64),
    Str(super::value::Text),
    Ent(u16, u32),
}

impl Probe {
    fn of(v: Value) -> Probe {
        match v {
            Value::Null => Probe::Null,
            Value::Bool(b) => Probe::Bool(b.get()),
            Value::Int(i) => Probe::Int(i),
            Value::Float(f) => Probe::Float(f.get().to_bits()),
            Value::Str(s) => Probe::Str(s),
            Value::Ent(e) => Probe::Ent(e.kind(), e.index()),
        }
    }
}

/// Groups beyond this many are not worth a test each.
const MAX_GROUPS: usize = 64;

impl Groups {
    fn build(cond: &Expr, slot: u16, kind: u16, master: &Master) -> Option<Groups> {
        let mut fields = Vec::new();
        if !fields_only(cond, slot, &mut fields) || fields.is_empty() {
            return None;
        }
        let data = master.kinds.get(kind as usize)?;
        let mut by: std::collections::HashMap<Vec<Key>, usize> = Default::default();
        let mut members: Vec<Vec<u32>> = Vec::new();
        for i in 0..data.ids.len() {
            let key = fields
                .iter()
                .map(|&f| {
                    data.fields
                        .get(f as usize)
                        .and_then(|c| c.get(i))
                        .and_then(Key::of)
                })
                .collect::<Option<Vec<Key>>>()?;
            let g = *by.entry(key).or_insert_with(|| {
                members.push(Vec::new());
                members.len() - 1
            });
            members[g].push(i as u32);
            if members.len() > MAX_GROUPS {
                return None;
            }
        }
        let mut group_of = vec![0u8; data.ids.len()];
        for (g, m) in members.iter().enumerate() {
            for &i in m {
                group_of[i as usize] = g as u8;
            }
        }
        let mut probes = Vec::new();
        outer_reads(cond, slot, &mut probes);
        Some(Groups {
            members,
            group_of,
            probes: probes.iter().map(Compiled::new).collect(),
            memo: HashMap::default(),
            key: Vec::new(),
        })
    }

    /// Which groups qualify now (bit `g` for group `g`): from the memo, or by testing one
    /// member of each with `ok` and keeping the answer.
    fn verdicts(
        &mut self,
        seen: &Seen<'_>,
        rng: &mut SimRng,
        locals: &mut [Value],
        mut ok: impl FnMut(u32, &mut SimRng, &mut [Value]) -> bool,
    ) -> u64 {
        self.key.clear();
        let c = ctx(seen, locals);
        for p in &self.probes {
            self.key.push(Probe::of(p.eval(&c, rng)));
        }
        if let Some(v) = self.memo.get(self.key.as_slice()) {
            return *v;
        }
        let mut verdicts = 0u64;
        for (g, m) in self.members.iter().enumerate() {
            if ok(m[0], rng, locals) {
                verdicts |= 1 << g;
            }
        }
        if self.memo.len() >= MEMO_MAX {
            self.memo.clear();
        }
        let key = std::mem::take(&mut self.key).into_boxed_slice();
        self.memo.insert(key, verdicts);
        verdicts
    }
}

/// Sets of probe values a grouped pick remembers; past this it forgets them all and starts
/// again (a condition that reads the time, say, never repeats its values).
const MEMO_MAX: usize = 4096;

/// What `e` reads beside the candidate in `slot`: the locals, state, fields and times that,
/// with the candidate's master data, decide it. Operators and pure calls are looked through,
/// so `journey == 'shopping' ? 'cart' : ...` gives `journey` alone; a read of state (which
/// changes) is kept whole. Each read appears once.
fn outer_reads(e: &Expr, slot: u16, out: &mut Vec<Expr>) {
    let mut go = |x: &Expr| outer_reads(x, slot, out);
    match e {
        Expr::Lit(_) => {}
        Expr::Neg(x) | Expr::Not(x) => go(x),
        Expr::Bin(_, a, b) => {
            go(a);
            go(b);
        }
        Expr::Cond(c, a, b) => {
            go(c);
            go(a);
            go(b);
        }
        Expr::Call(f, args) if f.pure() => args.iter().for_each(go),
        _ if !e.any(&mut |n| matches!(n, Expr::Local(s) if *s == slot)) => {
            let seen = format!("{e:?}");
            if !out.iter().any(|x| format!("{x:?}") == seen) {
                out.push(e.clone());
            }
        }
        // The candidate's own field (its group), or a read through it.
        Expr::Id(x) | Expr::Field(x, ..) | Expr::State(x, ..) | Expr::Window(x, ..) => go(x),
        Expr::Pair(a, b, ..) => {
            go(a);
            go(b);
        }
        _ => {}
    }
}

/// Whether `e` reads the candidate in `slot` only as `slot.field` (master data, which never
/// changes); the fields read are added to `out`.
fn fields_only(e: &Expr, slot: u16, out: &mut Vec<u16>) -> bool {
    let mut go = |x: &Expr| fields_only(x, slot, out);
    match e {
        Expr::Field(x, _, f) if matches!(**x, Expr::Local(s) if s == slot) => {
            if !out.contains(f) {
                out.push(*f);
            }
            true
        }
        Expr::Local(s) => *s != slot,
        Expr::Id(x) | Expr::Field(x, ..) | Expr::State(x, ..) | Expr::Window(x, ..) => go(x),
        Expr::Neg(x) | Expr::Not(x) => go(x),
        Expr::Pair(a, b, ..) | Expr::Bin(_, a, b) => go(a) && go(b),
        Expr::Cond(c, a, b) => go(c) && go(a) && go(b),
        // A draw would be shared by a whole group.
        Expr::Call(f, args) => f.pure() && args.iter().all(go),
        _ => true,
    }
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
            (PickHow::Uniform, None, None, Some(c)) => Groups::build(c, p.slot, p.kind, master),
            _ => None,
        };
        Ok(Picker {
            chooser,
            index: index.map(|i| {
                let probe = Compiled::new(&i.probe);
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
            let probe = probe.eval(&ctx(seen, locals), rng);
            let candidates = Key::of(&probe).and_then(|k| index.by_key.get(&k))?;
            return pick_among(candidates, 8, rng, locals, ok);
        }
        if let (Some(members), Chooser::Uniform) = (members, &self.chooser) {
            return pick_among(members, TRIES, rng, locals, ok);
        }
        if let Some(groups) = &mut self.groups {
            let verdicts = groups.verdicts(seen, rng, locals, ok);
            let holds = |i: u32| verdicts >> groups.group_of[i as usize] & 1 == 1;
            // A few draws first, as when each was tested: most picks end here.
            for _ in 0..GROUP_TRIES {
                let i = rng.random_range(0..n) as u32;
                if holds(i) {
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

impl Groups {
    /// A uniform choice among the members of the groups that qualify (see [`Groups::verdicts`]).
    fn choose(&self, rng: &mut SimRng, verdicts: u64) -> Option<u32> {
        let mut sizes = [0usize; MAX_GROUPS + 1];
        let mut total = 0;
        for (g, m) in self.members.iter().enumerate() {
            if verdicts >> g & 1 == 1 {
                sizes[g] = m.len();
                total += m.len();
            }
        }
        if total == 0 {
            return None;
        }
        let mut r = rng.random_range(0..total);
        for (g, m) in self.members.iter().enumerate() {
            if r < sizes[g] {
                return Some(m[r]);
            }
            r -= sizes[g];
        }
        None
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

fn ctx<'a>(seen: &'a Seen<'_>, locals: &'a [Value]) -> Ctx<'a> {
    Ctx::plain(seen.master, seen.state, locals, seen.now)
}
