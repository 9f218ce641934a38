//! Candidate sets kept current for picks whose condition, or a conjunct of it, reads nothing
//! but the candidate: its master data, its own state and window counts, and constants.
//!
//! `where: not s.in_session and s.sessions_7d < 10` keeps the students who qualify in a set.
//! Every write to a student's state, and every counted time that leaves one of its windows,
//! re-tests that one student. A pick then draws from the set in O(1), and an empty set refuses
//! at once instead of testing every student (issue 11: tutoring scanned 9,000 students per
//! refused session).

use std::collections::HashMap;

use super::compiled::Condition;
use super::expr::{Ctx, Expr, Master, State};
use super::parse::BinOp;
use super::value::Value;
use crate::SimRng;

const ABSENT: u32 = u32::MAX;

/// Which of a kind's state variables and windows something reads or writes, as bit sets
/// (variable `v` is bit `v`; variables from 64 on share the top bit).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reads {
    state: u64,
    windows: u64,
}

impl Reads {
    pub fn state(v: u16) -> Self {
        Reads {
            state: bit(v),
            windows: 0,
        }
    }

    pub fn window(v: u16) -> Self {
        Reads {
            state: 0,
            windows: bit(v),
        }
    }

    pub fn with(self, other: Reads) -> Self {
        Reads {
            state: self.state | other.state,
            windows: self.windows | other.windows,
        }
    }

    fn meets(self, other: Reads) -> bool {
        self.state & other.state != 0 || self.windows & other.windows != 0
    }

    /// What a condition reads of its candidate's state.
    fn of(cond: &Expr) -> Self {
        let mut r = Reads::default();
        cond.any(&mut |e| {
            match e {
                Expr::State(_, _, v) => r = r.with(Reads::state(*v)),
                Expr::Window(_, _, v, _) => r = r.with(Reads::window(*v)),
                _ => {}
            }
            false
        });
        r
    }
}

fn bit(v: u16) -> u64 {
    1u64 << v.min(63)
}

/// The entities of one kind for which a condition holds now.
pub struct Filter {
    kind: u16,
    /// The condition, with the candidate in local slot 0, compiled.
    code: Condition,
    /// What `cond` reads: a write elsewhere cannot change whether it holds.
    reads: Reads,
    members: Vec<u32>,
    /// `pos[i]`: where entity `i` is in `members`, or [`ABSENT`].
    pos: Vec<u32>,
}

impl Filter {
    pub fn members(&self) -> &[u32] {
        &self.members
    }

    fn set(&mut self, i: u32, on: bool) {
        let Some(&p) = self.pos.get(i as usize) else {
            return;
        };
        if on && p == ABSENT {
            self.pos[i as usize] = self.members.len() as u32;
            self.members.push(i);
        } else if !on && p != ABSENT {
            self.members.swap_remove(p as usize);
            if let Some(&moved) = self.members.get(p as usize) {
                self.pos[moved as usize] = p;
            }
            self.pos[i as usize] = ABSENT;
        }
    }
}

/// Every filter of a world, and when window counts next change.
#[derive(Default)]
pub struct Filters {
    sets: Vec<Filter>,
    /// The filters of each kind.
    by_kind: Vec<Vec<u16>>,
    /// The window counts the filters of each kind read.
    windowed: Vec<Reads>,
    /// Filters by their condition's text, so picks with the same condition share one set.
    seen: HashMap<String, u16>,
    /// `(time, kind, window, entity)`: a counted time left a window then, so re-test the
    /// entity at the next catch-up.
    rechecks: Vec<(i64, u16, u16, u32)>,
}

impl Filters {
    pub fn new(kinds: usize) -> Self {
        Filters {
            by_kind: vec![Vec::new(); kinds],
            windowed: vec![Reads::default(); kinds],
            ..Default::default()
        }
    }

    pub fn get(&self, f: u16) -> &Filter {
        &self.sets[f as usize]
    }

    /// A filter over `kind` for `cond`, whose candidate is the local `slot`; one already made
    /// for the same condition is shared.
    #[allow(clippy::too_many_arguments)]
    pub fn add(
        &mut self,
        kind: u16,
        slot: u16,
        cond: &Expr,
        master: &Master,
        state: &State,
        now: i64,
        rng: &mut SimRng,
    ) -> u16 {
        let cond = relocal(cond, slot);
        let text = format!("{kind}:{cond:?}");
        if let Some(&f) = self.seen.get(&text) {
            return f;
        }
        let n = master.kinds.get(kind as usize).map_or(0, |k| k.ids.len());
        let reads = Reads::of(&cond);
        let mut filter = Filter {
            code: Condition::new(&cond),
            kind,
            reads,
            members: Vec::new(),
            pos: vec![ABSENT; n],
        };
        for i in 0..n as u32 {
            let on = holds(&filter, i, master, state, now, rng);
            filter.set(i, on);
        }
        let f = self.sets.len() as u16;
        self.sets.push(filter);
        self.by_kind[kind as usize].push(f);
        self.windowed[kind as usize] =
            self.windowed[kind as usize].with(Reads { state: 0, ..reads });
        self.seen.insert(text, f);
        f
    }

    /// Starts loading where entity `i` of `kind` stands in each of its kind's live sets,
    /// which an effect on it will read (see [`Rows::prefetch`](super::rows::Rows::prefetch)).
    pub fn prefetch(&self, kind: u16, i: u32) {
        for &f in self
            .by_kind
            .get(kind as usize)
            .map_or(&[][..], Vec::as_slice)
        {
            if let Some(filter) = self.sets.get(f as usize) {
                super::rows::prefetch_at(&filter.pos, i as usize);
            }
        }
    }

    /// Re-tests entity `i` of `kind` after its state changed.
    #[allow(clippy::too_many_arguments)]
    pub fn refresh(
        &mut self,
        kind: u16,
        i: u32,
        touched: Reads,
        master: &Master,
        state: &State,
        now: i64,
        rng: &mut SimRng,
    ) {
        let Some(fs) = self.by_kind.get(kind as usize) else {
            return;
        };
        for &f in fs {
            let filter = &mut self.sets[f as usize];
            if !filter.reads.meets(touched) {
                continue;
            }
            let on = holds(filter, i, master, state, now, rng);
            filter.set(i, on);
        }
    }

    /// A time counted for entity `i` of `kind` left window `w` at `leaves`. Only a window
    /// some condition reads is re-checked.
    pub fn left(&mut self, kind: u16, w: u16, i: u32, leaves: i64) {
        let read = self
            .windowed
            .get(kind as usize)
            .copied()
            .unwrap_or_default();
        if read.meets(Reads::window(w)) {
            self.rechecks.push((leaves, kind, w, i));
        }
    }

    /// Re-tests the entities whose window counts fell, in the order they fell (ties by kind,
    /// window and entity).
    pub fn catch_up(&mut self, now: i64, master: &Master, state: &State, rng: &mut SimRng) {
        if self.rechecks.is_empty() {
            return;
        }
        let mut due = std::mem::take(&mut self.rechecks);
        due.sort_unstable();
        for &(_, kind, w, i) in &due {
            self.refresh(kind, i, Reads::window(w), master, state, now, rng);
        }
        due.clear();
        self.rechecks = due;
    }
}

fn holds(f: &Filter, i: u32, master: &Master, state: &State, now: i64, rng: &mut SimRng) -> bool {
    let locals = [Value::ent(f.kind, i)];
    f.code.holds(&Ctx::plain(master, state, &locals, now), rng)
}

/// Splits a pick's condition into the conjuncts that read only the candidate in `slot` (its
/// fields, its own state and windows, constants) and the rest.
pub fn split(cond: &Expr, slot: u16) -> (Option<Expr>, Option<Expr>) {
    let mut parts = Vec::new();
    conjuncts(cond, &mut parts);
    let (own, rest): (Vec<&Expr>, Vec<&Expr>) = parts.into_iter().partition(|c| own(c, slot));
    (join(&own), join(&rest))
}

fn conjuncts<'a>(e: &'a Expr, out: &mut Vec<&'a Expr>) {
    match e {
        Expr::Bin(BinOp::And, a, b) => {
            conjuncts(a, out);
            conjuncts(b, out);
        }
        _ => out.push(e),
    }
}

fn join(parts: &[&Expr]) -> Option<Expr> {
    let (first, more) = parts.split_first()?;
    Some(more.iter().fold((*first).clone(), |acc, p| {
        Expr::Bin(BinOp::And, Box::new(acc), Box::new((*p).clone()))
    }))
}

/// Whether `e` reads the candidate and nothing that can change without a write to the
/// candidate's own state: no other local, no time, no draw, no global or pair state, and no
/// state of another entity.
fn own(e: &Expr, slot: u16) -> bool {
    let is_candidate = |x: &Expr| matches!(x, Expr::Local(s) if *s == slot);
    let reads = e.any(&mut |n| is_candidate(n));
    reads
        && !e.any(&mut |n| match n {
            Expr::Local(s) => *s != slot,
            Expr::State(x, ..) | Expr::Window(x, ..) => !is_candidate(x),
            Expr::Now
            | Expr::EventTime
            | Expr::EventId
            | Expr::EventType
            | Expr::CausedBy
            | Expr::Seq
            | Expr::Global(_)
            | Expr::Pair(..) => true,
            Expr::Call(f, _) => !f.pure(),
            _ => false,
        })
}

/// `e` with the local `slot` moved to slot 0.
fn relocal(e: &Expr, slot: u16) -> Expr {
    let go = |x: &Expr| Box::new(relocal(x, slot));
    match e {
        Expr::Local(s) if *s == slot => Expr::Local(0),
        Expr::Id(x) => Expr::Id(go(x)),
        Expr::Field(x, k, f) => Expr::Field(go(x), *k, *f),
        Expr::State(x, k, v) => Expr::State(go(x), *k, *v),
        Expr::Window(x, k, v, len) => Expr::Window(go(x), *k, *v, *len),
        Expr::Pair(a, b, p, v) => Expr::Pair(go(a), go(b), *p, *v),
        Expr::Neg(x) => Expr::Neg(go(x)),
        Expr::Not(x) => Expr::Not(go(x)),
        Expr::Bin(op, a, b) => Expr::Bin(*op, go(a), go(b)),
        Expr::Cond(c, a, b) => Expr::Cond(go(c), go(a), go(b)),
        Expr::Call(f, args) => {
            Expr::Call(f.clone(), args.iter().map(|a| relocal(a, slot)).collect())
        }
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::worldfile::expr::KindData;
    use crate::worldfile::rows::Rows;
    use crate::worldfile::window::Windows;
    use rand::SeedableRng;

    fn state_of(flags: &[bool]) -> (Master, State) {
        let mut master = Master::default();
        master.kinds.push(KindData {
            ids: (0..flags.len()).map(|i| format!("e{i}").into()).collect(),
            ..Default::default()
        });
        let state = State {
            ent: vec![Rows::from_columns(&[flags
                .iter()
                .map(|b| Value::bool(*b))
                .collect()])],
            windows: vec![Windows::new(flags.len(), vec![10_000])],
            ..Default::default()
        };
        (master, state)
    }

    fn busy(slot: u16) -> Expr {
        Expr::Not(Box::new(Expr::State(Box::new(Expr::Local(slot)), 0, 0)))
    }

    #[test]
    fn the_set_follows_writes_and_windows() {
        let mut rng = SimRng::seed_from_u64(1);
        let (master, mut state) = state_of(&[false, true, false, true]);
        let mut fs = Filters::new(1);
        // not e.busy and e.recent < 1, with `recent` a 10-second window.
        let recent = Expr::Window(Box::new(Expr::Local(3)), 0, 0, 10_000);
        let cond = Expr::Bin(
            BinOp::And,
            Box::new(busy(3)),
            Box::new(Expr::Bin(
                BinOp::Lt,
                Box::new(recent),
                Box::new(Expr::Lit(Value::Int(1))),
            )),
        );
        let f = fs.add(0, 3, &cond, &master, &state, 0, &mut rng);
        let sorted = |fs: &Filters| {
            let mut m = fs.get(f).members().to_vec();
            m.sort();
            m
        };
        assert_eq!(sorted(&fs), [0, 2]);
        // The same condition on another slot shares the set.
        assert_eq!(
            fs.add(0, 5, &relocal(&cond, 3), &master, &state, 0, &mut rng),
            f
        );
        *state.ent[0].get_mut(0, 0).unwrap() = Value::bool(true);
        fs.refresh(0, 0, Reads::state(0), &master, &state, 1_000, &mut rng);
        *state.ent[0].get_mut(1, 0).unwrap() = Value::bool(false);
        fs.refresh(0, 1, Reads::state(0), &master, &state, 1_000, &mut rng);
        assert_eq!(sorted(&fs), [1, 2]);
        // Entity 2 is counted at t = 2s: out until the count leaves its window at 12s.
        state.windows[0].push(2, 0, 2_000);
        fs.refresh(0, 2, Reads::window(0), &master, &state, 2_000, &mut rng);
        assert_eq!(sorted(&fs), [1]);
        for (now, want) in [(11_999, &[1][..]), (12_000, &[1, 2][..])] {
            state.windows[0].expire(now, |w, i, leaves| fs.left(0, w, i, leaves));
            fs.catch_up(now, &master, &state, &mut rng);
            assert_eq!(sorted(&fs), want, "at {now} ms");
        }
    }

    /// A write to a variable the condition does not read re-tests nothing: the set keeps what
    /// it had even though the (unread) state changed under it, and a write to the variable it
    /// reads does re-test.
    #[test]
    fn only_writes_to_what_the_condition_reads_re_test() {
        let mut rng = SimRng::seed_from_u64(1);
        let (master, mut state) = state_of(&[false, false]);
        let mut fs = Filters::new(1);
        let f = fs.add(0, 0, &busy(0), &master, &state, 0, &mut rng);
        assert_eq!(fs.get(f).members().len(), 2);
        *state.ent[0].get_mut(0, 0).unwrap() = Value::bool(true);
        fs.refresh(0, 0, Reads::state(1), &master, &state, 0, &mut rng);
        fs.refresh(0, 0, Reads::window(0), &master, &state, 0, &mut rng);
        assert_eq!(fs.get(f).members().len(), 2);
        fs.refresh(0, 0, Reads::state(0), &master, &state, 0, &mut rng);
        assert_eq!(fs.get(f).members(), [1]);
    }

    #[test]
    fn only_conjuncts_about_the_candidate_alone_are_kept() {
        let other = Expr::Bin(
            BinOp::Eq,
            Box::new(Expr::Field(Box::new(Expr::Local(0)), 0, 0)),
            Box::new(Expr::Local(1)),
        );
        let cond = Expr::Bin(BinOp::And, Box::new(busy(0)), Box::new(other));
        let (own, rest) = split(&cond, 0);
        assert!(matches!(own, Some(Expr::Not(_))));
        assert!(matches!(rest, Some(Expr::Bin(BinOp::Eq, ..))));
        // Another entity's state, time and draws are never the candidate's own.
        let theirs = Expr::Not(Box::new(Expr::State(
            Box::new(Expr::Field(Box::new(Expr::Local(0)), 0, 1)),
            0,
            0,
        )));
        assert!(split(&theirs, 0).0.is_none());
        let timed = Expr::Bin(BinOp::Lt, Box::new(Expr::Local(0)), Box::new(Expr::Now));
        assert!(split(&timed, 0).0.is_none());
    }
}
