//! A [`FileWorld`]'s state variables and refusals as a [`WorldSnapshot`], for `kafka-gen
//! soak`: every numeric or boolean variable of every kind (window counts included) and of
//! `global`, with its declared bounds, and the refusals of the tally by cause.

use super::runtime::FileWorld;
use super::tally::{describe, Cause};
use super::value::{Truth, Value};
use crate::scenario::snapshot::{Refusal, RefusalReason, VarSnapshot, WorldSnapshot};

/// A value as a number: a bool is 0 or 1; text, references and nulls have none.
fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Bool(Truth::True) => Some(1.0),
        Value::Bool(Truth::False) => Some(0.0),
        other => other.as_f64(),
    }
}

impl FileWorld {
    /// The world's state and refusals now. A variable that holds anything but numbers and
    /// bools (text, an entity) is left out: it has no mean.
    pub fn state_snapshot(&self) -> WorldSnapshot {
        let (model, state, tally) = self.parts();
        let mut vars = Vec::new();
        for (k, kind) in model.kinds.iter().enumerate() {
            let Some(rows) = state.ent.get(k) else {
                continue;
            };
            for (v, var) in kind.state.iter().enumerate() {
                let values: Option<Vec<f64>> = (0..rows.len() as u32)
                    .map(|i| rows.get(i, v as u16).and_then(number))
                    .collect();
                if let Some(values) = values {
                    vars.push(VarSnapshot {
                        name: format!("{}.{}", kind.name, var.name),
                        values,
                        min: var.lo,
                        max: var.hi,
                        window_ms: None,
                    });
                }
            }
            let Some(windows) = state.windows.get(k) else {
                continue;
            };
            // A kind with windows and no state variables keeps no rows of state.
            let n = self.master_kind_len(k);
            for (w, (name, len)) in kind.windows.iter().enumerate() {
                let values = (0..n as u32)
                    .map(|i| f64::from(windows.count(i, w as u16).unwrap_or(0)))
                    .collect();
                vars.push(VarSnapshot {
                    name: format!("{}.{name}", kind.name),
                    values,
                    min: None,
                    max: None,
                    window_ms: Some(*len),
                });
            }
        }
        for (g, var) in model.globals.iter().enumerate() {
            if let Some(x) = state.global.get(g).and_then(number) {
                vars.push(VarSnapshot {
                    name: format!("global.{}", var.name),
                    values: vec![x],
                    min: var.lo,
                    max: var.hi,
                    window_ms: None,
                });
            }
        }
        let mut refusals = Vec::new();
        for (primary, side) in [(true, &tally.primary), (false, &tally.follow)] {
            for (e, counts) in side.iter().enumerate() {
                for (cause, count) in &counts.refused {
                    let reason = match cause {
                        Cause::When => RefusalReason::Guard,
                        Cause::Effect(_) => RefusalReason::Bound,
                        Cause::Pick(_) => RefusalReason::NoEntity,
                    };
                    refusals.push(Refusal {
                        event_type: e as u8,
                        primary,
                        reason,
                        detail: describe(model, e as u16, *cause),
                        count: *count,
                    });
                }
            }
        }
        WorldSnapshot { vars, refusals }
    }
}
