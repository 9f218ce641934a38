//! Helpers for the unit tests of the built-in functions: compile and evaluate one expression
//! in an event with no entities, with the parameters `lambda` = 4 and `s` = 1.5.

use indexmap::IndexMap;
use rand::SeedableRng;

use super::compile::{Place, Scope};
use super::compiled::Compiled;
use super::expr::{Ctx, Expr, Master, State};
use super::parse;
use super::value::{Ty, Value};
use crate::SimRng;

fn params() -> IndexMap<String, Value> {
    IndexMap::from([
        ("lambda".to_string(), Value::float(4.0)),
        ("s".to_string(), Value::float(1.5)),
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
    draws_at(text, 1, 7, now).remove(0)
}

/// `n` draws of `text` from one seeded generator.
pub fn draws(text: &str, n: usize, seed: u64) -> Vec<Value> {
    draws_at(text, n, seed, 0)
}

/// `n` draws of `text` at `now` from one seeded generator, by the tree walk; the compiled
/// expression must give the same values from the same seed (NaN, which no function
/// returns, would fail this).
fn draws_at(text: &str, n: usize, seed: u64, now: i64) -> Vec<Value> {
    let (e, _) = compiled(text).unwrap_or_else(|m| panic!("{text}: {m}"));
    let (master, state) = (Master::default(), State::default());
    let ctx = Ctx::plain(&master, &state, &[], now);
    let mut rng = SimRng::seed_from_u64(seed);
    let walked: Vec<Value> = (0..n).map(|_| ctx.eval(&e, &mut rng)).collect();
    let code = Compiled::new(&e);
    let mut rng = SimRng::seed_from_u64(seed);
    let run: Vec<Value> = (0..n).map(|_| code.eval(&ctx, &mut rng)).collect();
    assert_eq!(
        walked, run,
        "{text}: the compiled expression differs from the tree walk"
    );
    walked
}
