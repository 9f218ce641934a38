//! The tests `soak` runs: a chi-square test of homogeneity (a period's counts against the
//! rest of the run's), a two-sample Kolmogorov-Smirnov test, their p-values, and the
//! total-variation distance as the effect size of a mix.

/// ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms: about 15 significant digits).
fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x)Γ(1-x) = π / sin(πx).
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = G[0];
    let t = x + 7.5;
    for (i, g) in G.iter().enumerate().skip(1) {
        a += g / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// The regularised upper incomplete gamma function Q(a, x) = Γ(a, x) / Γ(a): by its series
/// below a + 1 and its continued fraction above (Numerical Recipes, 6.2).
fn gamma_q(a: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    let front = (-x + a * x.ln() - ln_gamma(a)).exp();
    if x < a + 1.0 {
        let (mut term, mut sum, mut n) = (1.0 / a, 1.0 / a, a);
        for _ in 0..10_000 {
            n += 1.0;
            term *= x / n;
            sum += term;
            if term.abs() < sum.abs() * 1e-16 {
                break;
            }
        }
        return (1.0 - sum * front).clamp(0.0, 1.0);
    }
    // Lentz's method.
    let tiny = 1e-300;
    let mut b = x + 1.0 - a;
    let mut c = 1.0 / tiny;
    let mut d = 1.0 / b;
    let mut h = d;
    for i in 1..10_000 {
        let an = -(i as f64) * (i as f64 - a);
        b += 2.0;
        d = an * d + b;
        if d.abs() < tiny {
            d = tiny;
        }
        c = b + an / c;
        if c.abs() < tiny {
            c = tiny;
        }
        d = 1.0 / d;
        let delta = d * c;
        h *= delta;
        if (delta - 1.0).abs() < 1e-16 {
            break;
        }
    }
    (front * h).clamp(0.0, 1.0)
}

/// P(X > `x`) for X chi-square distributed with `df` degrees of freedom.
pub fn chi2_sf(x: f64, df: f64) -> f64 {
    if df <= 0.0 {
        return 1.0;
    }
    gamma_q(df / 2.0, x / 2.0)
}

/// The Kolmogorov distribution's survival function Q(λ) = 2 Σ (-1)^(j-1) e^(-2 j² λ²).
pub fn kolmogorov_sf(lambda: f64) -> f64 {
    if lambda < 0.2 {
        return 1.0;
    }
    let mut sum = 0.0;
    let mut sign = 1.0;
    for j in 1..=100 {
        let j = f64::from(j);
        let term = (-2.0 * j * j * lambda * lambda).exp();
        sum += sign * term;
        if term < 1e-17 {
            break;
        }
        sign = -sign;
    }
    (2.0 * sum).clamp(0.0, 1.0)
}

/// A test's outcome: its statistic, p-value and effect size.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Outcome {
    /// Chi-square, or the KS statistic D.
    pub statistic: f64,
    pub p: f64,
    /// Total-variation distance for a mix, D for KS.
    pub effect: f64,
}

/// Expected count below which a category is pooled with the other rare ones: the chi-square
/// approximation needs about 5 per cell (Cochran), and a sparse cell alone inflates the
/// statistic (a rare value seen twice instead of once).
pub const MIN_EXPECTED: f64 = 5.0;

/// Chi-square test of homogeneity of `period` against `rest` (counts per category, the same
/// categories in both), with the total-variation distance between their shares. Categories
/// that neither side saw are left out; those whose expected count in either row is below
/// [`MIN_EXPECTED`] are pooled into one. `None` when either side is empty or only one
/// category is left.
pub fn chi2_homogeneity(period: &[f64], rest: &[f64]) -> Option<Outcome> {
    let (n1, n2): (f64, f64) = (period.iter().sum(), rest.iter().sum());
    if n1 <= 0.0 || n2 <= 0.0 {
        return None;
    }
    let total = n1 + n2;
    let mut cols: Vec<(f64, f64)> = Vec::with_capacity(period.len() + 1);
    let mut rare = (0.0, 0.0);
    for (a, b) in period.iter().zip(rest) {
        let col = a + b;
        if col <= 0.0 {
            continue;
        }
        if n1.min(n2) * col / total < MIN_EXPECTED {
            rare = (rare.0 + a, rare.1 + b);
        } else {
            cols.push((*a, *b));
        }
    }
    if rare.0 + rare.1 > 0.0 {
        cols.push(rare);
    }
    let (mut chi2, mut cells, mut tv) = (0.0, 0usize, 0.0);
    for (a, b) in &cols {
        let col = a + b;
        cells += 1;
        let (e1, e2) = (n1 * col / total, n2 * col / total);
        chi2 += (a - e1).powi(2) / e1 + (b - e2).powi(2) / e2;
        tv += (a / n1 - b / n2).abs();
    }
    if cells < 2 {
        return None;
    }
    Some(Outcome {
        statistic: chi2,
        p: chi2_sf(chi2, (cells - 1) as f64),
        effect: tv / 2.0,
    })
}

/// Two-sample KS test of `period` against `rest`, where `all_sorted` is `period` and `rest`
/// together, sorted, and `period_sorted` is `period` sorted: the rest's distribution is what
/// the whole has beyond the period's, so the whole is sorted once for every period. `None`
/// when either side is empty.
pub fn ks_against_rest(period_sorted: &[f64], all_sorted: &[f64]) -> Option<Outcome> {
    let (n, total) = (period_sorted.len(), all_sorted.len());
    if n == 0 || total <= n {
        return None;
    }
    let m = total - n;
    let (mut i, mut j, mut d) = (0usize, 0usize, 0.0f64);
    while j < total {
        let x = all_sorted[j];
        while j < total && all_sorted[j] <= x {
            j += 1;
        }
        while i < n && period_sorted[i] <= x {
            i += 1;
        }
        let f_period = i as f64 / n as f64;
        let f_rest = (j - i) as f64 / m as f64;
        d = d.max((f_period - f_rest).abs());
    }
    Some(ks_outcome(d, n, m))
}

/// The KS statistic `d` of samples of `n` and `m` values with its asymptotic p-value
/// (Stephens' small-sample correction, as in Numerical Recipes' `kstwo`).
fn ks_outcome(d: f64, n: usize, m: usize) -> Outcome {
    let ne = (n as f64 * m as f64) / (n + m) as f64;
    let en = ne.sqrt();
    Outcome {
        statistic: d,
        p: kolmogorov_sf((en + 0.12 + 0.11 / en) * d),
        effect: d,
    }
}

/// Two-sample KS test of two unsorted samples (for tests and small data).
pub fn ks_two_sample(a: &[f64], b: &[f64]) -> Option<Outcome> {
    let mut p: Vec<f64> = a.to_vec();
    let mut all: Vec<f64> = a.iter().chain(b).copied().collect();
    p.sort_by(f64::total_cmp);
    all.sort_by(f64::total_cmp);
    ks_against_rest(&p, &all)
}

/// The value at quantile `q` (0..=1) of sorted `xs`, by the nearest rank.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};
    use statrs::distribution::{ChiSquared, ContinuousCDF};

    /// The chi-square survival function against statrs' (an independent implementation), at
    /// the textbook critical values and far in the tail where drift is judged.
    #[test]
    fn chi_square_p_values_match_statrs_and_the_tables() {
        // df 1 at 3.841 and df 5 at 11.07 are the tables' 5% points; df 2 at 13.8155 is 0.1%.
        for (x, df, p) in [
            (3.841, 1.0, 0.05),
            (11.0705, 5.0, 0.05),
            (13.8155, 2.0, 0.001),
        ] {
            assert!((chi2_sf(x, df) - p).abs() < 1e-4, "x {x} df {df}");
        }
        for df in [1.0, 2.0, 5.0, 17.0, 60.0] {
            let dist = ChiSquared::new(df).unwrap();
            for x in [0.01, 0.5, 1.0, 3.0, 10.0, 40.0, 90.0, 150.0] {
                let want = dist.sf(x);
                let got = chi2_sf(x, df);
                let tol = 1e-9_f64.max(want * 1e-6);
                assert!((got - want).abs() <= tol, "df {df} x {x}: {got} vs {want}");
            }
        }
    }

    /// The Kolmogorov distribution at its published critical values: Q(1.358) = 0.05,
    /// Q(1.628) = 0.01, Q(1.949) = 0.001 (Smirnov's table), and D of known samples.
    #[test]
    fn ks_matches_the_kolmogorov_table_and_known_samples() {
        for (lambda, p) in [(1.3581, 0.05), (1.6276, 0.01), (1.9495, 0.001)] {
            assert!((kolmogorov_sf(lambda) - p).abs() < 2e-4, "λ {lambda}");
        }
        assert_eq!(kolmogorov_sf(0.0), 1.0);
        // Disjoint samples: D = 1. Identical ones: D = 0.
        let a: Vec<f64> = (0..50).map(f64::from).collect();
        let b: Vec<f64> = (100..150).map(f64::from).collect();
        assert_eq!(ks_two_sample(&a, &b).unwrap().statistic, 1.0);
        assert!(ks_two_sample(&a, &b).unwrap().p < 1e-20);
        let same = ks_two_sample(&a, &a).unwrap();
        assert_eq!((same.statistic, same.p), (0.0, 1.0));
        // {1,2,3,4} vs {3,4,5,6}: at x = 2 the first has 1/2, the second 0.
        let d = ks_two_sample(&[1.0, 2.0, 3.0, 4.0], &[3.0, 4.0, 5.0, 6.0]).unwrap();
        assert_eq!(d.statistic, 0.5);
    }

    /// Honest: two samples of one distribution pass a test at p < 0.01 about 99% of the
    /// time, and a shift of 0.3 sd on 2,000 values each (D about 0.12) is flagged by soak's
    /// rule, p < 1e-6 and D > 0.1.
    #[test]
    fn ks_and_chi_square_hold_their_level_and_find_a_shift() {
        let mut rng = crate::SimRng::seed_from_u64(7);
        let normal = |rng: &mut crate::SimRng, shift: f64| -> Vec<f64> {
            (0..2000)
                .map(|_| {
                    let (u, v): (f64, f64) = (rng.random(), rng.random());
                    shift + (-2.0 * (1.0 - u).ln()).sqrt() * (std::f64::consts::TAU * v).cos()
                })
                .collect()
        };
        let mut ks_rejects = 0;
        let mut chi_rejects = 0;
        for _ in 0..300 {
            let (a, b) = (normal(&mut rng, 0.0), normal(&mut rng, 0.0));
            ks_rejects += usize::from(ks_two_sample(&a, &b).unwrap().p < 0.01);
            let count = |xs: &[f64]| {
                let mut c = [0.0; 4];
                for x in xs {
                    c[((x + 2.0).clamp(0.0, 3.99)) as usize] += 1.0;
                }
                c
            };
            let o = chi2_homogeneity(&count(&a), &count(&b)).unwrap();
            chi_rejects += usize::from(o.p < 0.01);
        }
        // 300 tests at 1%: 3 expected; more than 12 has probability below 1e-4 (binomial).
        assert!(ks_rejects <= 12, "{ks_rejects} KS rejections of 300");
        assert!(
            chi_rejects <= 12,
            "{chi_rejects} chi-square rejections of 300"
        );
        let shifted = ks_two_sample(&normal(&mut rng, 0.0), &normal(&mut rng, 0.3)).unwrap();
        assert!(shifted.p < 1e-6 && shifted.effect > 0.1, "{shifted:?}");
    }

    #[test]
    fn homogeneity_gives_the_total_variation_distance() {
        let o = chi2_homogeneity(&[50.0, 50.0, 0.0], &[25.0, 75.0, 0.0]).unwrap();
        assert!((o.effect - 0.25).abs() < 1e-12);
        // 2x2 table [[50,50],[25,75]]: chi-square 13.333 on 1 df.
        assert!((o.statistic - 13.333_333).abs() < 1e-5, "{}", o.statistic);
        assert!(chi2_homogeneity(&[0.0, 0.0], &[1.0, 2.0]).is_none());
        assert!(chi2_homogeneity(&[5.0, 0.0], &[1.0, 0.0]).is_none());
        // Sparse categories are pooled: 100 values seen once each on one side and once each
        // elsewhere on the other are one cell, 100 against 100, not 200 cells of 1.
        let mut a = vec![0.0; 200];
        let mut b = vec![0.0; 200];
        a[..100].fill(1.0);
        b[100..].fill(1.0);
        let (a2, b2) = ([a, vec![400.0]].concat(), [b, vec![400.0]].concat());
        let o = chi2_homogeneity(&a2, &b2).unwrap();
        assert_eq!((o.statistic, o.effect), (0.0, 0.0));
        assert_eq!(quantile(&[1.0, 2.0, 3.0, 4.0, 5.0], 0.5), 3.0);
    }
}
