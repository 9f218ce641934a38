//! The built-in functions of world-file expressions, evaluated (their names and argument
//! types are checked at load, in `functions.rs`).

use rand::RngExt;
use rand_distr::{Distribution, Exp, LogNormal, Normal, Zipf};

use super::expr::{Arg, Ctx, Func};
use super::value::{make_text, uuid_text, Text, Value};
use crate::SimRng;

impl Ctx<'_> {
    pub(super) fn call<A: Arg>(&self, f: &Func, args: &[A], rng: &mut SimRng) -> Value {
        self.call_inline(f, args, rng)
    }

    /// [`Ctx::call`], inlined where it is called: a compiled call of one function passes that
    /// function as a constant, and the match below folds to its one arm.
    #[inline(always)]
    pub(super) fn call_inline<A: Arg>(&self, f: &Func, args: &[A], rng: &mut SimRng) -> Value {
        let num =
            |i: usize, rng: &mut SimRng| args.get(i).and_then(|a| a.value(self, rng).as_f64());
        match f {
            Func::Round => num(0, rng).map_or(Value::Null, |x| to_int(x.round())),
            Func::RoundTo => match (num(0, rng), num(1, rng)) {
                (Some(x), Some(p)) => {
                    let m = 10f64.powi(p.clamp(0.0, 12.0) as i32);
                    Value::float((x * m).round() / m)
                }
                _ => Value::Null,
            },
            Func::Floor => num(0, rng).map_or(Value::Null, |x| to_int(x.floor())),
            Func::Ceil => num(0, rng).map_or(Value::Null, |x| to_int(x.ceil())),
            Func::Abs => match args.first().map(|a| a.value(self, rng)) {
                Some(Value::Int(i)) => Value::Int(i.wrapping_abs()),
                Some(Value::Float(x)) => Value::float(x.get().abs()),
                _ => Value::Null,
            },
            Func::Min | Func::Max => {
                let mut best: Option<Value> = None;
                for a in args {
                    let v = a.value(self, rng);
                    let Some(x) = v.as_f64() else {
                        return Value::Null;
                    };
                    let better = best.as_ref().and_then(Value::as_f64).is_none_or(|b| {
                        if matches!(f, Func::Min) {
                            x < b
                        } else {
                            x > b
                        }
                    });
                    if better {
                        best = Some(v);
                    }
                }
                best.unwrap_or(Value::Null)
            }
            Func::Clamp => {
                let v = args.first().map_or(Value::Null, |a| a.value(self, rng));
                match (v.as_f64(), num(1, rng), num(2, rng)) {
                    (Some(x), Some(lo), Some(hi)) if lo <= hi => {
                        if x < lo {
                            keep_kind(&v, lo)
                        } else if x > hi {
                            keep_kind(&v, hi)
                        } else {
                            v
                        }
                    }
                    _ => Value::Null,
                }
            }
            Func::Int => num(0, rng).map_or(Value::Null, |x| to_int(x.trunc())),
            Func::Float => num(0, rng).map_or(Value::Null, Value::float),
            Func::Uniform => match (num(0, rng), num(1, rng)) {
                (Some(a), Some(b)) if a < b && (b - a).is_finite() => {
                    Value::float(rng.random_range(a..b))
                }
                (Some(a), Some(b)) if a == b => Value::float(a),
                _ => Value::Null,
            },
            Func::Randint => match (num(0, rng), num(1, rng)) {
                (Some(a), Some(b)) if a <= b && a.abs() < 9e15 && b.abs() < 9e15 => {
                    Value::Int(rng.random_range(a as i64..=b as i64))
                }
                _ => Value::Null,
            },
            Func::Normal => match (num(0, rng), num(1, rng)) {
                (Some(m), Some(sd)) => {
                    Normal::new(m, sd).map_or(Value::Null, |d| Value::float(d.sample(rng)))
                }
                _ => Value::Null,
            },
            Func::NormalC(d) => Value::float(d.sample(rng)),
            Func::Lognormal => match (num(0, rng), num(1, rng)) {
                (Some(m), Some(s)) => {
                    LogNormal::new(m, s).map_or(Value::Null, |d| Value::float(d.sample(rng)))
                }
                _ => Value::Null,
            },
            Func::LognormalC(d) => Value::float(d.sample(rng)),
            Func::Exponential => match num(0, rng) {
                Some(mean) if mean > 0.0 => {
                    Exp::new(1.0 / mean).map_or(Value::Null, |d| Value::float(d.sample(rng)))
                }
                _ => Value::Null,
            },
            Func::ExponentialC(d) => Value::float(d.sample(rng)),
            Func::Zipf => match (num(0, rng), num(1, rng)) {
                (Some(n), Some(s)) => {
                    Zipf::new(n, s).map_or(Value::Null, |d| to_int(d.sample(rng)))
                }
                _ => Value::Null,
            },
            Func::ZipfC(d) => to_int(d.sample(rng)),
            Func::Poisson | Func::PoissonC(_) | Func::Binomial | Func::BinomialC(_) => {
                self.call_draw(f, args, rng)
            }
            Func::Exp | Func::Ln | Func::Sqrt | Func::Pow | Func::At => {
                self.call_math(f, args, rng)
            }
            Func::LocalTime(hour, tz) => self.call_zone(*hour, *tz, args, rng),
            Func::Chance => {
                num(0, rng).map_or(Value::Null, |p| Value::bool(rng.random::<f64>() < p))
            }
            Func::Choice => {
                if args.is_empty() {
                    return Value::Null;
                }
                let i = rng.random_range(0..args.len());
                args[i].value(self, rng)
            }
            Func::Weighted(table) => table.0[table.1.sample(rng)].clone(),
            Func::Fake(kind) => kind.draw(rng),
            Func::DateBetween => match (
                self.eval_str(args.first(), rng),
                self.eval_str(args.get(1), rng),
            ) {
                (Some(a), Some(b)) => {
                    super::fake::date_between(rng, &a, &b).map_or(Value::Null, |d| Value::str(&d))
                }
                _ => Value::Null,
            },
            Func::Date => num(0, rng).map_or(Value::Null, |ms| date_text(ms as i64)),
            Func::Hour | Func::Weekday => num(0, rng).map_or(Value::Null, |ms| {
                use chrono::{Datelike, Timelike};
                chrono::DateTime::from_timestamp_millis(ms as i64).map_or(Value::Null, |t| {
                    Value::Int(if matches!(f, Func::Hour) {
                        t.hour() as i64
                    } else {
                        t.weekday().number_from_monday() as i64
                    })
                })
            }),
            Func::Millis(unit) => match num(0, rng) {
                Some(x) if (x * *unit as f64).abs() < 9e15 => {
                    Value::Int((x * *unit as f64).round() as i64)
                }
                _ => Value::Null,
            },
            Func::Format(pieces) => Value::Str(make_text(|out| {
                for (i, piece) in pieces.iter().enumerate() {
                    out.push_str(piece);
                    if let Some(a) = args.get(i + 1) {
                        push_text(out, &a.value(self, rng), self);
                    }
                }
            })),
            Func::Concat => Value::Str(make_text(|out| {
                for a in args {
                    push_text(out, &a.value(self, rng), self);
                }
            })),
            Func::Upper | Func::Lower => match self.eval_str(args.first(), rng) {
                Some(s) if matches!(f, Func::Upper) => Value::Str(Text::from(s.to_uppercase())),
                Some(s) => Value::Str(Text::from(s.to_lowercase())),
                None => Value::Null,
            },
            Func::Uuid => Value::Str(uuid_text(
                uuid::Builder::from_random_bytes(rng.random()).into_uuid(),
            )),
            Func::Ref(k) => {
                let n = self
                    .master
                    .kinds
                    .get(*k as usize)
                    .map_or(0, |kd| kd.ids.len());
                if args.len() == 2 {
                    // The n-th, from 1.
                    match num(1, rng) {
                        Some(i) if i.fract() == 0.0 && i >= 1.0 && i <= n as f64 => {
                            Value::ent(*k, i as u32 - 1)
                        }
                        _ => Value::Null,
                    }
                } else if n == 0 {
                    Value::Null
                } else {
                    Value::ent(*k, rng.random_range(0..n) as u32)
                }
            }
        }
    }

    fn eval_str<A: Arg>(&self, e: Option<&A>, rng: &mut SimRng) -> Option<Text> {
        match e?.value(self, rng) {
            Value::Str(s) => Some(s),
            Value::Ent(e) => self.id(e.kind(), e.index()),
            _ => None,
        }
    }
}

fn push_text(out: &mut String, v: &Value, ctx: &Ctx<'_>) {
    use std::fmt::Write;
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if b.get() { "true" } else { "false" }),
        // itoa writes what `Display` writes, without the formatting machinery (a
        // `format('sess_{}_{}', now, n)` spent 280 instructions a number in it).
        Value::Int(i) => out.push_str(itoa::Buffer::new().format(*i)),
        Value::Float(x) => {
            let _ = write!(out, "{}", x.get());
        }
        Value::Str(s) => out.push_str(s),
        Value::Ent(..) => out.push_str(ctx.text_of(v).unwrap_or("")),
    }
}

fn to_int(x: f64) -> Value {
    if x.is_finite() && x.abs() < 9.2e18 {
        Value::Int(x as i64)
    } else {
        Value::Null
    }
}

fn keep_kind(like: &Value, x: f64) -> Value {
    match like {
        Value::Int(_) => to_int(x),
        _ => Value::float(x),
    }
}

/// The UTC date of a time in ms as `YYYY-MM-DD`. `date(now)` is read by every draw of a pick
/// such as `where: song.release_date <= date(now)`, so the last day's text is kept per thread
/// and shared instead of formatted again.
fn date_text(ms: i64) -> Value {
    thread_local! {
        static LAST: std::cell::RefCell<Option<(i64, Text)>> = const { std::cell::RefCell::new(None) };
    }
    let day = ms.div_euclid(86_400_000);
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        if let Some((d, text)) = last.as_ref() {
            if *d == day {
                return Value::Str(text.clone());
            }
        }
        let Some(t) = chrono::DateTime::from_timestamp_millis(ms) else {
            return Value::Null;
        };
        let text = Text::from(t.format("%Y-%m-%d").to_string());
        *last = Some((day, text.clone()));
        Value::Str(text)
    })
}
