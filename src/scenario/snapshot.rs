//! What a world can show of itself between events, for `kafka-gen soak`: each state
//! variable's value over its entities, with the bounds it is declared with, and the draws
//! refused so far by cause. A world that keeps no such state (retail) shows nothing.

use super::EventTypeId;

/// A world's state and refusals at one moment.
#[derive(Debug, Clone, Default)]
pub struct WorldSnapshot {
    pub vars: Vec<VarSnapshot>,
    /// Refusals since the start, per event type and cause (cumulative).
    pub refusals: Vec<Refusal>,
}

/// One state variable over every entity of its kind (a global variable has one value).
#[derive(Debug, Clone)]
pub struct VarSnapshot {
    /// `kind.variable`, or `global.variable`.
    pub name: String,
    /// Each entity's value; a `bool` is 0 or 1.
    pub values: Vec<f64>,
    /// The declared bounds (`min:`, `max:`).
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// The length of a sliding-window count, in ms (`window: 30d`); `None` otherwise.
    pub window_ms: Option<i64>,
}

/// Why draws of a type were refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RefusalReason {
    /// The `when` guard was false.
    Guard,
    /// An effect would have broken a state bound.
    Bound,
    /// A pick found no entity that qualified.
    NoEntity,
}

impl RefusalReason {
    pub fn label(self) -> &'static str {
        match self {
            RefusalReason::Guard => "guard false",
            RefusalReason::Bound => "bound would break",
            RefusalReason::NoEntity => "no entity qualified",
        }
    }
}

/// Refusals of one event type for one cause, since the start.
#[derive(Debug, Clone)]
pub struct Refusal {
    pub event_type: EventTypeId,
    /// Drawn as a primary event (else a follow-up that fell due and was dropped).
    pub primary: bool,
    pub reason: RefusalReason,
    /// The cause where it is written: "`when` at w.yaml:88 was false".
    pub detail: String,
    pub count: u64,
}
