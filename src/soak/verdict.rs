//! The drift tests, their thresholds, and the verdict. A period is tested against the rest of
//! the run (warm-up periods left out of both), so the two samples are independent. Drift is
//! flagged only when a test's p-value is below [`P_MAX`] *and* its effect size passes its own
//! threshold: a true difference too small to matter is not drift, however many events show it.
//! Shares are tested, never counts, so a world whose volume follows a weekly or holiday
//! profile is not drifting for that.

use std::collections::BTreeMap;

use super::drive::{PeriodData, SoakData, VarStats};
use super::stats::{chi2_homogeneity, Outcome};

/// p-value below which a difference is taken as real: a 30-day soak runs about 1,500 tests
/// (types, fields, periods), so 1e-6 keeps the chance of one false alarm in a steady world
/// near 0.15% (Bonferroni), and events that follow one another (a follow-up and its cause)
/// make the counts overdispersed, which a strict level also absorbs.
pub const P_MAX: f64 = 1e-6;
/// Total-variation distance of a period's type mix from the rest's: 5 points of share moved
/// between types is a stream someone would notice; less is noise in a real business.
pub const MIX_TV: f64 = 0.05;
/// The same for a text or enum field's values.
pub const FIELD_TV: f64 = 0.05;
/// KS distance of a numeric field: the period's distribution function off the rest's by 10
/// points somewhere (a median moved by a tenth of the population).
pub const KS_D: f64 = 0.1;
/// A state variable's mean off the run's mean by a quarter of its p5..p95 spread: the
/// population moved, not a few entities (and by more than its standard error allows, p <
/// [`P_MAX`], for a small population).
pub const STATE_SHIFT: f64 = 0.25;
/// More than half the entities at a declared bound, and this many points more than at the
/// start: state piling up at a cap or a floor (a share at its `init` is not a pile-up).
pub const AT_BOUND_SHARE: f64 = 0.5;
pub const AT_BOUND_RISE: f64 = 0.25;
/// The share of a type's draws refused moving by 10 points: the world serves that type
/// differently than it did.
pub const REFUSED_SHIFT: f64 = 0.10;
/// Follow-ups pending, the later half of the run's mean off the earlier half's by half of it,
/// and by more than [`PENDING_MIN_MOVE`]: a queue that fills or drains (see `pending`).
pub const PENDING_SHIFT: f64 = 0.5;
pub const PENDING_MIN_MOVE: f64 = 100.0;
/// Fewer values than this in a period's sample (or draws of a type) are not tested.
pub const MIN_SAMPLE: usize = 50;
/// A text field with more distinct values than this share of its sample is an identifier
/// (ids, names) and not tested; others keep their 29 commonest values and "other".
pub const ID_LIKE: f64 = 0.5;
pub const MAX_CATEGORIES: usize = 30;
/// A week, in ms: a period that divides it is compared with the periods of the same place in
/// the week (Mondays with Mondays), so a weekly pattern (retail's weekend channel mix) is the
/// world's rhythm, not drift; a trend still shows, as a Monday unlike the other Mondays.
const WEEK_MS: i64 = 7 * 86_400_000;
/// The fewest periods of one place in the week for that comparison; with fewer, a period is
/// compared with every other judged one.
const MIN_PEERS: usize = 2;

/// The thresholds, for the report and the JSON summary.
pub fn thresholds() -> serde_json::Value {
    serde_json::json!({
        "p_max": P_MAX, "mix_tv": MIX_TV, "field_tv": FIELD_TV, "ks_d": KS_D,
        "state_shift_of_p5_p95": STATE_SHIFT, "at_bound_share": AT_BOUND_SHARE,
        "at_bound_rise": AT_BOUND_RISE, "refused_shift": REFUSED_SHIFT,
        "pending_shift": PENDING_SHIFT, "pending_min_move": PENDING_MIN_MOVE,
        "min_sample": MIN_SAMPLE, "id_like_distinct_share": ID_LIKE,
        "max_categories": MAX_CATEGORIES,
    })
}

/// One test of one period.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Test {
    /// What is tested: `type mix`, `field transaction.amount`, `state customers.score`...
    pub what: String,
    /// Period number, from 1.
    pub period: usize,
    /// The statistical test's outcome, when there is one (at a bound and pending follow-ups
    /// are counts of the whole population: no p-value).
    pub outcome: Option<Outcome>,
    /// The effect size compared with `threshold`.
    pub effect: f64,
    pub threshold: f64,
    pub drift: bool,
}

/// A thing that drifts, and from when.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Drift {
    pub what: String,
    pub from_period: usize,
    pub periods: usize,
    pub worst_effect: f64,
    /// What to do about it, when something is known.
    pub hint: Option<String>,
}

/// Fields left untested, and why.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Skipped {
    pub field: String,
    pub why: &'static str,
}

/// Every test, and what drifts.
#[derive(Debug, Default, serde::Serialize)]
pub struct Analysis {
    pub tests: Vec<Test>,
    pub drifts: Vec<Drift>,
    pub skipped_fields: Vec<Skipped>,
    pub fields_tested: usize,
    /// What each period's shares were compared with, in words.
    pub compared_with: &'static str,
}

impl Analysis {
    /// The tests of period `p` (from 1) that found drift.
    pub fn drifting_in(&self, p: usize) -> impl Iterator<Item = &Test> {
        self.tests.iter().filter(move |t| t.period == p && t.drift)
    }

    /// The test of `what` in period `p`.
    pub fn test(&self, what: &str, p: usize) -> Option<&Test> {
        self.tests.iter().find(|t| t.period == p && t.what == what)
    }
}

/// Runs every test on `data`, the first `warmup` periods left out.
pub fn analyse(data: &SoakData, types: &[&str], warmup: usize) -> Analysis {
    let judged: Vec<usize> = (warmup..data.periods.len()).collect();
    let peers = Peers::new(data, &judged);
    let mut a = Analysis {
        compared_with: peers.words(),
        ..Analysis::default()
    };
    mix(data, &peers, &mut a);
    refused(data, types, &peers, &mut a);
    state(data, &judged, &mut a);
    pending(data, &judged, &mut a);
    super::field_tests::fields(data, types, &peers, &mut a);
    a.drifts = drifts(&a.tests, data);
    a
}

/// Which judged periods each period's shares are compared with: those at the same place in
/// the week when the period divides a week and each place has [`MIN_PEERS`] others, else all.
pub struct Peers {
    pub judged: Vec<usize>,
    slot: Option<usize>,
}

impl Peers {
    pub fn new(data: &SoakData, judged: &[usize]) -> Self {
        let len = data.periods.first().map_or(0, |p| p.end_ms - p.start_ms);
        let slot = (len > 0 && WEEK_MS % len == 0)
            .then(|| (WEEK_MS / len) as usize)
            .filter(|&n| n > 1 && judged.len() >= n * (MIN_PEERS + 1));
        Self {
            judged: judged.to_vec(),
            slot,
        }
    }

    fn words(&self) -> &'static str {
        match self.slot {
            Some(_) => "the same weekday's periods (a weekly rhythm is not drift)",
            None => "the rest of the run",
        }
    }

    /// The periods `p` is compared with (not `p` itself).
    pub fn of(&self, p: usize) -> Vec<usize> {
        (self.judged.iter().copied())
            .filter(|&q| q != p && self.slot.is_none_or(|n| q % n == p % n))
            .collect()
    }
}

fn push(a: &mut Analysis, what: String, p: usize, o: Option<Outcome>, effect: f64, thr: f64) {
    let significant = o.is_none_or(|o| o.p < P_MAX);
    a.tests.push(Test {
        what,
        period: p + 1,
        outcome: o,
        effect,
        threshold: thr,
        drift: significant && effect > thr,
    });
}

fn sum_counts(
    periods: &[PeriodData],
    judged: &[usize],
    f: impl Fn(&PeriodData) -> Vec<f64>,
) -> Vec<f64> {
    let mut total: Vec<f64> = Vec::new();
    for &p in judged {
        let c = f(&periods[p]);
        total.resize(c.len().max(total.len()), 0.0);
        for (t, x) in total.iter_mut().zip(c) {
            *t += x;
        }
    }
    total
}

fn mix(data: &SoakData, peers: &Peers, a: &mut Analysis) {
    let counts = |d: &PeriodData| d.counts.iter().map(|c| *c as f64).collect::<Vec<_>>();
    for &p in &peers.judged {
        let mine = counts(&data.periods[p]);
        let mut rest = sum_counts(&data.periods, &peers.of(p), counts);
        rest.resize(mine.len().max(rest.len()), 0.0);
        if let Some(o) = chi2_homogeneity(&mine, &rest) {
            push(a, "type mix".into(), p, Some(o), o.effect, MIX_TV);
        }
    }
}

/// Per primary type, the share of its draws refused.
fn refused(data: &SoakData, types: &[&str], peers: &Peers, a: &mut Analysis) {
    let pair = |d: &PeriodData, t: usize| {
        let refused: u64 = (d.refusals.iter())
            .filter(|r| r.primary && r.event_type == types[t])
            .map(|r| r.count)
            .sum();
        [refused as f64, d.primaries[t] as f64]
    };
    for (t, name) in types.iter().enumerate() {
        let total = sum_counts(&data.periods, &peers.judged, |d| pair(d, t).to_vec());
        if total.first().is_none_or(|r| *r == 0.0) {
            continue;
        }
        for &p in &peers.judged {
            let mine = pair(&data.periods[p], t);
            let rest = sum_counts(&data.periods, &peers.of(p), |d| pair(d, t).to_vec());
            let rest = [
                rest.first().copied().unwrap_or(0.0),
                rest.get(1).copied().unwrap_or(0.0),
            ];
            let (n1, n2) = (mine[0] + mine[1], rest[0] + rest[1]);
            if n1 < MIN_SAMPLE as f64 || n2 <= 0.0 {
                continue;
            }
            let effect = (mine[0] / n1 - rest[0] / n2).abs();
            let o = chi2_homogeneity(&mine, &rest);
            push(a, format!("refused {name}"), p, o, effect, REFUSED_SHIFT);
        }
    }
}

fn state(data: &SoakData, judged: &[usize], a: &mut Analysis) {
    let Some(first) = data.periods.first().and_then(|d| d.vars.as_ref()) else {
        return;
    };
    let init = data.init.as_deref().unwrap_or(&[]);
    for (i, var) in first.iter().enumerate() {
        let at = |p: usize| -> Option<&VarStats> { data.periods[p].vars.as_ref()?.get(i) };
        let stats: Vec<(usize, &VarStats)> = judged
            .iter()
            .filter_map(|&p| at(p).map(|v| (p, v)))
            .collect();
        if stats.is_empty() {
            continue;
        }
        let n = stats.len() as f64;
        let ref_mean = stats.iter().map(|(_, v)| v.mean).sum::<f64>() / n;
        let spread = stats.iter().map(|(_, v)| v.p95 - v.p5).sum::<f64>() / n;
        // The run's spread over entities, not the period's own: a period where all of 4
        // sessions happen to agree has a standard deviation of 0.
        let sd = stats.iter().map(|(_, v)| v.sd).sum::<f64>() / n;
        // A running total (no entity's value ever fell) grows by design: judged at its bounds.
        let running_total = var.window_days.is_none()
            && (0..data.periods.len()).all(|p| at(p).is_none_or(|v| !v.fell));
        let start_at_bound = init.get(i).and_then(|v| v.at_bound).unwrap_or(0.0);
        for &(p, v) in &stats {
            if var.entities > 1 && !running_total && spread > 0.0 {
                // A state is a census, but of a population that may be small (web's 10
                // users): the period's mean is also tested against the run's by its standard
                // error over the entities (z, two-sided), beside the shift's size.
                let shift = (v.mean - ref_mean).abs() / spread;
                let se = (sd / (v.entities as f64).sqrt()).max(1e-12);
                let z = (v.mean - ref_mean).abs() / se;
                let o = Outcome {
                    statistic: z,
                    p: super::stats::chi2_sf(z * z, 1.0),
                    effect: shift,
                };
                let what = format!("state {} mean", var.name);
                push(a, what, p, Some(o), shift, STATE_SHIFT);
            }
            if let Some(share) = v.at_bound {
                let rise = share - start_at_bound;
                let effect = if rise > AT_BOUND_RISE { share } else { 0.0 };
                push(
                    a,
                    format!("state {} at a bound", var.name),
                    p,
                    None,
                    effect,
                    AT_BOUND_SHARE,
                );
            }
        }
    }
}

/// A queue that fills or drains: the pending count at each period's end is one snapshot of a
/// bursty queue (a visit queues its 40 pages at once), so a single period is no evidence. The
/// judged periods are split in halves; the queue drifts when the later half's mean is off the
/// earlier's by [`PENDING_SHIFT`] (and [`PENDING_MIN_MOVE`]) and every later value lies beyond
/// every earlier one: with 14 periods a half, chance separates them with p = 2 / C(28, 14),
/// about 5e-8, below [`P_MAX`]. The test is shown on each period of the later half.
fn pending(data: &SoakData, judged: &[usize], a: &mut Analysis) {
    let (early, late) = judged.split_at(judged.len() / 2);
    if early.is_empty() || late.is_empty() {
        return;
    }
    let values =
        |ps: &[usize]| -> Vec<f64> { ps.iter().map(|&p| data.periods[p].pending as f64).collect() };
    let (e, l) = (values(early), values(late));
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let (me, ml) = (mean(&e), mean(&l));
    let max = |v: &[f64]| v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let min = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
    let separated = min(&l) > max(&e) || max(&l) < min(&e);
    let p = if separated {
        2.0 / binomial(e.len() + l.len(), e.len())
    } else {
        1.0
    };
    let moved = (ml - me).abs();
    let effect = if moved > PENDING_MIN_MOVE {
        moved / me.max(1.0)
    } else {
        0.0
    };
    for &q in late {
        let o = Outcome {
            statistic: moved,
            p,
            effect,
        };
        push(
            a,
            "pending follow-ups".into(),
            q,
            Some(o),
            effect,
            PENDING_SHIFT,
        );
    }
}

/// n choose k, as a float.
fn binomial(n: usize, k: usize) -> f64 {
    (0..k).fold(1.0, |acc, i| acc * (n - i) as f64 / (i + 1) as f64)
}

/// The drifting tests grouped by what drifts, in the order first seen.
fn drifts(tests: &[Test], data: &SoakData) -> Vec<Drift> {
    let mut by: BTreeMap<&str, Drift> = BTreeMap::new();
    let mut order = Vec::new();
    for t in tests.iter().filter(|t| t.drift) {
        let d = by.entry(&t.what).or_insert_with(|| {
            order.push(t.what.as_str());
            Drift {
                what: t.what.clone(),
                from_period: t.period,
                periods: 0,
                worst_effect: 0.0,
                hint: None,
            }
        });
        d.from_period = d.from_period.min(t.period);
        d.periods += 1;
        d.worst_effect = d.worst_effect.max(t.effect);
    }
    let windows: Vec<(&str, f64)> = (data.periods.first())
        .and_then(|d| d.vars.as_ref())
        .map(|vs| {
            vs.iter()
                .filter_map(|v| v.window_days.map(|w| (v.name.as_str(), w)))
                .collect()
        })
        .unwrap_or_default();
    let mut out: Vec<Drift> = order.into_iter().filter_map(|w| by.remove(w)).collect();
    for d in &mut out {
        if let Some((_, days)) = windows
            .iter()
            .find(|(n, _)| d.what == format!("state {n} mean"))
        {
            d.hint = Some(format!(
                "a {days}-day window fills over its first {days} days; judge it after that with \
                 --warmup covering them"
            ));
        }
    }
    out
}
