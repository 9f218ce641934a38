//! How payload values are written: numbers exactly as `ryu` would write them, and ids.

use rand::{RngExt, SeedableRng};

use super::tables::{IdSeq, KindData};
use super::template::write_float;
use super::value::Text;
use crate::SimRng;

fn ryu(x: f64) -> String {
    ryu::Buffer::new().format_finite(x).to_string()
}

fn ours(x: f64) -> String {
    let mut buf = Vec::new();
    write_float(&mut buf, x);
    String::from_utf8(buf).expect("JSON text is UTF-8")
}

#[test]
fn numbers_are_written_as_ryu_writes_them() {
    let mut edges = vec![
        0.0,
        -0.0,
        0.01,
        -0.01,
        0.1,
        0.5,
        1.0,
        -1.0,
        4.0,
        87.35,
        87.3,
        99.99,
        100.0,
        0.07,
        0.145,
        1e12,
        1e13,
        1e13 - 0.01,
        9_999_999_999_999.99,
        1e15,
        1e16,
        1e17,
        123_456.78,
        1e-5,
        1e-7,
        2.5e-3,
        f64::MIN_POSITIVE,
        f64::MAX,
        f64::MIN,
        5e-324,
    ];
    let mut rng = SimRng::seed_from_u64(7);
    for _ in 0..200_000 {
        // Whole numbers, numbers with two places (as round(x, 2) makes them), and any double.
        let cents = rng.random_range(-10_000_000_000i64..10_000_000_000);
        edges.push(cents as f64 / 100.0);
        edges.push((cents / 100) as f64);
        edges.push((rng.random::<f64>() - 0.5) * 10f64.powi(rng.random_range(-8..18)));
        edges.push(f64::from_bits(rng.random::<u64>()));
    }
    let mut shortcut = 0;
    for x in edges.into_iter().filter(|x| x.is_finite()) {
        assert_eq!(ours(x), ryu(x), "{x:e} ({:#x})", x.to_bits());
        shortcut += usize::from(x.abs() < 1e13 && (x * 100.0).round() / 100.0 == x);
    }
    // The shortcut is what most of these take, so the comparison covers it.
    assert!(
        shortcut > 300_000,
        "only {shortcut} numbers took the shortcut"
    );
}

fn kind(ids: &[&str]) -> KindData {
    let mut k = KindData {
        ids: ids.iter().map(|s| Text::from(*s)).collect(),
        ..KindData::default()
    };
    k.pack();
    k
}

/// Each id as `write_id` writes it, and as JSON writes the packed text.
fn written(k: &KindData) -> Vec<(String, String)> {
    (0..k.ids.len() as u32)
        .map(|i| {
            let mut buf = Vec::new();
            assert!(k.write_id(i, &mut buf));
            let packed = serde_json::to_string(k.id(i).expect("an id")).expect("JSON");
            (String::from_utf8(buf).expect("UTF-8"), packed)
        })
        .collect()
}

#[test]
fn ids_counting_up_are_written_from_their_number() {
    let cases: [(&str, Vec<String>); 4] = [
        ("stu_", (1000..1100).map(|n| format!("stu_{n}")).collect()),
        ("PG-", (1..=1200).map(|n| format!("PG-{n:04}")).collect()),
        ("mkt_", (1..=45).map(|n| format!("mkt_{n:02}")).collect()),
        ("", (1..=12).map(|n| n.to_string()).collect()),
    ];
    for (prefix, ids) in cases {
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let k = kind(&refs);
        assert!(k.id_seq.is_some(), "{prefix}: not taken as a sequence");
        for (ours, packed) in written(&k) {
            assert_eq!(ours, packed);
        }
        let mut buf = Vec::new();
        assert!(
            !k.write_id(ids.len() as u32, &mut buf),
            "{prefix}: past the end"
        );
        assert!(buf.is_empty());
    }
}

#[test]
fn ids_that_do_not_count_up_are_written_from_their_text() {
    let cases: [&[&str]; 6] = [
        &["a_1", "a_2", "a_4"],
        &["a_01", "a_2"],
        &["a_1", "b_2"],
        &["x", "y"],
        &["a_1", "a_2x"],
        &["q\"1", "q\"2", "a\\b\n"],
    ];
    for ids in cases {
        let k = kind(ids);
        assert_eq!(k.id_seq, None, "{ids:?}");
        for (ours, packed) in written(&k) {
            assert_eq!(ours, packed);
        }
    }
    assert_eq!(IdSeq::of(&[]), None);
    // Ids of one length are found by position, others through their ends.
    assert_eq!(kind(&["x", "y"]).id_len, 1);
    assert_eq!(kind(&["a_01", "a_2"]).id_len, 0);
}
