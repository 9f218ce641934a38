//! Durations as people type them: `90s`, `30m`, `2h`, `1d`, or a bare number of minutes
//! (`--duration 120` is two hours, as the older simulators had it).

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HumanDuration(pub Duration);

impl FromStr for HumanDuration {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let t = text.trim();
        let split = t.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(t.len());
        let (number, unit) = t.split_at(split);
        let scale = match unit.trim() {
            "" | "m" | "min" => 60.0,
            "s" | "sec" => 1.0,
            "h" => 3600.0,
            "d" => 86_400.0,
            "ms" => 0.001,
            _ => f64::NAN,
        };
        let value: f64 = number.trim().parse().unwrap_or(f64::NAN);
        let secs = value * scale;
        if !secs.is_finite() || secs <= 0.0 || secs > 1e10 {
            return Err(format!(
                "duration {text:?} is not a positive length of time up to 1e10 s; use e.g. 120 (minutes), 90s, 30m, 2h or 1d"
            ));
        }
        Ok(Self(
            Duration::try_from_secs_f64(secs).map_err(|e| e.to_string())?,
        ))
    }
}

impl fmt::Display for HumanDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}s", self.0.as_secs_f64())
    }
}

impl Serialize for HumanDuration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Minutes(f64),
            Text(String),
        }
        let text = match Raw::deserialize(d)? {
            Raw::Minutes(m) => m.to_string(),
            Raw::Text(t) => t,
        };
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_bare_minutes() {
        let secs = |t: &str| t.parse::<HumanDuration>().map(|d| d.0.as_secs_f64());
        assert_eq!(secs("120"), Ok(7200.0));
        assert_eq!(secs("90s"), Ok(90.0));
        assert_eq!(secs("2h"), Ok(7200.0));
        assert_eq!(secs("1.5m"), Ok(90.0));
        assert_eq!(secs("1d"), Ok(86_400.0));
        for bad in ["0", "-5", "abc", "5y", "", "nan"] {
            let e = secs(bad).unwrap_err();
            assert!(e.contains(&format!("{bad:?}")), "{e}");
        }
    }
}
