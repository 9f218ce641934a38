//! Compiled expressions and their evaluation. Names are resolved to slots and indices at load
//! ([`super::compile`]); evaluating does no lookup by name and no parsing.

use std::sync::Arc;

use rand_distr::{Binomial, Exp, LogNormal, Normal, Poisson, Zipf};
use uuid::Uuid;

use super::fake::FakeKind;
pub use super::ops::{binary, text_of};
use super::parse::BinOp;
pub use super::tables::{KindData, Master, PairState, State};
use super::value::{uuid_text, Text, Value};
use crate::SimRng;

#[derive(Debug, Clone)]
pub enum Expr {
    Lit(Value),
    /// A pick or `let` value of the event being made.
    Local(u16),
    /// The id of an entity.
    Id(Box<Expr>),
    /// A master-data field of an entity of kind `.1`.
    Field(Box<Expr>, u16, u16),
    /// A state variable of an entity of kind `.1`.
    State(Box<Expr>, u16, u16),
    /// A window count of an entity of kind `.1`, with the window's length in ms.
    Window(Box<Expr>, u16, u16, i64),
    Global(u16),
    Pair(Box<Expr>, Box<Expr>, u16, u16),
    Now,
    EventTime,
    EventId,
    EventType,
    CausedBy,
    Seq,
    Neg(Box<Expr>),
    Not(Box<Expr>),
    Bin(BinOp, Box<Expr>, Box<Expr>),
    Cond(Box<Expr>, Box<Expr>, Box<Expr>),
    Call(Func, Vec<Expr>),
}

impl Expr {
    /// Whether `pred` holds for this node or any node below it: the one walk that the
    /// analyses of compiled expressions (folding, indexes, exhaustion) share.
    pub fn any(&self, pred: &mut impl FnMut(&Expr) -> bool) -> bool {
        if pred(self) {
            return true;
        }
        match self {
            Expr::Id(x)
            | Expr::Field(x, ..)
            | Expr::State(x, ..)
            | Expr::Window(x, ..)
            | Expr::Neg(x)
            | Expr::Not(x) => x.any(pred),
            Expr::Pair(a, b, ..) | Expr::Bin(_, a, b) => a.any(pred) || b.any(pred),
            Expr::Cond(c, a, b) => c.any(pred) || a.any(pred) || b.any(pred),
            Expr::Call(_, args) => args.iter().any(|a| a.any(pred)),
            _ => false,
        }
    }
}

/// The values of a `weighted(...)` and the table that draws their index.
pub type WeightedTable = (Vec<Value>, rand_distr::weighted::WeightedIndex<f64>);

/// A built-in function; distributions with constant parameters are built once.
#[derive(Debug, Clone)]
pub enum Func {
    Round,
    RoundTo,
    Floor,
    Ceil,
    Abs,
    Min,
    Max,
    Clamp,
    Int,
    Float,
    Uniform,
    Randint,
    Normal,
    NormalC(Normal<f64>),
    Lognormal,
    LognormalC(LogNormal<f64>),
    Exponential,
    ExponentialC(Exp<f64>),
    Zipf,
    ZipfC(Zipf<f64>),
    Poisson,
    /// Boxed, as `Binomial`: both are larger than the other variants, and `Expr` stays small.
    PoissonC(Box<Poisson<f64>>),
    Binomial,
    BinomialC(Box<Binomial>),
    Exp,
    Ln,
    Sqrt,
    Pow,
    /// `at(i, a, b, ...)`: the i-th item, from 1.
    At,
    /// `local_hour` (true) or `local_weekday`, in a zone resolved at load when constant.
    LocalTime(bool, Option<chrono_tz::Tz>),
    Chance,
    Choice,
    Weighted(Arc<WeightedTable>),
    Fake(FakeKind),
    DateBetween,
    Date,
    Hour,
    Weekday,
    /// Milliseconds in one unit: `seconds` 1000, `minutes` 60,000, ...
    Millis(i64),
    Format(Arc<[String]>),
    Concat,
    Upper,
    Lower,
    Uuid,
    /// A random id of an entity kind.
    Ref(u16),
}

impl Func {
    /// Whether the result depends only on the arguments (so constant arguments fold).
    pub fn pure(&self) -> bool {
        !matches!(
            self,
            Func::Uniform
                | Func::Randint
                | Func::Normal
                | Func::NormalC(_)
                | Func::Lognormal
                | Func::LognormalC(_)
                | Func::Exponential
                | Func::ExponentialC(_)
                | Func::Zipf
                | Func::ZipfC(_)
                | Func::Poisson
                | Func::PoissonC(_)
                | Func::Binomial
                | Func::BinomialC(_)
                | Func::Chance
                | Func::Choice
                | Func::Weighted(_)
                | Func::Fake(_)
                | Func::DateBetween
                | Func::Uuid
                | Func::Ref(_)
        )
    }
}

/// An argument of a built-in function: an expression tree, or the same compiled
/// ([`super::compiled`]). The functions are written once for both.
pub trait Arg {
    fn value(&self, ctx: &Ctx<'_>, rng: &mut SimRng) -> Value;
}

impl Arg for Expr {
    #[inline]
    fn value(&self, ctx: &Ctx<'_>, rng: &mut SimRng) -> Value {
        ctx.eval(self, rng)
    }
}

/// What an expression is evaluated against.
pub struct Ctx<'a> {
    pub master: &'a Master,
    pub state: &'a State,
    pub locals: &'a [Value],
    pub now: i64,
    pub event_id: Uuid,
    pub caused_by: Option<Uuid>,
    pub event_type: &'a str,
    pub seq: i64,
}

impl<'a> Ctx<'a> {
    /// A context outside any event's output: no event id, cause, type or sequence number.
    /// What picks, guards, effects and live candidate sets evaluate against.
    pub fn plain(master: &'a Master, state: &'a State, locals: &'a [Value], now: i64) -> Self {
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
}

impl Ctx<'_> {
    /// Evaluates `e`. Never panics: an operation on values of the wrong kind gives null.
    pub fn eval(&self, e: &Expr, rng: &mut SimRng) -> Value {
        match e {
            Expr::Lit(v) => v.clone(),
            Expr::Local(slot) => match self.locals.get(*slot as usize) {
                Some(v) => v.clone(),
                None => Value::Null,
            },
            Expr::Id(x) => match self.entity(x, rng) {
                Some((k, i)) => self.id(k, i).map_or(Value::Null, Value::Str),
                _ => Value::Null,
            },
            Expr::Field(x, _, f) => match self.entity(x, rng) {
                Some((k, i)) => self.column(&self.master.kinds, k, *f, i),
                _ => Value::Null,
            },
            Expr::State(x, _, v) => match self.entity(x, rng) {
                Some((k, i)) => self
                    .state
                    .ent
                    .get(k as usize)
                    .and_then(|rows| rows.get(i, *v))
                    .cloned()
                    .unwrap_or(Value::Null),
                _ => Value::Null,
            },
            // Counts are kept as of the event's time (the world expires them first).
            Expr::Window(x, _, v, _) => match self.entity(x, rng) {
                Some((k, i)) => Value::Int(
                    self.state
                        .windows
                        .get(k as usize)
                        .and_then(|w| w.count(i, *v))
                        .map_or(0, i64::from),
                ),
                _ => Value::Null,
            },
            Expr::Global(v) => self
                .state
                .global
                .get(*v as usize)
                .cloned()
                .unwrap_or(Value::Null),
            Expr::Pair(a, b, p, v) => match (self.eval(a, rng), self.eval(b, rng)) {
                (Value::Ent(a), Value::Ent(b)) => {
                    let (i, j) = (a.index(), b.index());
                    let Some((map, defaults)) = self.state.pairs.get(*p as usize) else {
                        return Value::Null;
                    };
                    let row = map.get(&(i, j)).unwrap_or(defaults);
                    row.get(*v as usize).cloned().unwrap_or(Value::Null)
                }
                _ => Value::Null,
            },
            Expr::Now => Value::Int(self.now),
            Expr::EventTime => {
                let mut buf = Vec::with_capacity(24);
                crate::timefmt::write_rfc3339_millis(&mut buf, self.now);
                Value::Str(Text::from(String::from_utf8_lossy(&buf)))
            }
            Expr::EventId => Value::Str(uuid_text(self.event_id)),
            Expr::EventType => Value::str(self.event_type),
            Expr::CausedBy => self
                .caused_by
                .map_or(Value::Null, |c| Value::Str(uuid_text(c))),
            Expr::Seq => Value::Int(self.seq),
            Expr::Neg(x) => match self.eval(x, rng) {
                Value::Int(i) => i.checked_neg().map_or(Value::Null, Value::Int),
                Value::Float(f) => Value::float(-f.get()),
                _ => Value::Null,
            },
            Expr::Not(x) => match self.eval(x, rng) {
                Value::Bool(b) => Value::bool(!b.get()),
                _ => Value::Null,
            },
            Expr::Bin(BinOp::And, a, b) => {
                Value::bool(self.eval(a, rng).truthy() && self.eval(b, rng).truthy())
            }
            Expr::Bin(BinOp::Or, a, b) => {
                Value::bool(self.eval(a, rng).truthy() || self.eval(b, rng).truthy())
            }
            Expr::Bin(op, a, b) => {
                // Operands stored already (a field, a state variable, a local) are compared
                // in place: `m.region == s.region` clones no text.
                let (x, y);
                let a = match self.peek(a) {
                    Some(v) => v,
                    None => {
                        x = self.eval(a, rng);
                        &x
                    }
                };
                let b = match self.peek(b) {
                    Some(v) => v,
                    None => {
                        y = self.eval(b, rng);
                        &y
                    }
                };
                binary(*op, a, b, self.master)
            }
            Expr::Cond(c, a, b) => {
                if self.eval(c, rng).truthy() {
                    self.eval(a, rng)
                } else {
                    self.eval(b, rng)
                }
            }
            Expr::Call(f, args) => self.call(f, args, rng),
        }
    }

    /// The value `e` names when it is stored already (a literal, a local, a global, or a
    /// field or state variable of an entity stored so), by reference: no clone. `None` means
    /// "evaluate it", never "null".
    pub fn peek<'v>(&'v self, e: &'v Expr) -> Option<&'v Value> {
        match e {
            Expr::Lit(v) => Some(v),
            Expr::Local(slot) => self.locals.get(*slot as usize),
            Expr::Global(v) => self.state.global.get(*v as usize),
            Expr::Field(x, _, f) => {
                let (k, i) = self.local_entity(x)?;
                self.master.kinds.get(k as usize)?.field(*f, i)
            }
            Expr::State(x, _, v) => {
                let (k, i) = self.local_entity(x)?;
                self.state.ent.get(k as usize)?.get(i, *v)
            }
            _ => None,
        }
    }

    /// The id text of the entity a stored value names, by reference.
    pub fn peek_id(&self, x: &Expr) -> Option<&str> {
        let (k, i) = self.local_entity(x)?;
        self.master.kinds.get(k as usize)?.id(i)
    }

    /// Writes the id of the entity a stored value names as a JSON string; false when it names
    /// none.
    pub fn write_id_of(&self, x: &Expr, buf: &mut Vec<u8>) -> bool {
        self.local_entity(x).is_some_and(|(k, i)| {
            self.master
                .kinds
                .get(k as usize)
                .is_some_and(|d| d.write_id(i, buf))
        })
    }

    /// Writes the id of the entity in local `slot` as a JSON string; false when it holds none.
    #[inline]
    pub fn write_id_in(&self, slot: u16, buf: &mut Vec<u8>) -> bool {
        let Some((k, i)) = self.locals.get(slot as usize).and_then(Value::as_ent) else {
            return false;
        };
        self.master
            .kinds
            .get(k as usize)
            .is_some_and(|d| d.write_id(i, buf))
    }

    /// The entity a stored value names (a pick, a `let`, a state variable holding one, ...),
    /// read in place: `u.page.url` reads the user's page and then its field with no clone.
    fn local_entity(&self, x: &Expr) -> Option<(u16, u32)> {
        self.peek(x)?.as_ent()
    }

    /// The entity `x` names. A stored value is read in place (see [`Ctx::peek`]): most field,
    /// state and id reads are of one (`s.played`), and this spares them a clone.
    pub fn entity(&self, x: &Expr, rng: &mut SimRng) -> Option<(u16, u32)> {
        match self.peek(x) {
            Some(v) => v.as_ent(),
            None => self.eval(x, rng).as_ent(),
        }
    }

    pub(super) fn id(&self, k: u16, i: u32) -> Option<Text> {
        self.master
            .kinds
            .get(k as usize)?
            .ids
            .get(i as usize)
            .cloned()
    }

    fn column(&self, kinds: &[KindData], k: u16, f: u16, i: u32) -> Value {
        kinds
            .get(k as usize)
            .and_then(|kd| kd.field(f, i))
            .cloned()
            .unwrap_or(Value::Null)
    }

    /// The text of a value as a template writes it (an entity as its id).
    pub fn text_of<'v>(&'v self, v: &'v Value) -> Option<&'v str> {
        text_of(self.master, v)
    }
}
