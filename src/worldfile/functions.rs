//! The built-in functions of the expression language: their arities, argument checks,
//! result types and ranges, and distributions built once when their parameters are constant.

use std::sync::Arc;

use rand_distr::{Exp, LogNormal, Normal, Zipf};

use super::compile::{bool_ty, Scope};
use super::expr::{Expr, Func};
use super::fake::{self, FakeKind};
use super::parse::Ast;
use super::value::{Base, Ty, Value};

pub(super) const FUNCTIONS: &[(&str, usize, usize)] = &[
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
    ("poisson", 1, 1),
    ("binomial", 2, 2),
    ("exp", 1, 1),
    ("ln", 1, 1),
    ("sqrt", 1, 1),
    ("pow", 2, 2),
    ("at", 2, 257),
    ("local_hour", 2, 2),
    ("local_weekday", 2, 2),
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
    ("ref", 1, 2),
    ("pair", 2, 2),
];

impl Scope<'_> {
    pub(super) fn call(&self, name: &str, args: &[Ast]) -> Result<(Expr, Ty), String> {
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
        let num = |i: usize| number_arg(name, &ts, i, &names);
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
            "poisson" | "binomial" | "exp" | "ln" | "sqrt" | "pow" | "at" | "local_hour"
            | "local_weekday" => {
                let lits: Vec<Option<f64>> = (0..es.len()).map(lit).collect();
                let zone = if es.len() > 1 { text(1) } else { None };
                super::fn_math::compile(name, &lits, zone.as_deref(), &ts, &names)?
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
                // `ref(kind, n)`: the n-th entity, from 1 (`zipf(count, s)` gives one by
                // rank); null when n is not a whole number in 1..count.
                if es.len() == 2 {
                    num(1)?;
                }
                let mut ty = Ty::of(Base::Ent(k));
                ty.nullable = es.len() == 2;
                (Func::Ref(k), ty)
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

/// Argument `i` of `name` must be a number (or of a type known only at run time).
pub(super) fn number_arg(name: &str, ts: &[Ty], i: usize, kinds: &[String]) -> Result<(), String> {
    if ts[i].is_number() || ts[i].base == Base::Any {
        Ok(())
    } else {
        Err(format!(
            "argument {} of `{name}` must be a number, not {}",
            i + 1,
            ts[i].describe(kinds)
        ))
    }
}
