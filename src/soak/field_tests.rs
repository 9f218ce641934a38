//! Drift of payload fields: numbers by a two-sample KS test of a period's sample against the
//! rest of the run's, text (enums, flags) by a chi-square test of their values' shares.
//! Fields that look like times (they move with the clock), counters (a stream's sequence number:
//! every period's values above the last's) or identifiers (many distinct values, or a name
//! ending in `id`: which entity an event is about is the world's census, judged by its state,
//! and events about one entity come in runs, so their counts are not independent draws) are
//! named as not tested.

use std::collections::HashMap;

use super::drive::SoakData;
use super::stats::{chi2_homogeneity, ks_against_rest};
use super::verdict::{
    Analysis, Peers, Skipped, Test, FIELD_TV, ID_LIKE, KS_D, MAX_CATEGORIES, MIN_SAMPLE, P_MAX,
};

/// Whether a field's name says it holds an identifier: `id`, `user_id`, `sessionId`.
fn id_named(path: &str) -> bool {
    let last = path.rsplit('.').next().unwrap_or(path);
    let lower = last.to_ascii_lowercase();
    lower == "id" || lower.ends_with("_id") || last.ends_with("Id") || lower == "sku"
}

/// Whether a numeric field counts up: its median rises from each judged period to the next (a
/// sequence number, or many streams' numbers at once), so every period differs from the rest
/// by design. A steady field's medians rise through 3 periods in a row by chance 1 time in 6,
/// through a month's 29 once in 8.8e30, so a short run is not judged a counter: 5 periods at
/// least (1 in 120).
fn counts_up(cols: &[(usize, &super::fields::Column)]) -> bool {
    let medians: Vec<f64> = cols
        .iter()
        .filter_map(|(_, c)| {
            let mut v: Vec<f64> = c.nums.iter().copied().filter(|x| !x.is_nan()).collect();
            v.sort_by(f64::total_cmp);
            v.get(v.len() / 2).copied()
        })
        .collect();
    medians.len() >= COUNTER_PERIODS && medians.windows(2).all(|w| w[1] > w[0])
}

/// The fewest periods whose medians must all rise for a field to be taken as a counter.
const COUNTER_PERIODS: usize = 5;

pub fn fields(data: &SoakData, types: &[&str], peers: &Peers, a: &mut Analysis) {
    let judged = &peers.judged;
    for (f, key) in data.fields.keys.iter().enumerate() {
        let name = format!(
            "{}.{}",
            types
                .get(usize::from(key.event_type))
                .copied()
                .unwrap_or("?"),
            key.path
        );
        let cols: Vec<(usize, &super::fields::Column)> = judged
            .iter()
            .filter_map(|&p| data.periods[p].columns.get(f).map(|c| (p, c)))
            .collect();
        let nums: usize = cols.iter().map(|(_, c)| c.nums.len()).sum();
        let texts: usize = cols.iter().map(|(_, c)| c.texts.len()).sum();
        let timelike: usize = cols.iter().map(|(_, c)| c.timelike).sum();
        let all = nums + texts;
        if all == 0 {
            continue;
        }
        if timelike * 2 > all {
            a.skipped_fields.push(Skipped {
                field: name,
                why: "a time (moves with the clock)",
            });
            continue;
        }
        if id_named(&key.path) {
            a.skipped_fields.push(Skipped {
                field: name,
                why: "an identifier, its entity judged by the world's state",
            });
            continue;
        }
        if nums * 10 >= all * 9 {
            if counts_up(&cols) {
                a.skipped_fields.push(Skipped {
                    field: name,
                    why: "a counter (its median rises every period)",
                });
                continue;
            }
            numeric(&name, &cols, peers, a);
        } else if !text(&name, &cols, peers, a) {
            a.skipped_fields.push(Skipped {
                field: name,
                why: "an identifier (most values distinct)",
            });
            continue;
        }
        a.fields_tested += 1;
    }
}

fn numeric(name: &str, cols: &[(usize, &super::fields::Column)], peers: &Peers, a: &mut Analysis) {
    for (p, c) in cols {
        // This period's values and its peers': what `ks_against_rest` takes as the whole.
        let others = peers.of(*p);
        let mut all: Vec<f64> = (cols.iter())
            .filter(|(q, _)| q == p || others.contains(q))
            .flat_map(|(_, c)| c.nums.iter().copied())
            .filter(|x| !x.is_nan())
            .collect();
        all.sort_by(f64::total_cmp);
        let mut mine: Vec<f64> = c.nums.iter().copied().filter(|x| !x.is_nan()).collect();
        if mine.len() < MIN_SAMPLE {
            continue;
        }
        mine.sort_by(f64::total_cmp);
        if let Some(o) = ks_against_rest(&mine, &all) {
            a.tests.push(Test {
                what: format!("field {name}"),
                period: p + 1,
                outcome: Some(o),
                effect: o.effect,
                threshold: KS_D,
                drift: o.p < P_MAX && o.effect > KS_D,
            });
        }
    }
}

/// Tests a text field; false when it is an identifier and was not tested.
fn text(
    name: &str,
    cols: &[(usize, &super::fields::Column)],
    peers: &Peers,
    a: &mut Analysis,
) -> bool {
    let mut pooled: HashMap<u32, usize> = HashMap::new();
    let mut n = 0;
    for (_, c) in cols {
        for id in &c.texts {
            *pooled.entry(*id).or_default() += 1;
        }
        n += c.texts.len() + c.nums.len();
    }
    if pooled.len() as f64 > ID_LIKE * n as f64 && pooled.len() > MAX_CATEGORIES {
        return false;
    }
    let mut common: Vec<(u32, usize)> = pooled.into_iter().collect();
    common.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
    // The commonest values keep their own category; the rest and numbers share the last two.
    let keep: HashMap<u32, usize> = common
        .iter()
        .take(MAX_CATEGORIES - 2)
        .enumerate()
        .map(|(i, (id, _))| (*id, i))
        .collect();
    let counts = |c: &super::fields::Column| {
        let mut v = vec![0.0; MAX_CATEGORIES];
        for id in &c.texts {
            v[keep.get(id).copied().unwrap_or(MAX_CATEGORIES - 2)] += 1.0;
        }
        v[MAX_CATEGORIES - 1] += c.nums.len() as f64;
        v
    };
    let per: Vec<(usize, Vec<f64>)> = cols.iter().map(|(p, c)| (*p, counts(c))).collect();
    for (p, mine) in &per {
        if mine.iter().sum::<f64>() < MIN_SAMPLE as f64 {
            continue;
        }
        let others = peers.of(*p);
        let mut rest = vec![0.0; MAX_CATEGORIES];
        for (_, v) in per.iter().filter(|(q, _)| others.contains(q)) {
            for (t, x) in rest.iter_mut().zip(v) {
                *t += x;
            }
        }
        if let Some(o) = chi2_homogeneity(mine, &rest) {
            a.tests.push(Test {
                what: format!("field {name}"),
                period: p + 1,
                outcome: Some(o),
                effect: o.effect,
                threshold: FIELD_TV,
                drift: o.p < P_MAX && o.effect > FIELD_TV,
            });
        }
    }
    true
}
