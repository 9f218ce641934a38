//! `kafka-gen soak` (issue 29): a world built to drift is called drifting, naming what drifts,
//! and exits 1 with --fail-on-drift; a steady world is called steady; the JSON summary holds
//! the periods, tests, thresholds and verdict; bad input exits 2 with a message naming it.
//! The chi-square and KS helpers are tested against known values in `src/soak/stats.rs`.

use std::path::PathBuf;
use std::process::Command;

fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
        .display()
        .to_string()
}

/// Runs `kafka-gen soak ARGS` in an empty directory (no config file, no master data: the
/// world makes its own from its master_seed); returns the exit code, stdout and stderr.
fn soak(args: &[&str]) -> (Option<i32>, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kafka-gen"))
        .arg("soak")
        .args(args)
        .current_dir(dir.path())
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The verdict's lines.
fn verdict(stdout: &str) -> &str {
    &stdout[stdout.find("Verdict:").expect("a verdict")..]
}

#[test]
fn a_world_built_to_drift_is_called_drifting_and_fails() {
    let world = fixture("world-soak-drifting.yaml");
    let (code, out, err) = soak(&["--world", &world, "--duration", "10d", "--fail-on-drift"]);
    assert_eq!(code, Some(1), "{out}\n{err}");
    let v = verdict(&out);
    assert!(v.starts_with("Verdict: drifting"), "{v}");
    // The score falls to its floor: its mean moves, and most accounts end at the bound.
    assert!(v.contains("state accounts.score mean from period"), "{v}");
    assert!(
        v.contains("state accounts.score at a bound from period"),
        "{v}"
    );
    // Promotions stop on day 4: the mix moves, and every promotion drawn is refused.
    assert!(v.contains("type mix from period"), "{v}");
    assert!(v.contains("refused promo from period"), "{v}");
    // The payload's score follows the state.
    assert!(v.contains("field purchase.score"), "{v}");
    assert!(out.contains("promo guard false"), "{out}");
    // Without --fail-on-drift the same verdict exits 0.
    let (code, again, _) = soak(&["--world", &world, "--duration", "10d"]);
    assert_eq!(code, Some(0));
    assert_eq!(verdict(&again), v);
}

#[test]
fn a_steady_world_is_called_steady() {
    let world = fixture("world-soak-steady.yaml");
    let (code, out, err) = soak(&["--world", &world, "--duration", "10d", "--fail-on-drift"]);
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert!(verdict(&out).starts_with("Verdict: steady"), "{out}");
    // What it reports: the mix of the three types, the score, the pending receipts (an hour
    // of purchases at 0.08 a second: about 288), the fields it tested.
    assert!(
        out.contains("[1] purchase  [2] visit  [3] receipt"),
        "{out}"
    );
    assert!(out.contains("accounts.score"), "{out}");
    assert!(out.contains("Payload fields: 8 tested"), "{out}");
}

/// A weekly rhythm, a running sequence number and an identifier whose events come in runs are
/// how a steady world looks: with a day's period and weeks enough, each day is compared with
/// the same weekday, the counter and the id are named as not tested, and the verdict is steady.
#[test]
fn a_weekly_rhythm_a_counter_and_an_id_are_not_drift() {
    let world = fixture("world-soak-weekly.yaml");
    let (code, out, err) = soak(&["--world", &world, "--duration", "30d", "--fail-on-drift"]);
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert!(verdict(&out).starts_with("Verdict: steady"), "{out}");
    assert!(out.contains("purchase.seq (a counter"), "{out}");
    assert!(out.contains("purchase.customer_id (an identifier"), "{out}");
    assert!(out.contains("same weekday"), "{out}");
    // The channel is tested (its weekly swing is the rhythm), not skipped.
    assert!(!out.contains("purchase.channel ("), "{out}");
}

#[test]
fn the_summary_json_holds_periods_tests_thresholds_and_the_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("soak.json");
    let world = fixture("world-soak-drifting.yaml");
    let (code, out, err) = soak(&[
        "--world",
        &world,
        "--duration",
        "5d",
        "--period",
        "12h",
        "--warmup",
        "2",
        "--summary-json",
        &path.display().to_string(),
    ]);
    assert_eq!(code, Some(0), "{out}\n{err}");
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(v["verdict"], "drifting");
    assert_eq!(v["thresholds"]["p_max"], 1e-6);
    assert_eq!(v["thresholds"]["ks_d"], 0.1);
    assert_eq!(v["period_secs"], 43_200);
    assert_eq!(v["warmup_periods"], 2);
    let periods = v["periods"].as_array().unwrap();
    assert_eq!(periods.len(), 10);
    assert_eq!(periods[1]["warmup"], true);
    assert_eq!(periods[2]["warmup"], false);
    let mut events = 0;
    for p in periods {
        let shares: f64 = ["purchase", "promo"]
            .iter()
            .map(|t| p["by_type"][t]["share"].as_f64().unwrap())
            .sum();
        assert!((shares - 1.0).abs() < 1e-9, "{p}");
        events += p["events"].as_u64().unwrap();
        let score = p["state"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == "accounts.score")
            .unwrap();
        assert_eq!(score["entities"], 200);
    }
    assert_eq!(v["events"].as_u64().unwrap(), events);
    // 5 days at 0.1 a second.
    assert!((43_000..=43_400).contains(&events), "{events}");
    // No test of a warm-up period; each drift names its first period.
    let tests = v["tests"].as_array().unwrap();
    assert!(tests.iter().all(|t| t["period"].as_u64().unwrap() >= 3));
    let drifts = v["drifts"].as_array().unwrap();
    let score = drifts
        .iter()
        .find(|d| d["what"] == "state accounts.score mean")
        .unwrap();
    assert!(score["from_period"].as_u64().unwrap() >= 3, "{score}");
    // Promotions are refused by their guard once 6,000 ran, in the last periods only.
    let refused = |p: &serde_json::Value| {
        p["refusals"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["event_type"] == "promo" && r["reason"] == "guard")
            .map(|r| r["count"].as_u64().unwrap())
            .sum::<u64>()
    };
    assert_eq!(refused(&periods[0]), 0);
    assert!(refused(&periods[9]) > 1000, "{}", periods[9]);
}

#[test]
fn bad_input_exits_2_naming_the_value() {
    let world = fixture("world-soak-steady.yaml");
    let cases: [(&[&str], &str); 6] = [
        (&["--duration", "0"], "duration \"0\""),
        (
            &["--duration", "1d", "--period", "2d"],
            "period 2d is longer than the duration 1d",
        ),
        (
            &["--duration", "10d", "--warmup", "9"],
            "warmup 9 leaves 1 of 10 periods",
        ),
        (&["--warmup", "-1"], "--warmup must be a whole number >= 0"),
        (&["--duration", "4000d"], "longer than 3660 days"),
        (&["--period", "10s"], "shorter than a minute"),
    ];
    for (args, message) in cases {
        let mut all = vec!["--world", world.as_str()];
        all.extend_from_slice(args);
        let (code, out, err) = soak(&all);
        assert_eq!(code, Some(2), "{args:?}: {out}\n{err}");
        assert!(err.contains(message), "{args:?}: {err}");
    }
}
