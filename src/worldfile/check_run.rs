//! The rules of `checks:` ([`super::checks`]) run on events as emitted: each slot is filled
//! from the event, the master data or the per-key memory of earlier events, then the rule is
//! evaluated. What cannot be known (a field missing, an id not in the master data, a key whose
//! earlier events were never seen or were forgotten) is null; a rule that holds anyway passes,
//! one that does not is skipped rather than reported, so a stream read from its middle or a
//! memory at its bound never gives a false violation.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, VecDeque};
use std::hash::{DefaultHasher, Hash, Hasher};

use rand::SeedableRng;
use serde_json::Value as Json;
use uuid::Uuid;

use super::checks::{Checks, Compiled, SlotKind};
use super::expr::{Ctx, Expr, Master, State};
use super::value::Value;
use crate::SimRng;

/// At most this many keys are remembered per `prev` or `first` call of a rule (about 20 MB
/// each, plus the text of the values kept); past it the least recently seen half is forgotten.
pub const MAX_KEYS: usize = 500_000;

/// What the rules remember of earlier events, per `prev`/`first`/`recent`/`total` call and key.
pub struct Memory {
    sites: Vec<Site>,
    /// Whether the stream is read from its start, so a key never seen has no earlier event.
    from_start: bool,
    /// The time of the first event this memory saw: a `recent` count over a span that starts
    /// after it is known even when the stream was joined in its middle.
    first_seen: Option<i64>,
    max_keys: usize,
    rng: SimRng,
}

#[derive(Default)]
struct Site {
    keys: HashMap<u64, Kept>,
    /// Whether keys were forgotten: a key not found may then have had earlier events.
    forgot: bool,
    /// For `recent` and `total`: per key, what was counted.
    times: HashMap<u64, Counts>,
    /// The latest time of anything `recent` forgot: a span after it is still whole.
    forgot_until: Option<i64>,
}

/// What one `recent` or `total` call keeps of a key.
#[derive(Default)]
struct Counts {
    /// Counted events whose times are not kept: for `total`, every one but the last (no time
    /// ever leaves its span).
    earlier: i64,
    /// The times of the rest, oldest first.
    times: VecDeque<i64>,
}

struct Kept {
    /// None when the event that left it could not give it (a field missing).
    value: Option<Value>,
    /// When the key was last seen, which decides what is forgotten first.
    time: i64,
}

/// One event as the rules see it.
struct Event<'a> {
    json: &'a Json,
    type_name: &'a str,
    now: i64,
    id: Uuid,
    cause: Option<Uuid>,
}

enum Outcome {
    Holds,
    Unknown,
    Broken(String),
}

impl Memory {
    pub fn new(checks: &Checks, from_start: bool) -> Self {
        Self {
            sites: (0..checks.sites).map(|_| Site::default()).collect(),
            from_start,
            first_seen: None,
            max_keys: MAX_KEYS,
            rng: SimRng::seed_from_u64(0),
        }
    }

    /// The same with another bound on keys per memory.
    pub fn with_max_keys(mut self, max_keys: usize) -> Self {
        self.max_keys = max_keys.max(2);
        self
    }

    /// Keys remembered now, over every memory.
    pub fn len(&self) -> usize {
        self.sites
            .iter()
            .map(|s| s.keys.len() + s.times.len())
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The times `recent` keeps, over every memory and key.
    #[cfg(test)]
    pub fn times_kept(&self) -> usize {
        let keys = self.sites.iter().flat_map(|s| s.times.values());
        keys.map(|c| c.times.len()).sum()
    }

    /// Runs every rule on `event` (of type `t`, as emitted); `fail(rule, detail)` for each
    /// broken one.
    pub fn run(
        &mut self,
        checks: &Checks,
        master: &Master,
        t: usize,
        type_name: &str,
        event: &Json,
        fail: &mut dyn FnMut(&'static str, String),
    ) {
        let Some(ev) = read(checks, t, type_name, event) else {
            return;
        };
        self.first_seen.get_or_insert(ev.now);
        for (r, c) in checks.by_type.get(t).map_or(&[][..], Vec::as_slice) {
            let rule = &checks.rules[*r as usize];
            if let Outcome::Broken(why) = evaluate(c, &ev, master, Some(self)) {
                fail(rule.name, format!("`{}` does not hold: {why}", rule.text));
            }
        }
    }
}

/// The rules on type `t` that read neither earlier events nor master data, on one event: the
/// first broken one. What the ingest API checks, event by event, before producing.
pub fn pure(checks: &Checks, t: usize, type_name: &str, event: &Json) -> Result<(), String> {
    let Some(ev) = read(checks, t, type_name, event) else {
        return Ok(());
    };
    let master = Master::default();
    for (r, c) in checks.by_type.get(t).map_or(&[][..], Vec::as_slice) {
        if c.stateful || c.needs_master {
            continue;
        }
        let rule = &checks.rules[*r as usize];
        if let Outcome::Broken(why) = evaluate(c, &ev, &master, None) {
            return Err(format!(
                "rule {}: `{}` does not hold: {why}",
                rule.name, rule.text
            ));
        }
    }
    Ok(())
}

/// The event's time, id and cause from where its type keeps them; None without a time.
fn read<'a>(checks: &Checks, t: usize, type_name: &'a str, json: &'a Json) -> Option<Event<'a>> {
    let places = checks.envelope.get(t)?;
    let text = |p: &Option<Vec<String>>| p.as_deref().and_then(|p| at(json, p)?.as_str());
    let now = chrono::DateTime::parse_from_rfc3339(text(&places.time)?)
        .ok()?
        .timestamp_millis();
    let uuid = |s: Option<&str>| s.and_then(|s| Uuid::parse_str(s).ok());
    Some(Event {
        json,
        type_name,
        now,
        id: uuid(text(&places.id)).unwrap_or_default(),
        cause: uuid(text(&places.cause)),
    })
}

fn at<'a>(json: &'a Json, path: &[String]) -> Option<&'a Json> {
    path.iter().try_fold(json, |v, k| v.get(k.as_str()))
}

/// Fills the slots of a compiled rule in order, remembering what this event leaves for later
/// ones, then evaluates the rule.
fn evaluate(
    c: &Compiled,
    ev: &Event<'_>,
    master: &Master,
    mut memory: Option<&mut Memory>,
) -> Outcome {
    let state = State::default();
    let mut vals: Vec<Value> = Vec::with_capacity(c.slots.len());
    let mut unknown: Vec<bool> = Vec::with_capacity(c.slots.len());
    let mut fallback = SimRng::seed_from_u64(0);
    for slot in &c.slots {
        let blind = |e: &Expr, unknown: &[bool]| {
            e.any(&mut |n| matches!(n, Expr::Local(s) if unknown.get(*s as usize) == Some(&true)))
        };
        let ctx = event_ctx(master, &state, &vals, ev);
        let got = match &slot.kind {
            SlotKind::Field { path, ent } => match at(ev.json, path) {
                Some(j) => from_json(j, *ent, master),
                None => None,
            },
            SlotKind::Absent => Some(Value::Null),
            SlotKind::Lookup { kind, id } if !blind(id, &unknown) => {
                let v = ctx.eval(id, &mut fallback);
                let kd = master.kinds.get(*kind as usize);
                match (kd, ctx.text_of(&v)) {
                    (Some(kd), Some(text)) => kd.index.get(text).map(|i| Value::ent(*kind, *i)),
                    _ => None,
                }
            }
            SlotKind::Lookup { .. } => None,
            SlotKind::Memory {
                site,
                first,
                key,
                value,
                default,
            } => match memory.as_deref_mut() {
                Some(m) if !blind(key, &unknown) => {
                    let rng = &mut m.rng;
                    let k = key_hash(&ctx.eval(key, rng));
                    let new = (!blind(value, &unknown)).then(|| ctx.eval(value, rng));
                    let (from_start, max_keys) = (m.from_start, m.max_keys);
                    let Some(s) = m.sites.get_mut(*site as usize) else {
                        return Outcome::Unknown;
                    };
                    let got = match s.keys.get(&k) {
                        Some(kept) => kept.value.clone(),
                        None if from_start && !s.forgot => match default {
                            Some(d) if !blind(d, &unknown) => Some(ctx.eval(d, rng)),
                            _ => None,
                        },
                        None => None,
                    };
                    s.keep(k, new, *first, ev.now, max_keys);
                    got
                }
                _ => None,
            },
            SlotKind::Recent {
                site,
                key,
                within_ms,
                counted,
            } => match memory.as_deref_mut() {
                Some(m) if blind(key, &unknown) => {
                    // An event whose key is not known may have counted for any key.
                    if let Some(s) = m.sites.get_mut(*site as usize) {
                        s.forgot_until = s.forgot_until.max(Some(ev.now));
                    }
                    None
                }
                Some(m) => {
                    let rng = &mut m.rng;
                    let k = key_hash(&ctx.eval(key, rng));
                    let counts = (!blind(counted, &unknown)).then(|| ctx.eval(counted, rng));
                    let since = ev.now.saturating_sub(*within_ms);
                    // Every event of the span was seen: the stream was read from before it.
                    let whole = m.from_start || m.first_seen.is_some_and(|t| t < since);
                    let max_keys = m.max_keys;
                    let Some(s) = m.sites.get_mut(*site as usize) else {
                        return Outcome::Unknown;
                    };
                    let got = s.recent(k, since, ev.now, whole);
                    let total = *within_ms == i64::MAX;
                    if let Some(c) = counts {
                        if c.truthy() {
                            s.count(k, ev.now, total, max_keys);
                        }
                    } else {
                        // Whether this event counts is not known: nor are later counts.
                        s.count(k, ev.now, total, max_keys);
                        s.forgot_until = s.forgot_until.max(Some(ev.now));
                    }
                    got
                }
                _ => None,
            },
        };
        unknown.push(got.is_none());
        vals.push(got.unwrap_or(Value::Null));
    }
    let ctx = event_ctx(master, &state, &vals, ev);
    let result = ctx.eval(&c.rule, &mut fallback);
    if result.truthy() {
        return Outcome::Holds;
    }
    if unknown.contains(&true) {
        return Outcome::Unknown;
    }
    let mut why: Vec<String> = c
        .slots
        .iter()
        .zip(&vals)
        .map(|(s, v)| format!("{} = {}", s.label, shown(v, &ctx)))
        .collect();
    if result != Value::bool(false) {
        why.push(format!("the rule gives {}", shown(&result, &ctx)));
    }
    Outcome::Broken(why.join(", "))
}

impl Site {
    /// How many counted events of `key` fall after `since` and before `now`; None when that
    /// is not known: part of the span was not seen (`whole` false) or was forgotten, or an
    /// event counted at `now` itself may come before or after this one in another order.
    fn recent(&mut self, key: u64, since: i64, now: i64, whole: bool) -> Option<Value> {
        if !whole || self.forgot_until.is_some_and(|t| t > since) {
            return None;
        }
        let Some(counts) = self.times.get_mut(&key) else {
            return Some(Value::Int(0));
        };
        let times = &mut counts.times;
        while times.front().is_some_and(|t| *t <= since) {
            times.pop_front();
        }
        if times.back() == Some(&now) {
            return None;
        }
        Some(Value::Int(counts.earlier + times.len() as i64))
    }

    /// Counts an event of `key` at `time` (each count follows a [`Site::recent`] of the same
    /// key, which dropped its times out of the span, so a key keeps one span of times). A
    /// `total` keeps only its last time, the rest as a number. Past `max_keys` keys, forgets
    /// the keys whose last count is oldest, half of them, and remembers until when counts are
    /// incomplete.
    fn count(&mut self, key: u64, time: i64, total: bool, max_keys: usize) {
        let counts = self.times.entry(key).or_default();
        if total && counts.times.pop_front().is_some() {
            counts.earlier += 1;
        }
        counts.times.push_back(time);
        if self.times.len() > max_keys {
            let mut last: Vec<i64> = self
                .times
                .values()
                .filter_map(|c| c.times.back().copied())
                .collect();
            let mid = last.len() / 2;
            let cut = *last.select_nth_unstable(mid).1;
            self.times
                .retain(|_, c| c.times.back().is_some_and(|b| *b > cut));
            if self.times.len() > max_keys / 2 {
                self.times.clear();
                self.forgot_until = self.forgot_until.max(Some(time));
            } else {
                self.forgot_until = self.forgot_until.max(Some(cut));
            }
        }
    }

    /// Remembers what an event of `time` left under `key`: its value, or with `first` the
    /// value already kept. Forgets the least recently seen half past `max_keys`.
    fn keep(&mut self, key: u64, value: Option<Value>, first: bool, time: i64, max_keys: usize) {
        match self.keys.entry(key) {
            Entry::Occupied(mut o) => {
                let kept = o.get_mut();
                kept.time = kept.time.max(time);
                if !first {
                    kept.value = value;
                }
            }
            Entry::Vacant(v) => {
                v.insert(Kept { value, time });
            }
        }
        if self.keys.len() > max_keys {
            let mut times: Vec<i64> = self.keys.values().map(|k| k.time).collect();
            let mid = times.len() / 2;
            let cut = *times.select_nth_unstable(mid).1;
            self.keys.retain(|_, k| k.time > cut);
            if self.keys.len() > max_keys / 2 {
                // Too many share the cut's time: forget them all rather than keep scanning.
                self.keys.clear();
            }
            self.forgot = true;
        }
    }
}

/// A JSON value as the value the rule compares; an id of kind `ent` as its entity (None if it
/// is not in the master data, and text when there is no master data).
fn from_json(j: &Json, ent: Option<u16>, master: &Master) -> Option<Value> {
    Some(match j {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::bool(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::float(n.as_f64()?),
        },
        Json::String(s) => match ent.map(|k| (k, master.kinds.get(k as usize))) {
            Some((k, Some(kd))) => Value::ent(k, *kd.index.get(s.as_str())?),
            _ => Value::str(s),
        },
        Json::Array(_) | Json::Object(_) => return None,
    })
}

/// A key's digest: equal values (an integer and the same float included) give equal digests.
fn key_hash(v: &Value) -> u64 {
    let mut h = DefaultHasher::new();
    match v {
        Value::Null => 0u8.hash(&mut h),
        Value::Bool(b) => (1u8, b).hash(&mut h),
        Value::Int(i) => (2u8, i).hash(&mut h),
        Value::Float(f) if f.get().fract() == 0.0 && f.get().abs() < 9e15 => {
            (2u8, f.get() as i64).hash(&mut h)
        }
        Value::Float(f) => (3u8, f.get().to_bits()).hash(&mut h),
        Value::Str(s) => (4u8, s.as_str()).hash(&mut h),
        Value::Ent(e) => (5u8, e.kind(), e.index()).hash(&mut h),
    }
    h.finish()
}

/// A value as a violation shows it: text and ids quoted, as in the event.
fn shown(v: &Value, ctx: &Ctx<'_>) -> String {
    match ctx.text_of(v) {
        Some(t) => format!("{t:?}"),
        None => v.to_string(),
    }
}

/// What a rule is evaluated against: the event's time, id, cause and type, and its values.
fn event_ctx<'a>(
    master: &'a Master,
    state: &'a State,
    vals: &'a [Value],
    ev: &Event<'a>,
) -> Ctx<'a> {
    Ctx {
        master,
        state,
        locals: vals,
        now: ev.now,
        event_id: ev.id,
        caused_by: ev.cause,
        event_type: ev.type_name,
        seq: 0,
    }
}
