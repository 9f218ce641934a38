//! A world file compiled: every name resolved, every expression typed, ready to run.

use indexmap::IndexMap;

use super::compile::{KindInfo, PairInfo};
use super::expr::Expr;
use super::format::EnvelopeKind;
use super::template::Node;
use super::value::{Ty, Value};

/// The most entities of one kind (`count`).
pub const MAX_ENTITIES: u32 = 10_000_000;
/// The most times a follow-up repeats (`repeat.times`): as many as the largest kind has
/// entities, so one wave can reach every device of a fleet. A repeat waits in the queue as one
/// entry that counts down, so its size costs no memory.
pub const MAX_REPEAT_TIMES: u32 = MAX_ENTITIES;
/// The most event types a world declares: each has its own counters, pickers and topic, and
/// a stream of more is beyond what anyone reads.
pub const MAX_EVENT_TYPES: usize = 250;

#[derive(Debug)]
pub struct Model {
    pub name: String,
    /// The file it was read from, as messages name it.
    pub file: String,
    pub description: String,
    pub envelope: EnvelopeKind,
    pub partition_by: Option<u16>,
    pub master_seed: u64,
    /// Parameter values after defaults and overrides, with their docs.
    pub params: IndexMap<String, Value>,
    pub param_docs: IndexMap<String, String>,
    pub kinds: Vec<KindModel>,
    pub infos: Vec<KindInfo>,
    pub globals: Vec<VarModel>,
    pub pairs: Vec<(PairInfo, Vec<Value>)>,
    pub events: Vec<EventModel>,
    pub hourly: Option<[f64; 24]>,
    pub weekend_multiplier: Option<f64>,
    pub holidays: Vec<(String, f64)>,
    /// With `envelope: none`, the top-level payload field that holds the event type.
    pub type_field: Option<String>,
    /// The default pace (`pace:`), evaluated with the parameters.
    pub pace: super::pace::Pace,
    /// The rules of `checks:`, compiled per event type.
    pub checks: super::checks::Checks,
    /// What the population can carry (`capacity:`), evaluated with the parameters.
    pub capacity: Vec<super::capacity::Capacity>,
}

#[derive(Debug)]
pub struct KindModel {
    pub name: String,
    pub count: usize,
    /// The parameter the count is, with its declared range, when `count:` names one alone:
    /// `kafka-gen master --size` keeps to that range.
    pub count_param: Option<(String, Option<f64>, Option<f64>)>,
    pub id_field: String,
    pub id: Node,
    pub fields: Vec<(String, Node)>,
    pub state: Vec<VarModel>,
    pub windows: Vec<(String, i64)>,
}

/// A state variable: its type, starting value and bounds.
#[derive(Debug)]
pub struct VarModel {
    pub name: String,
    pub ty: Ty,
    pub init: Expr,
    pub lo: Option<f64>,
    pub hi: Option<f64>,
}

impl VarModel {
    pub fn allows(&self, v: &Value) -> bool {
        match v.as_f64() {
            Some(x) => self.lo.is_none_or(|lo| x >= lo) && self.hi.is_none_or(|hi| x <= hi),
            None => self.lo.is_none() && self.hi.is_none(),
        }
    }
}

#[derive(Debug)]
pub struct EventModel {
    pub name: String,
    pub weight: f64,
    pub topic: String,
    /// Indices into nested payload objects down to the key field; empty = no key.
    pub key_path: Vec<u16>,
    pub key_field: String,
    /// Slot table: picks, then lets, then names only a cause gives.
    pub locals: Vec<(String, Ty)>,
    pub picks: Vec<PickModel>,
    pub lets: Vec<(u16, Expr)>,
    pub when: Option<Expr>,
    pub effects: Vec<Effect>,
    pub payload: Vec<(String, Node)>,
    pub follow: Vec<Follow>,
    /// Event types that have this one as a follow-up.
    pub causes: Vec<u16>,
    /// The slot of `occurrence` when the event reads it (the last slot).
    pub occurrence: Option<u16>,
    /// Its expressions compiled for the run, once its follow-ups are known.
    pub code: super::compiled::EventCode,
    /// Where its guard, picks and effects are written, for reports of what refused it.
    pub sites: Sites,
    /// The entity clock of a type that runs `per` entity (its pick is slot 0).
    pub per: Option<PerModel>,
}

/// A per-entity clock: each entity of `kind` ticks after its own gaps. Its expressions read
/// one local, slot 0: the entity.
#[derive(Debug)]
pub struct PerModel {
    pub kind: u16,
    /// Seconds to the entity's next tick.
    pub every: Expr,
    /// Seconds from the run's start to its first tick; `None`: one draw of `every`.
    pub start: Option<Expr>,
    /// When true at a tick, the clock stops for good.
    pub until: Option<Expr>,
}

/// The lines (from 1; 0 when not found) of what can refuse an event, so a report can say
/// "`when` at line 88" rather than only "refused".
#[derive(Debug, Default, Clone)]
pub struct Sites {
    pub when: usize,
    /// Per pick: the line of its `where` (or of the pick when it has none).
    pub picks: Vec<usize>,
    /// Per effect, in the order of `effects`: its line, and what it does (`add user.balance`).
    pub effects: Vec<(usize, String)>,
}

#[derive(Debug)]
pub struct PickModel {
    pub slot: u16,
    pub kind: u16,
    pub how: PickHow,
    pub cond: Option<Expr>,
}

#[derive(Debug)]
pub enum PickHow {
    Uniform,
    /// By rank in the master data, with this exponent.
    Zipf(f64),
    /// By a numeric master-data field (its index).
    Weighted(u16),
}

#[derive(Debug)]
pub enum Target {
    State(Expr, u16, u16),
    Global(u16),
    Pair(Expr, Expr, u16, u16),
}

#[derive(Debug)]
pub enum Effect {
    Set(Target, Expr),
    Add(Target, Expr),
    Count(Expr, u16, u16),
}

#[derive(Debug)]
pub struct Follow {
    pub target: u16,
    /// Seconds.
    pub after: Expr,
    pub probability: Option<Expr>,
    pub times: Option<Expr>,
    pub every: Option<Expr>,
    /// (slot in the cause, slot in the follow-up).
    pub carry: Vec<(u16, u16)>,
}
