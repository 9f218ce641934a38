//! The counting draws `poisson(lambda)` and `binomial(n, p)`: their parameters checked and,
//! when constant, their distributions built once at load; then their draws.

use rand_distr::{Binomial, Distribution, Poisson};

use super::expr::{Arg, Ctx, Func};
use super::value::{Base, Ty, Value};
use crate::SimRng;

/// The largest `lambda` and `n`: draws stay whole numbers that a float holds exactly.
const MAX: f64 = 1e15;

/// Builds `poisson` or `binomial` from their constant arguments (`None` where not constant).
pub(super) fn compile(name: &str, lit: &[Option<f64>], ts: &[Ty]) -> Result<(Func, Ty), String> {
    if name == "poisson" {
        let f = match lit[0] {
            Some(l) if l.is_nan() || !(0.0..=MAX).contains(&l) => {
                return Err(format!(
                    "poisson: lambda is {l}; it must be a number in 0..{MAX:e}"
                ))
            }
            // Poisson(0) is always 0; rand_distr wants lambda > 0, so it is drawn at run time.
            Some(l) if l > 0.0 => Func::PoissonC(Box::new(
                Poisson::new(l).map_err(|e| format!("poisson: {e}"))?,
            )),
            _ => Func::Poisson,
        };
        return Ok((f, Ty::range(Base::Int, Some(0.0), None)));
    }
    if let Some(n) = lit[0] {
        if !(0.0..=MAX).contains(&n) || n.fract() != 0.0 {
            return Err(format!(
                "binomial: n is {n}; it must be a whole number in 0..{MAX:e}"
            ));
        }
    }
    if let Some(p) = lit[1] {
        if !(0.0..=1.0).contains(&p) {
            return Err(format!("binomial: p is {p}; it must be in 0..1"));
        }
    }
    let f = match (lit[0], lit[1]) {
        (Some(n), Some(p)) => Func::BinomialC(Box::new(
            Binomial::new(n as u64, p).map_err(|e| format!("binomial: {e}"))?,
        )),
        _ => Func::Binomial,
    };
    let hi = ts[0].hi.filter(|h| *h >= 0.0);
    Ok((f, Ty::range(Base::Int, Some(0.0), hi)))
}

impl Ctx<'_> {
    /// A draw of `poisson` or `binomial`; null for parameters outside their ranges.
    pub(super) fn call_draw<A: Arg>(&self, f: &Func, args: &[A], rng: &mut SimRng) -> Value {
        let num =
            |i: usize, rng: &mut SimRng| args.get(i).and_then(|a| a.value(self, rng).as_f64());
        let n = match f {
            Func::PoissonC(d) => Some(d.sample(rng)),
            Func::BinomialC(d) => Some(d.sample(rng) as f64),
            Func::Poisson => match num(0, rng) {
                Some(0.0) => Some(0.0),
                Some(l) if l > 0.0 && l <= MAX => Poisson::new(l).ok().map(|d| d.sample(rng)),
                _ => None,
            },
            Func::Binomial => match (num(0, rng), num(1, rng)) {
                (Some(n), Some(p)) if (0.0..=MAX).contains(&n) && n.fract() == 0.0 => {
                    Binomial::new(n as u64, p)
                        .ok()
                        .map(|d| d.sample(rng) as f64)
                }
                _ => None,
            },
            _ => None,
        };
        n.filter(|x| x.is_finite())
            .map_or(Value::Null, |x| Value::Int(x as i64))
    }
}

#[cfg(test)]
mod tests {
    use super::super::expr::Expr;
    use super::super::test_support::{compile, compiled, draws, eval};
    use super::*;

    /// Chi-square of observed counts against expected ones.
    fn chi2(observed: &[f64], expected: &[f64]) -> f64 {
        observed
            .iter()
            .zip(expected)
            .map(|(o, e)| (o - e) * (o - e) / e)
            .sum()
    }

    /// Counts of `values` in bins 0..k-1, with k-1 collecting everything above.
    fn bins(values: &[Value], k: usize) -> Vec<f64> {
        let mut b = vec![0.0; k];
        for v in values {
            let Value::Int(i) = v else {
                panic!("not an integer: {v}");
            };
            assert!(*i >= 0, "{i}");
            b[(*i as usize).min(k - 1)] += 1.0;
        }
        b
    }

    fn pmf_bins(pmf: impl Fn(usize) -> f64, k: usize, n: f64) -> Vec<f64> {
        let mut e: Vec<f64> = (0..k - 1).map(|i| pmf(i) * n).collect();
        e.push(n - e.iter().sum::<f64>());
        e
    }

    #[test]
    fn poisson_draws_follow_the_law() {
        // lambda = 4, 20,000 draws, bins 0..=11 and 12+ (every expected count > 20).
        let n = 20_000;
        let xs = draws("poisson(4)", n, 11);
        let pmf = |k: usize| {
            let lf: f64 = (1..=k).map(|i| (i as f64).ln()).sum();
            (-4.0 + k as f64 * 4f64.ln() - lf).exp()
        };
        let stat = chi2(&bins(&xs, 13), &pmf_bins(pmf, 13, n as f64));
        // 12 degrees of freedom: the 99.9% point of chi-square is 32.91.
        assert!(stat < 32.91, "chi-square {stat}");
    }

    #[test]
    fn binomial_draws_follow_the_law() {
        // n = 10, p = 0.3, 20,000 draws, bins 0..=7 and 8+ (every expected count > 20).
        let n = 20_000;
        let xs = draws("binomial(10, 0.3)", n, 12);
        let choose = |k: usize| (1..=k).fold(1.0, |c, i| c * (10 - i + 1) as f64 / i as f64);
        let pmf = |k: usize| choose(k) * 0.3f64.powi(k as i32) * 0.7f64.powi(10 - k as i32);
        let stat = chi2(&bins(&xs, 9), &pmf_bins(pmf, 9, n as f64));
        // 8 degrees of freedom: the 99.9% point of chi-square is 26.12.
        assert!(stat < 26.12, "chi-square {stat}");
        assert!(xs.iter().all(|v| matches!(v, Value::Int(0..=10))));
    }

    #[test]
    fn non_constant_parameters_draw_at_run_time_and_bad_ones_give_null() {
        // uniform(4, 4) is a draw, so the distribution cannot be built at load.
        let xs = draws("poisson(uniform(4, 4))", 20_000, 11);
        let mean = xs.iter().filter_map(Value::as_f64).sum::<f64>() / 20_000.0;
        // The mean's standard error is sqrt(4 / 20,000) = 0.014; allow 5 of them.
        assert!((mean - 4.0).abs() < 0.07, "{mean}");
        assert_eq!(eval("poisson(0)"), Value::Int(0));
        assert_eq!(eval("poisson(uniform(-2, -1))"), Value::Null);
        assert_eq!(eval("poisson(chance(0) ? 1 : null)"), Value::Null);
        assert_eq!(eval("binomial(uniform(-3, -2), 0.5)"), Value::Null);
        assert_eq!(eval("binomial(4, uniform(1.5, 2))"), Value::Null);
        assert_eq!(eval("binomial(4, 1)"), Value::Int(4));
        assert_eq!(eval("binomial(0, 0.5)"), Value::Int(0));
    }

    #[test]
    fn constant_parameters_build_once_and_bad_ones_are_load_errors() {
        assert!(matches!(
            compiled("poisson(lambda)").unwrap().0,
            Expr::Call(Func::PoissonC(_), _)
        ));
        assert!(matches!(
            compiled("binomial(10, 0.5)").unwrap().0,
            Expr::Call(Func::BinomialC(_), _)
        ));
        let t = compile("binomial(randint(0, 20), 0.5)").unwrap();
        assert_eq!((t.base, t.lo, t.hi), (Base::Int, Some(0.0), Some(20.0)));
        let t = compile("poisson(3)").unwrap();
        assert_eq!((t.base, t.lo, t.hi), (Base::Int, Some(0.0), None));
        for (bad, says) in [
            ("poisson(-1)", "lambda is -1"),
            ("binomial(-1, 0.5)", "n is -1"),
            ("binomial(2.5, 0.5)", "n is 2.5"),
            ("binomial(10, 1.5)", "p is 1.5"),
            ("binomial(10, -0.1)", "p is -0.1"),
            ("poisson('x')", "must be a number"),
        ] {
            let e = compile(bad).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }
}
