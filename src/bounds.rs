//! The range every number a user gives must fall in, checked when the configuration loads, and
//! the compact way such numbers are printed in errors. A number out of range is bad input (exit
//! 2), never a panic later on: `Duration::from_secs_f64` panics past ~1.8e19 s, integer money
//! wraps, and event times past year 9999 cannot be written (issue 10).

use std::fmt;

use anyhow::bail;

/// Slowest `--rate`, events per second: one event in about 11.6 days. Slower pacing belongs to
/// realistic mode (`--min-delta`/`--max-delta`).
pub const MIN_RATE: f64 = 1e-6;
/// Fastest `--rate`, events per second.
pub const MAX_RATE: f64 = 1e9;
/// Slowest and fastest `--speed` factor against real time.
pub const SPEED: (f64, f64) = (1e-6, 1e9);
/// Longest gap between primary events in realistic mode: a year, in seconds.
pub const MAX_DELTA_SECS: f64 = 365.0 * 86_400.0;
/// Longest shutdown flush and longest retry span: a day, in seconds.
pub const DAY_SECS: f64 = 86_400.0;
/// Shortest interval between stats lines, in seconds (0 turns them off): at most ten lines a
/// second, where a tiny value once wrote 196k lines a second.
pub const MIN_STATS_INTERVAL_SECS: f64 = 0.1;
/// Fewest and most primary events per day of a historical range or backfill (the top is
/// `MAX_RATE` for a whole day).
pub const EVENTS_PER_DAY: (f64, f64) = (1e-3, MAX_RATE * 86_400.0);
/// Largest event-type weight; weights are relative, so this only keeps their sum finite.
pub const MAX_WEIGHT: f64 = 1e9;
/// The last instant an event time can carry: 9999-12-31T23:59:59.999Z, in epoch milliseconds.
pub const LAST_EVENT_MS: i64 = 253_402_300_799_999;
/// [`LAST_EVENT_MS`] as people read it.
pub const LAST_EVENT_TIME: &str = "9999-12-31T23:59:59.999Z";
/// Longest timeout, in milliseconds, for settings kept in milliseconds: an hour.
pub const MAX_TIMEOUT_MS: u64 = 3_600_000;

/// A number printed the way it was probably typed: `1e308`, `1e-300`, `0.25`, `40`, never
/// 309 digits.
#[derive(Debug, Clone, Copy)]
pub struct Num(pub f64);

impl fmt::Display for Num {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Whichever of plain and exponent form is shorter; plain on a tie.
        let (plain, exponent) = (format!("{}", self.0), format!("{:e}", self.0));
        if self.0.is_finite() && exponent.len() < plain.len() {
            f.write_str(&exponent)
        } else {
            f.write_str(&plain)
        }
    }
}

/// Checks that `value` is finite and within `min..=max`; otherwise an error like
/// `rate is 1e-300; it must be 1e-6 to 1e9 events per second (--rate)`, where `what` names the
/// setting, `unit` follows the bounds, and `fix` says where to change it.
pub fn check(
    value: f64,
    (min, max): (f64, f64),
    what: &str,
    unit: &str,
    fix: &str,
) -> anyhow::Result<()> {
    if value.is_finite() && (min..=max).contains(&value) {
        return Ok(());
    }
    let unit = if unit.is_empty() {
        String::new()
    } else {
        format!(" {unit}")
    };
    bail!(
        "{what} is {}; it must be {} to {}{unit} ({fix})",
        Num(value),
        Num(min),
        Num(max)
    )
}

/// [`check`] for whole numbers of any integer type.
pub fn check_whole(
    value: impl Into<i128>,
    (min, max): (i128, i128),
    what: &str,
    unit: &str,
    fix: &str,
) -> anyhow::Result<()> {
    let value = value.into();
    if (min..=max).contains(&value) {
        return Ok(());
    }
    let unit = if unit.is_empty() {
        String::new()
    } else {
        format!(" {unit}")
    };
    bail!("{what} is {value}; it must be {min} to {max}{unit} ({fix})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_compactly() {
        let cases = [
            (1e308, "1e308"),
            (1e-300, "1e-300"),
            (40.0, "40"),
            (0.25, "0.25"),
            (-5.0, "-5"),
            (0.0, "0"),
            (6e-5, "6e-5"),
            (31_536_000.0, "31536000"),
            (1e9, "1e9"),
            (86_400.0, "86400"),
            (0.1, "0.1"),
            (0.001, "1e-3"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "inf"),
        ];
        for (value, text) in cases {
            assert_eq!(Num(value).to_string(), text);
        }
    }

    #[test]
    fn errors_name_value_bound_and_fix() {
        let e = check(
            1e-300,
            (MIN_RATE, MAX_RATE),
            "rate",
            "events per second",
            "--rate",
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            e,
            "rate is 1e-300; it must be 1e-6 to 1e9 events per second (--rate)"
        );
        assert!(check(f64::NAN, (0.0, 1.0), "x", "", "").is_err());
        assert!(check(1.0, (0.0, 1.0), "x", "", "").is_ok());
        let e = check_whole(0u32, (1, 10), "n", "things", "[x] n").unwrap_err();
        assert_eq!(e.to_string(), "n is 0; it must be 1 to 10 things ([x] n)");
    }
}
