//! The soak's run: a world on the simulated clock at the run's pace, as fast as it goes, no
//! sink. Records are counted by type from the batch (no JSON is read but the payload
//! samples'), and at each period's end the world's state is taken.

use std::time::Instant;

use rand::SeedableRng;

use super::fields::{Column, FieldTable, Sampler};
use super::Options;
use crate::event::Batch;
use crate::generator::Generator;
use crate::profile::sampler::Sampler as TimeSampler;
use crate::scenario::snapshot::{RefusalReason, VarSnapshot, WorldSnapshot};
use crate::schedule::{Gaps, Pacing, Times};
use crate::SimRng;

/// Most follow-ups made per call while catching up to a time: a batch is tallied and cleared
/// between calls, so a day of follow-ups is never one batch in memory.
const FOLLOW_UP_CHUNK: usize = 16_384;

/// One state variable at a period's end.
#[derive(Debug, Clone, serde::Serialize)]
pub struct VarStats {
    pub name: String,
    pub entities: usize,
    pub mean: f64,
    /// Standard deviation over the entities.
    pub sd: f64,
    pub p5: f64,
    pub p95: f64,
    /// Share of entities at the declared min or max (`None` with neither declared).
    pub at_bound: Option<f64>,
    /// A sliding-window count's length in days.
    pub window_days: Option<f64>,
    /// Whether any entity's value fell since the period before (a running total never does).
    pub fell: bool,
}

/// Draws refused in one period, for one type and cause.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RefusalCount {
    pub event_type: String,
    pub primary: bool,
    pub reason: RefusalReason,
    pub detail: String,
    pub count: u64,
}

/// What one period saw.
#[derive(Debug, Clone)]
pub struct PeriodData {
    pub start_ms: i64,
    pub end_ms: i64,
    /// Records by type, primary and follow-up.
    pub counts: Vec<u64>,
    /// Primary events made by type.
    pub primaries: Vec<u64>,
    pub refusals: Vec<RefusalCount>,
    /// `None` for a world that shows no state (retail).
    pub vars: Option<Vec<VarStats>>,
    pub pending: u64,
    /// The payload sample, by field of the run's [`FieldTable`].
    pub columns: Vec<Column>,
}

/// The whole soak's data.
pub struct SoakData {
    pub periods: Vec<PeriodData>,
    /// The state before the first event.
    pub init: Option<Vec<VarStats>>,
    pub fields: FieldTable,
    pub elapsed_secs: f64,
    pub events: u64,
    /// Why the world stopped before the end, when it did (a world that can draw nothing).
    pub stopped: Option<String>,
}

/// Statistics of each variable of `snap`; `prev` is the snapshot before, for `fell`.
fn var_stats(snap: &WorldSnapshot, prev: Option<&WorldSnapshot>) -> Vec<VarStats> {
    snap.vars
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let fell = prev
                .and_then(|p| p.vars.get(i))
                .filter(|p| p.values.len() == v.values.len())
                .is_some_and(|p| v.values.iter().zip(&p.values).any(|(a, b)| a < b));
            summarise(v, fell)
        })
        .collect()
}

fn summarise(v: &VarSnapshot, fell: bool) -> VarStats {
    let mut sorted = v.values.clone();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let mean = sorted.iter().sum::<f64>() / n.max(1) as f64;
    let var = sorted.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n.max(2) as f64;
    let at_bound = (v.min.is_some() || v.max.is_some()).then(|| {
        let at = v
            .values
            .iter()
            .filter(|x| v.min.is_some_and(|lo| **x <= lo) || v.max.is_some_and(|hi| **x >= hi))
            .count();
        at as f64 / n.max(1) as f64
    });
    VarStats {
        name: v.name.clone(),
        entities: n,
        mean,
        sd: var.sqrt(),
        p5: super::stats::quantile(&sorted, 0.05),
        p95: super::stats::quantile(&sorted, 0.95),
        at_bound,
        window_days: v.window_ms.map(|ms| ms as f64 / 86_400_000.0),
        fell,
    }
}

/// Runs the soak of `o`.
pub fn run(o: &Options) -> anyhow::Result<SoakData> {
    let config = &o.config;
    let scenario = crate::scenario::find(&config.scenario)?;
    let types = scenario.event_types();
    let weights = config.weights_for(scenario)?;
    let world = scenario
        .load_world(&config.data_dir, &config.world_section(scenario)?)
        .map_err(|e| {
            e.context(format!(
                "cannot load master data from {}",
                config.data_dir.display()
            ))
        })?;
    let mut gen = Generator::with_world(scenario, world, weights, o.seed)?;
    let mut pace_rng = SimRng::seed_from_u64(o.seed.wrapping_add(1));
    let (start, end) = (o.start_ms, o.start_ms + o.duration_ms);
    let s = &config.schedule;
    let follow = s
        .follow_profile
        .then(|| config.profile_for(scenario))
        .transpose()?;
    let mut times = match (s.events_per_day, Pacing::from_config(s)) {
        (Some(per_day), _) => Times::Sampled(TimeSampler::level(
            config.profile_for(scenario)?,
            start,
            Some(end),
            per_day,
        )?),
        (None, Pacing::Rate(rate)) => Times::Step {
            step_ms: 1000.0 / rate,
            next_ms: start as f64,
            follow,
        },
        (None, Pacing::Gaps { min_secs, max_secs }) => Times::Gaps {
            gaps: Gaps::new(min_secs, max_secs)?,
            next_ms: start as f64,
            follow,
        },
    };
    let mut fields = FieldTable::new(start, end);
    let mut sampler = Sampler::new(types.len(), o.seed ^ 0x50a4);
    let mut batch = Batch::new();
    let mut snap = gen.world().snapshot();
    let init = snap.as_ref().map(|s| var_stats(s, None));
    let mut cur = Period::new(types.len(), start);
    let mut periods = Vec::new();
    let mut events = 0u64;
    let mut stopped = None;
    let t0 = Instant::now();
    let close = |gen: &mut Generator,
                 cur: &mut Period,
                 sampler: &mut Sampler,
                 fields: &mut FieldTable,
                 batch: &mut Batch,
                 events: &mut u64,
                 snap: &mut Option<WorldSnapshot>| {
        let period_end = (cur.start_ms + o.period_ms).min(end);
        // What falls due before the period's end belongs to it.
        while gen.next_due().is_some_and(|at| at < period_end) {
            gen.follow_ups(period_end - 1, batch, FOLLOW_UP_CHUNK);
            *events += cur.tally(batch, sampler, fields);
        }
        let now = gen.world().snapshot();
        let data = PeriodData {
            start_ms: cur.start_ms,
            end_ms: period_end,
            counts: std::mem::take(&mut cur.counts),
            primaries: std::mem::take(&mut cur.primaries),
            refusals: refusal_delta(now.as_ref(), snap.as_ref(), types),
            vars: now.as_ref().map(|s| var_stats(s, snap.as_ref())),
            pending: gen.pending(),
            columns: sampler.take(fields),
        };
        *snap = now;
        *cur = Period::new(types.len(), period_end);
        data
    };
    'run: loop {
        let next = times.next(&mut pace_rng);
        let mut t = next.unwrap_or(f64::INFINITY);
        if let Some(at) = gen.ready_at().map(|at| at as f64).filter(|at| *at > t) {
            if let Some(skipped) = times.skip_to(at, &mut pace_rng) {
                t = skipped;
            }
        }
        while t >= (cur.start_ms + o.period_ms).min(end) as f64 {
            let last = cur.start_ms + o.period_ms >= end;
            periods.push(close(
                &mut gen,
                &mut cur,
                &mut sampler,
                &mut fields,
                &mut batch,
                &mut events,
                &mut snap,
            ));
            if last {
                break 'run;
            }
        }
        let t_ms = t as i64;
        while gen.next_due().is_some_and(|at| at <= t_ms) {
            gen.follow_ups(t_ms, &mut batch, FOLLOW_UP_CHUNK);
            events += cur.tally(&mut batch, &mut sampler, &mut fields);
        }
        match gen.next(t_ms, &mut batch) {
            Ok(Some(_)) => {}
            Ok(None) => times.give_back(),
            Err(e) => {
                events += cur.tally(&mut batch, &mut sampler, &mut fields);
                periods.push(close(
                    &mut gen,
                    &mut cur,
                    &mut sampler,
                    &mut fields,
                    &mut batch,
                    &mut events,
                    &mut snap,
                ));
                stopped = Some(e.to_string());
                break;
            }
        }
        events += cur.tally(&mut batch, &mut sampler, &mut fields);
    }
    Ok(SoakData {
        periods,
        init,
        fields,
        elapsed_secs: t0.elapsed().as_secs_f64(),
        events,
        stopped,
    })
}

/// The period being filled.
struct Period {
    start_ms: i64,
    counts: Vec<u64>,
    primaries: Vec<u64>,
}

impl Period {
    fn new(types: usize, start_ms: i64) -> Self {
        Self {
            start_ms,
            counts: vec![0; types],
            primaries: vec![0; types],
        }
    }

    /// Counts the batch's records, offers them to the payload sample and clears it; returns
    /// the records counted.
    fn tally(&mut self, batch: &mut Batch, sampler: &mut Sampler, fields: &mut FieldTable) -> u64 {
        let n = batch.len() as u64;
        for r in batch.iter() {
            let t = usize::from(r.event_type);
            if let Some(c) = self.counts.get_mut(t) {
                *c += 1;
            }
            if r.primary {
                if let Some(c) = self.primaries.get_mut(t) {
                    *c += 1;
                }
            }
            sampler.offer(t, r.payload, fields);
        }
        batch.clear();
        n
    }
}

/// The refusals between snapshot `before` and `now` (both cumulative).
fn refusal_delta(
    now: Option<&WorldSnapshot>,
    before: Option<&WorldSnapshot>,
    types: &[crate::scenario::EventTypeSpec],
) -> Vec<RefusalCount> {
    let Some(now) = now else {
        return Vec::new();
    };
    now.refusals
        .iter()
        .filter_map(|r| {
            let was = before
                .and_then(|b| {
                    b.refusals.iter().find(|p| {
                        p.event_type == r.event_type
                            && p.primary == r.primary
                            && p.detail == r.detail
                    })
                })
                .map_or(0, |p| p.count);
            let count = r.count.saturating_sub(was);
            (count > 0).then(|| RefusalCount {
                event_type: types
                    .get(usize::from(r.event_type))
                    .map_or("?", |t| t.name)
                    .to_string(),
                primary: r.primary,
                reason: r.reason,
                detail: r.detail.clone(),
                count,
            })
        })
        .collect()
}
