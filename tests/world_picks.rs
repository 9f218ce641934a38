//! Grouped picks (`tests/fixtures/world-rooms.yaml`): a pick whose condition reads the
//! candidate only through master-data fields is decided per group of equal fields, and the
//! verdicts are remembered by the values of what else the condition reads. The choice must
//! still follow the state those values come from, and stay uniform within what qualifies.

mod common;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use common::*;

fn run(seed: &str) -> Vec<serde_json::Value> {
    let world = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/world-rooms.yaml");
    run_world(world.to_str().unwrap(), seed, "20000")
}

/// Whether a room of this colour and floor qualifies for a guest in `mood`: the world's
/// condition, written again here.
fn qualifies(mood: i64, colour: &str, floor: i64) -> bool {
    match mood {
        0 => colour == "red",
        1 => colour == "green",
        2 => colour == "blue",
        _ => floor <= 2 && colour != "blue",
    }
}

#[test]
fn a_grouped_pick_follows_the_state_it_reads_and_stays_uniform() {
    let events = run("11");
    assert_eq!(events.len(), 20_000);
    // Per mood: how often each room was chosen.
    let mut chosen: HashMap<i64, HashMap<String, u64>> = HashMap::new();
    let mut rooms: HashMap<String, (String, i64)> = HashMap::new();
    for e in &events {
        let mood = e["mood"].as_i64().unwrap();
        let (room, colour, floor) = (
            e["room"].as_str().unwrap().to_string(),
            e["colour"].as_str().unwrap().to_string(),
            e["floor"].as_i64().unwrap(),
        );
        assert!(
            qualifies(mood, &colour, floor),
            "a guest in mood {mood} got {room} ({colour}, floor {floor}): {e}"
        );
        rooms.insert(room.clone(), (colour, floor));
        *chosen.entry(mood).or_default().entry(room).or_insert(0) += 1;
    }
    // Every mood came up often (the memo was read far more than it was filled).
    assert_eq!(chosen.len(), 4, "moods seen: {:?}", chosen.keys());
    for (mood, counts) in &chosen {
        // Every qualifying room was chosen, and none other (checked above): the groups that
        // qualify are the right ones for each mood, not those of the mood first seen.
        let want: HashSet<&String> = rooms
            .iter()
            .filter(|(_, (c, f))| qualifies(*mood, c, *f))
            .map(|(r, _)| r)
            .collect();
        let got: HashSet<&String> = counts.keys().collect();
        assert_eq!(got, want, "mood {mood}");
        // Uniform among them: chi-square with k - 1 degrees of freedom, rejected at p < 0.001.
        let n: u64 = counts.values().sum();
        let expected = n as f64 / counts.len() as f64;
        let stat: f64 = counts
            .values()
            .map(|&c| (c as f64 - expected).powi(2) / expected)
            .sum();
        let p = chi_square_p(stat, (counts.len() - 1) as f64);
        assert!(
            p > 0.001,
            "mood {mood}: rooms not uniform, chi2 {stat:.1}, p {p:.5}"
        );
    }
}

/// Runs `yaml` (a world file's text) for 20,000 primary events from seed 5.
fn run_text(yaml: &str) -> Vec<serde_json::Value> {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let world = dir.path().join("hotel.yaml");
    std::fs::write(&world, yaml).expect("the world file");
    run_world(world.to_str().unwrap(), "5", "20000")
}

/// A pick among a live set's members whose remaining condition reads the candidate only
/// through master data is decided by the member's group (`tests/fixtures/world-hotel.yaml`,
/// 72 groups). It must choose exactly as testing each drawn member does: the same stream as
/// the same world whose condition also reads state (so is tested member by member), and
/// every room chosen free and as wished.
#[test]
fn a_live_set_pick_decided_by_group_chooses_as_testing_each_member() {
    let yaml = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/world-hotel.yaml"),
    )
    .expect("the fixture");
    let grouped = run_text(&yaml);
    let tested_yaml = yaml.replace(
        "(r.wing == g.want or r.floor == g.want)",
        "(r.wing == g.want or r.floor == g.want or r.taken)",
    );
    assert_ne!(tested_yaml, yaml, "the fixture's condition changed");
    let tested = run_text(&tested_yaml);
    // `--count` counts check-ins; each checks out within 200 s.
    assert!(grouped.len() >= 39_000, "{} events", grouped.len());
    assert_eq!(
        grouped, tested,
        "grouped and tested picks chose differently"
    );
    let mut taken: HashSet<String> = HashSet::new();
    let (mut check_ins, mut wishes) = (0, HashSet::new());
    for e in &grouped {
        let room = e["room"].as_str().unwrap().to_string();
        if e.get("want").is_some() {
            let want = e["want"].as_i64().unwrap();
            assert!(
                e["wing"].as_i64() == Some(want) || e["floor"].as_i64() == Some(want),
                "a room neither in the wing nor on the floor wished: {e}"
            );
            assert!(taken.insert(room), "a room taken twice: {e}");
            check_ins += 1;
            wishes.insert(want);
        } else {
            assert!(taken.remove(&room), "a check-out from a free room: {e}");
        }
    }
    assert_eq!(check_ins, 20_000);
    assert_eq!(wishes.len(), 9, "wishes seen: {wishes:?}");
}
