//! Generation speed: primary events drawn, applied to the world, serialised and handed to the
//! null sink, against a ceiling measured in the same run: serialising already-built events of
//! the same shape (owned structs, no world, no draws).
//!
//! `cargo bench --bench generate` prints criterion's figures, then one line with both rates and
//! their ratio.

use std::hint::black_box;
use std::time::Instant;

use criterion::{criterion_group, Criterion, Throughput};
use kafka_gen::config::Config;
use kafka_gen::event::Batch;
use kafka_gen::generator::Generator;
use kafka_gen::sinks::null::NullSink;
use kafka_gen::sinks::Sink;
use serde::{Deserialize, Serialize};

const CHUNK: usize = 1024;

fn generator() -> Generator {
    let config = Config {
        data_dir: concat!(env!("CARGO_MANIFEST_DIR"), "/data").into(),
        seed: Some(1),
        ..Config::default()
    };
    let scenario = kafka_gen::scenario::find("retail").expect("retail");
    Generator::new(scenario, &config, 1).expect("default master data loads")
}

/// Generates `primaries` events into the null sink; returns records produced.
fn generate(
    gen: &mut Generator,
    sink: &mut NullSink,
    batch: &mut Batch,
    now: &mut i64,
    primaries: usize,
) -> usize {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let mut records = 0;
    for _ in 0..primaries / CHUNK {
        batch.clear();
        for _ in 0..CHUNK {
            gen.next(*now, batch).expect("a servable world");
            *now += 35_000;
        }
        records += batch.len();
        rt.block_on(sink.send(batch)).expect("null sink");
    }
    records
}

// Owned mirrors of the retail events, for the serialisation ceiling.
#[derive(Serialize, Deserialize)]
struct Event {
    event_id: uuid::Uuid,
    event_type: String,
    event_time: String,
    schema_version: u32,
    scenario: String,
    caused_by: Option<uuid::Uuid>,
    #[serde(flatten)]
    body: Body,
}

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Body {
    Sale {
        transaction_id: uuid::Uuid,
        line_number: u32,
        line_count: u32,
        store_id: String,
        customer_id: String,
        channel: String,
        payment_method: String,
        product_id: String,
        quantity: u32,
        unit_price: f64,
        line_total: f64,
        basket_item_count: u32,
        basket_subtotal: f64,
        basket_tax: f64,
        basket_total: f64,
        currency: String,
    },
    Inventory {
        store_id: String,
        sku: String,
        reason: String,
        quantity_change: i64,
        stock_after: u32,
        transaction_id: Option<uuid::Uuid>,
        alert_event_id: Option<uuid::Uuid>,
    },
    Alert {
        store_id: String,
        sku: String,
        current_stock: u32,
        reorder_point: u32,
        suggested_order_qty: u32,
        priority: String,
        expected_delivery_time: String,
    },
    Price {
        sku: String,
        category: String,
        old_price: f64,
        new_price: f64,
        change_pct: f64,
        reason: String,
    },
    Customer {
        customer_id: String,
        home_store_id: String,
        action: String,
        loyalty_tier: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        previous_tier: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        sku: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        rating: Option<u8>,
        #[serde(skip_serializing_if = "Option::is_none")]
        points: Option<u32>,
    },
}

/// Pre-built events of the same shape and mix as generated ones, and their primary count.
fn prebuilt(primaries: usize) -> (Vec<Event>, usize) {
    let mut gen = generator();
    let mut batch = Batch::new();
    let mut events = Vec::new();
    let mut now = 1_735_689_600_000;
    for _ in 0..primaries {
        batch.clear();
        gen.next(now, &mut batch).expect("a servable world");
        now += 35_000;
        for r in batch.iter() {
            events.push(serde_json::from_slice(r.payload).expect("generated events parse"));
        }
    }
    (events, primaries)
}

/// Serialises `events` the way a sink would consume them: into one reused buffer.
fn serialise(events: &[Event], buf: &mut Vec<u8>) -> usize {
    let mut bytes = 0;
    for chunk in events.chunks(CHUNK) {
        buf.clear();
        for e in chunk {
            serde_json::to_writer(&mut *buf, e).expect("serialise");
        }
        bytes += buf.len();
    }
    bytes
}

fn benches(c: &mut Criterion) {
    let mut group = c.benchmark_group("retail");
    let n = 64 * CHUNK;
    group.throughput(Throughput::Elements(n as u64));
    let mut gen = generator();
    let mut sink = NullSink::new(5);
    let mut batch = Batch::new();
    let mut now = 1_735_689_600_000;
    group.bench_function("generate_to_null_sink", |b| {
        b.iter(|| black_box(generate(&mut gen, &mut sink, &mut batch, &mut now, n)))
    });
    let (events, primaries) = prebuilt(n);
    group.throughput(Throughput::Elements(primaries as u64));
    let mut buf = Vec::with_capacity(1 << 20);
    group.bench_function("serialise_prebuilt_ceiling", |b| {
        b.iter(|| black_box(serialise(&events, &mut buf)))
    });
    group.finish();
}

/// The headline figures: primary events per second for both, best of five runs each.
fn ratio() {
    let n = 1 << 20;
    let mut gen = generator();
    let mut sink = NullSink::new(5);
    let mut batch = Batch::new();
    let mut now = 1_735_689_600_000;
    generate(&mut gen, &mut sink, &mut batch, &mut now, n); // warm-up
    let best = |f: &mut dyn FnMut()| {
        (0..5)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed().as_secs_f64()
            })
            .fold(f64::MAX, f64::min)
    };
    let gen_secs = best(&mut || {
        generate(&mut gen, &mut sink, &mut batch, &mut now, n);
    });
    let (events, primaries) = prebuilt(n);
    let mut buf = Vec::with_capacity(1 << 20);
    let ser_secs = best(&mut || {
        serialise(&events, &mut buf);
    });
    let gen_rate = n as f64 / gen_secs;
    let ceiling = primaries as f64 / ser_secs;
    println!(
        "RESULT generate={gen_rate:.0} primary events/s, serialise-only ceiling={ceiling:.0} primary events/s, generation/ceiling={:.2} ({} records per primary)",
        gen_rate / ceiling,
        format_args!("{:.2}", events.len() as f64 / primaries as f64)
    );
}

criterion_group!(group, benches);

fn main() {
    group();
    Criterion::default().configure_from_args().final_summary();
    ratio();
}
