//! The scenario interface: a simulated business with its master data, event types, default
//! weights and topics, and a world state that turns primary draws into consistent events.
//!
//! `retail` is the one world written in Rust; the others are world files (`worlds/*.yaml`),
//! the shipped ones embedded in the binary (`worldfile::builtin`). [`find`] resolves a name,
//! [`names`] and [`builtins`] list what kafka-gen knows.

pub mod retail;
pub mod snapshot;
pub mod util;

use std::path::{Path, PathBuf};

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
    /// The field whose value is the record key, chosen for ordering: a dotted path into
    /// nested objects for a world file's `key: ride.bike_id` or `key: payload.student_id`.
    pub key_field: &'static str,
}

impl EventTypeSpec {
    /// The record key `event` carries, as the producer writes it: the text at `key_field`
    /// (followed through nested objects), or a number's text. `None` when it is missing.
    pub fn key_of<'a>(&self, event: &'a serde_json::Value) -> Option<std::borrow::Cow<'a, str>> {
        let mut v = event;
        for part in self.key_field.split('.') {
            v = v.get(part)?;
        }
        match v {
            serde_json::Value::String(s) => Some(std::borrow::Cow::Borrowed(s)),
            serde_json::Value::Number(n) => Some(std::borrow::Cow::Owned(n.to_string())),
            _ => None,
        }
    }
}

/// One kind of master data a scenario owns (`stores`, `songs`, ...), for `kafka-gen master`.
#[derive(Debug, Clone, Copy)]
pub struct MasterKind {
    /// File stem and `--size` key: `songs` for `songs.json`.
    pub name: &'static str,
    /// Records `kafka-gen master` writes when no size is given.
    pub default_count: usize,
    /// Most records `kafka-gen master` will write.
    pub max_count: usize,
}

/// A scenario: static facts plus a way to build its world from master data.
pub trait Scenario: Sync {
    fn name(&self) -> &'static str;
    fn description(&self) -> &'static str;
    fn event_types(&self) -> &'static [EventTypeSpec];
    /// Other names its event types answer to in `--weights` and `[weights]`, as (alias, type
    /// name): retail takes its source document's `sales`, `inventory`, ... (issue 12).
    fn weight_aliases(&self) -> &'static [(&'static str, &'static str)] {
        &[]
    }
    /// The scenario's default pace (a world file's `pace:`), used where the user gives none.
    fn default_pace(&self) -> crate::worldfile::pace::Pace {
        crate::worldfile::pace::Pace::default()
    }
    /// The scenario's default time profile; a config's `[profile]` overrides parts of it.
    fn default_profile(&self) -> crate::profile::ProfileDefaults {
        crate::profile::RETAIL_PROFILE
    }
    /// The scenario's data contract as checks over a stream of events (JSON). With
    /// `from_start`, the stream is replayed from the first event, so starting state (stock,
    /// prices) is known; otherwise rules that need it apply once it has been seen.
    fn checker(
        &self,
        data_dir: &Path,
        from_start: bool,
    ) -> anyhow::Result<Box<dyn ContractChecker>>;

    /// How event type `t` happens when it runs on its entities' own clocks (a world file's
    /// `per:`), as "ticks runs on each sensor's own clock"; `None` for a drawn type.
    fn clocked(&self, _t: EventTypeId) -> Option<String> {
        None
    }

    /// Why event type `t` cannot be a primary event (drawn by weight): a world file's
    /// follow-up that reads values only its cause gives. `None` when it can be drawn.
    fn follow_only(&self, _t: EventTypeId) -> Option<String> {
        None
    }

    /// Checks one incoming event against the scenario's event schema (the ingest API uses
    /// this). Returns its type, or a message naming the first bad field. The default checks
    /// the envelope only; scenarios refine it with their types' own fields.
    fn validate_event(&self, event: &serde_json::Value) -> Result<EventTypeId, String> {
        validate_envelope(self.name(), self.event_types(), event)
    }

    /// The master-data kinds `kafka-gen master` writes for this scenario, in the order
    /// [`Scenario::write_master`] receives their sizes.
    fn master_kinds(&self) -> &'static [MasterKind];

    /// Generates master data with `sizes[i]` records of `master_kinds()[i]` and writes it to
    /// `dir` in `format`; the same seed and sizes give byte-identical files. Returns the paths.
    /// Checks record counts for `kafka-gen master` beyond each kind's `max_count`: a world
    /// file's kind counted by a parameter keeps to that parameter's range.
    fn check_sizes(&self, _sizes: &[usize]) -> anyhow::Result<()> {
        Ok(())
    }

    /// The seed `kafka-gen master` writes with when given no `--seed`: the one a run uses to
    /// make the same data in memory, so the files and the in-memory data agree (issue 28).
    fn master_seed(&self) -> u64 {
        42
    }

    fn write_master(
        &self,
        rng: &mut SimRng,
        sizes: &[usize],
        dir: &Path,
        format: crate::master::Format,
    ) -> anyhow::Result<Vec<PathBuf>>;

    /// Where the master data lives when neither `--data-dir` nor the config names a directory:
    /// `data/<name>` (retail keeps `data`).
    fn default_data_dir(&self) -> PathBuf {
        Path::new("data").join(self.name())
    }

    /// Loads and validates the master data in `data_dir` and builds the starting world: the
    /// same path `serve` takes, in one call.
    fn load_world(
        &self,
        data_dir: &Path,
        section: &WorldSection,
    ) -> anyhow::Result<Box<dyn World>> {
        self.world_from(&self.load_master(data_dir)?, section)
    }

    /// Loads the master data in `data_dir` once, to build many worlds from (`kafka-gen serve`
    /// loads it at start-up, not per request).
    fn load_master(&self, data_dir: &Path) -> anyhow::Result<Master>;

    /// A world on master data from [`Scenario::load_master`], as [`Scenario::load_world`] builds.
    fn world_from(&self, master: &Master, section: &WorldSection)
        -> anyhow::Result<Box<dyn World>>;
}

/// What a world is handed to start from: its own settings, resolved from the configuration
/// by `Config::world_section`. A world sees nothing else of the configuration.
#[derive(Debug, Clone, Default)]
pub struct WorldSection {
    /// The run's seed, if it was given.
    pub seed: Option<u64>,
    /// The weight of each event type, in [`Scenario::event_types`] order.
    pub weights: Vec<f64>,
    /// Primary events per second of event time that the run asks for, on average: retail
    /// warns when that is more than its stores could plausibly sell.
    pub requested_rate: f64,
    /// Retail's own section (`[retail]`).
    pub retail: retail::RetailConfig,
}

/// A scenario's loaded master data, shared (each world built from it takes a copy in memory).
#[derive(Clone)]
pub struct Master(std::sync::Arc<dyn std::any::Any + Send + Sync>);

impl Master {
    pub fn new<T: std::any::Any + Send + Sync>(data: T) -> Self {
        Self(std::sync::Arc::new(data))
    }

    /// The data as the scenario's own type.
    pub fn get<T: 'static>(&self) -> anyhow::Result<&T> {
        self.0
            .downcast_ref()
            .ok_or_else(|| anyhow::anyhow!("master data of another scenario"))
    }
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

    /// Whether derived events are still scheduled, so the world can change without a primary
    /// event. A world that refuses every draw with nothing scheduled is stuck for good. The
    /// default, yes, never lets the generator call a world stuck.
    fn has_scheduled(&self) -> bool {
        true
    }

    /// Emits the derived events due by `now_ms`, at most about `max` of them, and says whether
    /// more are due by then: the runner hands them to the sinks between calls, so a day of
    /// follow-ups between two primary events of a sparse range is not one batch of gigabytes.
    /// The default makes them all at once.
    fn due_some(
        &mut self,
        rng: &mut SimRng,
        now_ms: i64,
        out: &mut EventWriter<'_>,
        _max: usize,
    ) -> bool {
        self.due(rng, now_ms, out);
        false
    }

    /// Starts the world's own clocks (a world file's per-entity types) at `start_ms`, the
    /// run's start; called once, before the first event. A world not started is started at
    /// the time of the first event it is asked for.
    fn begin(&mut self, _rng: &mut SimRng, _start_ms: i64) {}

    /// Lets the world's own clocks make at most `left` more primary events (the rest of a
    /// count); at 0 they stop, and only follow-ups come due.
    fn limit_clocks(&mut self, _left: u64) {}

    /// When the earliest follow-up (or tick of an entity's clock) still to come falls due,
    /// for a run that finishes its chains after its last primary event. `None`: nothing to
    /// finish.
    fn next_due(&self) -> Option<i64> {
        None
    }

    /// Follow-up events still to come (every occurrence of a repeat): what a run that ends now
    /// drops.
    fn pending(&self) -> u64 {
        0
    }

    /// `None` when a primary event may be drawn now; otherwise the earliest time at which that
    /// may change (the world's next planned event), so the clock can jump there instead of
    /// stepping through times the world would refuse (web with every user in a session).
    fn ready_at(&self) -> Option<i64> {
        None
    }

    /// Why draws are refused, in the world's own terms, for the error of a run that cannot
    /// draw anything: the weighted types refused and what refused them. `None` when the world
    /// does not know.
    fn blocked(&self) -> Option<String> {
        None
    }

    /// The world's state variables and refusals so far (`kafka-gen soak`); `None` for a
    /// world that keeps no declared state (retail).
    fn snapshot(&self) -> Option<snapshot::WorldSnapshot> {
        None
    }
}

/// One broken rule of a scenario's data contract, naming the event and the rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    pub event_id: String,
    pub rule: &'static str,
    pub detail: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "event {}: {}: {}", self.event_id, self.rule, self.detail)
    }
}

/// A scenario's data contract, checked event by event in stream order.
pub trait ContractChecker: Send {
    /// Checks one event; returns how many violations it added.
    fn check(&mut self, event: &serde_json::Value) -> usize;
    /// Checks an event whose shape was already found wrong and reported (by the consumer's
    /// arrival checks): every other rule is checked where its fields allow, and the shape's
    /// problems are not reported twice. The default checks it as any other.
    fn check_misshapen(&mut self, event: &serde_json::Value) -> usize {
        self.check(event)
    }
    /// Checks what can only be judged at the end of the stream.
    fn finish(&mut self);
    fn violations(&self) -> &[Violation];
    /// The violations found so far, leaving none: a long-running caller (the checking
    /// consumer) takes them after every event, so the checker's list stays bounded.
    fn take_violations(&mut self) -> Vec<Violation>;
}

/// Checks the common envelope: `event_id` (a UUID), `event_type` (one of `types`),
/// `event_time` (RFC 3339), `schema_version` (a number) and `scenario` (`name`).
pub fn validate_envelope(
    name: &str,
    types: &[EventTypeSpec],
    event: &serde_json::Value,
) -> Result<EventTypeId, String> {
    let Some(object) = event.as_object() else {
        return Err("event is not a JSON object".into());
    };
    let text = |field: &str| object.get(field).and_then(|v| v.as_str());
    match text("event_id") {
        Some(id) if uuid::Uuid::parse_str(id).is_ok() => {}
        _ => return Err("event_id: missing or not a UUID".into()),
    }
    let Some(ty) = text("event_type") else {
        return Err("event_type: missing or not a string".into());
    };
    let Some(index) = types.iter().position(|t| t.name == ty) else {
        return Err(format!(
            "event_type: {ty:?} is not an event type of scenario {name}"
        ));
    };
    match text("event_time") {
        Some(t) if chrono::DateTime::parse_from_rfc3339(t).is_ok() => {}
        _ => return Err("event_time: missing or not an RFC 3339 time".into()),
    }
    if !object.get("schema_version").is_some_and(|v| v.is_u64()) {
        return Err("schema_version: missing or not a number".into());
    }
    if text("scenario") != Some(name) {
        return Err(format!("scenario: must be {name:?}"));
    }
    Ok(index as EventTypeId)
}

/// The name of every world kafka-gen knows without a path, the default first: retail, then
/// the shipped world files.
pub fn names() -> Vec<&'static str> {
    std::iter::once("retail")
        .chain(crate::worldfile::builtin::BUILTINS.iter().map(|b| b.name))
        .collect()
}

/// Every world kafka-gen knows without a path, in the order of [`names`]; a shipped file is
/// compiled with the parameters set so far (`worldfile::set_params`).
pub fn builtins() -> anyhow::Result<Vec<&'static dyn Scenario>> {
    names().into_iter().map(find).collect()
}

/// Looks a world up: a name that is a path (`worlds/bank.yaml`) loads that world file (see
/// `worlds/README.md`); then `retail`; then the shipped world files (`music`); then a world
/// file already loaded by path, by its world name (a `serve` request, `consume`).
pub fn find(name: &str) -> anyhow::Result<&'static dyn Scenario> {
    if crate::worldfile::is_path(name) {
        return Ok(crate::worldfile::scenario(std::path::Path::new(name))?);
    }
    if name == "retail" {
        return Ok(&retail::Retail);
    }
    if let Some(b) = crate::worldfile::builtin::get(name) {
        return Ok(crate::worldfile::builtin_scenario(b)?);
    }
    if let Some(world) = crate::worldfile::by_name(name) {
        return Ok(world);
    }
    Err(anyhow::anyhow!(
        "unknown scenario {name:?}; known scenarios: {} (or a world file's path, e.g. worlds/bank.yaml)",
        names().join(", ")
    ))
}

#[cfg(test)]
mod tests {
    /// Issue 28: a world file's nested key (`ride.bike_id`) was read at the top level by
    /// `consume` and `ingest`, so every record of such a type was a `wrong_key` violation
    /// and every ingest request was refused.
    #[test]
    fn a_key_is_read_through_nested_objects() {
        let spec = |key_field| super::EventTypeSpec {
            name: "t",
            default_weight: 1.0,
            default_topic: "t",
            key_field,
        };
        let event = serde_json::json!({"store_id": "S-1", "n": 7, "ride": {"bike_id": "B-9"}});
        assert_eq!(spec("ride.bike_id").key_of(&event).as_deref(), Some("B-9"));
        assert_eq!(spec("store_id").key_of(&event).as_deref(), Some("S-1"));
        assert_eq!(spec("n").key_of(&event).as_deref(), Some("7"));
        assert_eq!(spec("ride").key_of(&event), None);
        assert_eq!(spec("ride.nothing").key_of(&event), None);
    }

    use super::*;
    use serde_json::json;

    #[test]
    fn envelope_validation_names_the_first_bad_field() {
        let good = json!({"event_id": "01941f29-7c00-7f4b-8a95-c9b3c9f9ddd5", "event_type": "sale",
            "event_time": "2025-01-01T00:00:00.000Z", "schema_version": 1, "scenario": "retail"});
        assert_eq!(
            validate_envelope("retail", retail::TYPES, &good),
            Ok(retail::SALE)
        );
        let with = |field: &str, value: serde_json::Value| {
            let mut e = good.clone();
            e[field] = value;
            validate_envelope("retail", retail::TYPES, &e).unwrap_err()
        };
        assert!(with("event_id", json!("nope")).starts_with("event_id"));
        assert!(with("event_type", json!("refund")).contains("\"refund\""));
        assert!(with("event_time", json!("yesterday")).starts_with("event_time"));
        assert!(with("schema_version", json!("1")).starts_with("schema_version"));
        assert!(with("scenario", json!("music")).starts_with("scenario"));
        assert!(validate_envelope("retail", retail::TYPES, &json!([1])).is_err());
    }
}
