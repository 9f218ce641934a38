//! The shipped world files beside retail, the world still written in Rust (issue 11): each
//! generates primaries on a simulated clock into the null sink, in the same run and
//! alternating rounds, on one thread. Prints records/s and bytes per record of both, and
//! their ratios. Until issue 11 each file was measured here against the Rust world it
//! replaced, which was deleted once the file reached 0.5 of its speed (and 300,000
//! records/s): music, bnpl, web and then tutoring (`bench/worlds-figures.md` keeps the
//! figures). Retail is the plain reference the ratios are now taken against.
//!
//! `cargo bench --bench worlds [-- NAME ...]`

use std::path::PathBuf;
use std::time::Instant;

use kafka_gen::config::{Config, SinkKind};
use kafka_gen::event::Batch;
use kafka_gen::generator::Generator;
use kafka_gen::scenario::Scenario;
use kafka_gen::sinks::null::NullSink;
use kafka_gen::sinks::Sink;

const CHUNK: usize = 1024;
const ROUNDS: usize = 7;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The world `name` names, looked up as kafka-gen does (retail on its shipped data, a world
/// file making its own).
fn world(name: &str) -> (&'static dyn Scenario, PathBuf) {
    let s = kafka_gen::scenario::find(name).expect("scenario");
    (s, root().join(s.default_data_dir()))
}

/// A generator of `name` (see [`world`]).
fn generator(name: &str) -> Generator {
    let (s, data_dir) = world(name);
    let config = Config {
        scenario: name.into(),
        data_dir,
        // World files make their master data in memory (data/worlds/ does not ship).
        seed: Some(1),
        sinks: vec![SinkKind::Null],
        ..Config::default()
    };
    Generator::new(s, &config, 1).expect("a world")
}

/// One world under measurement: its generator, the null sink and the simulated clock.
struct Runner {
    rt: tokio::runtime::Runtime,
    gen: Generator,
    sink: NullSink,
    batch: Batch,
    now: i64,
    /// Records made over all rounds, for bytes per record.
    records: u64,
}

impl Runner {
    fn new(scenario: &str) -> Self {
        let types = world(scenario).0.event_types().len();
        Runner {
            rt: tokio::runtime::Builder::new_current_thread()
                .build()
                .expect("runtime"),
            gen: generator(scenario),
            sink: NullSink::new(types),
            batch: Batch::new(),
            now: 1_735_722_000_000,
            records: 0,
        }
    }

    /// Records per second of this thread's CPU time over one round of `primaries` primary
    /// draws. CPU time, not wall time: on a machine busy with other work, time spent
    /// descheduled would otherwise count against whichever world it fell on.
    fn round(&mut self, primaries: usize) -> f64 {
        let start = cpu_secs();
        let mut records = 0usize;
        for _ in 0..primaries / CHUNK {
            self.batch.clear();
            for _ in 0..CHUNK {
                self.gen
                    .next(self.now, &mut self.batch)
                    .expect("a servable world");
                self.now += 1_000;
            }
            records += self.batch.len();
            self.rt
                .block_on(self.sink.send(&self.batch))
                .expect("null sink");
        }
        self.records += records as u64;
        records as f64 / (cpu_secs() - start)
    }

    /// Mean payload bytes per record so far.
    fn bytes_per_record(&self) -> f64 {
        self.sink.bytes() as f64 / self.records.max(1) as f64
    }
}

/// CPU seconds this thread has used.
fn cpu_secs() -> f64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `t` is a valid timespec for the call to fill in.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    t.tv_sec as f64 + t.tv_nsec as f64 * 1e-9
}

/// One world's median records/s and its mean payload bytes per record.
struct Rate {
    records: f64,
    bytes: f64,
}

/// Rounds per world: [`ROUNDS`], or `WORLDS_ROUNDS` from the environment (more on a noisy
/// machine).
fn rounds() -> usize {
    std::env::var("WORLDS_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .filter(|r| *r > 0)
        .unwrap_or(ROUNDS)
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Records per second of two worlds, the median of their rounds, and the median of the ratios
/// of each round pair. Their rounds alternate, so a machine busy with something else slows
/// both alike; pairing each round with the one beside it also cancels a load that drifts over
/// the run, which the ratio of the two medians does not.
fn rates(a: &str, b: &str, primaries: usize) -> (Rate, Rate, f64) {
    let (mut ra, mut rb) = (Runner::new(a), Runner::new(b));
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    for _ in 0..rounds() {
        xs.push(ra.round(primaries));
        ys.push(rb.round(primaries));
    }
    let mut paired: Vec<f64> = xs.iter().zip(&ys).map(|(x, y)| x / y).collect();
    (
        Rate {
            records: median(&mut xs),
            bytes: ra.bytes_per_record(),
        },
        Rate {
            records: median(&mut ys),
            bytes: rb.bytes_per_record(),
        },
        median(&mut paired),
    )
}

/// A world file, the world it is measured against, and the file's parameters for a like-for-
/// like size.
type Pair = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

fn main() {
    let wanted: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    // Each file world runs at the size its Rust twin had by default, so that the figures
    // carry on from those against the twins (the Rust web world simulated 100 users and
    // music's 100 open sessions; the files default to their documents' 10 users and 4
    // sessions, which at one primary a second of event time refuses most draws and so
    // measures refusals, not records).
    let pairs: [Pair; 5] = [
        ("music", "retail", &[("threads", "100")]),
        ("tutoring", "retail", &[("STREAM_COUNT", "50")]),
        ("web", "retail", &[("num_users", "100")]),
        ("bnpl", "retail", &[]),
        ("bank", "retail", &[]),
    ];
    if wanted.is_empty() || wanted.iter().any(|w| w == "expr") {
        expressions();
    }
    // Records/s is the measure; records differ in size between worlds, so bytes/s is
    // printed beside it.
    println!(
        "world file            records/s  B/rec   beside         records/s  B/rec   ratio  paired  bytes/s ratio   file params"
    );
    for (file, reference, params) in pairs {
        if !wanted.is_empty() && !wanted.iter().any(|w| w == file) {
            continue;
        }
        let path = root().join(format!("worlds/{file}.yaml"));
        if !path.exists() {
            continue;
        }
        let path = path.display().to_string();
        kafka_gen::worldfile::set_params(
            params
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        );
        let (f, r, paired) = rates(&path, reference, 200 * CHUNK);
        let set: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
        println!(
            "{file:<20} {:>11.0}  {:>5.0}   {reference:<13} {:>11.0}  {:>5.0}   {:.2}   {:.2}    {:.2}   {}",
            f.records,
            f.bytes,
            r.records,
            r.bytes,
            f.records / r.records,
            paired,
            (f.records * f.bytes) / (r.records * r.bytes),
            set.join(" ")
        );
    }
}

/// The expression language: ours (compiled once at load to closures, and the slot-resolved
/// tree it is compiled from) against evalexpr (a well-kept crate whose variables are looked
/// up by name in a context), on one guard such as a world file holds, with the values
/// changing per event.
fn expressions() {
    use kafka_gen::worldfile::compile::{Place, Scope};
    use kafka_gen::worldfile::expr::{Ctx, Master, State};
    use kafka_gen::worldfile::value::{Base, Ty, Value};
    use rand::SeedableRng;
    const N: usize = 2_000_000;
    let params = indexmap::IndexMap::new();
    let scope = Scope {
        params: &params,
        kinds: &[],
        globals: &[],
        pairs: &[],
        locals: vec![
            ("amount".into(), Ty::of(Base::Float)),
            ("balance".into(), Ty::of(Base::Float)),
            ("count".into(), Ty::of(Base::Int)),
        ],
        place: Place::Event,
    };
    let ast = kafka_gen::worldfile::parse::parse("amount * 1.1 + balance > 100 and count < 5")
        .expect("parses");
    let (ours, _) = scope.compile(&ast).expect("compiles");
    let (master, state) = (Master::default(), State::default());
    let compiled = kafka_gen::worldfile::compiled::Condition::new(&ours);
    // The tree walk and the same guard compiled, alternating rounds: the median ns of each.
    let run = |by_tree: bool| {
        let mut rng = kafka_gen::SimRng::seed_from_u64(1);
        let mut locals = vec![Value::float(0.0), Value::float(0.0), Value::Int(0)];
        let start = Instant::now();
        let mut hits = 0usize;
        for i in 0..N {
            locals[0] = Value::float((i % 200) as f64);
            locals[1] = Value::float((i % 50) as f64);
            locals[2] = Value::Int((i % 9) as i64);
            let ctx = Ctx::plain(&master, &state, &locals, 0);
            hits += usize::from(if by_tree {
                ctx.eval(&ours, &mut rng).truthy()
            } else {
                compiled.holds(&ctx, &mut rng)
            });
        }
        (start.elapsed().as_nanos() as f64 / N as f64, hits)
    };
    let (mut trees, mut codes) = (Vec::new(), Vec::new());
    let mut hits = 0;
    for _ in 0..5 {
        let (ns, h) = run(true);
        trees.push(ns);
        let (ns, h2) = run(false);
        codes.push(ns);
        assert_eq!(h, h2, "the tree walk and the compiled guard agree");
        hits = h;
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (ours_ns, code_ns) = (median(&mut trees), median(&mut codes));

    use evalexpr::{ContextWithMutableVariables, DefaultNumericTypes, HashMapContext};
    let tree = evalexpr::build_operator_tree::<DefaultNumericTypes>(
        "amount * 1.1 + balance > 100 && count < 5",
    )
    .expect("parses");
    let mut context = HashMapContext::new();
    let start = Instant::now();
    let mut theirs_hits = 0usize;
    for i in 0..N {
        context
            .set_value("amount".into(), evalexpr::Value::Float((i % 200) as f64))
            .expect("set");
        context
            .set_value("balance".into(), evalexpr::Value::Float((i % 50) as f64))
            .expect("set");
        context
            .set_value("count".into(), evalexpr::Value::Int((i % 9) as i64))
            .expect("set");
        theirs_hits += usize::from(tree.eval_boolean_with_context(&context).expect("a boolean"));
    }
    let theirs_ns = start.elapsed().as_nanos() as f64 / N as f64;
    assert_eq!(hits, theirs_hits, "both languages agree");
    println!(
        "expression `amount * 1.1 + balance > 100 and count < 5`: ours compiled {code_ns:.1} ns, ours as a tree {ours_ns:.1} ns, evalexpr {theirs_ns:.1} ns per event (tree/compiled {:.2}, evalexpr/compiled {:.2})",
        ours_ns / code_ns,
        theirs_ns / code_ns
    );
}
