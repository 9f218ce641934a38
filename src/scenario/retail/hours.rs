//! Store calendars: when a store exists (from local midnight of `opened_on`) and when it is
//! open (its `opening_hours`), in its own time zone. Compiled once from the master data, read
//! by the world (in-store sales only while open) and by the contract checker (issue 12).
//!
//! A store without `timezone` gets one from its coordinates: in the continental US the zone of
//! its longitude (New York, Chicago, Denver, Los Angeles), elsewhere the nautical zone of its
//! longitude (`Etc/GMT+5`). A store without `opening_hours` gets [`DEFAULT_HOURS`].

use chrono::{Datelike, NaiveDate, NaiveDateTime, TimeZone, Timelike};
use chrono_tz::Tz;

/// Opening hours of a store whose master data names none: 08:00-22:00, Sundays 10:00-18:00.
pub const DEFAULT_HOURS: &str = "Mo-Sa 08:00-22:00; Su 10:00-18:00";

const DAYS: [&str; 7] = ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"];

/// One store's week: per weekday (Monday first) the open minutes `[open, close)` of the day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Week(pub [Option<(u16, u16)>; 7]);

impl Week {
    /// Parses `"Mo-Sa 08:00-22:00; Su 10:00-18:00"`: rules separated by `;`, each a day list
    /// (`Mo`, `Mo-Fr`, `Sa,Su`) and `HH:MM-HH:MM` (close after open, at most 24:00) or `off`.
    /// A later rule overrides an earlier one; days no rule names are closed.
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = |why: &str| {
            format!("opening_hours {text:?} {why}; write rules like \"Mo-Sa 08:00-22:00; Su off\"")
        };
        let mut week = [None; 7];
        for rule in text.split(';').map(str::trim).filter(|r| !r.is_empty()) {
            let (days, span) = rule
                .split_once(' ')
                .ok_or_else(|| bad("has a rule without hours"))?;
            let hours = match span.trim() {
                "off" => None,
                span => {
                    let (open, close) = span
                        .split_once('-')
                        .ok_or_else(|| bad("has no HH:MM-HH:MM"))?;
                    let (open, close) = (minute(open), minute(close));
                    match (open, close) {
                        (Some(o), Some(c)) if o < c => Some((o, c)),
                        _ => {
                            return Err(bad(
                                "has a time that is not HH:MM, or closes before it opens",
                            ))
                        }
                    }
                }
            };
            for part in days.split(',') {
                let day = |d: &str| DAYS.iter().position(|x| *x == d.trim());
                let (from, to) = match part.split_once('-') {
                    Some((a, b)) => (day(a), day(b)),
                    None => (day(part), day(part)),
                };
                let (Some(from), Some(to)) = (from, to) else {
                    return Err(bad("names a day that is not Mo, Tu, We, Th, Fr, Sa or Su"));
                };
                for slot in week.iter_mut().take(to + 1).skip(from) {
                    *slot = hours;
                }
            }
        }
        if week.iter().all(Option::is_none) {
            return Err(bad("never opens"));
        }
        Ok(Self(week))
    }

    /// Open minutes per week, for capacity estimates.
    pub fn open_minutes(&self) -> u32 {
        self.0.iter().flatten().map(|(o, c)| u32::from(c - o)).sum()
    }
}

/// `"08:30"` as minutes since midnight; `"24:00"` is allowed as a closing time.
fn minute(hhmm: &str) -> Option<u16> {
    let (h, m) = hhmm.trim().split_once(':')?;
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 24 && m < 60 && h * 60 + m <= 1440 && hhmm.trim().len() == 5).then_some(h * 60 + m)
}

/// The zone of a store that names none (see the module comment).
pub fn default_zone(latitude: f64, longitude: f64) -> Tz {
    if (24.0..=50.0).contains(&latitude) && (-125.0..=-66.0).contains(&longitude) {
        return match longitude {
            l if l >= -87.5 => chrono_tz::America::New_York,
            l if l >= -101.0 => chrono_tz::America::Chicago,
            l if l >= -114.5 => chrono_tz::America::Denver,
            _ => chrono_tz::America::Los_Angeles,
        };
    }
    let hours = (longitude / 15.0).round() as i32;
    // Etc/GMT+5 is five hours behind UTC: the sign is the reverse of the offset's.
    format!("Etc/GMT{:+}", -hours)
        .parse()
        .ok()
        .filter(|_| hours != 0)
        .unwrap_or(chrono_tz::UTC)
}

/// A store's compiled calendar.
#[derive(Debug, Clone)]
pub struct Calendar {
    pub tz: Tz,
    pub week: Week,
    /// Local midnight starting `opened_on`, in epoch milliseconds.
    pub opened_ms: i64,
}

/// Epoch milliseconds of a local time; a time skipped by a DST change moves an hour on.
pub fn local_ms(tz: Tz, t: NaiveDateTime) -> i64 {
    match tz.from_local_datetime(&t).earliest() {
        Some(t) => t.timestamp_millis(),
        None => local_ms(tz, t + chrono::Duration::hours(1)),
    }
}

/// Local midnight starting `date` in `tz`, in epoch milliseconds.
pub fn day_start_ms(tz: Tz, date: NaiveDate) -> i64 {
    local_ms(tz, date.and_time(chrono::NaiveTime::MIN))
}

impl Calendar {
    pub fn new(tz: Tz, week: Week, opened_on: NaiveDate) -> Self {
        Self {
            tz,
            week,
            opened_ms: day_start_ms(tz, opened_on),
        }
    }

    fn local(&self, ms: i64) -> NaiveDateTime {
        self.tz
            .timestamp_millis_opt(ms)
            .single()
            .map_or_else(chrono::NaiveDateTime::default, |t| t.naive_local())
    }

    /// Whether the store exists and is open at `ms`.
    pub fn is_open(&self, ms: i64) -> bool {
        if ms < self.opened_ms {
            return false;
        }
        let t = self.local(ms);
        let minute = (t.hour() * 60 + t.minute()) as u16;
        self.week.0[t.weekday().num_days_from_monday() as usize]
            .is_some_and(|(o, c)| (o..c).contains(&minute))
    }

    /// The first time after `ms` at which [`Calendar::is_open`] changes (or the store opens
    /// its doors for the first time).
    pub fn next_change(&self, ms: i64) -> i64 {
        if ms < self.opened_ms {
            return self.opened_ms;
        }
        let open = self.is_open(ms);
        let date = self.local(ms).date();
        // A week and a day covers every schedule that opens at all.
        for offset in 0..9 {
            let day = date + chrono::Days::new(offset);
            let Some((o, c)) = self.week.0[day.weekday().num_days_from_monday() as usize] else {
                continue;
            };
            let at = |m: u16| {
                let midnight = day.and_time(chrono::NaiveTime::MIN);
                local_ms(self.tz, midnight + chrono::Duration::minutes(i64::from(m)))
            };
            let edge = if open { at(c) } else { at(o) };
            if edge > ms {
                return edge;
            }
        }
        // Unreachable for a schedule that opens; a day later keeps callers moving.
        ms + 86_400_000
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::util::ymd;

    fn ms(t: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(t)
            .unwrap()
            .timestamp_millis()
    }

    #[test]
    fn the_default_week_parses_and_bad_ones_are_named() {
        let w = Week::parse(DEFAULT_HOURS).unwrap();
        assert_eq!(w.0[0], Some((480, 1320)));
        assert_eq!(w.0[6], Some((600, 1080)));
        assert_eq!(w.open_minutes(), 6 * 840 + 480);
        let w = Week::parse("Mo-Fr 09:00-17:30; Sa,Su off; We 10:00-24:00").unwrap();
        assert_eq!((w.0[2], w.0[5]), (Some((600, 1440)), None));
        for bad in [
            "",
            "Mo",
            "Xx 08:00-10:00",
            "Mo 10:00-09:00",
            "Mo 8:00-10:00",
            "Mo 08:00-25:00",
        ] {
            let e = Week::parse(bad).unwrap_err();
            assert!(e.contains(&format!("{bad:?}")), "{e}");
        }
    }

    #[test]
    fn open_and_next_change_follow_local_time_across_dst() {
        let tz = chrono_tz::America::New_York;
        let c = Calendar::new(tz, Week::parse(DEFAULT_HOURS).unwrap(), ymd(2025, 3, 1));
        // 2025-03-01 is a Saturday; the store exists from local midnight (05:00Z).
        assert!(!c.is_open(ms("2025-03-01T04:59:00Z")));
        assert_eq!(
            c.next_change(ms("2025-03-01T04:00:00Z")),
            ms("2025-03-01T05:00:00Z")
        );
        assert!(!c.is_open(ms("2025-03-01T12:59:00Z")));
        assert!(c.is_open(ms("2025-03-01T13:00:00Z")));
        assert_eq!(
            c.next_change(ms("2025-03-01T13:00:00Z")),
            ms("2025-03-02T03:00:00Z")
        );
        // Sunday 2025-03-09 (DST starts): 10:00 EDT is 14:00Z.
        assert_eq!(
            c.next_change(ms("2025-03-09T03:00:00Z")),
            ms("2025-03-09T14:00:00Z")
        );
        assert_eq!(
            c.next_change(ms("2025-03-09T14:00:00Z")),
            ms("2025-03-09T22:00:00Z")
        );
    }

    #[test]
    fn zones_come_from_longitude() {
        assert_eq!(default_zone(40.7, -74.0), chrono_tz::America::New_York);
        assert_eq!(default_zone(41.9, -87.6), chrono_tz::America::Chicago);
        assert_eq!(default_zone(33.4, -112.0), chrono_tz::America::Denver);
        assert_eq!(default_zone(37.8, -122.4), chrono_tz::America::Los_Angeles);
        assert_eq!(default_zone(52.5, 13.4).name(), "Etc/GMT-1");
        assert_eq!(default_zone(51.5, -0.1), chrono_tz::UTC);
    }
}
