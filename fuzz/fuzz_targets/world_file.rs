//! A world file, as `kafka-gen check FILE` takes it: YAML text compiled to a model, described,
//! and given a short trial run on master data made from its `master_seed`. Whatever the text,
//! this returns (a `WorldError` for a bad file) and never panics, hangs or blows up.
#![no_main]

use std::collections::BTreeMap;
use std::sync::Arc;

use kafka_gen::worldfile::{compile_text, describe, tally, trial};
use libfuzzer_sys::fuzz_target;

/// `check`'s trial makes 10,000 draws; a few hundred reach the same engine paths in a
/// fraction of the time.
const TRIAL_DRAWS: u64 = 300;

/// Master data is made one entity at a time, as it must be: a file may ask for millions,
/// which is slow, not wrong. The trial runs on worlds up to this many entities.
const TRIAL_MAX_ENTITIES: usize = 5_000;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(model) = compile_text("fuzz.yaml", text, &BTreeMap::new()) else {
        return;
    };
    let _ = describe(&model);
    if model.kinds.iter().map(|k| k.count).sum::<usize>() > TRIAL_MAX_ENTITIES {
        return;
    }
    let model = Arc::new(model);
    if let Ok(t) = trial::run(Arc::clone(&model), TRIAL_DRAWS) {
        let _ = tally::report(&model, &t.tally);
    }
});
