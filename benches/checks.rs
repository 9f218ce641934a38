//! What a world file's `checks:` rules cost the checking consumer: events/s of its checker on
//! 100,000 events of each shipped world, with the file's rules and with its `checks:` section
//! taken out (the same types, contract and references, no rules), in the same run,
//! alternating, median of 5 rounds. Parsing the JSON, which `consume` does for every record
//! either way, is timed beside them as the plain reference.
//!
//! `cargo bench --bench checks [-- NAME ...]`

use std::path::{Path, PathBuf};
use std::time::Instant;

use kafka_gen::config::{Config, SinkKind};
use kafka_gen::event::Batch;
use kafka_gen::generator::Generator;
use kafka_gen::scenario::{find, ContractChecker};

const EVENTS: usize = 100_000;
const ROUNDS: usize = 5;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The world file's text without its top-level `checks:` section.
fn without_checks(text: &str) -> String {
    let mut out = String::new();
    let mut skipping = false;
    for line in text.lines() {
        let top = line.starts_with(|c: char| c.is_ascii_alphabetic());
        if top {
            skipping = line.starts_with("checks:");
        }
        if !skipping {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// `EVENTS` events of the world at `path`, as the JSON lines it writes.
fn events(path: &Path, params: &[(&str, &str)]) -> Vec<Vec<u8>> {
    kafka_gen::worldfile::set_params(
        params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    );
    let scenario = find(path.to_str().expect("a UTF-8 path")).expect("a world");
    let config = Config {
        scenario: path.display().to_string(),
        data_dir: "/nonexistent/kafka-gen-bench".into(),
        seed: Some(1),
        sinks: vec![SinkKind::Null],
        ..Config::default()
    };
    let mut gen = Generator::new(scenario, &config, 1).expect("a servable world");
    let (mut out, mut batch, mut now) = (Vec::new(), Batch::new(), 1_735_722_000_000_i64);
    while out.len() < EVENTS {
        batch.clear();
        gen.next(now, &mut batch).expect("a servable world");
        now += 1_000;
        out.extend(batch.iter().map(|r| r.payload.to_vec()));
    }
    out.truncate(EVENTS);
    out
}

fn checker(path: &Path) -> Box<dyn ContractChecker> {
    let scenario = find(path.to_str().expect("a UTF-8 path")).expect("a world");
    scenario
        .checker(Path::new("/nonexistent/kafka-gen-bench"), true)
        .expect("a checker")
}

/// Events/s of one checker over the parsed events; the violations it found.
fn check_round(path: &Path, parsed: &[serde_json::Value]) -> (f64, usize) {
    let mut c = checker(path);
    let start = Instant::now();
    let mut found = 0;
    for e in parsed {
        found += c.check(e);
        c.take_violations();
    }
    c.finish();
    (parsed.len() as f64 / start.elapsed().as_secs_f64(), found)
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn main() {
    let wanted: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let worlds: [(&str, &[(&str, &str)]); 4] = [
        ("music", &[("threads", "100")]),
        ("tutoring", &[("STREAM_COUNT", "50")]),
        ("web", &[("num_users", "100")]),
        ("bnpl", &[]),
    ];
    let dir = std::env::temp_dir().join(format!("kafka-gen-bench-checks-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary folder");
    println!(
        "world        parse/s   check/s, no rules   check/s, rules   rules / no rules   violations"
    );
    for (name, params) in worlds {
        if !wanted.is_empty() && !wanted.iter().any(|w| w == name) {
            continue;
        }
        let shipped = root().join(format!("worlds/{name}.yaml"));
        let text = std::fs::read_to_string(&shipped).expect("a shipped world");
        let bare = dir.join(format!("{name}.yaml"));
        std::fs::write(&bare, without_checks(&text)).expect("a temporary world");
        let lines = events(&shipped, params);
        let (mut parse, mut plain, mut ruled, mut found) = (vec![], vec![], vec![], 0);
        for _ in 0..ROUNDS {
            let start = Instant::now();
            let parsed = lines
                .iter()
                .map(|l| serde_json::from_slice(l).expect("JSON"))
                .collect::<Vec<serde_json::Value>>();
            parse.push(parsed.len() as f64 / start.elapsed().as_secs_f64());
            plain.push(check_round(&bare, &parsed).0);
            let (rate, n) = check_round(&shipped, &parsed);
            ruled.push(rate);
            found = n;
        }
        let (plain, ruled) = (median(plain), median(ruled));
        println!(
            "{name:<10} {:>9.0} {:>19.0} {:>16.0} {:>18.2} {:>12}",
            median(parse),
            plain,
            ruled,
            ruled / plain,
            found
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
