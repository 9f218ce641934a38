//! Turns draws into events: picks each primary event type by weight and lets the scenario's
//! world emit it, with whatever it derives and whatever has fallen due. It refuses event times
//! it cannot write, and notices a world that can no longer produce anything.

use rand::distr::weighted::WeightedIndex;
use rand::distr::Distribution;
use rand::SeedableRng;

use crate::bounds::{LAST_EVENT_MS, LAST_EVENT_TIME};
use crate::config::Config;
use crate::event::{Batch, EventWriter};
use crate::scenario::{EventTypeId, EventTypeSpec, Scenario, World};
use crate::SimRng;

/// Draws before a primary is given up on when the world keeps refusing (say, restock alerts
/// while nothing is low and every other weight is zero).
const MAX_REDRAWS: usize = 64;

/// Calls to [`Generator::next`] in a row that produced no event at all, while the world had
/// nothing scheduled, after which the world is taken to be stuck: 1024 calls are 65,536 refused
/// draws in a row, so a servable type with even 0.1% of the weight is missed with probability
/// below 1e-28. Refusals do not change a world, and with nothing scheduled nothing else will.
const STUCK_AFTER: u32 = 1024;

/// Why the generator cannot go on; both come from the input, so the run ends with exit 2.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GenError {
    #[error(
        "the {scenario} world cannot produce any event: {draws} draws in a row were refused and \
         nothing is scheduled (weighted types: {types}); {why}"
    )]
    Stuck {
        scenario: &'static str,
        draws: u64,
        types: String,
        /// What refused the draws, as the world tells it, and what to do.
        why: String,
    },
    #[error(
        "event time {time} is outside 1970-01-01 to {LAST_EVENT_TIME}, the times an event can \
         carry; start earlier (--start) or shorten the run (--count, --duration)"
    )]
    TimeOutOfRange { time: String },
}

pub struct Generator {
    scenario: &'static str,
    types: &'static [EventTypeSpec],
    weights: Vec<f64>,
    world: Box<dyn World>,
    rng: SimRng,
    /// `None` when no type has a weight: the world's events come only from its own clocks
    /// (per-entity types) and the follow-ups they make, as they fall due.
    draw: Option<WeightedIndex<f64>>,
    /// Primary events emitted so far, drawn or made on an entity's clock.
    primaries: u64,
    /// Primary events the run stops at (`--count`): the world's clocks make no more.
    count: Option<u64>,
    /// Draws the world could not serve and that were drawn again.
    redraws: u64,
    /// Calls in a row that produced nothing while nothing was scheduled.
    barren: u32,
}

impl Generator {
    /// Loads the scenario's master data and builds its world. `seed` seeds every event draw.
    pub fn new(
        scenario: &'static dyn Scenario,
        config: &Config,
        seed: u64,
    ) -> anyhow::Result<Self> {
        let weights = config.weights_for(scenario)?;
        let world = scenario.load_world(&config.data_dir, &config.world_section(scenario)?)?;
        let mut g = Self::with_world(scenario, world, weights, seed)?;
        g.count = config.schedule.count;
        Ok(g)
    }

    /// A generator over an already built world, with normalised `weights`.
    pub fn with_world(
        scenario: &'static dyn Scenario,
        world: Box<dyn World>,
        weights: Vec<f64>,
        seed: u64,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            scenario: scenario.name(),
            types: scenario.event_types(),
            draw: if weights.iter().any(|w| *w > 0.0) {
                Some(WeightedIndex::new(&weights)?)
            } else {
                None
            },
            weights,
            world,
            rng: SimRng::seed_from_u64(seed),
            primaries: 0,
            count: None,
            redraws: 0,
            barren: 0,
        })
    }

    pub fn primaries(&self) -> u64 {
        self.primaries
    }

    /// Whether primary events are drawn at a rate; if not, they come only on the world's own
    /// clocks, as they fall due ([`Generator::next_due`]).
    pub fn draws(&self) -> bool {
        self.draw.is_some()
    }

    /// Starts the world's clocks at the run's start, `start_ms`.
    pub fn begin(&mut self, start_ms: i64) {
        self.world.begin(&mut self.rng, start_ms);
    }

    /// Tells the world how many primaries its clocks may still make, before it makes any.
    fn limit_clocks(&mut self) {
        if let Some(count) = self.count {
            self.world
                .limit_clocks(count.saturating_sub(self.primaries));
        }
    }

    /// Counts the primary events made on entities' clocks among the records from `from`.
    fn count_ticks(&mut self, batch: &Batch, from: usize) {
        self.primaries += batch.primaries_from(from);
    }

    pub fn redraws(&self) -> u64 {
        self.redraws
    }

    /// The world being run, for what it shows of itself (`kafka-gen soak`).
    pub fn world(&self) -> &dyn World {
        self.world.as_ref()
    }

    /// `None` when a primary can be drawn now; otherwise when the world may next take one.
    pub fn ready_at(&self) -> Option<i64> {
        self.world.ready_at()
    }

    /// Appends the follow-ups due by `now_ms` (at most about `max`), with no primary event;
    /// says whether more are due by then. The runner calls this before [`Generator::next`] to
    /// hand a long stretch of follow-ups to the sinks in pieces, and after the last primary
    /// event to finish the chains a run started.
    pub fn follow_ups(&mut self, now_ms: i64, batch: &mut Batch, max: usize) -> bool {
        // A follow-up is stamped with its own due time, never later than `now_ms`.
        let now_ms = now_ms.min(LAST_EVENT_MS);
        self.limit_clocks();
        let before = batch.len();
        let mut out = EventWriter::new(batch, self.scenario);
        let more = self.world.due_some(&mut self.rng, now_ms, &mut out, max);
        self.count_ticks(batch, before);
        more
    }

    /// When the earliest follow-up still to come falls due.
    pub fn next_due(&self) -> Option<i64> {
        self.world.next_due()
    }

    /// Follow-up events still to come: what ending the run now drops.
    pub fn pending(&self) -> u64 {
        self.world.pending()
    }

    /// Appends one primary event at `now_ms`, preceded by derived events due by then and
    /// followed by those derived from it. Returns the primary's type, or `None` if the world
    /// refused every draw this time. An error means the run cannot go on: the time is past
    /// what an event can carry, or the world has been unable to produce anything for
    /// [`STUCK_AFTER`] calls with nothing scheduled.
    pub fn next(
        &mut self,
        now_ms: i64,
        batch: &mut Batch,
    ) -> Result<Option<EventTypeId>, GenError> {
        if !(0..=LAST_EVENT_MS).contains(&now_ms) {
            let time = chrono::DateTime::from_timestamp_millis(now_ms)
                .map_or_else(|| format!("{now_ms} ms"), |t| t.to_rfc3339());
            return Err(GenError::TimeOutOfRange { time });
        }
        let before = batch.len();
        self.limit_clocks();
        let mut out = EventWriter::new(batch, self.scenario);
        self.world.due(&mut self.rng, now_ms, &mut out);
        self.count_ticks(batch, before);
        let mut out = EventWriter::new(batch, self.scenario);
        let counted = self.count.is_some_and(|c| self.primaries >= c);
        let Some(draw) = self.draw.as_ref().filter(|_| !counted) else {
            // The count is reached on the clocks, or nothing is drawn: events come as they
            // fall due.
            return Ok(None);
        };
        if self.world.ready_at().is_some_and(|at| at > now_ms) {
            // The world takes no primary yet: drawing would only be refused.
            return Ok(None);
        }
        for _ in 0..MAX_REDRAWS {
            let event_type = draw.sample(&mut self.rng) as EventTypeId;
            if self
                .world
                .primary(&mut self.rng, event_type, now_ms, &mut out)
            {
                self.primaries += 1;
                self.barren = 0;
                return Ok(Some(event_type));
            }
            self.redraws += 1;
        }
        if batch.len() > before || self.world.has_scheduled() {
            self.barren = 0;
            return Ok(None);
        }
        self.barren += 1;
        if self.barren >= STUCK_AFTER {
            return Err(GenError::Stuck {
                scenario: self.scenario,
                draws: u64::from(self.barren) * MAX_REDRAWS as u64,
                types: self.weighted_types(),
                why: self.world.blocked().unwrap_or_else(|| {
                    "give weight to other event types (--weights) or check the master data".into()
                }),
            });
        }
        Ok(None)
    }

    /// The event types with a weight above zero, as `sale=1`.
    fn weighted_types(&self) -> String {
        self.types
            .iter()
            .zip(&self.weights)
            .filter(|(_, w)| **w > 0.0)
            .map(|(t, w)| format!("{}={}", t.name, crate::bounds::Num(*w)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SimRng;

    /// A world that serves nothing, optionally with something scheduled.
    struct Barren {
        scheduled: bool,
    }

    impl World for Barren {
        fn primary(
            &mut self,
            _: &mut SimRng,
            _: EventTypeId,
            _: i64,
            _: &mut EventWriter<'_>,
        ) -> bool {
            false
        }
        fn due(&mut self, _: &mut SimRng, _: i64, _: &mut EventWriter<'_>) {}
        fn has_scheduled(&self) -> bool {
            self.scheduled
        }
    }

    fn generator(scheduled: bool) -> Generator {
        let retail = crate::scenario::find("retail").unwrap();
        let weights = vec![1.0, 0.0, 0.0, 0.0, 0.0];
        Generator::with_world(retail, Box::new(Barren { scheduled }), weights, 1).unwrap()
    }

    #[test]
    fn a_world_with_nothing_to_serve_or_schedule_is_stuck() {
        let mut g = generator(false);
        let mut batch = Batch::new();
        for call in 1..STUCK_AFTER {
            assert_eq!(g.next(1_000, &mut batch), Ok(None), "call {call}");
        }
        let e = g.next(1_000, &mut batch).unwrap_err();
        assert!(matches!(e, GenError::Stuck { draws: 65_536, .. }), "{e}");
        assert!(e.to_string().contains("weighted types: sale=1"), "{e}");
    }

    #[test]
    fn a_world_waiting_for_scheduled_events_is_not_stuck() {
        let mut g = generator(true);
        let mut batch = Batch::new();
        for _ in 0..2 * STUCK_AFTER {
            assert_eq!(g.next(1_000, &mut batch), Ok(None));
        }
    }

    #[test]
    fn times_past_year_9999_are_refused() {
        let mut g = generator(true);
        let mut batch = Batch::new();
        assert_eq!(g.next(LAST_EVENT_MS, &mut batch), Ok(None));
        let e = g.next(LAST_EVENT_MS + 1, &mut batch).unwrap_err();
        assert!(e.to_string().contains(LAST_EVENT_TIME), "{e}");
    }
}
