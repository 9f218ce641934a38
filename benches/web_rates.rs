//! The web world (worlds/web.yaml, built in) on the simulated clock at different `--rate`s
//! (issue 10: 2,000 sessions of the Rust web world, gone since issue 11, took 109 s at 1000/s
//! and 0.1 s without a rate, because the clock stepped through every 1/rate while all users
//! were in a session). The time per record must not grow with the rate.
//!
//! `cargo bench --bench web_rates` prints criterion's figures, then one line per rate with its
//! records per second and its cost against the slowest rate.

use std::hint::black_box;
use std::time::Instant;

use criterion::{criterion_group, BenchmarkId, Criterion, Throughput};
use kafka_gen::config::{Config, SinkKind};
use kafka_gen::runner::Runner;
use kafka_gen::sinks::null::NullSink;
use tokio_util::sync::CancellationToken;

/// Primary events per run (every web event type is drawn in the file world).
const SESSIONS: u64 = 2_000;
const RATES: [f64; 4] = [1.0, 100.0, 1_000.0, 100_000.0];

/// Runs `SESSIONS` primaries of the web world (its 10 users, master data made in memory)
/// from a fixed start at `rate` on the simulated clock into the null sink; returns the
/// records generated.
fn run(rt: &tokio::runtime::Runtime, rate: f64) -> u64 {
    let mut config = Config {
        scenario: "web".into(),
        // No such directory: the world makes its master data in memory.
        data_dir: concat!(env!("CARGO_MANIFEST_DIR"), "/data/none").into(),
        seed: Some(1),
        sinks: vec![SinkKind::Null],
        stats_interval_secs: 0.0,
        ..Config::default()
    };
    config.schedule.start = Some("2026-01-05T00:00:00Z".parse().expect("start"));
    config.schedule.rate_per_sec = Some(rate);
    config.schedule.count = Some(SESSIONS);
    let types = kafka_gen::scenario::find("web")
        .expect("the web world")
        .event_types()
        .len();
    let runner = Runner::with_sinks(&config, vec![Box::new(NullSink::new(types))])
        .expect("the web world runs");
    let summary = rt
        .block_on(runner.run(CancellationToken::new()))
        .expect("run");
    summary.primary.iter().chain(&summary.derived).sum()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime")
}

fn benches(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("web_simulated_rate");
    group.sample_size(10);
    group.throughput(Throughput::Elements(run(&rt, 1.0)));
    for rate in RATES {
        group.bench_with_input(BenchmarkId::from_parameter(rate), &rate, |b, &rate| {
            b.iter(|| black_box(run(&rt, rate)))
        });
    }
    group.finish();
}

/// The headline: records per second at each rate, best of three, and the cost per record
/// relative to the slowest rate (1.0 means the rate changes nothing).
fn ratio() {
    let rt = runtime();
    let mut base = None;
    for rate in RATES {
        let (secs, records) = (0..3)
            .map(|_| {
                let t = Instant::now();
                let records = run(&rt, rate);
                (t.elapsed().as_secs_f64(), records)
            })
            .fold((f64::MAX, 0), |best, r| if r.0 < best.0 { r } else { best });
        let per_record = secs / records as f64;
        let base = *base.get_or_insert(per_record);
        println!(
            "RESULT web --rate {rate}: {records} records in {secs:.3} s, {:.0} records/s, cost per record {:.2}x the --rate {} run",
            records as f64 / secs,
            per_record / base,
            RATES[0]
        );
    }
}

criterion_group!(group, benches);

fn main() {
    group();
    Criterion::default().configure_from_args().final_summary();
    ratio();
}
