//! Start and end times as people type them: an RFC 3339 time, a date and time with no zone
//! (read as UTC, as the music document's `--start-datetime 2023-01-01T00:00:00` is), or a date
//! (local midnight in the time profile's zone; as an end, the end of that day).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Days, NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::profile::Profile;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeArg {
    Date(NaiveDate),
    Time(DateTime<Utc>),
}

impl TimeArg {
    /// As the start of a range, in epoch milliseconds.
    pub fn start_ms(self, profile: &Profile) -> anyhow::Result<i64> {
        match self {
            TimeArg::Time(t) => Ok(t.timestamp_millis()),
            TimeArg::Date(d) => profile.local_midnight_ms(d),
        }
    }

    /// As the (exclusive) end of a range: a date means through the end of that day.
    pub fn end_ms(self, profile: &Profile) -> anyhow::Result<i64> {
        match self {
            TimeArg::Time(t) => Ok(t.timestamp_millis()),
            TimeArg::Date(d) => profile.local_midnight_ms(d + Days::new(1)),
        }
    }
}

impl FromStr for TimeArg {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let t = text.trim();
        if let Ok(time) = DateTime::parse_from_rfc3339(t) {
            return Ok(TimeArg::Time(time.with_timezone(&Utc)));
        }
        if let Ok(date) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
            return Ok(TimeArg::Date(date));
        }
        for format in [
            "%Y-%m-%dT%H:%M:%S%.f",
            "%Y-%m-%d %H:%M:%S%.f",
            "%Y-%m-%dT%H:%M",
        ] {
            if let Ok(time) = NaiveDateTime::parse_from_str(t, format) {
                return Ok(TimeArg::Time(time.and_utc()));
            }
        }
        Err(format!(
            "{text:?} is not a date or time; use a date like 2025-11-01, or a time like \
             2025-11-01T09:00:00Z (RFC 3339; with no zone, as 2025-11-01T09:00:00, it is UTC)"
        ))
    }
}

impl fmt::Display for TimeArg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TimeArg::Date(d) => write!(f, "{d}"),
            TimeArg::Time(t) => write!(
                f,
                "{}",
                t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
            ),
        }
    }
}

impl Serialize for TimeArg {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TimeArg {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // TOML may hand over a native datetime; its string form parses the same way.
        let value = toml::Value::deserialize(d)?;
        let text = match value {
            toml::Value::String(s) => s,
            other => other.to_string(),
        };
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_dates_and_times() {
        assert_eq!(
            "2025-11-01".parse(),
            Ok(TimeArg::Date(NaiveDate::from_ymd_opt(2025, 11, 1).unwrap()))
        );
        assert!(matches!(
            "2025-11-01T09:00:00Z".parse(),
            Ok(TimeArg::Time(_))
        ));
        assert!(matches!(
            "2025-11-01T09:00:00+01:00".parse(),
            Ok(TimeArg::Time(_))
        ));
        // No zone: UTC (issue 29: the music document's own example exited 2).
        let utc = |t: &str| match t.parse::<TimeArg>() {
            Ok(TimeArg::Time(t)) => t.to_rfc3339(),
            other => panic!("{other:?}"),
        };
        assert_eq!(utc("2023-01-01T00:00:00"), "2023-01-01T00:00:00+00:00");
        assert_eq!(
            utc("2023-01-01 08:30:00.250"),
            "2023-01-01T08:30:00.250+00:00"
        );
        assert_eq!(utc("2023-01-01T08:30"), "2023-01-01T08:30:00+00:00");
        assert!("2023-01-01T25:00:00".parse::<TimeArg>().is_err());
        let e = "2025-13-01".parse::<TimeArg>().unwrap_err();
        assert!(e.contains("\"2025-13-01\" is not a date or time"), "{e}");
    }
}
