//! `exp`, `ln`, `pow`, `sqrt` and the list lookup `at`: their types and ranges at load, and
//! their values. A result that is not a finite number is null, as with `/` and the others.

use super::expr::{Arg, Ctx, Func};
use super::value::{Base, Ty, Value};
use crate::SimRng;

/// Builds the functions added after the first set: `exp`, `ln`, `sqrt`, `pow`, `at`, and
/// (in their own modules) `poisson`, `binomial`, `local_hour` and `local_weekday`. `lit` holds
/// the arguments that are constant numbers, `text` the second one when it is constant text.
pub(super) fn compile(
    name: &str,
    lit: &[Option<f64>],
    text: Option<&str>,
    ts: &[Ty],
    kinds: &[String],
) -> Result<(Func, Ty), String> {
    let num = |i: usize| super::functions::number_arg(name, ts, i, kinds);
    let f = match name {
        "exp" => Func::Exp,
        "ln" => Func::Ln,
        "sqrt" => Func::Sqrt,
        "pow" => Func::Pow,
        "at" => {
            num(0)?;
            return Ok((Func::At, at_ty(ts)));
        }
        "local_hour" | "local_weekday" => {
            num(0)?;
            return super::fn_zone::compile(name, text, &ts[1]);
        }
        _ => {
            (0..ts.len()).try_for_each(num)?;
            return super::fn_draws::compile(name, lit, ts);
        }
    };
    (0..ts.len()).try_for_each(num)?;
    let ty = math_ty(&f, ts);
    Ok((f, ty))
}

/// The type of `exp`, `ln`, `sqrt` or `pow` over arguments of types `ts` (numbers, checked
/// by the caller). Nullable unless the ranges show the result is always a finite number.
pub(super) fn math_ty(f: &Func, ts: &[Ty]) -> Ty {
    let x = &ts[0];
    let fin = |v: f64| Some(v).filter(|v| v.is_finite());
    let (lo, hi, safe) = match f {
        Func::Exp => (
            Some(x.lo.map_or(0.0, f64::exp)),
            x.hi.and_then(|h| fin(h.exp())),
            x.hi.is_some_and(|h| h.exp().is_finite()),
        ),
        Func::Ln => (
            x.lo.filter(|l| *l > 0.0).map(f64::ln),
            x.hi.filter(|h| *h > 0.0).map(f64::ln),
            x.lo.is_some_and(|l| l > 0.0),
        ),
        Func::Sqrt => (
            Some(x.lo.map_or(0.0, |l| l.max(0.0).sqrt())),
            x.hi.filter(|h| *h >= 0.0).map(f64::sqrt),
            x.lo.is_some_and(|l| l >= 0.0),
        ),
        _ => pow_range(x, &ts[1]),
    };
    Ty {
        nullable: !safe,
        ..Ty::range(Base::Float, lo, hi)
    }
}

/// `pow(x, y)`'s range where it is simple to know: a base >= 1 raised to a known range of
/// exponents >= 0 grows with both. Otherwise only that a base >= 0 gives a result >= 0.
fn pow_range(x: &Ty, y: &Ty) -> (Option<f64>, Option<f64>, bool) {
    match (x.lo, x.hi, y.lo, y.hi) {
        (Some(xl), Some(xh), Some(yl), Some(yh)) if xl >= 1.0 && yl >= 0.0 => {
            let hi = xh.powf(yh);
            let ok = hi.is_finite();
            (Some(xl.powf(yl)), ok.then_some(hi), ok)
        }
        (Some(xl), ..) if xl >= 0.0 => (Some(0.0), None, false),
        _ => (None, None, false),
    }
}

/// The type of `at(i, a, b, ...)`: any of the items, or null when `i` can fall outside
/// `1..=n` (or is not known to be a whole number).
pub(super) fn at_ty(ts: &[Ty]) -> Ty {
    let items = &ts[1..];
    let mut t = items[0].clone();
    for u in &items[1..] {
        t = t.union(u);
    }
    let i = &ts[0];
    let inside = i.base == Base::Int
        && i.lo.is_some_and(|l| l >= 1.0)
        && i.hi.is_some_and(|h| h <= items.len() as f64);
    if !inside {
        t.nullable = true;
    }
    t
}

impl Ctx<'_> {
    /// `exp`, `ln`, `sqrt`, `pow` and `at`.
    pub(super) fn call_math<A: Arg>(&self, f: &Func, args: &[A], rng: &mut SimRng) -> Value {
        let mut num = |i: usize| args.get(i).and_then(|a| a.value(self, rng).as_f64());
        let r = match f {
            Func::Exp => num(0).map(f64::exp),
            Func::Ln => num(0).map(f64::ln),
            Func::Sqrt => num(0).map(f64::sqrt),
            Func::Pow => match (num(0), num(1)) {
                (Some(x), Some(y)) => Some(x.powf(y)),
                _ => None,
            },
            Func::At => {
                // 1-based, like `weekday`, zipf ranks and `occurrence`; only the chosen item
                // is evaluated.
                return match args.first().map(|a| a.value(self, rng)) {
                    Some(Value::Int(i)) if i >= 1 && (i as usize) < args.len() => {
                        args[i as usize].value(self, rng)
                    }
                    Some(Value::Float(x)) if x.get().fract() == 0.0 && x.get() >= 1.0 => {
                        match args.get(x.get() as usize) {
                            Some(a) => a.value(self, rng),
                            None => Value::Null,
                        }
                    }
                    _ => Value::Null,
                };
            }
            _ => None,
        };
        r.filter(|x| x.is_finite())
            .map_or(Value::Null, Value::float)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{compile, eval};
    use super::*;

    #[test]
    fn math_values_and_null_where_not_finite() {
        assert_eq!(eval("exp(0)"), Value::float(1.0));
        assert_eq!(eval("ln(1)"), Value::float(0.0));
        assert_eq!(eval("sqrt(16)"), Value::float(4.0));
        assert_eq!(eval("pow(2, 10)"), Value::float(1024.0));
        assert_eq!(eval("pow(4, 0.5)"), Value::float(2.0));
        assert_eq!(eval("round(ln(exp(3)), 6)"), Value::float(3.0));
        for bad in [
            "ln(0)",
            "ln(-1)",
            "sqrt(-1)",
            "exp(1000)",
            "pow(-8, 0.5)",
            "pow(0, -1)",
            "pow(10, 400)",
            "exp(chance(0) ? 1 : null)",
            "sqrt(chance(1) ? null : 4)",
        ] {
            assert_eq!(eval(bad), Value::Null, "{bad}");
        }
    }

    #[test]
    fn math_ranges_and_nullability_are_compiled() {
        let t = compile("exp(uniform(0, 1))").unwrap();
        assert_eq!(
            (t.base, t.lo, t.hi, t.nullable),
            (Base::Float, Some(1.0), Some(1f64.exp()), false)
        );
        let t = compile("ln(uniform(1, 100))").unwrap();
        assert_eq!((t.lo, t.nullable), (Some(0.0), false));
        let t = compile("ln(uniform(-1, 100))").unwrap();
        assert!(t.nullable && t.lo.is_none(), "{t:?}");
        let t = compile("sqrt(uniform(4, 9))").unwrap();
        assert_eq!((t.lo, t.hi, t.nullable), (Some(2.0), Some(3.0), false));
        let t = compile("pow(uniform(1, 2), uniform(0, 3))").unwrap();
        assert_eq!((t.lo, t.hi, t.nullable), (Some(1.0), Some(8.0), false));
        let t = compile("pow(uniform(-2, 2), 2)").unwrap();
        assert!(t.nullable);
        let e = compile("sqrt('x')").unwrap_err();
        assert!(e.contains("argument 1 of `sqrt` must be a number"), "{e}");
        assert!(compile("pow(2)").unwrap_err().contains("takes 2 arguments"));
    }

    #[test]
    fn at_is_one_based_lazy_and_null_outside() {
        assert_eq!(eval("at(1, 'a', 'b', 'c')"), Value::str("a"));
        assert_eq!(eval("at(3, 'a', 'b', 'c')"), Value::str("c"));
        assert_eq!(eval("at(2.0, 'a', 'b', 'c')"), Value::str("b"));
        for bad in [
            "at(0, 'a', 'b')",
            "at(3, 'a', 'b')",
            "at(-1, 'a')",
            "at(1.5, 'a', 'b')",
        ] {
            assert_eq!(eval(bad), Value::Null, "{bad}");
        }
        assert_eq!(eval("at(chance(0) ? 1 : null, 'a')"), Value::Null);
    }

    #[test]
    fn at_types_as_the_union_of_its_items() {
        let t = compile("at(randint(1, 3), 'a', 'b', 'c')").unwrap();
        assert_eq!(t.base, Base::Str);
        assert!(!t.nullable);
        assert_eq!(t.one_of.as_ref().map(Vec::len), Some(3));
        let t = compile("at(randint(0, 3), 1, 2.5)").unwrap();
        assert_eq!(
            (t.base, t.lo, t.hi, t.nullable),
            (Base::Float, Some(1.0), Some(2.5), true)
        );
        let e = compile("at('x', 1, 2)").unwrap_err();
        assert!(e.contains("argument 1 of `at` must be a number"), "{e}");
        assert!(compile("at(1)").unwrap_err().contains("takes 2 to"));
    }
}
