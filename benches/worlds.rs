//! World files against the Rust worlds they replace (issue 11): each generates primaries on a
//! simulated clock into the null sink, in the same run, on one thread. Prints records/s of
//! both and their ratio; the file world must reach 0.5 of the Rust world and 300,000
//! records/s. A world with no Rust twin (bank) is measured against retail, as a plain
//! reference.
//!
//! `cargo bench --bench worlds [-- NAME ...]`

use std::path::PathBuf;
use std::time::Instant;

use kafka_gen::config::{Config, SinkKind};
use kafka_gen::event::Batch;
use kafka_gen::generator::Generator;
use kafka_gen::sinks::null::NullSink;
use kafka_gen::sinks::Sink;

const CHUNK: usize = 1024;
const ROUNDS: usize = 5;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A generator of `scenario` (a name or a world file) on its shipped data.
fn generator(scenario: &str) -> Generator {
    let s = kafka_gen::scenario::find(scenario).expect("scenario");
    let config = Config {
        scenario: scenario.into(),
        data_dir: root().join(s.default_data_dir()),
        seed: Some(1),
        sinks: vec![SinkKind::Null],
        ..Config::default()
    };
    Generator::new(s, &config, 1).expect("a world")
}

/// Records per second over `primaries` primary draws, the median of [`ROUNDS`] rounds.
fn rate(scenario: &str, primaries: usize) -> f64 {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let mut gen = generator(scenario);
    let types = kafka_gen::scenario::find(scenario)
        .expect("scenario")
        .event_types()
        .len();
    let mut sink = NullSink::new(types);
    let mut batch = Batch::new();
    let mut now = 1_735_722_000_000i64;
    let mut rates = Vec::new();
    for _ in 0..ROUNDS {
        let start = Instant::now();
        let mut records = 0usize;
        for _ in 0..primaries / CHUNK {
            batch.clear();
            for _ in 0..CHUNK {
                gen.next(now, &mut batch).expect("a servable world");
                now += 1_000;
            }
            records += batch.len();
            rt.block_on(sink.send(&batch)).expect("null sink");
        }
        rates.push(records as f64 / start.elapsed().as_secs_f64());
    }
    rates.sort_by(f64::total_cmp);
    rates[ROUNDS / 2]
}

fn main() {
    let wanted: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let pairs = [
        ("music", "music"),
        ("tutoring", "tutoring"),
        ("web", "web"),
        ("bnpl", "bnpl"),
        ("bank", "retail"),
    ];
    println!("world file            records/s   Rust world   records/s   ratio");
    for (file, rust) in pairs {
        if !wanted.is_empty() && !wanted.iter().any(|w| w == file) {
            continue;
        }
        let path = root().join(format!("worlds/{file}.yaml"));
        if !path.exists() {
            continue;
        }
        let path = path.display().to_string();
        let f = rate(&path, 200 * CHUNK);
        let r = rate(rust, 200 * CHUNK);
        println!("{file:<20} {f:>11.0}   {rust:<10} {r:>11.0}   {:.2}", f / r);
    }
}
