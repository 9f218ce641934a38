//! Payload samples: per period and event type, a uniform sample of at most
//! [`SAMPLE_PER_TYPE`] records (reservoir sampling with skips, Li's algorithm L, so only the
//! records kept are parsed), each flattened to its fields (`ride.bike_id`, `items[]` for an
//! array's length). Text values are interned per field.

use std::collections::HashMap;

use rand::{RngExt, SeedableRng};

use crate::SimRng;

/// Records kept per period and event type. With 2,000 in a period and the rest of a 30-period
/// run pooled, a KS test reaches p < 1e-6 from D = 0.06 up, below the D > 0.1 that counts as
/// drift, so a drift of that size is not missed for want of samples.
pub const SAMPLE_PER_TYPE: usize = 2_000;

/// Envelope fields, the same in every world and not the world's distribution.
const ENVELOPE: [&str; 6] = [
    "caused_by",
    "event_id",
    "event_type",
    "event_time",
    "schema_version",
    "scenario",
];

/// One field's values in one period's sample: numbers, and text (interned) for the rest
/// (`true`, `null` included).
#[derive(Debug, Default, Clone)]
pub struct Column {
    pub nums: Vec<f64>,
    pub texts: Vec<u32>,
    /// Values that look like a time (RFC 3339 text, epoch ms or s near the run).
    pub timelike: usize,
}

/// A field of an event type: `(type, dotted path)`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FieldKey {
    pub event_type: u8,
    pub path: String,
}

/// Every field seen in any sample, with its texts interned.
#[derive(Debug, Default)]
pub struct FieldTable {
    pub keys: Vec<FieldKey>,
    index: HashMap<FieldKey, usize>,
    texts: Vec<HashMap<String, u32>>,
    /// Per field, its interned texts by id.
    pub names: Vec<Vec<String>>,
    /// Epoch ms of the run's start and end, for telling times from other numbers.
    span_ms: (f64, f64),
}

impl FieldTable {
    pub fn new(start_ms: i64, end_ms: i64) -> Self {
        // A year either side covers a payload's due dates and birthdays of the run's time.
        let year = 365.0 * 86_400_000.0;
        Self {
            span_ms: (start_ms as f64 - year, end_ms as f64 + year),
            ..Self::default()
        }
    }

    fn field(&mut self, key: FieldKey) -> usize {
        if let Some(i) = self.index.get(&key) {
            return *i;
        }
        let i = self.keys.len();
        self.keys.push(key.clone());
        self.index.insert(key, i);
        self.texts.push(HashMap::new());
        self.names.push(Vec::new());
        i
    }

    fn intern(&mut self, field: usize, text: &str) -> u32 {
        if let Some(id) = self.texts[field].get(text) {
            return *id;
        }
        let id = self.names[field].len() as u32;
        self.names[field].push(text.to_string());
        self.texts[field].insert(text.to_string(), id);
        id
    }

    fn timelike_num(&self, x: f64) -> bool {
        let (lo, hi) = self.span_ms;
        (lo..=hi).contains(&x) || (lo / 1000.0..=hi / 1000.0).contains(&x)
    }
}

/// True for text that starts like a date: `2025-01-06...`.
fn timelike_text(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 10
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[5..7].iter().all(u8::is_ascii_digit)
        && b[7] == b'-'
}

/// One period's reservoirs, one per event type.
pub struct Sampler {
    rng: SimRng,
    /// Per type: records seen this period, the next record to keep (algorithm L's skip), its
    /// W, and the kept records' flattened values.
    seen: Vec<u64>,
    next_keep: Vec<u64>,
    w: Vec<f64>,
    kept: Vec<Vec<Vec<(usize, Value)>>>,
}

/// A flattened value, text interned in the [`FieldTable`].
#[derive(Debug, Clone, Copy)]
enum Value {
    Num(f64),
    Text(u32),
}

impl Sampler {
    pub fn new(types: usize, seed: u64) -> Self {
        Self {
            rng: SimRng::seed_from_u64(seed),
            seen: vec![0; types],
            next_keep: vec![0; types],
            w: vec![1.0; types],
            kept: vec![Vec::new(); types],
        }
    }

    /// Offers one record of type `t`; parses it only when it is kept.
    #[inline]
    pub fn offer(&mut self, t: usize, payload: &[u8], table: &mut FieldTable) {
        let Some(seen) = self.seen.get_mut(t) else {
            return;
        };
        let i = *seen;
        *seen += 1;
        let k = SAMPLE_PER_TYPE as u64;
        if i < k {
            if let Some(rec) = flatten(t as u8, payload, table) {
                self.kept[t].push(rec);
            }
            if i + 1 == k {
                self.w[t] = (self.rng.random::<f64>().ln() / k as f64).exp();
                self.skip(t, i + 1);
            }
            return;
        }
        if i < self.next_keep[t] {
            return;
        }
        let slot = self.rng.random_range(0..SAMPLE_PER_TYPE);
        if let Some(rec) = flatten(t as u8, payload, table) {
            if let Some(s) = self.kept[t].get_mut(slot) {
                *s = rec;
            }
        }
        self.w[t] *= (self.rng.random::<f64>().ln() / k as f64).exp();
        self.skip(t, i + 1);
    }

    /// Algorithm L: the next record kept after `from`.
    fn skip(&mut self, t: usize, from: u64) {
        let u: f64 = self.rng.random::<f64>().max(f64::MIN_POSITIVE);
        let gap = (u.ln() / (1.0 - self.w[t]).ln()).floor();
        let gap = if gap.is_finite() {
            gap as u64
        } else {
            u64::MAX / 2
        };
        self.next_keep[t] = from.saturating_add(gap);
    }

    /// The period's columns, by field index of `table`, and restarts for the next period.
    pub fn take(&mut self, table: &FieldTable) -> Vec<Column> {
        let mut cols = vec![Column::default(); table.keys.len()];
        for recs in &mut self.kept {
            for rec in recs.drain(..) {
                for (f, v) in rec {
                    let c = &mut cols[f];
                    match v {
                        Value::Num(x) => {
                            c.timelike += usize::from(table.timelike_num(x));
                            c.nums.push(x);
                        }
                        Value::Text(id) => {
                            let timelike = table.names[f]
                                .get(id as usize)
                                .is_some_and(|s| timelike_text(s));
                            c.timelike += usize::from(timelike);
                            c.texts.push(id);
                        }
                    }
                }
            }
        }
        self.seen.fill(0);
        self.next_keep.fill(0);
        self.w.fill(1.0);
        cols
    }
}

/// A record's fields, flattened; `None` when it is not a JSON object.
fn flatten(t: u8, payload: &[u8], table: &mut FieldTable) -> Option<Vec<(usize, Value)>> {
    let v: serde_json::Value = serde_json::from_slice(payload).ok()?;
    let obj = v.as_object()?;
    let mut out = Vec::with_capacity(obj.len());
    for (k, v) in obj {
        if ENVELOPE.contains(&k.as_str()) {
            continue;
        }
        walk(t, k.clone(), v, table, &mut out, 0);
    }
    Some(out)
}

fn walk(
    t: u8,
    path: String,
    v: &serde_json::Value,
    table: &mut FieldTable,
    out: &mut Vec<(usize, Value)>,
    depth: usize,
) {
    use serde_json::Value as J;
    let (path, text) = match v {
        J::Object(o) => {
            if depth < 4 {
                for (k, v) in o {
                    walk(t, format!("{path}.{k}"), v, table, out, depth + 1);
                }
            }
            return;
        }
        J::Array(a) => {
            let f = table.field(FieldKey {
                event_type: t,
                path: format!("{path}[]"),
            });
            out.push((f, Value::Num(a.len() as f64)));
            return;
        }
        J::Number(n) => {
            let f = table.field(FieldKey {
                event_type: t,
                path,
            });
            out.push((f, Value::Num(n.as_f64().unwrap_or(f64::NAN))));
            return;
        }
        J::String(s) => (path, s.as_str()),
        J::Bool(true) => (path, "true"),
        J::Bool(false) => (path, "false"),
        J::Null => (path, "null"),
    };
    let f = table.field(FieldKey {
        event_type: t,
        path,
    });
    let id = table.intern(f, text);
    out.push((f, Value::Text(id)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reservoir_keeps_a_uniform_sample_of_a_long_period() {
        let mut table = FieldTable::new(0, 1);
        let mut s = Sampler::new(1, 3);
        let n = 200_000u32;
        for i in 0..n {
            let rec = format!(
                "{{\"event_id\":\"x\",\"i\":{i},\"ok\":true,\"a\":{{\"b\":\"t{}\"}},\"xs\":[1,2]}}",
                i % 3
            );
            s.offer(0, rec.as_bytes(), &mut table);
        }
        let cols = s.take(&table);
        let paths: Vec<&str> = table.keys.iter().map(|k| k.path.as_str()).collect();
        assert_eq!(paths, ["a.b", "i", "ok", "xs[]"]);
        let i = &cols[1].nums;
        assert_eq!(i.len(), SAMPLE_PER_TYPE);
        // Uniform over 0..n: the mean within 4 standard errors of n/2.
        let mean = i.iter().sum::<f64>() / i.len() as f64;
        let se = f64::from(n) / 12f64.sqrt() / (i.len() as f64).sqrt();
        assert!((mean - f64::from(n) / 2.0).abs() < 4.0 * se, "mean {mean}");
        assert!(
            crate::soak::stats::ks_two_sample(i, &(0..n).map(f64::from).collect::<Vec<_>>())
                .unwrap()
                .p
                > 1e-3
        );
        assert_eq!(table.names[2], ["true"]);
        assert_eq!(cols[3].nums[0], 2.0);
        // The next period starts empty.
        assert!(s
            .take(&table)
            .iter()
            .all(|c| c.nums.is_empty() && c.texts.is_empty()));
        assert!(timelike_text("2025-01-06T00:00:00Z") && !timelike_text("cust_123"));
    }
}
