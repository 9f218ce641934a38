//! Drift of payload fields: numbers by a two-sample KS test of a period's sample against the
//! rest of the run's, text (enums, flags) by a chi-square test of their values' shares.
//! Fields that look like times (they move with the clock) or identifiers (nearly every value
//! new) are named as not tested.

use std::collections::HashMap;

use super::drive::SoakData;
use super::stats::{chi2_homogeneity, ks_against_rest};
use super::verdict::{
    Analysis, Skipped, Test, FIELD_TV, ID_LIKE, KS_D, MAX_CATEGORIES, MIN_SAMPLE, P_MAX,
};

pub fn fields(data: &SoakData, types: &[&str], judged: &[usize], a: &mut Analysis) {
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
        if nums * 10 >= all * 9 {
            numeric(&name, &cols, a);
        } else if !text(&name, &cols, a) {
            a.skipped_fields.push(Skipped {
                field: name,
                why: "an identifier (most values distinct)",
            });
            continue;
        }
        a.fields_tested += 1;
    }
}

fn numeric(name: &str, cols: &[(usize, &super::fields::Column)], a: &mut Analysis) {
    let mut all: Vec<f64> = cols
        .iter()
        .flat_map(|(_, c)| c.nums.iter().copied())
        .collect();
    all.retain(|x| !x.is_nan());
    all.sort_by(f64::total_cmp);
    for (p, c) in cols {
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
fn text(name: &str, cols: &[(usize, &super::fields::Column)], a: &mut Analysis) -> bool {
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
    let mut total = vec![0.0; MAX_CATEGORIES];
    for (_, v) in &per {
        for (t, x) in total.iter_mut().zip(v) {
            *t += x;
        }
    }
    for (p, mine) in &per {
        if mine.iter().sum::<f64>() < MIN_SAMPLE as f64 {
            continue;
        }
        let rest: Vec<f64> = total.iter().zip(mine).map(|(t, m)| t - m).collect();
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
