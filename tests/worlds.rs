//! World files: the tutorial world runs consistently over 100,000 events, its type mix follows
//! its weights, every broken rule of its contract is caught, master data round-trips, and a bad
//! file gets `file:line:column`, the item's path and exit 2, never a panic.

mod common;

use std::collections::HashMap;
use std::path::PathBuf;

use common::scenarios::type_mix;
use common::*;
use kafka_gen::config::{Config, SinkKind};
use kafka_gen::scenario;
use serde_json::{json, Value};

const BANK: &str = "worlds/bank.yaml";

fn bank() -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(BANK)
        .display()
        .to_string()
}

/// A config of the bank world with master data made in memory (no data folder).
fn config(seed: u64) -> Config {
    Config {
        scenario: bank(),
        data_dir: PathBuf::from("/nonexistent/kafka-gen-test"),
        seed: Some(seed),
        sinks: vec![SinkKind::Null],
        stats_interval_secs: 0.0,
        ..Config::default()
    }
}

async fn long_run(seed: u64, count: u64) -> Vec<Value> {
    let mut c = config(seed);
    c.schedule.start = Some("2025-03-01T08:00:00Z".parse().unwrap());
    c.schedule.count = Some(count);
    let (_, events) = run_captured(&c).await;
    events
}

fn checker() -> Box<dyn kafka_gen::scenario::ContractChecker> {
    let s = scenario::find(&bank()).unwrap();
    s.checker(&PathBuf::from("/nonexistent/kafka-gen-test"), true)
        .unwrap()
}

#[tokio::test]
async fn the_bank_contract_holds_over_100k_events() {
    let events = long_run(3, 100_000).await;
    assert!(events.len() >= 100_000, "{} events", events.len());
    let mut c = checker();
    let s = scenario::find(&bank()).unwrap();
    let mut counts: HashMap<String, usize> = HashMap::new();
    let mut deposits: HashMap<String, (f64, String)> = HashMap::new();
    let mut last = String::new();
    for e in &events {
        c.check(e);
        assert_eq!(s.validate_event(e).map(|_| ()), Ok(()), "{e}");
        let ty = e["event_type"].as_str().unwrap().to_string();
        let time = e["event_time"].as_str().unwrap().to_string();
        assert!(time >= last, "time went back: {time} < {last}");
        last = time.clone();
        // The declared bound: no balance below -overdraft (500).
        if let Some(b) = e["balance_after"].as_f64() {
            assert!(b >= -500.0, "{e}");
        }
        match ty.as_str() {
            "deposit" => {
                deposits.insert(
                    e["event_id"].as_str().unwrap().into(),
                    (e["amount"].as_f64().unwrap(), time),
                );
            }
            "receipt" => {
                let cause = e["caused_by"]
                    .as_str()
                    .expect("a receipt names its deposit");
                let (amount, at) = deposits.get(cause).expect("its deposit came first");
                assert_eq!(e["amount"].as_f64(), Some(*amount));
                assert!(*amount > 100.0, "only deposits over 100 get receipts");
                assert!(time >= *at);
            }
            _ => assert!(e["caused_by"].is_null()),
        }
        *counts.entry(ty).or_default() += 1;
    }
    c.finish();
    let v = c.violations();
    assert!(v.is_empty(), "{} violations, first: {}", v.len(), v[0]);
    assert!(counts["receipt"] > 1000, "{counts:?}");
}

#[test]
fn the_type_mix_follows_the_weights() {
    let mut c = config(11);
    c.data_dir = PathBuf::from("/nonexistent/kafka-gen-test");
    let (p, observed) = type_mix(&c, 20_000, 1_000);
    // Chi-square over the two primary types (receipts have weight 0): p > 0.001.
    assert!(p > 0.001, "p = {p}, observed {observed:?}");
}

/// The first deposit of a clean run, to break in one way at a time.
async fn sample() -> (Vec<Value>, Value, Value) {
    let events = long_run(5, 400).await;
    let deposit = events
        .iter()
        .find(|e| e["event_type"] == "deposit")
        .unwrap()
        .clone();
    let receipt = events
        .iter()
        .find(|e| e["event_type"] == "receipt")
        .unwrap()
        .clone();
    (events, deposit, receipt)
}

fn caught(setup: &[Value], event: Value, rule: &str) {
    let mut c = checker();
    for e in setup {
        c.check(e);
    }
    assert!(
        c.violations().is_empty(),
        "setup is clean: {:?}",
        c.violations()
    );
    c.check(&event);
    assert!(
        c.violations().iter().any(|v| v.rule == rule),
        "expected {rule}, got {:?}",
        c.violations()
    );
}

#[tokio::test]
async fn each_broken_rule_is_caught() {
    let (events, deposit, receipt) = sample().await;
    let cause_at = events
        .iter()
        .position(|e| e["event_id"] == receipt["caused_by"])
        .unwrap();
    let before: Vec<Value> = events[..=cause_at].to_vec();
    let fresh = |e: &Value| {
        let mut e = e.clone();
        e["event_id"] = json!(uuid::Uuid::now_v7().to_string());
        e
    };
    let with = |e: &Value, field: &str, v: Value| {
        let mut e = fresh(e);
        e[field] = v;
        e
    };
    caught(
        &[],
        with(&deposit, "account_id", json!("ACC-9999999")),
        "unknown_reference",
    );
    caught(
        &[],
        with(&deposit, "balance_after", json!(-600.0)),
        "bounds",
    );
    caught(&[], with(&deposit, "amount", json!("12.50")), "schema");
    caught(&[], with(&deposit, "extra", json!(1)), "schema");
    caught(
        &[],
        with(
            &deposit,
            "caused_by",
            json!(uuid::Uuid::now_v7().to_string()),
        ),
        "caused_by",
    );
    caught(
        &before,
        with(&receipt, "caused_by", Value::Null),
        "caused_by",
    );
    caught(
        &before,
        with(
            &receipt,
            "caused_by",
            json!(uuid::Uuid::now_v7().to_string()),
        ),
        "caused_by",
    );
    let mut early = fresh(&receipt);
    early["event_time"] = json!("2025-03-01T00:00:00.000Z");
    caught(&before, early, "follow_order");
    caught(
        std::slice::from_ref(&deposit),
        deposit.clone(),
        "duplicate_event_id",
    );
    let mut later = fresh(&deposit);
    later["event_time"] = json!("2099-01-01T00:00:00.000Z");
    let mut back = fresh(&deposit);
    back["event_time"] = json!("2020-01-01T00:00:00.000Z");
    caught(&[later], back, "time_order");
    // The file's own rules (`checks:`).
    let other = if deposit["customer_id"] == "CUST-000001" {
        "CUST-000002"
    } else {
        "CUST-000001"
    };
    caught(&[], with(&deposit, "customer_id", json!(other)), "owner");
    let total = deposit["balance_after"].as_f64().unwrap() + deposit["amount"].as_f64().unwrap();
    caught(
        std::slice::from_ref(&deposit),
        with(&deposit, "balance_after", json!(total + 1.0)),
        "balance",
    );
}

/// Read from the stream's start, a follow-up naming a cause that never came is flagged, with
/// the times compared, whatever its id's time: before the first event, or no time at all.
#[tokio::test]
async fn a_cause_that_never_existed_is_caught_from_the_start() {
    let (events, _, receipt) = sample().await;
    let cause_at = events
        .iter()
        .position(|e| e["event_id"] == receipt["caused_by"])
        .unwrap();
    let before: Vec<Value> = events[..=cause_at].to_vec();
    let first_ms = chrono::DateTime::parse_from_rfc3339(events[0]["event_time"].as_str().unwrap())
        .unwrap()
        .timestamp_millis() as u64;
    let early = uuid::Builder::from_unix_timestamp_millis(first_ms - 86_400_000, &[7; 10])
        .into_uuid()
        .to_string();
    for cause in [
        early.clone(),
        uuid::Builder::from_random_bytes([9; 16])
            .into_uuid()
            .to_string(),
    ] {
        let mut e = receipt.clone();
        e["event_id"] = json!(uuid::Uuid::now_v7().to_string());
        e["caused_by"] = json!(cause);
        caught(&before, e, "caused_by");
    }
    let mut c = checker();
    for e in &before {
        c.check(e);
    }
    let mut e = receipt.clone();
    e["event_id"] = json!(uuid::Uuid::now_v7().to_string());
    e["caused_by"] = json!(early);
    c.check(&e);
    let v = &c.violations()[0];
    assert!(
        v.detail.contains("its id's time is") && v.detail.contains("the stream read from"),
        "{v:?}"
    );
    // Joined in the middle, a cause from before the first event seen may well have existed.
    let s = scenario::find(&bank()).unwrap();
    let mut c = s
        .checker(&PathBuf::from("/nonexistent/kafka-gen-test"), false)
        .unwrap();
    c.check(&events[cause_at + 1]);
    c.check(&e);
    assert!(
        !c.violations().iter().any(|v| v.rule == "caused_by"),
        "{:?}",
        c.violations()
    );
}

/// An event whose shape the consumer's arrival checks already reported still has its other
/// rules checked, without its shape reported twice.
#[tokio::test]
async fn a_misshapen_event_still_has_its_rules_checked() {
    let (_, deposit, _) = sample().await;
    let other = if deposit["customer_id"] == "CUST-000001" {
        "CUST-000002"
    } else {
        "CUST-000001"
    };
    let mut e = deposit.clone();
    e["amount"] = json!("12.50");
    e["customer_id"] = json!(other);
    let mut c = checker();
    c.check_misshapen(&e);
    let rules: Vec<&str> = c.violations().iter().map(|v| v.rule).collect();
    assert_eq!(rules, ["owner"], "{:?}", c.violations());
}

#[test]
fn the_same_seed_gives_the_same_bytes_and_master_data_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("bank");
    let m = kafka_gen(&[
        "master",
        "--world",
        BANK,
        "--out",
        out.to_str().unwrap(),
        "--seed",
        "42",
    ]);
    assert!(m.status.success(), "{}", String::from_utf8_lossy(&m.stderr));
    let text = std::fs::read_to_string(out.join("customers.json")).unwrap();
    let customers: Vec<Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(customers.len(), 200);
    assert!(customers[0]["id"].as_str().unwrap().starts_with("CUST-"));
    let run = |data: &str| {
        kafka_gen(&[
            "--world",
            BANK,
            "--data-dir",
            data,
            "--sink",
            "stdout",
            "--seed",
            "9",
            "--start",
            "2025-01-01T00:00:00Z",
            "--count",
            "300",
            "--stats-interval",
            "0",
        ])
    };
    let from_files = run(out.to_str().unwrap());
    assert!(
        from_files.status.success(),
        "{}",
        String::from_utf8_lossy(&from_files.stderr)
    );
    // 300 primary events, and the receipts that follow some deposits.
    let lines = from_files.stdout.iter().filter(|b| **b == b'\n').count();
    assert!((300..400).contains(&lines), "{lines}");
    // master_seed is 42, so the files equal the data made in memory.
    let in_memory = run("/nonexistent/kafka-gen-test");
    assert_eq!(from_files.stdout, in_memory.stdout);
    // A broken file is named with its record and field.
    let bad = text.replacen("\"credit_score\":", "\"credit_score\":9999,\"x\":", 1);
    std::fs::write(out.join("customers.json"), bad).unwrap();
    let broken = run(out.to_str().unwrap());
    assert_eq!(broken.status.code(), Some(2));
    let err = String::from_utf8_lossy(&broken.stderr);
    assert!(
        err.contains("customers.json: record 1") && err.contains("credit_score"),
        "{err}"
    );
}

/// A world whose places hold one field of every `fake` kind, written with a `master_seed`
/// other than the default.
fn every_fake_kind_world(dir: &std::path::Path) -> PathBuf {
    let kinds = [
        "first_name",
        "last_name",
        "name",
        "email",
        "free_email",
        "username",
        "phone",
        "company",
        "city",
        "street",
        "country_code",
        "country",
        "state",
        "zip",
        "latitude",
        "longitude",
        "word",
        "sentence",
        "job_title",
        "ipv4",
        "user_agent",
        "url",
    ];
    let mut yaml = String::from(
        "world: fakes\nmaster_seed: 7\nentities:\n  regions:\n    count: 5\n    id: \"REG-${seq:02}\"\n  places:\n    count: 400\n    id: \"PL-${seq:04}\"\n    fields:\n      region: ${ref('regions')}\n",
    );
    for k in kinds {
        yaml.push_str(&format!("      f_{k}: ${{fake('{k}')}}\n"));
    }
    yaml.push_str("events:\n  visit:\n    weight: 1\n    pick: {p: places}\n    payload:\n      place: ${p.id}\n      region: ${p.region}\n");
    for k in kinds {
        yaml.push_str(&format!("      {k}: ${{p.f_{k}}}\n"));
    }
    let path = dir.join("fakes.yaml");
    std::fs::write(&path, yaml).unwrap();
    path
}

/// Issue 28: `master --world` wrote with `--seed`'s default (42) instead of the world's
/// `master_seed`, so its files differed from the data a run makes in memory; and
/// `fake('longitude')` drew up to 270, so the files it wrote were refused on load. Every kind
/// must load back, and with no `--seed` the files must equal the in-memory data.
#[test]
fn master_files_of_every_fake_kind_load_back_and_equal_the_in_memory_data() {
    let dir = tempfile::tempdir().unwrap();
    let world = every_fake_kind_world(dir.path());
    let world = world.to_str().unwrap();
    let out = dir.path().join("data");
    let m = kafka_gen(&["master", "--world", world, "--out", out.to_str().unwrap()]);
    assert!(m.status.success(), "{}", stderr(&m));
    let run = |data: &str| {
        kafka_gen(&[
            "--world",
            world,
            "--data-dir",
            data,
            "--sink",
            "stdout",
            "--seed",
            "3",
            "--start",
            "2025-01-01T00:00:00Z",
            "--count",
            "2000",
            "--stats-interval",
            "0",
        ])
    };
    let from_files = run(out.to_str().unwrap());
    assert!(from_files.status.success(), "{}", stderr(&from_files));
    let in_memory = run("/nonexistent/kafka-gen-test");
    assert!(in_memory.status.success(), "{}", stderr(&in_memory));
    assert_eq!(
        String::from_utf8_lossy(&from_files.stdout),
        String::from_utf8_lossy(&in_memory.stdout)
    );
    // Every event passes the world's own contract, longitude's range included.
    let s = scenario::find(world).unwrap();
    let mut checker = s.checker(&out, true).unwrap();
    let text = String::from_utf8_lossy(&from_files.stdout).into_owned();
    let mut longitudes = Vec::new();
    for line in text.lines() {
        let event: Value = serde_json::from_str(line).unwrap();
        longitudes.push(event["longitude"].as_f64().unwrap());
        checker.check(&event);
    }
    checker.finish();
    assert_eq!(longitudes.len(), 2000);
    assert!(
        checker.violations().is_empty(),
        "{:?}",
        &checker.violations()[..1]
    );
    assert!(longitudes.iter().all(|x| (-180.0..=180.0).contains(x)));
    // An explicit --seed still gives other data.
    let other = dir.path().join("other");
    let m = kafka_gen(&[
        "master",
        "--world",
        world,
        "--out",
        other.to_str().unwrap(),
        "--seed",
        "8",
    ]);
    assert!(m.status.success(), "{}", stderr(&m));
    assert_ne!(
        std::fs::read(out.join("places.json")).unwrap(),
        std::fs::read(other.join("places.json")).unwrap()
    );
}

/// Issue 28: `consume`, `schema`, `ingest` and `serve` refused `--set`, so a world with
/// non-default parameters could be checked only through `KAFKA_GEN_PARAM_*`. Each now reads
/// it: `schema` shows the parameter's effect, and the others refuse a value out of its range
/// by name before they start.
#[test]
fn every_world_command_takes_set() {
    let out = kafka_gen(&["schema", "--world", BANK, "--set", "overdraft=1234"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("-1234"),
        "the balance's bound follows --set: {text}"
    );
    for command in ["consume", "ingest", "serve"] {
        let args = [command, "--world", BANK, "--set", "num_customers=0"];
        let out = kafka_gen(&args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{command}: {err}");
        assert!(err.contains("num_customers"), "{command}: {err}");
        assert!(!err.contains("unexpected argument"), "{command}: {err}");
    }
}

/// A world written from `worlds/README.md` alone, in a business unlike the shipped ones (a
/// bike share: docks that fill and empty, rides that end at another station, repairs), run
/// for about a week of simulated time: its own contract and checks hold for every event, and
/// every ride that started ends, but for those the summary counts as still open at the end.
#[test]
fn a_new_users_bike_share_holds_for_a_simulated_week() {
    let dir = tempfile::tempdir().unwrap();
    let world =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/world-bikeshare.yaml");
    let world = world.to_str().unwrap();
    let summary = dir.path().join("summary.json");
    let out = kafka_gen(&[
        "--world",
        world,
        "--data-dir",
        "/nonexistent/kafka-gen-test",
        "--sink",
        "stdout",
        "--seed",
        "5",
        "--start",
        "2025-06-02T00:00:00Z",
        "--count",
        "20000",
        "--stats-interval",
        "0",
        "--summary-json",
        summary.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let s = scenario::find(world).unwrap();
    let mut checker = s
        .checker(&PathBuf::from("/nonexistent/kafka-gen-test"), true)
        .unwrap();
    let (mut started, mut ended) = (std::collections::HashSet::new(), 0usize);
    let (mut first, mut last) = (String::new(), String::new());
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let event: Value = serde_json::from_str(line).unwrap();
        checker.check(&event);
        let ride = event["ride"]["ride_id"].as_str().map(str::to_string);
        match event["event_type"].as_str().unwrap() {
            "ride_started" => assert!(started.insert(ride.unwrap())),
            "ride_ended" => {
                assert!(started.contains(ride.as_deref().unwrap()));
                ended += 1;
            }
            _ => {}
        }
        if first.is_empty() {
            first = event["event_time"].as_str().unwrap().to_string();
        }
        last = event["event_time"].as_str().unwrap().to_string();
    }
    checker.finish();
    assert!(
        checker.violations().is_empty(),
        "{:?}",
        &checker.violations()[..1]
    );
    let days =
        |t: &str| chrono::DateTime::parse_from_rfc3339(t).unwrap().timestamp() as f64 / 86400.0;
    assert!(days(&last) - days(&first) > 5.0, "{first} .. {last}");
    let report: Value = serde_json::from_slice(&std::fs::read(&summary).unwrap()).unwrap();
    let dropped = report["follow_ups"]["dropped"].as_u64().unwrap() as usize;
    assert!(started.len() > 10_000, "{}", started.len());
    // Rides last minutes (at most 10 hours): all but the few open at the end are finished.
    assert!(
        started.len() - ended <= dropped,
        "{} started, {ended} ended, {dropped} dropped",
        started.len()
    );
    assert!(dropped < 20, "{dropped}");
}

/// A world file with one line replaced, checked with `kafka-gen check`.
fn check_variant(from: &str, to: &str) -> (Option<i32>, String) {
    let text = std::fs::read_to_string(bank()).unwrap();
    assert!(text.contains(from), "{from}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.yaml");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    let out = kafka_gen(&["check", path.to_str().unwrap()]);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

/// The bank file with `(from, to)` replacements, written to a temporary folder.
fn bank_variant(dir: &std::path::Path, edits: &[(&str, &str)]) -> String {
    let mut text = std::fs::read_to_string(bank()).unwrap();
    for (from, to) in edits {
        assert!(text.contains(from), "{from}");
        text = text.replacen(from, to, 1);
    }
    let path = dir.join("w.yaml");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// Deposits whose guard (line 33) never holds and withdrawals whose effect (line 62) always
/// breaks the balance's bound: neither can ever happen.
const NEVER: &[(&str, &str)] = &[
    (
        "    weight: 60\n",
        "    weight: 60\n    when: amount > 1e6\n",
    ),
    (
        "add: {a.balance: -amount}",
        "add: {a.balance: -amount - 1e9}",
    ),
];

#[test]
fn check_names_the_types_that_never_happen_and_what_stops_them() {
    let out = kafka_gen(&["check", BANK, "--trial", "5000"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("trial run: 5,000 primary draws on the simulated clock"),
        "{text}"
    );
    // Every deposit happens; withdrawals only while some balance is above 0.
    fn line_of(text: &str, name: &str) -> String {
        text.lines()
            .find(|l| l.starts_with(&format!("  {name}: ")))
            .unwrap_or_else(|| panic!("{name} in {text}"))
            .to_string()
    }
    let line = |name: &str| line_of(&text, name);
    let counts = |l: &str| -> (u64, u64) {
        let nums: Vec<u64> = l
            .split(|c: char| !c.is_ascii_digit() && c != ',')
            .filter(|w| !w.is_empty() && *w != ",")
            .take(2)
            .map(|w| w.replace(',', "").parse().unwrap())
            .collect();
        (nums[0], nums[1])
    };
    let (made, drawn) = counts(&line("deposit"));
    assert_eq!(made, drawn, "{text}");
    let (w_made, w_drawn) = counts(&line("withdrawal"));
    assert_eq!(drawn + w_drawn, 5000, "{text}");
    assert!(w_made > 0, "{text}");
    assert!(text.contains("receipt (follow-up): "), "{text}");

    let dir = tempfile::tempdir().unwrap();
    let path = bank_variant(dir.path(), NEVER);
    let out = kafka_gen(&["check", &path]);
    let text = String::from_utf8_lossy(&out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{text}{err}");
    let (made, drawn) = counts(&line_of(&text, "deposit"));
    assert_eq!(made, 0, "{text}");
    assert!(drawn > 1000, "{text}");
    assert!(
        line_of(&text, "deposit").contains(&format!("`when` at {path}:33 was false in ")),
        "{text}"
    );
    assert!(
        line_of(&text, "withdrawal").contains(&format!(
            "effect `add a.balance` at {path}:62 would break a bound"
        )),
        "{text}"
    );
    assert!(err.contains("deposit, withdrawal never happened"), "{err}");

    // A pick's `where` that no entity meets, at its own line.
    let path = bank_variant(
        dir.path(),
        &[("where: a.balance > 0", "where: a.balance > 1e8")],
    );
    let out = kafka_gen(&["check", &path]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        line_of(&text, "withdrawal")
            .contains(&format!("pick `a` at {path}:57 found no accounts in")),
        "{text}"
    );

    // The trial's length is range-checked.
    let out = kafka_gen(&["check", BANK, "--trial", "2000000"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("2000000") && err.contains("0..=1000000"),
        "{err}"
    );
}

#[test]
fn a_world_that_cannot_draw_names_its_own_blocked_types() {
    let dir = tempfile::tempdir().unwrap();
    let path = bank_variant(dir.path(), NEVER);
    let out = kafka_gen(&[
        "--scenario",
        &path,
        "--sink",
        "null",
        "--start",
        "2025-01-01T00:00:00Z",
        "--count",
        "100",
        "--stats-interval",
        "0",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("cannot produce any event"), "{err}");
    assert!(!err.contains("stock"), "{err}");
    assert!(err.contains("deposit refused "), "{err}");
    assert!(
        err.contains(&format!("`when` at {path}:33 was false in")),
        "{err}"
    );
    assert!(
        err.contains(&format!("effect `add a.balance` at {path}:62")),
        "{err}"
    );
}

#[test]
fn bad_world_files_are_located_and_exit_2() {
    let cases = [
        // an unknown field reference
        (
            "customer_id: ${a.owner}",
            "customer_id: ${a.ownr}",
            "events.deposit.payload.customer_id",
            "has no field or state `ownr`",
        ),
        // an unknown fake-data kind
        (
            "${fake('email')}",
            "${fake('emial')}",
            "entities.customers.fields.email",
            "unknown fake-data kind `emial`",
        ),
        // a type mismatch
        (
            "amount: round(lognormal(4, 1), 2)",
            "amount: round('x', 2)",
            "events.deposit.let.amount",
            "must be a number",
        ),
        // a bad distribution parameter
        (
            "normal(650, 80)",
            "normal(650, -80)",
            "entities.customers.fields.credit_score",
            "must be a finite number >= 0",
        ),
        // a guard that can never be true
        (
            "where: a.balance > 0",
            "where: a.balance > 2e9",
            "events.withdrawal.pick.a",
            "can never be true",
        ),
        // a follow-up cycle with no delay
        (
            "  receipt:\n    weight: 0\n",
            "  receipt:\n    weight: 0\n    then: [{event: receipt}]\n",
            "events.receipt.then",
            "loop with no delay",
        ),
        // a comparison that can never hold: a number with text (issue 28)
        (
            "where: a.balance > 0",
            "where: a.balance == 'high'",
            "events.withdrawal.pick.a",
            "with one of \"high\"; these never compare equal",
        ),
        // an entity compared with one of another kind
        (
            "where: a.balance > 0",
            "where: a.owner == a",
            "events.withdrawal.pick.a",
            "an entity of `customers` never equals one of `accounts`",
        ),
        // a typo in a key
        (
            "    weight: 60",
            "    wieght: 60",
            "",
            "unknown field `wieght`",
        ),
        // a check naming no field of the event
        (
            "rule: customer_id == account_id.owner",
            "rule: customer == account_id.owner",
            "checks.owner.rule",
            "unknown name `customer`",
        ),
        // a check naming no master field of the entity
        (
            "rule: customer_id == account_id.owner",
            "rule: customer_id == account_id.ownr",
            "checks.owner.rule",
            "has no field or state `ownr`",
        ),
        // a check that is not true or false
        (
            "rule: customer_id == account_id.owner",
            "rule: amount + 1",
            "checks.owner.rule",
            "a rule must be true or false, not",
        ),
        // a lookup of an unknown entity kind
        (
            "rule: customer_id == account_id.owner",
            "rule: customer_id == lookup('acounts', account_id).owner",
            "checks.owner.rule",
            "unknown entity kind `acounts`; kinds: customers, accounts",
        ),
        // an unquoted `a ? b : c`, which YAML reads as a key: the error says to quote it
        (
            "probability: 'amount > 100 ? 1 : 0'",
            "probability: ${amount > 100 ? 1 : 0}",
            "",
            "must be quoted",
        ),
        // an out-of-range parameter default
        (
            "default: 200, min: 1",
            "default: 0, min: 1",
            "params.num_customers",
            "outside its range",
        ),
    ];
    for (from, to, path, message) in cases {
        let (code, err) = check_variant(from, to);
        assert_eq!(code, Some(2), "{to}: {err}");
        assert!(err.contains(message), "{to}: {err}");
        assert!(err.contains(path), "{to}: expected the path {path}: {err}");
        // file:line:column
        let located = err
            .trim_start_matches("kafka-gen: ")
            .split(": ")
            .next()
            .unwrap_or("");
        assert!(
            located.matches(':').count() == 2 && located.ends_with(|c: char| c.is_ascii_digit()),
            "{to}: not located: {err}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[test]
fn check_prints_what_the_world_defines_and_schema_describes_each_type() {
    let out = kafka_gen(&["check", BANK, "--set", "num_customers=10"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("num_customers = 10"), "{text}");
    assert!(text.contains("accounts x20"), "{text}");
    assert!(text.contains("receipt -> topic bank.receipts"), "{text}");
    assert!(
        text.contains("balance (on deposit, withdrawal): abs(balance_after"),
        "{text}"
    );
    let bad = kafka_gen(&["check", BANK, "--set", "num_customers=0"]);
    assert_eq!(bad.status.code(), Some(2));
    let schema = kafka_gen(&["schema", "--world", BANK]);
    assert!(schema.status.success());
    let s: Value = serde_json::from_slice(&schema.stdout).unwrap();
    assert_eq!(
        s["deposit"]["properties"]["balance_after"]["minimum"],
        json!(-500.0)
    );
    assert_eq!(s["deposit"]["x-kafka-topic"], json!("bank.transactions"));
    assert_eq!(
        s["receipt"]["properties"]["text"]["pattern"],
        json!("^Received .*$")
    );
    let format = kafka_gen(&["schema", "--format"]);
    let f: Value = serde_json::from_slice(&format.stdout).unwrap();
    assert!(f["properties"]["events"].is_object(), "{f}");
}

#[test]
fn the_shipped_format_schema_is_current() {
    let out = kafka_gen(&["schema", "--format"]);
    assert!(out.status.success());
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("worlds/world.schema.json");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &out.stdout).unwrap();
    }
    let shipped = std::fs::read(&path).unwrap();
    assert!(
        shipped == out.stdout,
        "worlds/world.schema.json is stale; rerun with UPDATE_GOLDEN=1"
    );
}

/// Issue 28: a YAML 1.1 tool (PyYAML) read the checks' `on:` key as the boolean `true`, so no
/// shipped world validated against `world.schema.json` in Python. `scripts/setup.sh` installs
/// PyYAML and jsonschema.
#[test]
fn shipped_worlds_and_readme_examples_validate_as_yaml_1_1() {
    let out = std::process::Command::new("python3")
        .arg("scripts/check_yaml11.py")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("python3 runs (scripts/setup.sh installs PyYAML and jsonschema)");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        stderr(&out)
    );
}

/// The README's tutorial: its YAML is the shipped file, and its commands run as written.
#[test]
fn the_readme_tutorial_runs_as_written() {
    let readme =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("README.md"))
            .unwrap();
    let start = readme
        .find("### Write your own world")
        .expect("the tutorial section");
    let section = &readme[start..];
    let section = &section[..section[4..].find("\n## ").map_or(section.len(), |i| i + 4)];
    let yaml_at = section.find("```yaml\n").expect("the world file") + 8;
    let yaml = &section[yaml_at..yaml_at + section[yaml_at..].find("```").unwrap()];
    let shipped = std::fs::read_to_string(bank()).unwrap();
    assert_eq!(
        yaml, shipped,
        "the README's world file and worlds/bank.yaml differ"
    );
    // Every command of the tutorial that needs no broker or server runs and succeeds.
    let mut ran = 0;
    for block in section.split("```sh\n").skip(1) {
        let block = &block[..block.find("```").unwrap()];
        for line in block.lines() {
            let line = line.split("  #").next().unwrap().trim();
            let words: Vec<&str> = line.split_whitespace().collect();
            if words.first() != Some(&"kafka-gen") {
                continue;
            }
            let needs_service = words.contains(&"--create-topics")
                || ["consume", "ingest", "serve"].contains(&words[1]);
            if needs_service {
                continue; // covered by tests/world_e2e.rs
            }
            let out = kafka_gen(&words[1..]);
            assert!(
                out.status.success(),
                "{line}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            ran += 1;
        }
    }
    assert!(ran >= 3, "ran {ran} commands");
}

/// Writes `text` as a world file in a fresh folder; the folder lives as long as the guard.
fn world_file(text: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.yaml");
    std::fs::write(&path, text).unwrap();
    (dir, path.display().to_string())
}

/// Issue 28: a reference field compared with an id (`c.id == r.home_city`, `r.home_city ==
/// 'CITY-001'`) was false even where both wrote the same id, so the events that needed it
/// never fired. A pick by it (an indexed `where`), a guard and a comparison with literal text
/// each find their matches, and every event they make does match.
#[test]
fn an_entity_reference_equals_its_id_as_text() {
    let (_dir, path) = world_file(
        "world: towns
entities:
  cities: {count: 5, id: 'CITY-${seq:03}'}
  residents:
    count: 60
    id: 'R-${seq:03}'
    fields:
      home_city: ${ref('cities')}
events:
  moved_in:
    weight: 1
    pick:
      c: cities
      r: {from: residents, where: r.home_city == c.id}
    payload: {city: '${c.id}', home: '${r.home_city}'}
  visit:
    weight: 1
    pick: {c: cities, r: residents}
    when: c.id == r.home_city
    payload: {city: '${c.id}', home: '${r.home_city}'}
  local:
    weight: 1
    pick: {r: residents}
    when: r.home_city == 'CITY-001' or 'CITY-002' == r.home_city
    payload: {home: '${r.home_city}'}
  tick:
    weight: 1
    payload: {n: '${now}'}
",
    );
    let events = run_world(&path, "3", "2000");
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for e in &events {
        let ty = e["event_type"].as_str().unwrap();
        *seen.entry(ty).or_default() += 1;
        match ty {
            "moved_in" | "visit" => assert_eq!(e["city"], e["home"], "{e}"),
            "local" => assert!(["CITY-001", "CITY-002"].contains(&e["home"].as_str().unwrap())),
            _ => {}
        }
    }
    // A primary event whose guard fails is drawn again, so each type's share is its weight
    // times how often it can happen: `moved_in` and `tick` always (about 770 each of 2,000),
    // `visit` when the drawn resident lives in the drawn city (1 in 5: about 150), `local`
    // when the resident lives in one of two of the five cities (about 300). A comparison that
    // is always false shows as 0.
    let n = |ty: &str| seen.get(ty).copied().unwrap_or(0);
    assert!(n("moved_in") >= 500, "{seen:?}");
    assert!(n("visit") >= 80, "{seen:?}");
    assert!(n("local") >= 80, "{seen:?}");
}

/// Issue 28: a self-chaining reading declared its own `let`, and the value of that name it
/// inherited from its cause won, so every reading repeated the first one's. A follow-up's
/// own `let` is computed afresh; what it does not define (`d`) it still inherits.
#[test]
fn a_follow_ups_own_let_wins_over_the_value_it_inherits() {
    let (_dir, path) = world_file(
        "world: meters
entities:
  devices: {count: 4, id: 'D-${seq}'}
events:
  boot:
    weight: 1
    pick: {d: devices}
    let: {at: now}
    payload: {device: '${d.id}', at: '${at}'}
    then: [{event: reading, after: 10}]
  reading:
    weight: 0
    let: {at: now}
    payload: {device: '${d.id}', at: '${at}'}
    then: [{event: reading, after: 10, probability: 0.8}]
",
    );
    let events = run_world(&path, "4", "200");
    let device: HashMap<&str, &Value> = events
        .iter()
        .map(|e| (e["event_id"].as_str().unwrap(), &e["device"]))
        .collect();
    let mut readings = 0;
    for e in events.iter().filter(|e| e["event_type"] == "reading") {
        let time = chrono::DateTime::parse_from_rfc3339(e["event_time"].as_str().unwrap())
            .unwrap()
            .timestamp_millis();
        assert_eq!(e["at"], json!(time), "its own `now`: {e}");
        let cause = device[e["caused_by"].as_str().unwrap()];
        assert_eq!(&e["device"], cause, "the device is its cause's: {e}");
        readings += 1;
    }
    // 200 chains of mean length 1 / (1 - 0.8) = 5.
    assert!(readings > 500, "{readings} readings");
}

/// Issue 28: a misspelt name in a follow-up was reported at the event that starts its chain
/// (`j2.yaml:67:3` for a typo on line 163). It is reported where it is used, at the name.
#[test]
fn a_misspelt_name_in_a_follow_up_is_reported_at_its_use() {
    let world = "world: chain
entities:
  accounts: {count: 3, id: 'A-${seq}'}
events:
  opened:
    weight: 1
    pick: {a: accounts}
    let: {amount: 5}
    payload: {account: '${a.id}'}
    then: [{event: checked, after: 10}]
  checked:
    weight: 0
    payload: {account: '${a.id}'}
    then: [{event: closed, after: 10}]
  closed:
    weight: 0
    let:
      fee: >-
        round(amount
        * 0.1 + amout, 2)
    payload: {account: '${a.id}', fee: '${fee}'}
";
    let cases = [
        // a name defined nowhere on the chain opened -> checked -> closed
        (world.to_string(), "w.yaml:20:17", "uses `amout`"),
        // a member the entity does not have, in the follow-up's payload
        (
            world
                .replace("amout", "amount")
                .replace("fee: '${fee}'", "fee: '${fee}', x: '${a.idd}'"),
            "w.yaml:21:58",
            "has no field or state `idd`",
        ),
    ];
    for (text, at, message) in cases {
        let (_dir, path) = world_file(&text);
        let out = kafka_gen(&["check", &path]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains(&format!("{at}: events.closed.")), "{err}");
        assert!(err.contains(message), "{err}");
    }
}

/// `kafka-gen check` of `text` with `args` after it: its exit code and its stderr.
fn check_text(text: &str, args: &[&str]) -> (Option<i32>, String) {
    let (_dir, path) = world_file(text);
    let mut all = vec!["check", path.as_str()];
    all.extend_from_slice(args);
    let out = kafka_gen(&all);
    (out.status.code(), stderr(&out))
}

const PARAMS: &str = "world: p
params:
  devices: {default: 1000, min: 1, max: 1000000}
  interval: {default: 30, min: 1, type: number}
  drain: {default: 0.5, min: 0}
entities:
  meters: {count: devices, id: 'M-${seq}'}
state:
  meters:
    battery: {init: 100, min: 1, max: 100}
events:
  reading:
    weight: 1
    pick: {m: meters}
    payload: {meter: '${m.id}', every: '${interval}', drain: '${drain}'}
";

/// Issue 28: a parameter's type followed its default's literal (`default: 30` refused
/// `--set 12.5`), and errors printed `like 1000..1000` or Rust's `Some(1.0)..None`. A
/// parameter can say `type: number`; an integer one takes a whole number however written
/// (`1e6`); every error prints the declared range as the file writes it.
#[test]
fn parameters_take_numbers_as_people_write_them_and_say_their_range() {
    let ok = |args: &[&str], shown: &str| {
        let (_dir, path) = world_file(PARAMS);
        let mut all = vec!["check", path.as_str()];
        all.extend_from_slice(args);
        let out = kafka_gen(&all);
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        assert!(text.contains(shown), "{args:?}: {text}");
    };
    ok(&["--set", "interval=12.5"], "interval = 12.5");
    ok(&["--set", "devices=1e3"], "devices = 1000");
    ok(&["--set", "devices=2000.0"], "devices = 2000");
    let refused = [
        (
            "devices=1e12",
            "devices = 1e12 is outside its range 1..1000000",
        ),
        (
            "devices=12.5",
            "expected a whole number (1..1000000); the world file can declare `type: number`",
        ),
        ("devices=lots", "expected a whole number (1..1000000)"),
        ("drain=x", "expected a number (at least 0)"),
        ("interval=0", "interval = 0 is outside its range at least 1"),
    ];
    for (set, message) in refused {
        let (code, err) = check_text(PARAMS, &["--set", set]);
        assert_eq!(code, Some(2), "{set}: {err}");
        assert!(err.contains(message), "{set}: {err}");
        assert!(err.contains("w.yaml:"), "{set}: not located: {err}");
        assert!(!err.contains(" like ") && !err.contains("Some("), "{err}");
    }
    let broken = [
        (
            PARAMS.replace("init: 100, min: 1", "init: 0, min: 1"),
            "init 0 is outside the bounds 1..100",
        ),
        (
            PARAMS.replace("init: 100, min: 1, max: 100", "init: 0, min: 1"),
            "init 0 is outside the bounds at least 1",
        ),
        (
            PARAMS.replace(
                "default: 1000, min: 1",
                "default: 2.5, type: integer, min: 1",
            ),
            "default 2.5 is not a whole number (1..1000000)",
        ),
    ];
    for (text, message) in broken {
        let (code, err) = check_text(&text, &[]);
        assert_eq!(code, Some(2), "{err}");
        assert!(err.contains(message), "{err}");
        assert!(!err.contains("Some(") && !err.contains("None"), "{err}");
    }
}

/// Issue 28: the limits the README did not state, at their edges: 250 event types,
/// `repeat.times` up to 10,000,000 (a wave over a fleet of a million devices fits), and a
/// world's `max_delta` from 0.001 s.
#[test]
fn the_limits_of_a_world_file_hold_at_their_edges() {
    let types = |n: usize| {
        let mut text = String::from("world: many\nevents:\n");
        for i in 0..n {
            text.push_str(&format!("  e{i}: {{weight: 1, payload: {{n: {i}}}}}\n"));
        }
        text
    };
    assert_eq!(check_text(&types(250), &[]).0, Some(0));
    let (code, err) = check_text(&types(251), &[]);
    assert_eq!(code, Some(2));
    assert!(err.contains("251 event types; at most 250"), "{err}");

    let wave = |times: &str| {
        format!(
            "world: fleet
entities:
  devices: {{count: 3, id: 'D-${{seq}}'}}
events:
  release:
    weight: 1
    payload: {{v: 1}}
    then: [{{event: update, after: 1, repeat: {{times: {times}, every: 0.01}}}}]
  update:
    weight: 0
    pick: {{d: devices}}
    payload: {{device: '${{d.id}}', n: '${{occurrence}}'}}
"
        )
    };
    assert_eq!(check_text(&wave("10000000"), &[]).0, Some(0));
    for bad in ["10000001", "0", "2.5"] {
        let (code, err) = check_text(&wave(bad), &[]);
        assert_eq!(code, Some(2), "{bad}: {err}");
        assert!(
            err.contains("it must be a whole number in 1..10000000"),
            "{bad}: {err}"
        );
    }

    let pace = |max: &str| format!("{}pace: {{min_delta: 0, max_delta: {max}}}\n", types(1));
    assert_eq!(check_text(&pace("0.001"), &[]).0, Some(0));
    assert_eq!(check_text(&pace("31536000"), &[]).0, Some(0));
    for bad in ["0.0009", "31536001"] {
        let (code, err) = check_text(&pace(bad), &[]);
        assert_eq!(code, Some(2), "{bad}: {err}");
        assert!(err.contains("max_delta"), "{bad}: {err}");
    }
}
