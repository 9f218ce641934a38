//! Expressions from [`Ast`] to [`Expr`]: names resolved to slots, types and ranges inferred,
//! constants folded, and distribution parameters checked, all once at load.

use std::sync::Arc;

use indexmap::IndexMap;
use rand::SeedableRng;
use rand_distr::{Exp, LogNormal, Normal, Zipf};

use super::expr::{Ctx, Expr, Func, Master, State};
use super::fake::{self, FakeKind};
use super::parse::{Ast, BinOp, UnOp};
use super::value::{Base, Ty, Value};

/// What the compiler knows of one entity kind.
#[derive(Debug, Clone, Default)]
pub struct KindInfo {
    pub name: String,
    pub fields: Vec<(String, Ty)>,
    pub state: Vec<(String, Ty)>,
    /// Window variables with their length in ms.
    pub windows: Vec<(String, i64)>,
}

#[derive(Debug, Clone)]
pub struct PairInfo {
    pub a: u16,
    pub b: u16,
    pub vars: Vec<(String, Ty)>,
}

/// Where an expression stands, which decides the names it may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// Only parameters: counts, bounds, weights.
    Static,
    /// An entity's id or field: parameters, `seq` and `ref`.
    Entity,
    /// An event: everything.
    Event,
}

pub struct Scope<'a> {
    pub params: &'a IndexMap<String, Value>,
    pub kinds: &'a [KindInfo],
    pub globals: &'a [(String, Ty)],
    pub pairs: &'a [PairInfo],
    pub locals: Vec<(String, Ty)>,
    pub place: Place,
}

const FUNCTIONS: &[(&str, usize, usize)] = &[
    ("round", 1, 2),
    ("floor", 1, 1),
    ("ceil", 1, 1),
    ("abs", 1, 1),
    ("min", 1, 64),
    ("max", 1, 64),
    ("clamp", 3, 3),
    ("int", 1, 1),
    ("float", 1, 1),
    ("uniform", 2, 2),
    ("randint", 2, 2),
    ("normal", 2, 2),
    ("lognormal", 2, 2),
    ("exponential", 1, 1),
    ("zipf", 2, 2),
    ("chance", 1, 1),
    ("choice", 1, 256),
    ("weighted", 2, 512),
    ("fake", 1, 1),
    ("date_between", 2, 2),
    ("date", 1, 1),
    ("hour", 1, 1),
    ("weekday", 1, 1),
    ("seconds", 1, 1),
    ("minutes", 1, 1),
    ("hours", 1, 1),
    ("days", 1, 1),
    ("format", 1, 64),
    ("concat", 1, 64),
    ("upper", 1, 1),
    ("lower", 1, 1),
    ("uuid", 0, 0),
    ("ref", 1, 1),
    ("pair", 2, 2),
];

impl Scope<'_> {
    pub fn local(&self, name: &str) -> Option<(u16, &Ty)> {
        self.locals
            .iter()
            .rposition(|(n, _)| n == name)
            .map(|i| (i as u16, &self.locals[i].1))
    }

    fn kind_names(&self) -> Vec<String> {
        self.kinds.iter().map(|k| k.name.clone()).collect()
    }

    pub fn kind(&self, name: &str) -> Result<u16, String> {
        self.kinds
            .iter()
            .position(|k| k.name == name)
            .map(|i| i as u16)
            .ok_or_else(|| {
                format!(
                    "unknown entity kind `{name}`; kinds: {}",
                    self.kind_names().join(", ")
                )
            })
    }

    /// Compiles `ast`, folding what is constant.
    pub fn compile(&self, ast: &Ast) -> Result<(Expr, Ty), String> {
        let (e, t) = self.compile_inner(ast)?;
        Ok(fold(e, t))
    }

    fn compile_inner(&self, ast: &Ast) -> Result<(Expr, Ty), String> {
        Ok(match ast {
            Ast::Int(i) => (Expr::Lit(Value::Int(*i)), Ty::exact(&Value::Int(*i))),
            Ast::Float(f) => (Expr::Lit(Value::Float(*f)), Ty::exact(&Value::Float(*f))),
            Ast::Str(s) => {
                let v = Value::str(s);
                let t = Ty::exact(&v);
                (Expr::Lit(v), t)
            }
            Ast::Bool(b) => (Expr::Lit(Value::Bool(*b)), bool_ty(Some(*b))),
            Ast::Null => (Expr::Lit(Value::Null), Ty::of(Base::Null)),
            Ast::Name(n) => self.name(n)?,
            Ast::Member(base, name) => self.member(base, name)?,
            Ast::Call(f, args) => self.call(f, args)?,
            Ast::Unary(UnOp::Neg, x) => {
                let (e, t) = self.compile(x)?;
                if !t.is_number() && t.base != Base::Any {
                    return Err(format!(
                        "`-` needs a number, not {}",
                        t.describe(&self.kind_names())
                    ));
                }
                let ty = Ty {
                    lo: t.hi.map(|h| -h),
                    hi: t.lo.map(|l| -l),
                    ..t
                };
                (Expr::Neg(Box::new(e)), ty)
            }
            Ast::Unary(UnOp::Not, x) => {
                let (e, t) = self.compile(x)?;
                self.want_bool("not", &t)?;
                let known = known_bool(&t).map(|b| !b);
                (Expr::Not(Box::new(e)), bool_ty(known))
            }
            Ast::Binary(op, a, b) => self.binary(*op, a, b)?,
            Ast::Cond(c, a, b) => {
                let (ce, ct) = self.compile(c)?;
                self.want_bool("the condition of `? :`", &ct)?;
                let (ae, at) = self.compile(a)?;
                let (be, bt) = self.compile(b)?;
                match known_bool(&ct) {
                    Some(true) => (ae, at),
                    Some(false) => (be, bt),
                    None => {
                        let t = at.union(&bt);
                        (Expr::Cond(Box::new(ce), Box::new(ae), Box::new(be)), t)
                    }
                }
            }
        })
    }

    fn want_bool(&self, what: &str, t: &Ty) -> Result<(), String> {
        if matches!(t.base, Base::Bool | Base::Any) {
            Ok(())
        } else {
            Err(format!(
                "{what} needs true or false, not {}",
                t.describe(&self.kind_names())
            ))
        }
    }

    fn name(&self, n: &str) -> Result<(Expr, Ty), String> {
        if let Some((slot, ty)) = self.local(n) {
            return Ok((Expr::Local(slot), ty.clone()));
        }
        if let Some(v) = self.params.get(n) {
            return Ok((Expr::Lit(v.clone()), Ty::exact(v)));
        }
        let event = self.place == Place::Event;
        Ok(match n {
            "now" if event => (Expr::Now, Ty::of(Base::Int)),
            "event_time" if event => (Expr::EventTime, Ty::format(Base::Str, "date-time")),
            "event_id" if event => (Expr::EventId, Ty::format(Base::Str, "uuid")),
            "event_type" if event => (Expr::EventType, Ty::of(Base::Str)),
            "caused_by" if event => (
                Expr::CausedBy,
                Ty {
                    nullable: true,
                    ..Ty::format(Base::Str, "uuid")
                },
            ),
            "seq" if self.place == Place::Entity => {
                (Expr::Seq, Ty::range(Base::Int, Some(1.0), None))
            }
            _ => {
                let mut known: Vec<&str> = self.locals.iter().map(|(n, _)| n.as_str()).collect();
                known.extend(self.params.keys().map(String::as_str));
                known.extend(match self.place {
                    Place::Event => {
                        &["now", "event_time", "event_id", "event_type", "caused_by"][..]
                    }
                    Place::Entity => &["seq"][..],
                    Place::Static => &[][..],
                });
                return Err(format!(
                    "unknown name `{n}`; known here: {}",
                    known.join(", ")
                ));
            }
        })
    }

    fn member(&self, base: &Ast, name: &str) -> Result<(Expr, Ty), String> {
        if let Ast::Name(g) = base {
            if g == "global" && self.local("global").is_none() {
                let Some(i) = self.globals.iter().position(|(n, _)| n == name) else {
                    let known: Vec<&str> = self.globals.iter().map(|(n, _)| n.as_str()).collect();
                    return Err(format!(
                        "unknown global state `{name}`; declared: {}",
                        known.join(", ")
                    ));
                };
                self.want_event("global state")?;
                return Ok((Expr::Global(i as u16), self.globals[i].1.clone()));
            }
        }
        if let Ast::Call(f, args) = base {
            if f == "pair" {
                self.want_event("pair state")?;
                let (a, at) = self.compile(&args[0])?;
                let (b, bt) = self.compile(&args[1])?;
                let (Base::Ent(ka), Base::Ent(kb)) = (at.base, bt.base) else {
                    return Err("pair(a, b) needs two entities".into());
                };
                let Some(p) = self.pairs.iter().position(|p| p.a == ka && p.b == kb) else {
                    return Err(format!(
                        "no pair state is declared for {}*{}",
                        self.kinds[ka as usize].name, self.kinds[kb as usize].name
                    ));
                };
                let pair = &self.pairs[p];
                let Some(v) = pair.vars.iter().position(|(n, _)| n == name) else {
                    return Err(format!("unknown pair state `{name}`"));
                };
                return Ok((
                    Expr::Pair(Box::new(a), Box::new(b), p as u16, v as u16),
                    pair.vars[v].1.clone(),
                ));
            }
        }
        let (e, t) = self.compile(base)?;
        let Base::Ent(k) = t.base else {
            return Err(format!(
                "`.{name}` needs an entity, not {}",
                t.describe(&self.kind_names())
            ));
        };
        let kind = &self.kinds[k as usize];
        if name == "id" {
            // Text at run time; typed as the entity so a payload field holding it is checked
            // as a reference.
            return Ok((Expr::Id(Box::new(e)), Ty::of(Base::Ent(k))));
        }
        if let Some(f) = kind.fields.iter().position(|(n, _)| n == name) {
            return Ok((
                Expr::Field(Box::new(e), k, f as u16),
                kind.fields[f].1.clone(),
            ));
        }
        if let Some(v) = kind.state.iter().position(|(n, _)| n == name) {
            self.want_event("state")?;
            return Ok((
                Expr::State(Box::new(e), k, v as u16),
                kind.state[v].1.clone(),
            ));
        }
        if let Some(v) = kind.windows.iter().position(|(n, _)| n == name) {
            self.want_event("state")?;
            let len = kind.windows[v].1;
            return Ok((
                Expr::Window(Box::new(e), k, v as u16, len),
                Ty::range(Base::Int, Some(0.0), None),
            ));
        }
        let mut known = vec!["id".to_string()];
        known.extend(kind.fields.iter().map(|f| f.0.clone()));
        known.extend(kind.state.iter().map(|f| f.0.clone()));
        known.extend(kind.windows.iter().map(|f| f.0.clone()));
        Err(format!(
            "`{}` has no field or state `{name}`; it has: {}",
            kind.name,
            known.join(", ")
        ))
    }

    fn want_event(&self, what: &str) -> Result<(), String> {
        if self.place == Place::Event {
            Ok(())
        } else {
            Err(format!("{what} can only be read in an event"))
        }
    }

    fn binary(&self, op: BinOp, a: &Ast, b: &Ast) -> Result<(Expr, Ty), String> {
        let (ae, at) = self.compile(a)?;
        let (be, bt) = self.compile(b)?;
        let names = self.kind_names();
        let ty = match op {
            BinOp::And | BinOp::Or => {
                self.want_bool(&format!("`{op}`"), &at)?;
                self.want_bool(&format!("`{op}`"), &bt)?;
                let known = match (op, known_bool(&at), known_bool(&bt)) {
                    (BinOp::And, Some(false), _) | (BinOp::And, _, Some(false)) => Some(false),
                    (BinOp::And, Some(true), Some(true)) => Some(true),
                    (BinOp::Or, Some(true), _) | (BinOp::Or, _, Some(true)) => Some(true),
                    (BinOp::Or, Some(false), Some(false)) => Some(false),
                    _ => None,
                };
                bool_ty(known)
            }
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                let text = |t: &Ty| matches!(t.base, Base::Str | Base::Ent(_));
                let comparable = at.base == Base::Any
                    || (text(&at) && text(&bt))
                    || bt.base == Base::Any
                    || (at.is_number() && bt.is_number())
                    || at.base == bt.base
                    || matches!(at.base, Base::Null)
                    || matches!(bt.base, Base::Null)
                    || at.nullable
                    || bt.nullable;
                if !comparable {
                    return Err(format!(
                        "`{op}` compares {} with {}",
                        at.describe(&names),
                        bt.describe(&names)
                    ));
                }
                bool_ty(impossible(op, &at, &bt).then_some(false))
            }
            BinOp::Add
                if matches!(at.base, Base::Str | Base::Ent(_))
                    && matches!(bt.base, Base::Str | Base::Ent(_)) =>
            {
                Ty::of(Base::Str)
            }
            _ => {
                if !(at.is_number() || at.base == Base::Any)
                    || !(bt.is_number() || bt.base == Base::Any)
                {
                    return Err(format!(
                        "`{op}` needs numbers, not {} and {}",
                        at.describe(&names),
                        bt.describe(&names)
                    ));
                }
                arith(op, &at, &bt)
            }
        };
        Ok((Expr::Bin(op, Box::new(ae), Box::new(be)), ty))
    }

    fn call(&self, name: &str, args: &[Ast]) -> Result<(Expr, Ty), String> {
        let Some(&(_, lo, hi)) = FUNCTIONS.iter().find(|f| f.0 == name) else {
            let known: Vec<&str> = FUNCTIONS.iter().map(|f| f.0).collect();
            return Err(format!(
                "unknown function `{name}`; functions: {}",
                known.join(", ")
            ));
        };
        if args.len() < lo || args.len() > hi {
            let want = if lo == hi {
                format!("{lo}")
            } else {
                format!("{lo} to {hi}")
            };
            return Err(format!(
                "`{name}` takes {want} arguments, not {}",
                args.len()
            ));
        }
        if name == "pair" {
            return Err("pair(a, b) is read as pair(a, b).var".into());
        }
        let mut es = Vec::with_capacity(args.len());
        let mut ts = Vec::with_capacity(args.len());
        for a in args {
            let (e, t) = self.compile(a)?;
            es.push(e);
            ts.push(t);
        }
        let names = self.kind_names();
        let num = |i: usize| -> Result<(), String> {
            if ts[i].is_number() || ts[i].base == Base::Any {
                Ok(())
            } else {
                Err(format!(
                    "argument {} of `{name}` must be a number, not {}",
                    i + 1,
                    ts[i].describe(&names)
                ))
            }
        };
        let lit = |i: usize| match &es[i] {
            Expr::Lit(v) => v.as_f64(),
            _ => None,
        };
        let text = |i: usize| match &es[i] {
            Expr::Lit(Value::Str(s)) => Some(s.to_string()),
            _ => None,
        };
        let bad = |what: String| Err(format!("{name}: {what}"));
        let (func, ty) = match name {
            "round" => {
                num(0)?;
                if es.len() == 2 {
                    num(1)?;
                    (
                        Func::RoundTo,
                        Ty {
                            base: Base::Float,
                            ..ts[0].clone()
                        },
                    )
                } else {
                    (
                        Func::Round,
                        Ty::range(
                            Base::Int,
                            ts[0].lo.map(f64::round),
                            ts[0].hi.map(f64::round),
                        ),
                    )
                }
            }
            "floor" | "ceil" | "int" => {
                num(0)?;
                let f = match name {
                    "floor" => Func::Floor,
                    "ceil" => Func::Ceil,
                    _ => Func::Int,
                };
                (
                    f,
                    Ty::range(Base::Int, ts[0].lo.map(f64::floor), ts[0].hi.map(f64::ceil)),
                )
            }
            "float" => {
                num(0)?;
                (
                    Func::Float,
                    Ty {
                        base: Base::Float,
                        ..ts[0].clone()
                    },
                )
            }
            "abs" => {
                num(0)?;
                let hi = ts[0].lo.zip(ts[0].hi).map(|(l, h)| l.abs().max(h.abs()));
                (Func::Abs, Ty::range(ts[0].base, Some(0.0), hi))
            }
            "min" | "max" => {
                for i in 0..es.len() {
                    num(i)?;
                }
                let is_min = name == "min";
                let all_int = ts.iter().all(|t| t.base == Base::Int);
                // min: below every argument's upper bound; max: above every lower bound.
                let fold = |f: fn(&Ty) -> Option<f64>, lower: bool| {
                    let xs: Vec<Option<f64>> = ts.iter().map(f).collect();
                    if xs.iter().all(Option::is_some) {
                        let it = xs.iter().flatten().copied();
                        Some(if lower {
                            it.fold(f64::INFINITY, f64::min)
                        } else {
                            it.fold(f64::NEG_INFINITY, f64::max)
                        })
                    } else {
                        None
                    }
                };
                let (lo, hi) = if is_min {
                    (
                        fold(|t| t.lo, true),
                        ts.iter().filter_map(|t| t.hi).reduce(f64::min),
                    )
                } else {
                    (
                        ts.iter().filter_map(|t| t.lo).reduce(f64::max),
                        fold(|t| t.hi, false),
                    )
                };
                let base = if all_int { Base::Int } else { Base::Float };
                (
                    if is_min { Func::Min } else { Func::Max },
                    Ty::range(base, lo, hi),
                )
            }
            "clamp" => {
                num(0)?;
                num(1)?;
                num(2)?;
                if let (Some(l), Some(h)) = (lit(1), lit(2)) {
                    if l > h {
                        return bad(format!("the lower bound {l} is above the upper bound {h}"));
                    }
                }
                let lo = max_opt(ts[0].lo, lit(1));
                let hi = min_opt(ts[0].hi, lit(2));
                (Func::Clamp, Ty::range(ts[0].base, lo, hi))
            }
            "uniform" | "randint" => {
                num(0)?;
                num(1)?;
                if let (Some(a), Some(b)) = (lit(0), lit(1)) {
                    if a.partial_cmp(&b).is_none_or(|o| o.is_gt()) || !(b - a).is_finite() {
                        return bad(format!(
                            "the range {a}..{b} is empty; give the lower bound first"
                        ));
                    }
                }
                let base = if name == "uniform" {
                    Base::Float
                } else {
                    Base::Int
                };
                let f = if name == "uniform" {
                    Func::Uniform
                } else {
                    Func::Randint
                };
                (f, Ty::range(base, ts[0].lo, ts[1].hi))
            }
            "normal" | "lognormal" => {
                num(0)?;
                num(1)?;
                let f = match (lit(0), lit(1)) {
                    (Some(m), Some(sd)) => {
                        if sd.is_nan() || sd < 0.0 || !sd.is_finite() || !m.is_finite() {
                            return bad(format!(
                                "the spread is {sd}; it must be a finite number >= 0"
                            ));
                        }
                        if name == "normal" {
                            Normal::new(m, sd)
                                .map(Func::NormalC)
                                .map_err(|e| format!("{name}: {e}"))?
                        } else {
                            LogNormal::new(m, sd)
                                .map(Func::LognormalC)
                                .map_err(|e| format!("{name}: {e}"))?
                        }
                    }
                    _ if name == "normal" => Func::Normal,
                    _ => Func::Lognormal,
                };
                let lo = (name == "lognormal").then_some(0.0);
                (f, Ty::range(Base::Float, lo, None))
            }
            "exponential" => {
                num(0)?;
                let f = match lit(0) {
                    Some(mean) if mean > 0.0 && mean.is_finite() => Exp::new(1.0 / mean)
                        .map(Func::ExponentialC)
                        .map_err(|e| format!("{name}: {e}"))?,
                    Some(mean) => return bad(format!("the mean is {mean}; it must be > 0")),
                    None => Func::Exponential,
                };
                (f, Ty::range(Base::Float, Some(0.0), None))
            }
            "zipf" => {
                num(0)?;
                num(1)?;
                let f = match (lit(0), lit(1)) {
                    (Some(n), Some(s)) => {
                        if n.is_nan()
                            || n < 1.0
                            || s.is_nan()
                            || s <= 0.0
                            || !n.is_finite()
                            || !s.is_finite()
                        {
                            return bad(format!("zipf({n}, {s}) needs n >= 1 and s > 0"));
                        }
                        Zipf::new(n, s)
                            .map(Func::ZipfC)
                            .map_err(|e| format!("{name}: {e}"))?
                    }
                    _ => Func::Zipf,
                };
                (f, Ty::range(Base::Int, Some(1.0), ts[0].hi))
            }
            "chance" => {
                num(0)?;
                if let Some(p) = lit(0) {
                    if !(0.0..=1.0).contains(&p) {
                        return bad(format!("the probability is {p}; it must be in 0..1"));
                    }
                }
                (Func::Chance, bool_ty(None))
            }
            "choice" => {
                let mut t = ts[0].clone();
                for u in &ts[1..] {
                    t = t.union(u);
                }
                (Func::Choice, t)
            }
            "weighted" => {
                if es.len() % 2 != 0 {
                    return bad("takes value, weight pairs".into());
                }
                let mut values = Vec::new();
                let mut weights = Vec::new();
                let mut t: Option<Ty> = None;
                for i in (0..es.len()).step_by(2) {
                    let Expr::Lit(v) = &es[i] else {
                        return bad(format!("value {} must be a constant", i / 2 + 1));
                    };
                    let Some(w) = lit(i + 1).filter(|w| *w >= 0.0 && w.is_finite()) else {
                        return bad(format!("the weight of {v} must be a constant number >= 0"));
                    };
                    values.push(v.clone());
                    weights.push(w);
                    t = Some(t.map_or(ts[i].clone(), |t| t.union(&ts[i])));
                }
                let index = rand_distr::weighted::WeightedIndex::new(&weights)
                    .map_err(|_| format!("{name}: the weights must not all be 0"))?;
                (
                    Func::Weighted(Arc::new((values, index))),
                    t.unwrap_or(Ty::of(Base::Any)),
                )
            }
            "fake" => {
                let Some(kind) = text(0) else {
                    return bad("the kind must be a constant text, e.g. fake('email')".into());
                };
                let Some(k) = FakeKind::named(&kind) else {
                    let all: Vec<&str> = fake::KINDS.iter().map(|k| k.0).collect();
                    return bad(format!(
                        "unknown fake-data kind `{kind}`; kinds: {}",
                        all.join(", ")
                    ));
                };
                (Func::Fake(k), k.ty())
            }
            "date_between" => {
                for i in 0..2 {
                    if let Some(d) = text(i) {
                        if fake::parse_date(&d).is_none() {
                            return bad(format!("{d:?} is not a date (YYYY-MM-DD)"));
                        }
                    }
                }
                if let (Some(a), Some(b)) = (text(0), text(1)) {
                    if a > b {
                        return bad(format!("{a} is after {b}; give the earlier date first"));
                    }
                }
                (Func::DateBetween, Ty::format(Base::Str, "date"))
            }
            "date" => {
                num(0)?;
                (Func::Date, Ty::format(Base::Str, "date"))
            }
            "hour" | "weekday" => {
                num(0)?;
                let (f, lo, hi) = if name == "hour" {
                    (Func::Hour, 0.0, 23.0)
                } else {
                    (Func::Weekday, 1.0, 7.0)
                };
                (f, Ty::range(Base::Int, Some(lo), Some(hi)))
            }
            "seconds" | "minutes" | "hours" | "days" => {
                num(0)?;
                let unit = match name {
                    "seconds" => 1_000,
                    "minutes" => 60_000,
                    "hours" => 3_600_000,
                    _ => 86_400_000,
                };
                let scale = |x: Option<f64>| x.map(|x| x * unit as f64);
                (
                    Func::Millis(unit),
                    Ty::range(Base::Int, scale(ts[0].lo), scale(ts[0].hi)),
                )
            }
            "format" => {
                let Some(f) = text(0) else {
                    return bad(
                        "the first argument must be a constant text with `{}` places".into(),
                    );
                };
                let pieces: Vec<String> = f.split("{}").map(str::to_string).collect();
                if pieces.len() != es.len() {
                    return bad(format!(
                        "{:?} has {} `{{}}` places for {} values",
                        f,
                        pieces.len() - 1,
                        es.len() - 1
                    ));
                }
                (Func::Format(pieces.into()), Ty::of(Base::Str))
            }
            "concat" => (Func::Concat, Ty::of(Base::Str)),
            "upper" | "lower" => (
                if name == "upper" {
                    Func::Upper
                } else {
                    Func::Lower
                },
                Ty::of(Base::Str),
            ),
            "uuid" => (Func::Uuid, Ty::format(Base::Str, "uuid")),
            "ref" => {
                let Some(kind) = text(0) else {
                    return bad("the kind must be a constant text, e.g. ref('customers')".into());
                };
                let k = self.kind(&kind)?;
                (Func::Ref(k), Ty::of(Base::Ent(k)))
            }
            _ => return Err(format!("unknown function `{name}`")),
        };
        Ok((Expr::Call(func, es), ty))
    }
}

fn max_opt(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

fn min_opt(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn bool_ty(known: Option<bool>) -> Ty {
    Ty {
        one_of: known.map(|b| vec![Value::Bool(b)]),
        ..Ty::of(Base::Bool)
    }
}

/// `Some(b)` when a boolean type can only be `b`.
pub fn known_bool(t: &Ty) -> Option<bool> {
    match t.one_of.as_deref() {
        Some([Value::Bool(b)]) => Some(*b),
        _ => None,
    }
}

/// Whether a comparison can never hold, from what is known of both sides' ranges and values.
fn impossible(op: BinOp, a: &Ty, b: &Ty) -> bool {
    if let (Some(values), Some([v])) = (&a.one_of, b.one_of.as_deref()) {
        if op == BinOp::Eq && !values.contains(v) {
            return true;
        }
    }
    if !(a.is_number() && b.is_number()) {
        return false;
    }
    let (alo, ahi, blo, bhi) = (a.lo, a.hi, b.lo, b.hi);
    match op {
        BinOp::Gt => matches!((ahi, blo), (Some(h), Some(l)) if h <= l),
        BinOp::Ge => matches!((ahi, blo), (Some(h), Some(l)) if h < l),
        BinOp::Lt => matches!((alo, bhi), (Some(l), Some(h)) if l >= h),
        BinOp::Le => matches!((alo, bhi), (Some(l), Some(h)) if l > h),
        BinOp::Eq => {
            matches!((ahi, blo), (Some(h), Some(l)) if h < l)
                || matches!((alo, bhi), (Some(l), Some(h)) if l > h)
        }
        _ => false,
    }
}

fn arith(op: BinOp, a: &Ty, b: &Ty) -> Ty {
    let int = a.base == Base::Int && b.base == Base::Int && !matches!(op, BinOp::Div);
    let base = if int { Base::Int } else { Base::Float };
    let (lo, hi) = match (op, a.lo, a.hi, b.lo, b.hi) {
        (BinOp::Add, al, ah, bl, bh) => (
            al.zip(bl).map(|(x, y)| x + y),
            ah.zip(bh).map(|(x, y)| x + y),
        ),
        (BinOp::Sub, al, ah, bl, bh) => (
            al.zip(bh).map(|(x, y)| x - y),
            ah.zip(bl).map(|(x, y)| x - y),
        ),
        (BinOp::Mul, Some(al), Some(ah), Some(bl), Some(bh)) => {
            let c = [al * bl, al * bh, ah * bl, ah * bh];
            (
                Some(c.iter().cloned().fold(f64::INFINITY, f64::min)),
                Some(c.iter().cloned().fold(f64::NEG_INFINITY, f64::max)),
            )
        }
        (BinOp::Div, Some(al), Some(ah), Some(bl), Some(bh)) if bl > 0.0 => {
            let c = [al / bl, al / bh, ah / bl, ah / bh];
            (
                Some(c.iter().cloned().fold(f64::INFINITY, f64::min)),
                Some(c.iter().cloned().fold(f64::NEG_INFINITY, f64::max)),
            )
        }
        (BinOp::Rem, _, _, Some(bl), Some(bh)) if bl > 0.0 && a.lo.is_some_and(|l| l >= 0.0) => {
            (Some(0.0), Some(bh))
        }
        _ => (None, None),
    };
    let finite = |x: Option<f64>| x.filter(|x| x.is_finite());
    Ty::range(base, finite(lo), finite(hi))
}

/// Folds an expression whose parts are all constant and whose functions draw nothing.
fn fold(e: Expr, t: Ty) -> (Expr, Ty) {
    if !constant(&e) || matches!(e, Expr::Lit(_)) {
        return (e, t);
    }
    let master = Master::default();
    let state = State::default();
    let ctx = Ctx {
        master: &master,
        state: &state,
        locals: &[],
        now: 0,
        event_id: uuid::Uuid::nil(),
        caused_by: None,
        event_type: "",
        seq: 0,
    };
    let mut rng = crate::SimRng::seed_from_u64(0);
    let v = ctx.eval(&e, &mut rng);
    let mut ty = Ty::exact(&v);
    if t.base == Base::Float && ty.base == Base::Int {
        ty.base = Base::Float;
    }
    (Expr::Lit(v), ty)
}

fn constant(e: &Expr) -> bool {
    match e {
        Expr::Lit(_) => true,
        Expr::Neg(x) | Expr::Not(x) => constant(x),
        Expr::Bin(_, a, b) => constant(a) && constant(b),
        Expr::Cond(c, a, b) => constant(c) && constant(a) && constant(b),
        Expr::Call(f, args) => f.pure() && args.iter().all(constant),
        _ => false,
    }
}
