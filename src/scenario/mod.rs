//! The scenario interface: a simulated business with its master data, event types, default
//! weights and topics, and a world state that turns primary draws into consistent events.
//!
//! Adding a scenario means one module beside `retail` and one line in [`REGISTRY`].

pub mod retail;

use std::path::Path;

use crate::event::EventWriter;
use crate::SimRng;

/// Index of an event type in its scenario's [`Scenario::event_types`] table.
pub type EventTypeId = u8;

/// What a scenario says about one of its event types.
#[derive(Debug, Clone, Copy)]
pub struct EventTypeSpec {
    /// Name used in events (`event_type`), in config keys and in stats.
    pub name: &'static str,
    /// Share of primary draws when the config does not say otherwise.
    pub default_weight: f64,
    /// Topic when the config does not name one.
    pub default_topic: &'static str,
    /// The field whose value is the record key, chosen for ordering.
    pub key_field: &'static str,
}

/// A scenario: static facts plus a way to build its world from master data.
pub trait Scenario: Sync {
    fn name(&self) -> &'static str;
    fn description(&self) -> &'static str;
    fn event_types(&self) -> &'static [EventTypeSpec];
    /// The scenario's default time profile; a config's `[profile]` overrides parts of it.
    fn default_profile(&self) -> crate::profile::ProfileDefaults {
        crate::profile::RETAIL_PROFILE
    }
    /// Loads and validates the master data in `data_dir` and builds the starting world.
    fn load_world(
        &self,
        data_dir: &Path,
        options: &crate::config::Config,
    ) -> anyhow::Result<Box<dyn World>>;
}

/// The evolving state of a simulated business.
pub trait World: Send {
    /// Emits one primary event of type `event_type` at `now_ms` into `out`, together with the
    /// events derived from it. Returns false when the world cannot produce that type right now
    /// (for example a restock alert while nothing is low on stock); the caller draws again.
    fn primary(
        &mut self,
        rng: &mut SimRng,
        event_type: EventTypeId,
        now_ms: i64,
        out: &mut EventWriter<'_>,
    ) -> bool;

    /// Emits the derived events that have fallen due by `now_ms` (a receipt after an alert).
    fn due(&mut self, rng: &mut SimRng, now_ms: i64, out: &mut EventWriter<'_>);
}

/// Every scenario kafka-gen knows, the default first.
pub static REGISTRY: &[&dyn Scenario] = &[&retail::Retail];

/// Looks a scenario up by name.
pub fn find(name: &str) -> anyhow::Result<&'static dyn Scenario> {
    REGISTRY
        .iter()
        .copied()
        .find(|s| s.name() == name)
        .ok_or_else(|| {
            let known: Vec<_> = REGISTRY.iter().map(|s| s.name()).collect();
            anyhow::anyhow!(
                "unknown scenario {name:?}; known scenarios: {}",
                known.join(", ")
            )
        })
}
