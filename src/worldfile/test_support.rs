//! Helpers for the unit tests of the built-in functions: compile and evaluate one expression
//! in an event with no entities, with the parameters `lambda` = 4 and `s` = 1.5.

use indexmap::IndexMap;
use rand::SeedableRng;

use super::compile::{Place, Scope};
use super::expr::{Ctx, Expr, Master, State};
use super::parse;
use super::value::{Ty, Value};
use crate::SimRng;

fn params() -> IndexMap<String, Value> {
    IndexMap::from([
        ("lambda".to_string(), Value::Float(4.0)),
        ("s".to_string(), Value::Float(1.5)),
    ])
}

/// Compiles `text` as an event's expression: its compiled form and type, or the message.
pub fn compiled(text: &str) -> Result<(Expr, Ty), String> {
    let params = params();
    let scope = Scope {
        params: &params,
        kinds: &[],
        globals: &[],
        pairs: &[],
        locals: vec![],
        place: Place::Event,
    };
    scope.compile(&parse::parse(text)?)
}

/// The type of `text`, or the message that rejects it.
pub fn compile(text: &str) -> Result<Ty, String> {
    compiled(text).map(|(_, t)| t)
}

/// `text` evaluated once at `now` = 0 with a fixed seed.
pub fn eval(text: &str) -> Value {
    eval_at(text, 0)
}

/// `text` evaluated once at `now` (ms) with a fixed seed.
pub fn eval_at(text: &str, now: i64) -> Value {
    let (e, _) = compiled(text).unwrap_or_else(|m| panic!("{text}: {m}"));
    let (master, state) = (Master::default(), State::default());
    let mut rng = SimRng::seed_from_u64(7);
    Ctx::plain(&master, &state, &[], now).eval(&e, &mut rng)
}

/// `n` draws of `text` from one seeded generator.
pub fn draws(text: &str, n: usize, seed: u64) -> Vec<Value> {
    let (e, _) = compiled(text).unwrap_or_else(|m| panic!("{text}: {m}"));
    let (master, state) = (Master::default(), State::default());
    let mut rng = SimRng::seed_from_u64(seed);
    let ctx = Ctx::plain(&master, &state, &[], 0);
    (0..n).map(|_| ctx.eval(&e, &mut rng)).collect()
}
