//! One expression of the world language (what `${...}` holds), parsed and compiled twice: in
//! an event of the tutorial's bank world (its entities, state, windows and parameters, with
//! picks `a` and `b`), and in an event with no entities, where it is also evaluated, by the
//! tree walk, compiled to closures and as a condition, which must agree value for value
//! (`worldfile::compiled` promises it). Never a panic, a hang or a blow-up.
#![no_main]

use std::collections::BTreeMap;
use std::sync::OnceLock;

use indexmap::IndexMap;
use kafka_gen::worldfile::compile::{PairInfo, Place, Scope};
use kafka_gen::worldfile::compiled::{Compiled, Condition};
use kafka_gen::worldfile::expr::{Ctx, Master, State};
use kafka_gen::worldfile::model::Model;
use kafka_gen::worldfile::parse;
use kafka_gen::worldfile::value::{Base, Ty, Value};
use kafka_gen::SimRng;
use libfuzzer_sys::fuzz_target;
use rand::SeedableRng;

const BANK: &str = include_str!("../../worlds/bank.yaml");

fn bank() -> &'static Model {
    static BANK_MODEL: OnceLock<Model> = OnceLock::new();
    BANK_MODEL.get_or_init(|| {
        kafka_gen::worldfile::compile_text("worlds/bank.yaml", BANK, &BTreeMap::new())
            .expect("worlds/bank.yaml compiles")
    })
}

/// The entity-free event's locals: one of each kind of value.
fn locals() -> Vec<(String, Value)> {
    vec![
        ("x".into(), Value::float(2.5)),
        ("n".into(), Value::Int(3)),
        ("t".into(), Value::str("text")),
        ("yes".into(), Value::Bool(true.into())),
        ("none".into(), Value::Null),
    ]
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(ast) = parse::parse(text) else {
        return;
    };

    let world = bank();
    let globals: Vec<(String, Ty)> = (world.globals.iter())
        .map(|g| (g.name.clone(), g.ty.clone()))
        .collect();
    let pairs: Vec<PairInfo> = world.pairs.iter().map(|(p, _)| p.clone()).collect();
    let picks = ["a", "b"].iter().enumerate();
    let scope = Scope {
        params: &world.params,
        kinds: &world.infos,
        globals: &globals,
        pairs: &pairs,
        locals: (picks.map(|(k, name)| (name.to_string(), Ty::of(Base::Ent(k as u16)))))
            .chain([("amount".to_string(), Ty::of(Base::Float))])
            .collect(),
        place: Place::Event,
    };
    let _ = scope.compile(&ast);

    let params = IndexMap::from([
        ("lambda".to_string(), Value::float(4.0)),
        ("s".to_string(), Value::float(1.5)),
    ]);
    let locals = locals();
    for place in [Place::Static, Place::Entity] {
        let _ = Scope {
            params: &params,
            kinds: &[],
            globals: &[],
            pairs: &[],
            locals: vec![],
            place,
        }
        .compile(&ast);
    }
    let scope = Scope {
        params: &params,
        kinds: &[],
        globals: &[],
        pairs: &[],
        locals: locals
            .iter()
            .map(|(n, v)| (n.clone(), Ty::exact(v)))
            .collect(),
        place: Place::Event,
    };
    let Ok((e, _)) = scope.compile(&ast) else {
        return;
    };
    let (master, state) = (Master::default(), State::default());
    let values: Vec<Value> = locals.into_iter().map(|(_, v)| v).collect();
    let ctx = Ctx::plain(&master, &state, &values, 1_735_689_600_000);
    let (compiled, condition) = (Compiled::new(&e), Condition::new(&e));
    let (mut walk_rng, mut compiled_rng, mut condition_rng) = (
        SimRng::seed_from_u64(7),
        SimRng::seed_from_u64(7),
        SimRng::seed_from_u64(7),
    );
    for _ in 0..3 {
        let walked = ctx.eval(&e, &mut walk_rng);
        let run = compiled.eval(&ctx, &mut compiled_rng);
        // NaN is unequal to itself: compare what each prints.
        assert_eq!(
            format!("{walked:?}"),
            format!("{run:?}"),
            "{text}: the compiled expression differs from the tree walk"
        );
        assert_eq!(
            walked.truthy(),
            condition.holds(&ctx, &mut condition_rng),
            "{text}: the condition differs from the tree walk"
        );
    }
});
