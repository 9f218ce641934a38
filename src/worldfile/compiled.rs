//! Expressions compiled to closures, for the per-event path. [`Ctx::eval`] walks the tree and
//! decides at every node what the node is and what its operands are; a compiled expression
//! made those decisions once, at load: an operator is a closure of its own, a literal operand
//! is held by value and a stored one (a local, a field, a state variable) is read in place.
//!
//! A condition (a guard, a pick's `where`, a payload branch) compiles apart, to a closure that
//! gives a truth rather than a value ([`Condition`]): comparisons, `not`, `and` and `or` then
//! build no value at all.
//!
//! A compiled expression gives exactly what [`Ctx::eval`] gives, and a condition exactly what
//! its `truthy()` gives, with the same draws in the same order: nodes this module does not
//! specialise call the tree walk, and built-in functions run the same code for both ([`Arg`]).
//! The tests evaluate all three and compare.

use super::expr::{binary, Arg, Ctx, Expr, Func};
use super::model::{Effect, EventModel};
use super::parse::BinOp;
use super::value::Value;
use crate::SimRng;

type Eval = dyn Fn(&Ctx<'_>, &mut SimRng) -> Value + Send + Sync;

/// An expression compiled to a closure.
pub struct Compiled(Box<Eval>);

impl std::fmt::Debug for Compiled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Compiled")
    }
}

impl Arg for Compiled {
    #[inline]
    fn value(&self, ctx: &Ctx<'_>, rng: &mut SimRng) -> Value {
        (self.0)(ctx, rng)
    }
}

impl Compiled {
    #[inline]
    pub fn eval(&self, ctx: &Ctx<'_>, rng: &mut SimRng) -> Value {
        (self.0)(ctx, rng)
    }

    pub fn new(e: &Expr) -> Self {
        Compiled(compile(e))
    }
}

/// An expression compiled as a condition: `Some(b)` where the expression gives `Bool(b)`,
/// `None` for anything else (null). Comparisons, `not`, `and` and `or` never build a value.
type Test = dyn Fn(&Ctx<'_>, &mut SimRng) -> Option<bool> + Send + Sync;

/// A condition (a guard, a pick's `where`, a branch) compiled: whether it holds.
pub struct Condition(Box<Test>);

impl std::fmt::Debug for Condition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Condition")
    }
}

impl Condition {
    pub fn new(e: &Expr) -> Self {
        Condition(test(e))
    }

    /// Whether the condition holds: what `ctx.eval(e).truthy()` gives.
    #[inline]
    pub fn holds(&self, ctx: &Ctx<'_>, rng: &mut SimRng) -> bool {
        (self.0)(ctx, rng) == Some(true)
    }
}

fn test(e: &Expr) -> Box<Test> {
    match e {
        Expr::Lit(v) => {
            let b = match v {
                Value::Bool(b) => Some(b.get()),
                _ => None,
            };
            Box::new(move |_, _| b)
        }
        Expr::Not(x) => {
            let x = test(x);
            Box::new(move |c, r| x(c, r).map(|b| !b))
        }
        Expr::Bin(BinOp::And, a, b) => {
            let (a, b) = (test(a), test(b));
            Box::new(move |c, r| Some(a(c, r) == Some(true) && b(c, r) == Some(true)))
        }
        Expr::Bin(BinOp::Or, a, b) => {
            let (a, b) = (test(a), test(b));
            Box::new(move |c, r| Some(a(c, r) == Some(true) || b(c, r) == Some(true)))
        }
        Expr::Bin(
            op @ (BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge),
            a,
            b,
        ) => compare(*op, Operand::new(a), Operand::new(b)),
        Expr::Cond(c, a, b) => {
            let (t, a, b) = (test(c), test(a), test(b));
            Box::new(move |c, r| {
                if t(c, r) == Some(true) {
                    a(c, r)
                } else {
                    b(c, r)
                }
            })
        }
        _ => {
            let v = compile(e);
            Box::new(move |c, r| match v(c, r) {
                Value::Bool(b) => Some(b.get()),
                _ => None,
            })
        }
    }
}

fn boxed(f: impl Fn(&Ctx<'_>, &mut SimRng) -> Value + Send + Sync + 'static) -> Box<Eval> {
    Box::new(f)
}

fn compile(e: &Expr) -> Box<Eval> {
    // A local, or a field or state variable of the entity in one: the most common leaves.
    if let Some(at) = Read::of(e) {
        return boxed(move |c, _| at.get(c).cloned().unwrap_or(Value::Null));
    }
    // A window count of the entity in a local, read where it is kept.
    if let Expr::Window(x, _, w, _) = e {
        if let Some(slot) = local(x) {
            return window_in(slot, *w);
        }
    }
    match e {
        Expr::Lit(v) => match v.clone() {
            Value::Null => boxed(|_, _| Value::Null),
            Value::Bool(b) => boxed(move |_, _| Value::Bool(b)),
            Value::Int(i) => boxed(move |_, _| Value::Int(i)),
            Value::Float(x) => boxed(move |_, _| Value::Float(x)),
            v => boxed(move |_, _| v.clone()),
        },
        Expr::Now => boxed(|c, _| Value::Int(c.now)),
        Expr::Neg(x) => {
            let x = compile(x);
            boxed(move |c, r| match x(c, r) {
                Value::Int(i) => i.checked_neg().map_or(Value::Null, Value::Int),
                Value::Float(f) => Value::float(-f.get()),
                _ => Value::Null,
            })
        }
        // `not`, `and`, `or` and the test of a `cond` read their operands as conditions.
        Expr::Not(x) => {
            let x = test(x);
            boxed(move |c, r| x(c, r).map_or(Value::Null, |b| Value::bool(!b)))
        }
        Expr::Bin(BinOp::And, a, b) => {
            let (a, b) = (test(a), test(b));
            boxed(move |c, r| Value::bool(a(c, r) == Some(true) && b(c, r) == Some(true)))
        }
        Expr::Bin(BinOp::Or, a, b) => {
            let (a, b) = (test(a), test(b));
            boxed(move |c, r| Value::bool(a(c, r) == Some(true) || b(c, r) == Some(true)))
        }
        Expr::Bin(op, a, b) => bin(*op, Operand::new(a), Operand::new(b)),
        Expr::Cond(c, a, b) => {
            let (test, a, b) = (test(c), compile(a), compile(b));
            boxed(move |c, r| {
                if test(c, r) == Some(true) {
                    a(c, r)
                } else {
                    b(c, r)
                }
            })
        }
        // Calls and constants of their own: `weighted` and `choice` draw among values held.
        Expr::Call(Func::Weighted(table), _) => {
            let table = std::sync::Arc::clone(table);
            boxed(move |_, r| {
                use rand::distr::Distribution;
                table.0[table.1.sample(r)].clone()
            })
        }
        Expr::Call(f, args) => {
            let args: Vec<CallArg> = args.iter().map(CallArg::new).collect();
            // The common functions each get a closure of their own, in which `call`'s match
            // on the function folds away.
            macro_rules! fixed {
                ($($f:ident),*) => {
                    match f {
                        $(Func::$f => return boxed(move |c, r| c.call_inline(&Func::$f, &args, r)),)*
                        _ => {}
                    }
                };
            }
            fixed!(
                Round, RoundTo, Floor, Ceil, Abs, Min, Max, Clamp, Int, Float, Uniform, Randint,
                Chance, Choice, Concat
            );
            let f = f.clone();
            boxed(move |c, r| c.call(&f, &args, r))
        }
        // Stored values, entities' ids and the event's own values: the tree walk reads
        // these in place already.
        e => {
            let e = e.clone();
            boxed(move |c, r| c.eval(&e, r))
        }
    }
}

/// Window `w`'s count of the entity in local `slot` (null when the local holds none).
fn window_in(slot: usize, w: u16) -> Box<Eval> {
    boxed(
        move |c, _| match c.locals.get(slot).and_then(Value::as_ent) {
            Some((k, i)) => Value::Int(
                c.state
                    .windows
                    .get(k as usize)
                    .and_then(|ws| ws.count(i, w))
                    .map_or(0, i64::from),
            ),
            None => Value::Null,
        },
    )
}

/// An argument of a compiled call: a constant is held as it is, so reading it is a copy
/// rather than a call through a closure.
#[derive(Debug)]
pub(super) enum CallArg {
    Const(Value),
    Code(Compiled),
}

impl CallArg {
    pub(super) fn new(e: &Expr) -> Self {
        match e {
            Expr::Lit(v) => CallArg::Const(v.clone()),
            e => CallArg::Code(Compiled::new(e)),
        }
    }
}

impl Arg for CallArg {
    #[inline]
    fn value(&self, ctx: &Ctx<'_>, rng: &mut SimRng) -> Value {
        match self {
            CallArg::Const(v) => v.clone(),
            CallArg::Code(c) => c.eval(ctx, rng),
        }
    }
}

/// The slot of a local that `x` is.
fn local(x: &Expr) -> Option<usize> {
    match x {
        Expr::Local(slot) => Some(*slot as usize),
        _ => None,
    }
}

/// An operand of a comparison or arithmetic, read where it is when it is stored.
enum Operand {
    Const(Value),
    /// Read in place; null where there is nothing to read.
    At(Read),
    /// Another stored value ([`Ctx::peek`]), and how to evaluate it when it is not stored
    /// after all (a field of an entity made by a call).
    Peek(Expr, Box<Eval>),
    Made(Box<Eval>),
}

/// A local, or a field or a state variable of the entity in a local: where [`Ctx::peek`]
/// would find it, decided here. What is not there (no such local, a local that is no
/// entity, no such field) reads as null, as the tree walk reads it.
#[derive(Debug)]
pub(super) enum Read {
    Local(usize),
    Field(usize, u16),
    State(usize, u16),
    Global(usize),
}

impl Read {
    pub(super) fn of(e: &Expr) -> Option<Read> {
        Some(match e {
            Expr::Local(slot) => Read::Local(*slot as usize),
            Expr::Field(x, _, f) => Read::Field(local(x)?, *f),
            Expr::State(x, _, v) => Read::State(local(x)?, *v),
            Expr::Global(v) => Read::Global(*v as usize),
            _ => return None,
        })
    }

    #[inline]
    pub(super) fn get<'v>(&'v self, c: &'v Ctx<'_>) -> Option<&'v Value> {
        let ent = |slot: usize| c.locals.get(slot)?.as_ent();
        match self {
            Read::Local(slot) => c.locals.get(*slot),
            Read::Field(slot, f) => {
                let (k, i) = ent(*slot)?;
                c.master.kinds.get(k as usize)?.field(*f, i)
            }
            Read::State(slot, v) => {
                let (k, i) = ent(*slot)?;
                c.state.ent.get(k as usize)?.get(i, *v)
            }
            Read::Global(v) => c.state.global.get(*v),
        }
    }
}

/// What an operand reads when there is nothing to read.
static NULL: Value = Value::Null;

impl Operand {
    fn new(e: &Expr) -> Self {
        if let Some(at) = Read::of(e) {
            return Operand::At(at);
        }
        match e {
            Expr::Lit(v) => Operand::Const(v.clone()),
            Expr::Global(_) | Expr::Field(..) | Expr::State(..) => {
                Operand::Peek(e.clone(), compile(e))
            }
            _ => Operand::Made(compile(e)),
        }
    }
}

/// Reads operand `$o` into a reference, using `$tmp` for a value made here.
macro_rules! read {
    ($o:expr, $c:expr, $r:expr, $tmp:ident) => {
        match $o {
            Operand::Const(v) => v,
            Operand::At(at) => at.get($c).unwrap_or(&NULL),
            Operand::Peek(e, f) => match $c.peek(e) {
                Some(v) => v,
                None => {
                    $tmp = f($c, $r);
                    &$tmp
                }
            },
            Operand::Made(f) => {
                $tmp = f($c, $r);
                &$tmp
            }
        }
    };
}

/// A binary operator with its operation chosen here: each operator is a closure of its own,
/// so the operation's `match` folds away.
fn bin(op: BinOp, a: Operand, b: Operand) -> Box<Eval> {
    macro_rules! with_op {
        ($($op:ident),*) => {
            match op {
                $(BinOp::$op => boxed(move |c, r| {
                    let (x, y);
                    let xa = read!(&a, c, r, x);
                    let yb = read!(&b, c, r, y);
                    binary(BinOp::$op, xa, yb, c.master)
                }),)*
                // And/Or are compiled apart (they short-circuit).
                _ => boxed(move |c, r| {
                    let (x, y);
                    let xa = read!(&a, c, r, x);
                    let yb = read!(&b, c, r, y);
                    binary(op, xa, yb, c.master)
                }),
            }
        };
    }
    with_op!(Add, Sub, Mul, Div, Rem, Eq, Ne, Lt, Le, Gt, Ge)
}

/// A comparison as a condition, each operator a closure of its own (see [`bin`]).
fn compare(op: BinOp, a: Operand, b: Operand) -> Box<Test> {
    macro_rules! with_op {
        ($($op:ident),*) => {
            match op {
                $(BinOp::$op => Box::new(move |c, r| {
                    let (x, y);
                    let xa = read!(&a, c, r, x);
                    let yb = read!(&b, c, r, y);
                    match binary(BinOp::$op, xa, yb, c.master) {
                        Value::Bool(b) => Some(b.get()),
                        _ => None,
                    }
                }),)*
                // Arithmetic is no condition; it reads as one that does not hold.
                _ => {
                    let v = bin(op, a, b);
                    Box::new(move |c, r| match v(c, r) {
                        Value::Bool(b) => Some(b.get()),
                        _ => None,
                    })
                }
            }
        };
    }
    with_op!(Eq, Ne, Lt, Le, Gt, Ge)
}

/// An event type's expressions beside its payload, compiled once per model, in the model's
/// order: `lets[i]` is `ev.lets[i]`, `effects[i]` the value of `ev.effects[i]`, and so on.
#[derive(Debug, Default)]
pub struct EventCode {
    pub(super) lets: Vec<(u16, Compiled)>,
    pub(super) when: Option<Condition>,
    /// The value of each `set` and `add`, by effect (a window count has none); most are
    /// constants (`true`, `1`), held as values.
    pub(super) effects: Vec<Option<CallArg>>,
    pub(super) follow: Vec<FollowCode>,
    /// The entity clock of a per-entity type.
    pub(super) per: Option<PerCode>,
}

/// A per-entity clock's expressions, which read one local: the entity.
#[derive(Debug)]
pub(super) struct PerCode {
    pub(super) kind: u16,
    pub(super) every: Compiled,
    pub(super) start: Option<Compiled>,
    pub(super) until: Option<Condition>,
}

#[derive(Debug)]
pub(super) struct FollowCode {
    pub(super) after: Compiled,
    pub(super) probability: Option<Compiled>,
    pub(super) times: Option<Compiled>,
    pub(super) every: Option<Compiled>,
}

impl EventCode {
    /// Compiles `ev`'s expressions; run once the event's follow-ups are known.
    pub(super) fn new(ev: &EventModel) -> Self {
        EventCode {
            lets: ev
                .lets
                .iter()
                .map(|(s, x)| (*s, Compiled::new(x)))
                .collect(),
            when: ev.when.as_ref().map(Condition::new),
            effects: ev
                .effects
                .iter()
                .map(|eff| match eff {
                    Effect::Set(_, x) | Effect::Add(_, x) => Some(CallArg::new(x)),
                    Effect::Count(..) => None,
                })
                .collect(),
            follow: ev
                .follow
                .iter()
                .map(|f| FollowCode {
                    after: Compiled::new(&f.after),
                    probability: f.probability.as_ref().map(Compiled::new),
                    times: f.times.as_ref().map(Compiled::new),
                    every: f.every.as_ref().map(Compiled::new),
                })
                .collect(),
            per: ev.per.as_ref().map(|p| PerCode {
                kind: p.kind,
                every: Compiled::new(&p.every),
                start: p.start.as_ref().map(Compiled::new),
                until: p.until.as_ref().map(Condition::new),
            }),
        }
    }
}
