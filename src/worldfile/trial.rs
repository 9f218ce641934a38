//! `kafka-gen check`'s trial run: a short, deterministic run of a world on the simulated
//! clock, counting per event type the draws and what refused them ([`super::tally`]), so that
//! a type that can never happen is named with the guard, pick or bound that stops it.

use std::sync::Arc;

use rand::distr::weighted::WeightedIndex;
use rand::distr::Distribution;
use rand::SeedableRng;

use super::model::Model;
use super::runtime::FileWorld;
use super::tally::{Counts, Tally};
use crate::event::{Batch, EventWriter};
use crate::scenario::{EventTypeId, World};
use crate::SimRng;

/// Primary draws of a trial run unless `--trial` says otherwise, and the most it allows.
pub const DEFAULT_DRAWS: u64 = 10_000;
pub const MAX_DRAWS: u64 = 1_000_000;

/// The seed of the trial's draws: fixed, so the same file always gives the same report.
pub const SEED: u64 = 1;

/// Most event time a trial with no draws covers while waiting for its ticks.
const MAX_SPAN_MS: i64 = 366 * 86_400_000;

/// Event time of the first draw (2025-01-01T00:00:00Z), so windows and time functions see an
/// ordinary date.
const START_MS: i64 = 1_735_689_600_000;

/// What a trial run found: the counts, and the event time its draws spanned, in ms.
pub struct Trial {
    pub tally: Tally,
    pub span_ms: i64,
    /// Primary draws made: fewer than asked when follow-ups reached their bound first.
    pub draws: u64,
}

/// Runs `draws` primary draws of `model` by its own weights, on master data made from its
/// `master_seed` (as a run with no data folder makes it), and returns the counts.
pub fn run(model: Arc<Model>, draws: u64) -> anyhow::Result<Trial> {
    let mut rng = SimRng::seed_from_u64(model.master_seed);
    let master = Arc::new(super::master::generate(&model, &mut rng, &[])?);
    // The world's state starts from the seed a run uses when none is given.
    let mut rng = SimRng::seed_from_u64(model.master_seed ^ 0x5eed_57a7e);
    // A world's type names live as long as the run; check runs one trial and exits.
    let names: Vec<&'static str> = model
        .events
        .iter()
        .map(|e| &*Box::leak(e.name.clone().into_boxed_str()))
        .collect();
    let weights: Vec<f64> = model.events.iter().map(|e| e.weight).collect();
    // A world whose events all come on entities' clocks draws nothing: its trial counts the
    // ticks that made an event as its draws, as they fall due.
    let draw = if weights.iter().any(|w| *w > 0.0) {
        Some(WeightedIndex::new(&weights)?)
    } else {
        None
    };
    let mut world = FileWorld::new(Arc::clone(&model), master, names, &mut rng)?;
    let mut rng = SimRng::seed_from_u64(SEED);
    world.begin(&mut rng, START_MS);
    // The gap between draws the world's pace asks for; without one, the default gaps' mean.
    let gap_ms = match (model.pace.rate, model.pace.deltas) {
        (Some(rate), _) => 1000.0 / rate,
        (None, Some((lo, hi))) => 500.0 * (lo + hi),
        (None, None) => 35_000.0,
    }
    .max(1.0) as i64;
    let mut batch = Batch::new();
    let mut now = START_MS;
    let mut done = 0;
    // What happened, from the events written; the engine's refusals are merged in at the end.
    let mut tally = Tally::new(model.events.len());
    // At most ten follow-ups a draw in all, as they fall due: a wave repeated 10,000,000 times
    // every 10 ms from each draw would otherwise make billions before the draws end.
    let most = draws.saturating_mul(10);
    let follow_ups = |made: &Tally, refused: &Tally| {
        let made: u64 = made.follow.iter().map(|c| c.made).sum();
        made + refused.follow.iter().map(Counts::refusals).sum::<u64>()
    };
    // Drawn primaries made in the batch, counted as draws already.
    let mut drawn = 0;
    while done < draws {
        done += count_made(&batch, &mut tally) - drawn;
        drawn = 0;
        batch.clear();
        // The clocks make at most what is left of the draws.
        world.limit_clocks(draws - done.min(draws));
        if done >= draws {
            break;
        }
        let budget = most.saturating_sub(follow_ups(&tally, world.tally()));
        if budget == 0 {
            break;
        }
        let mut out = EventWriter::new(&mut batch, "trial");
        if world.due_some(&mut rng, now, &mut out, budget.min(100_000) as usize) {
            continue;
        }
        let Some(draw) = &draw else {
            // Nothing drawn: on to whatever falls due next, or the end of the trial.
            match world.next_due() {
                Some(at) if at <= START_MS + MAX_SPAN_MS => now = at.max(now),
                // A year of clocks whose ticks are all refused, or no clock left.
                _ => break,
            }
            continue;
        };
        if let Some(at) = world.ready_at().filter(|at| *at > now) {
            // Every weighted type is exhausted until a follow-up changes the state.
            now = at;
            continue;
        }
        let t = draw.sample(&mut rng) as EventTypeId;
        drawn += u64::from(world.primary(&mut rng, t, now, &mut out));
        done += 1;
        now = now.saturating_add(gap_ms);
    }
    done += count_made(&batch, &mut tally) - drawn;
    batch.clear();
    let span_ms = now - START_MS;
    // The clocks stop with the draws; what they started still falls due.
    world.limit_clocks(0);
    // Then what was scheduled falls due (a plan's instalments weeks later), an hour at a time
    // for at most a year of event time and ten follow-ups a draw, so a chain that never ends
    // cannot keep the trial going.
    let mut hours = 0;
    while hours < 366 * 24 && world.has_scheduled() {
        let budget = most.saturating_sub(follow_ups(&tally, world.tally()));
        if budget == 0 {
            break;
        }
        batch.clear();
        let out = &mut EventWriter::new(&mut batch, "trial");
        if !world.due_some(&mut rng, now, out, budget.min(100_000) as usize) {
            now = now.saturating_add(3_600_000);
            hours += 1;
        }
        count_made(&batch, &mut tally);
    }
    Ok(Trial {
        tally: tally.merged(world.tally()),
        span_ms,
        draws: done,
    })
}

/// Counts the events in `batch` as made, primaries and follow-ups apart: the engine counts
/// only refusals. Returns the primaries among them that no draw made (entities' clocks made
/// them), which the trial counts as draws.
fn count_made(batch: &Batch, tally: &mut Tally) -> u64 {
    for r in batch.iter() {
        tally.made(r.event_type as u16, r.primary);
    }
    batch.primaries_from(0)
}
