//! The world file as written: plain serde types, checked for shape here and for meaning by
//! [`super::compile`]. `schemars` derives the JSON Schema of the format from the same types
//! (`kafka-gen schema --format`), so editors and this parser never disagree.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer};
pub use serde_yaml_ng::Value as Yaml;

/// A world: the business, its master data, its state and its events.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WorldFile {
    /// The world's name: lower case letters, digits and `_`, starting with a letter.
    pub world: String,
    /// One line saying what the world simulates.
    #[serde(default)]
    pub description: String,
    /// The entity kind a sharded run would split the world by.
    pub partition_by: Option<String>,
    /// `standard` (event_id, event_type, event_time, schema_version, scenario, caused_by, then
    /// the payload) or `none` (the payload is the whole event).
    #[serde(default)]
    pub envelope: EnvelopeKind,
    /// Seed of the master data made in memory when the data folder does not exist.
    #[serde(default = "default_master_seed")]
    pub master_seed: u64,
    /// Named values the rest of the file uses; set with `--set NAME=VALUE`.
    #[serde(default)]
    pub params: IndexMap<String, ParamDecl>,
    /// Master data: entity kinds with counts, ids and fields.
    #[serde(default)]
    pub entities: IndexMap<String, EntityDecl>,
    /// Mutable state: by entity kind, `global`, or a pair `kindA*kindB`.
    #[serde(default)]
    pub state: IndexMap<String, IndexMap<String, StateDecl>>,
    /// Event types, in the order of their ids.
    pub events: IndexMap<String, EventDecl>,
    /// The world's time profile.
    #[serde(default)]
    pub time: TimeDecl,
    /// The world's default pace and run length, as expressions over params; any pacing the
    /// user gives wins.
    #[serde(default)]
    pub pace: PaceDecl,
    /// The option names of the world's source document: its flags, its config file's keys
    /// and its environment variables, each standing for a parameter or a kafka-gen option.
    #[serde(default)]
    pub aliases: AliasesDecl,
    /// Named rules every event of the stream must keep, beyond the types, references and
    /// order the contract derives by itself: each a boolean expression over the event as
    /// emitted, master data and earlier events with the same key (`prev`, `first`, `recent`).
    #[serde(default)]
    pub checks: IndexMap<String, CheckDecl>,
    /// Per entity kind, how long one primary event keeps an entity of it: by Little's law a
    /// pace of `rate` primary events a second needs `rate x seconds` of them, and a run whose
    /// master data has fewer says so at start-up.
    #[serde(default)]
    pub capacity: IndexMap<String, CapacityDecl>,
}

/// One kind's entry in `capacity:`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CapacityDecl {
    /// Seconds of event time one primary event keeps an entity of the kind: an expression
    /// over params, above 0 and at most 100 years (`30 * 86400 / purchases_per_month`).
    pub seconds: Src,
    /// Why, in a few words; the start-up warning quotes it.
    pub doc: Option<String>,
}

/// One rule of `checks:`: it must be true for every event of the types it is on (`types:`).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckDecl {
    /// A boolean expression over the event's fields (`stream_seq`, `payload.student_id`),
    /// `now` (its time in ms), parameters, master fields of the entities it names
    /// (`song_id.duration_ms`, `lookup('songs', id)`) and earlier events with the same key:
    /// `prev(key, value, default)` and `first(key, value, default)`.
    pub rule: String,
    /// The event types it applies to, whose earlier events `prev` and `first` see. Default:
    /// every type that has all the fields the rule reads. A field some of the listed types
    /// lack reads as null in those. Also read as `on:`, the key's first name, which YAML 1.1
    /// tools (PyYAML) read as the boolean `true` (issue 28).
    #[serde(alias = "on")]
    pub types: Option<Vec<String>>,
    /// What the rule means, for people and `kafka-gen check`.
    #[serde(default)]
    pub doc: String,
}

fn default_master_seed() -> u64 {
    42
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum EnvelopeKind {
    #[default]
    Standard,
    None,
}

/// An expression's source: text, or a bare number or boolean.
#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[schemars(untagged)]
pub enum Src {
    Text(String),
    Number(f64),
    Bool(bool),
}

impl<'de> Deserialize<'de> for Src {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Int(i64),
            Number(f64),
            Bool(bool),
            Text(String),
        }
        Ok(match Raw::deserialize(d)? {
            Raw::Int(i) => Src::Text(i.to_string()),
            Raw::Number(n) => Src::Number(n),
            Raw::Bool(b) => Src::Bool(b),
            Raw::Text(t) => Src::Text(t),
        })
    }
}

impl Src {
    /// The text an expression parser reads.
    pub fn text(&self) -> String {
        match self {
            Src::Text(t) => t.clone(),
            Src::Number(n) if n.is_finite() => format!("{n:?}"),
            Src::Number(_) => "null".into(),
            Src::Bool(b) => b.to_string(),
        }
    }
}

/// A parameter: `type` says what it holds; without it, its default does (`30` an integer,
/// `30.0` a number, `true` a boolean, `'eu'` text).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ParamDecl {
    #[schemars(with = "serde_json::Value")]
    pub default: Yaml,
    /// What it holds: `integer` (a whole number; `--set n=1e6` is one), `number` (any
    /// number), `text` or `bool`. By default, the kind of `default`.
    #[serde(rename = "type")]
    pub ty: Option<ParamType>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// Allowed values of a text parameter.
    #[serde(default)]
    pub one_of: Vec<String>,
    /// What the parameter means, for `kafka-gen check`.
    #[serde(default)]
    pub doc: String,
    /// Environment variables that also set it (besides `KAFKA_GEN_PARAM_<NAME>`).
    #[serde(default)]
    pub env: Vec<String>,
}

/// What a parameter holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ParamType {
    /// A whole number.
    Integer,
    /// Any finite number.
    Number,
    Text,
    /// `true` or `false`.
    Bool,
}

/// One kind of master data.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EntityDecl {
    /// How many to make: an expression over params.
    pub count: Src,
    /// The id template, e.g. `"CUST-${seq:06}"`.
    pub id: String,
    /// The id's field name in master-data files (default `id`).
    #[serde(default = "default_id_field")]
    pub id_field: String,
    /// Field templates, drawn once per entity.
    #[serde(default)]
    #[schemars(with = "IndexMap<String, serde_json::Value>")]
    pub fields: IndexMap<String, Yaml>,
}

fn default_id_field() -> String {
    "id".into()
}

/// A state variable.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StateDecl {
    /// Starting value (an expression; may draw). Default 0, or false for `type: bool`.
    pub init: Option<Src>,
    /// Lowest allowed value (an expression over params).
    pub min: Option<Src>,
    /// Highest allowed value.
    pub max: Option<Src>,
    /// A count of `count` effects over a sliding window such as `7d`, `12h`, `30m`.
    pub window: Option<String>,
}

/// An event type.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EventDecl {
    /// Share of primary draws (normalised); 0 for an event that only follows another. Default
    /// 1, or 0 for a type that runs `per` entity (which no other weight may have).
    pub weight: Option<Src>,
    /// Run this type per entity, each on its own clock: `{s: students}` names the pick (`s`)
    /// and its kind. Every entity of the kind has its next tick scheduled; at a tick the event
    /// happens for that entity as if drawn, beside the world's weighted draws.
    pub per: Option<IndexMap<String, String>>,
    /// With `per`: seconds from one tick of an entity to its next (an expression, may draw and
    /// read the per pick), drawn again after every tick.
    pub every: Option<Src>,
    /// With `per`: seconds from the run's start to an entity's first tick (default: one draw
    /// of `every`, so the clocks start staggered).
    pub start: Option<Src>,
    /// With `per`: when this holds at a tick (it may read the per pick), the entity's clock
    /// stops for good and the tick makes no event.
    pub until: Option<Src>,
    /// Kafka topic (default `<world>.<event>`).
    pub topic: Option<String>,
    /// The payload field (dotted path) whose value is the record key.
    pub key: Option<String>,
    /// Entities the event is about, by name.
    #[serde(default)]
    pub pick: IndexMap<String, PickDecl>,
    /// Named values, computed in order.
    #[serde(default, rename = "let")]
    pub lets: IndexMap<String, Src>,
    /// A guard: the event happens only when it is true.
    pub when: Option<Src>,
    /// State updates, applied only if every declared bound still holds.
    #[serde(default)]
    pub effects: Vec<EffectDecl>,
    /// The payload template.
    #[serde(default)]
    #[schemars(with = "IndexMap<String, serde_json::Value>")]
    pub payload: IndexMap<String, Yaml>,
    /// Follow-up events.
    #[serde(default, rename = "then")]
    pub follow: Vec<FollowDecl>,
}

/// How an entity is chosen: a kind name (uniform), or the long form.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum PickDecl {
    Kind(String),
    Long(PickLong),
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PickLong {
    pub from: String,
    #[serde(default)]
    pub by: PickBy,
    /// Zipf exponent for `by: zipf` (default 1.0): a number, or a constant expression over
    /// params such as `skew`.
    pub s: Option<Src>,
    /// Numeric field for `by: weighted`.
    pub field: Option<String>,
    /// Only an entity for which this holds (the pick's name refers to the candidate).
    #[serde(rename = "where")]
    pub condition: Option<Src>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PickBy {
    #[default]
    Uniform,
    Zipf,
    Weighted,
}

/// One effect: `set`, `add` or `count`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EffectDecl {
    #[serde(default)]
    pub set: IndexMap<String, Src>,
    #[serde(default)]
    pub add: IndexMap<String, Src>,
    /// Window variables to count this event in.
    #[serde(default)]
    pub count: OneOrMany,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum OneOrMany {
    #[default]
    None,
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub fn items(&self) -> Vec<String> {
        match self {
            OneOrMany::None => vec![],
            OneOrMany::One(s) => vec![s.clone()],
            OneOrMany::Many(v) => v.clone(),
        }
    }
}

/// A follow-up.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FollowDecl {
    /// The event type that follows.
    pub event: String,
    /// Delay in seconds (an expression; may draw).
    #[serde(default = "zero")]
    pub after: Src,
    /// Chance that it follows at all (default 1).
    pub probability: Option<Src>,
    pub repeat: Option<RepeatDecl>,
}

fn zero() -> Src {
    Src::Number(0.0)
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RepeatDecl {
    /// How many times in all (at least 1).
    pub times: Src,
    /// Seconds between occurrences.
    pub every: Src,
}

/// The world's time profile; unset parts keep the retail defaults.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TimeDecl {
    /// 24 relative weights, from 00:00.
    pub hourly: Option<Vec<f64>>,
    pub weekend_multiplier: Option<f64>,
    /// Holiday multipliers by name (as in the config's `[profile.holidays]`).
    #[serde(default)]
    pub holidays: IndexMap<String, f64>,
}

/// The world's default pace (`pace:`), each an expression over params. Used when the user
/// gives no pacing (`--rate`, `--volume`, `--min-delta`, `--max-delta`, `--speed`,
/// `--events-per-day`, or the same in the config file or environment).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PaceDecl {
    /// Primary events per second of event time, paced evenly (1e-6 to 1e9).
    pub rate: Option<Src>,
    /// Realistic mode: shortest gap between primary events, seconds (0 to a year).
    pub min_delta: Option<Src>,
    /// Realistic mode: longest gap between primary events, seconds (0.001 to a year).
    pub max_delta: Option<Src>,
    /// In a live run, event time runs this many times faster than the wall clock (1 to
    /// 1e6; 1 is real time). A bounded run then starts its clock in the past so that its
    /// last event time is the wall clock at its end, and none lies in the future.
    pub speed: Option<Src>,
    /// How long a run lasts when the user gives no `--duration`, `--count` or
    /// `--continuous`: seconds of real time (0 to 10 years); 0 runs until stopped.
    pub duration: Option<Src>,
    /// Historical mode (`--start` and `--end`) with neither `--count` nor
    /// `--events-per-day`: this many primary events over the range (1 to 1e12).
    pub historical_count: Option<Src>,
    /// Whether live runs follow the time profile (`--follow-profile`), true or false.
    pub follow_profile: Option<Src>,
}

/// Other names for a world's options, as its source document spells them.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AliasesDecl {
    /// Command-line flags, with their dashes: `--num-songs: {param: num_songs}`. They are
    /// read once the world is known (`--world FILE`), before the other flags.
    #[serde(default)]
    pub flags: IndexMap<String, AliasDecl>,
    /// Keys of the document's config file, dotted (`user_behavior.session_duration_min`):
    /// given as `--set KEY=VALUE`, or all at once from its YAML file with `--set @FILE`.
    #[serde(default)]
    pub keys: IndexMap<String, AliasDecl>,
    /// Environment variables, read like the `KAFKA_GEN_*` one they stand for (below it when
    /// both are set): `INGEST_API_URL: {env: KAFKA_GEN_HTTP_ENDPOINT}`.
    #[serde(default)]
    pub env: IndexMap<String, AliasDecl>,
}

/// What one alias stands for: exactly one of `param`, `flag`, `env`, `ignore` or `reject`.
#[derive(Debug, Default, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AliasDecl {
    /// A world parameter, set to the value (as `--set NAME=VALUE`).
    pub param: Option<String>,
    /// A kafka-gen flag given the value, e.g. `--http-endpoint` (flags and keys only).
    pub flag: Option<String>,
    /// A `KAFKA_GEN_*` variable given the value (environment aliases only).
    pub env: Option<String>,
    /// Accepted and ignored, with this note on stderr: why, and what to use instead.
    pub ignore: Option<String>,
    /// Refused (exit 2) with this message: why, and what to use instead.
    pub reject: Option<String>,
    /// Appended to the value: `s` makes `--duration-seconds 300` read as `--duration 300s`.
    #[serde(default)]
    pub suffix: String,
    /// A flag alias that takes no value, such as `--live` (flags only).
    #[serde(default)]
    pub switch: bool,
    /// The value is a path that must exist (flag aliases that give a flag): when it does not,
    /// the run stops (exit 2) naming it, with this advice. Music's `--master-data-dir`.
    pub must_exist: Option<String>,
    /// Other `KAFKA_GEN_*` variables the alias sets when it is used (environment aliases
    /// only), each only where it is not set already: tutoring's `INGEST_API_URL` also selects
    /// the http sink and one event per request.
    #[serde(default)]
    pub sets: IndexMap<String, String>,
}
