//! The shape of time: how busy the world is by hour of day, day of week and holiday, in a
//! configurable time zone. Historical mode draws event times from a non-homogeneous Poisson
//! process with this intensity (`sampler`); live modes can scale their pace by it.
//!
//! - `holidays`: holidays computed per year.
//! - `sampler`: event times from the intensity.

pub mod holidays;
pub mod sampler;

use std::collections::BTreeMap;

use anyhow::{bail, Context};
use chrono::{Datelike, NaiveDate, TimeZone, Timelike, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use holidays::{Holiday, HOLIDAYS};

/// Share of a retail day's events by hour, 00:00 first: about 70% in 09:00-18:00, 20% in the
/// evening and 10% at night.
pub const RETAIL_HOURLY: [f64; 24] = [
    1.2, 0.7, 0.5, 0.4, 0.4, 0.6, 1.2, 2.0, 3.0, // 00-09: 10.0
    5.5, 7.0, 8.0, 8.5, 8.5, 8.0, 8.0, 8.3, 8.2, // 09-18: 70.0
    6.0, 5.0, 3.6, 2.5, 1.7, 1.2, // 18-24: 20.0
];

/// A scenario's default time profile.
#[derive(Debug, Clone, Copy)]
pub struct ProfileDefaults {
    pub hourly: [f64; 24],
    pub weekend_multiplier: f64,
    /// Holiday multipliers that differ from retail's, by name (a B2B world goes quiet on them).
    pub holiday_multipliers: &'static [(&'static str, f64)],
}

/// The retail defaults.
pub const RETAIL_PROFILE: ProfileDefaults = ProfileDefaults {
    hourly: RETAIL_HOURLY,
    weekend_multiplier: 0.85,
    holiday_multipliers: &[],
};

/// `[profile]` in the config file: overrides of the scenario's default profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProfileConfig {
    /// IANA time zone the hours, weekdays and holidays are read in (e.g. "Europe/Berlin").
    pub timezone: String,
    /// Relative intensity of each hour of the day, 24 values from 00:00; unset keeps the
    /// scenario's curve.
    pub hourly: Option<Vec<f64>>,
    /// Multiplier on Saturdays and Sundays; unset keeps the scenario's.
    pub weekend_multiplier: Option<f64>,
    /// Holiday multipliers by name; unnamed holidays keep the scenario's multiplier, and 1.0
    /// makes a holiday an ordinary day.
    pub holidays: BTreeMap<String, f64>,
}

impl Default for ProfileConfig {
    fn default() -> Self {
        Self {
            timezone: "UTC".into(),
            hourly: None,
            weekend_multiplier: None,
            holidays: BTreeMap::new(),
        }
    }
}

/// A validated time profile.
#[derive(Debug, Clone)]
pub struct Profile {
    tz: Tz,
    /// Normalised so a day's hours average 1.
    hourly: [f64; 24],
    weekend: f64,
    holidays: Vec<(Holiday, f64)>,
}

/// Weights and multipliers are relative; the top only keeps their products and sums finite.
fn check_multiplier(what: &str, value: f64) -> anyhow::Result<()> {
    crate::bounds::check(value, (0.0, 1e6), what, "", "config [profile]")
}

impl Profile {
    /// Builds the profile from a scenario's defaults and the config's overrides.
    pub fn new(defaults: &ProfileDefaults, config: &ProfileConfig) -> anyhow::Result<Self> {
        let tz: Tz = config.timezone.parse().map_err(|_| {
            anyhow::anyhow!(
                "time zone {:?} is unknown; use an IANA name such as \"UTC\" or \"Europe/Berlin\"",
                config.timezone
            )
        })?;
        let raw: Vec<f64> = config
            .hourly
            .clone()
            .unwrap_or_else(|| defaults.hourly.to_vec());
        if raw.len() != 24 {
            bail!(
                "profile.hourly has {} values; it needs one per hour, 24 in all",
                raw.len()
            );
        }
        for (hour, w) in raw.iter().enumerate() {
            check_multiplier(&format!("profile.hourly weight for {hour:02}:00"), *w)?;
        }
        let total: f64 = raw.iter().sum();
        if total <= 0.0 {
            bail!("profile.hourly weights are all zero; give at least one hour a weight > 0");
        }
        let mut hourly = [0.0; 24];
        for (h, w) in raw.iter().enumerate() {
            hourly[h] = w * 24.0 / total;
        }
        let weekend = config
            .weekend_multiplier
            .unwrap_or(defaults.weekend_multiplier);
        check_multiplier("profile.weekend_multiplier", weekend)?;
        for name in config.holidays.keys() {
            if !HOLIDAYS.iter().any(|(n, _, _)| n == name) {
                let known: Vec<_> = HOLIDAYS.iter().map(|h| h.0).collect();
                bail!(
                    "profile.holidays has unknown holiday {name:?}; known: {}",
                    known.join(", ")
                );
            }
        }
        let mut holidays = Vec::new();
        for &(name, holiday, retail) in HOLIDAYS {
            let scenario = defaults
                .holiday_multipliers
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, m)| *m);
            let m = config
                .holidays
                .get(name)
                .copied()
                .or(scenario)
                .unwrap_or(retail);
            check_multiplier(&format!("profile.holidays.{name}"), m)?;
            holidays.push((holiday, m));
        }
        Ok(Self {
            tz,
            hourly,
            weekend,
            holidays,
        })
    }

    /// The multiplier of a whole local day: weekend times holiday.
    pub fn day_multiplier(&self, date: NaiveDate) -> f64 {
        let weekend = matches!(date.weekday(), Weekday::Sat | Weekday::Sun);
        let holiday = self
            .holidays
            .iter()
            .find(|(h, _)| h.contains(date))
            .map_or(1.0, |(_, m)| *m);
        holiday * if weekend { self.weekend } else { 1.0 }
    }

    /// Relative intensity at `ms` (epoch milliseconds): 1.0 is an average hour of an ordinary
    /// weekday.
    pub fn relative(&self, ms: i64) -> f64 {
        let local = self
            .tz
            .timestamp_millis_opt(ms)
            .single()
            .map(|t| t.naive_local());
        match local {
            Some(t) => self.hourly[t.hour() as usize] * self.day_multiplier(t.date()),
            None => 1.0,
        }
    }

    /// The local date and hour of `ms`, for histograms.
    pub fn local_date_hour(&self, ms: i64) -> Option<(NaiveDate, u32)> {
        self.tz
            .timestamp_millis_opt(ms)
            .single()
            .map(|t| (t.date_naive(), t.hour()))
    }

    /// Local midnight starting `date`, in epoch milliseconds.
    pub fn local_midnight_ms(&self, date: NaiveDate) -> anyhow::Result<i64> {
        let naive = date.and_hms_opt(0, 0, 0).context("midnight exists")?;
        let t = self
            .tz
            .from_local_datetime(&naive)
            .earliest()
            .with_context(|| format!("midnight of {date} does not exist in {}", self.tz))?;
        Ok(t.timestamp_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retail_hours_split_70_20_10() {
        let day: f64 = RETAIL_HOURLY[9..18].iter().sum();
        let evening: f64 = RETAIL_HOURLY[18..].iter().sum();
        let night: f64 = RETAIL_HOURLY[..9].iter().sum();
        assert!(
            (day - 70.0).abs() < 1e-9
                && (evening - 20.0).abs() < 1e-9
                && (night - 10.0).abs() < 1e-9
        );
    }

    #[test]
    fn bad_profiles_are_named() {
        let err =
            |c: ProfileConfig| format!("{:#}", Profile::new(&RETAIL_PROFILE, &c).unwrap_err());
        let base = ProfileConfig::default();
        assert!(err(ProfileConfig {
            timezone: "Mars/Olympus".into(),
            ..base.clone()
        })
        .contains("Mars/Olympus"));
        assert!(err(ProfileConfig {
            hourly: Some(vec![1.0; 23]),
            ..base.clone()
        })
        .contains("23 values"));
        let mut neg = vec![1.0; 24];
        neg[3] = -1.0;
        assert!(err(ProfileConfig {
            hourly: Some(neg),
            ..base.clone()
        })
        .contains("03:00 is -1"));
        assert!(err(ProfileConfig {
            hourly: Some(vec![0.0; 24]),
            ..base.clone()
        })
        .contains("all zero"));
        let mut h = base.clone();
        h.holidays.insert("festivus".into(), 2.0);
        assert!(err(h).contains("festivus"));
    }

    #[test]
    fn time_zone_moves_the_hours() {
        let berlin = ProfileConfig {
            timezone: "Europe/Berlin".into(),
            ..Default::default()
        };
        let p = Profile::new(&RETAIL_PROFILE, &berlin).unwrap();
        // 2025-07-01T08:00Z is 10:00 in Berlin (CEST).
        let ms = chrono::DateTime::parse_from_rfc3339("2025-07-01T08:00:00Z")
            .unwrap()
            .timestamp_millis();
        assert_eq!(p.local_date_hour(ms).unwrap().1, 10);
        assert!((p.relative(ms) - RETAIL_HOURLY[10] * 24.0 / 100.0).abs() < 1e-9);
    }
}
