//! A request body to `kafka-gen ingest` (one event, a JSON array or NDJSON), parsed and
//! validated against a shipped world's contract as the service does, and each accepted event
//! made into the bytes it would produce, which must be one JSON object. The first byte picks
//! the world (its low bits) and whether the request carries an `Idempotency-Key` (bit 7); the
//! rest is the body. Never a panic, a hang or a blow-up.
#![no_main]

use std::sync::OnceLock;

use kafka_gen::ingest::complete::Assigner;
use kafka_gen::ingest::parse::{events, Context};
use kafka_gen::scenario::{find, Scenario};
use libfuzzer_sys::fuzz_target;

/// The shipped worlds: retail in Rust, the four built-in world files and the tutorial's bank.
const WORLDS: [&str; 6] = [
    "retail",
    "tutoring",
    "music",
    "web",
    "bnpl",
    concat!(env!("CARGO_MANIFEST_DIR"), "/../worlds/bank.yaml"),
];

fn worlds() -> &'static [&'static dyn Scenario] {
    static FOUND: OnceLock<Vec<&'static dyn Scenario>> = OnceLock::new();
    FOUND.get_or_init(|| {
        (WORLDS.iter())
            .map(|w| find(w).unwrap_or_else(|e| panic!("{w}: {e:#}")))
            .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let worlds = worlds();
    let world = worlds[usize::from(pick & 0x7f) % worlds.len()];
    let key = (pick & 0x80 != 0).then_some("01941f29-7c00-7f4b-8a95-c9b3c9f9ddd5");
    let assigner = Assigner::default();
    let cx = Context {
        assigner: &assigner,
        key,
    };
    let Ok(accepted) = events(body, world, cx) else {
        return;
    };
    for event in &accepted {
        let payload = event.payload(&assigner);
        let produced: Result<serde_json::Map<String, serde_json::Value>, _> =
            serde_json::from_slice(&payload);
        assert!(
            produced.is_ok(),
            "{}: an accepted event would be produced as {:?}, which is not one JSON object",
            world.name(),
            String::from_utf8_lossy(&payload)
        );
    }
});
