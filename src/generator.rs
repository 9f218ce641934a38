//! Turns draws into events: picks each primary event type by weight and lets the scenario's
//! world emit it, with whatever it derives and whatever has fallen due.

use rand::distr::weighted::WeightedIndex;
use rand::distr::Distribution;
use rand::SeedableRng;

use crate::config::Config;
use crate::event::{Batch, EventWriter};
use crate::scenario::{EventTypeId, Scenario, World};
use crate::SimRng;

/// Draws before a primary is given up on when the world keeps refusing (say, restock alerts
/// while nothing is low and every other weight is zero).
const MAX_REDRAWS: usize = 64;

pub struct Generator {
    scenario: &'static str,
    world: Box<dyn World>,
    rng: SimRng,
    draw: WeightedIndex<f64>,
    /// Primary events emitted so far.
    primaries: u64,
    /// Draws the world could not serve and that were drawn again.
    redraws: u64,
}

impl Generator {
    /// Loads the scenario's master data and builds its world. `seed` seeds every event draw.
    pub fn new(
        scenario: &'static dyn Scenario,
        config: &Config,
        seed: u64,
    ) -> anyhow::Result<Self> {
        let weights = config.weights_for(scenario)?;
        let world = scenario.load_world(&config.data_dir, config)?;
        Ok(Self {
            scenario: scenario.name(),
            world,
            rng: SimRng::seed_from_u64(seed),
            draw: WeightedIndex::new(&weights)?,
            primaries: 0,
            redraws: 0,
        })
    }

    pub fn primaries(&self) -> u64 {
        self.primaries
    }

    pub fn redraws(&self) -> u64 {
        self.redraws
    }

    /// `None` when a primary can be drawn now; otherwise when the world may next take one.
    pub fn ready_at(&self) -> Option<i64> {
        self.world.ready_at()
    }

    /// Appends one primary event at `now_ms`, preceded by derived events due by then and
    /// followed by those derived from it. Returns the primary's type, or `None` if the world
    /// refused every draw.
    pub fn next(&mut self, now_ms: i64, batch: &mut Batch) -> Option<EventTypeId> {
        let mut out = EventWriter::new(batch, self.scenario);
        self.world.due(&mut self.rng, now_ms, &mut out);
        if self.world.ready_at().is_some_and(|at| at > now_ms) {
            // The world takes no primary yet: drawing would only be refused.
            return None;
        }
        for _ in 0..MAX_REDRAWS {
            let event_type = self.draw.sample(&mut self.rng) as EventTypeId;
            if self
                .world
                .primary(&mut self.rng, event_type, now_ms, &mut out)
            {
                self.primaries += 1;
                return Some(event_type);
            }
            self.redraws += 1;
        }
        None
    }
}
