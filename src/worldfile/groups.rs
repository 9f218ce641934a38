//! Grouped picks: candidates grouped by the master-data fields a pick's condition reads of
//! them, so that the condition is tested once per group, and the verdicts remembered by the
//! values of what else it reads ([`super::pick`] draws among them).

use std::collections::HashMap;

use rand::RngExt;

use super::compiled::Compiled;
use super::expr::{Expr, Master};
use super::index::Key;
use super::pick::{ctx, Seen};
use super::value::Value;
use crate::SimRng;

/// Candidates grouped by the values of the master-data fields a condition reads of them.
/// The condition holds for all of a group or none, so it is tested once per group: a pick
/// such as `where: ... ? target.page_type == 'cart' : ...` costs a test per page type, not
/// a test per drawn page.
///
/// The verdicts on all groups depend only on the values of what the condition reads beside
/// the candidate (`probes`: web's `journey`, `u.step` and `u.pages`). So they are worked out
/// once per set of those values and kept (`memo`); a pick whose values were seen before tests
/// nothing and reads its verdicts. The draws are the same as
/// testing each time: the condition draws nothing (its calls are pure).
pub(super) struct Groups {
    members: Vec<Vec<u32>>,
    /// Each candidate's group.
    group_of: Vec<u8>,
    /// What the condition reads beside the candidate, compiled.
    probes: Vec<Compiled>,
    /// Which groups qualify (bit `g` for group `g`) by the probes' values.
    memo: HashMap<Box<[Probe]>, u128, foldhash::fast::FixedState>,
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

/// Groups beyond this many are not worth a test each, for a pick that draws among all the
/// kind's entities (its draws go by group once it has them).
pub(super) const MAX_GROUPS: usize = 64;
/// The most groups a pick among a live set's members may have ([`Groups::holds`] stands in
/// for its condition test per drawn member, so the draws are those of testing): tutoring's
/// tutors, by first and second subject, make 72.
pub(super) const MAX_MEMBER_GROUPS: usize = 128;

impl Groups {
    /// Groups of at most `max` (at most [`MAX_MEMBER_GROUPS`]).
    pub(super) fn build(
        cond: &Expr,
        slot: u16,
        kind: u16,
        master: &Master,
        max: usize,
    ) -> Option<Groups> {
        let max = max.min(MAX_MEMBER_GROUPS);
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
            if members.len() > max {
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
    pub(super) fn verdicts(
        &mut self,
        seen: &Seen<'_>,
        rng: &mut SimRng,
        locals: &mut [Value],
        mut ok: impl FnMut(u32, &mut SimRng, &mut [Value]) -> bool,
    ) -> u128 {
        self.key.clear();
        let c = ctx(seen, locals);
        for p in &self.probes {
            self.key.push(Probe::of(p.eval(&c, rng)));
        }
        if let Some(v) = self.memo.get(self.key.as_slice()) {
            return *v;
        }
        let mut verdicts = 0u128;
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

impl Groups {
    /// Whether candidate `i`'s group is among `verdicts`.
    #[inline]
    pub(super) fn holds(&self, verdicts: u128, i: u32) -> bool {
        verdicts >> self.group_of[i as usize] & 1 == 1
    }

    /// A uniform choice among the members of the groups that qualify (see [`Groups::verdicts`]).
    pub(super) fn choose(&self, rng: &mut SimRng, verdicts: u128) -> Option<u32> {
        let mut sizes = [0usize; MAX_MEMBER_GROUPS + 1];
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
