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
