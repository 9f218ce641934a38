//! Retail holidays, computed for any year rather than listed by date.

use chrono::{Datelike, Days, NaiveDate, Weekday};

/// A named day or season that changes how busy the world is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holiday {
    NewYearsDay,
    ValentinesDay,
    EasterSunday,
    MothersDay,
    Thanksgiving,
    BlackFriday,
    CyberMonday,
    ChristmasEve,
    ChristmasDay,
    BackToSchool,
    ChristmasSeason,
    BoxingWeek,
}

/// Every holiday with its config name and retail default multiplier. Single days come before
/// the seasons they fall in: the first that matches a date is the one that applies.
pub const HOLIDAYS: &[(&str, Holiday, f64)] = &[
    ("new_years_day", Holiday::NewYearsDay, 0.6),
    ("valentines_day", Holiday::ValentinesDay, 1.3),
    ("easter_sunday", Holiday::EasterSunday, 0.6),
    ("mothers_day", Holiday::MothersDay, 1.25),
    ("thanksgiving", Holiday::Thanksgiving, 0.5),
    ("black_friday", Holiday::BlackFriday, 2.5),
    ("cyber_monday", Holiday::CyberMonday, 1.8),
    ("christmas_eve", Holiday::ChristmasEve, 1.2),
    ("christmas_day", Holiday::ChristmasDay, 0.15),
    ("back_to_school", Holiday::BackToSchool, 1.15),
    ("christmas_season", Holiday::ChristmasSeason, 1.35),
    ("boxing_week", Holiday::BoxingWeek, 1.4),
];

fn ymd(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).unwrap_or(NaiveDate::MIN)
}

/// The `n`th (1-based) `weekday` of a month.
fn nth_weekday(year: i32, month: u32, weekday: Weekday, n: u8) -> NaiveDate {
    NaiveDate::from_weekday_of_month_opt(year, month, weekday, n).unwrap_or(NaiveDate::MIN)
}

/// Easter Sunday (Gregorian), by the anonymous Gregorian algorithm (Meeus/Jones/Butcher).
pub fn easter(year: i32) -> NaiveDate {
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    ymd(year, month as u32, day as u32)
}

/// US Thanksgiving: the fourth Thursday of November.
pub fn thanksgiving(year: i32) -> NaiveDate {
    nth_weekday(year, 11, Weekday::Thu, 4)
}

impl Holiday {
    /// Whether `date` (a local date) falls on this holiday.
    pub fn contains(self, date: NaiveDate) -> bool {
        let year = date.year();
        let (m, d) = (date.month(), date.day());
        match self {
            Holiday::NewYearsDay => (m, d) == (1, 1),
            Holiday::ValentinesDay => (m, d) == (2, 14),
            Holiday::EasterSunday => date == easter(year),
            Holiday::MothersDay => date == nth_weekday(year, 5, Weekday::Sun, 2),
            Holiday::Thanksgiving => date == thanksgiving(year),
            Holiday::BlackFriday => date == thanksgiving(year) + Days::new(1),
            Holiday::CyberMonday => date == thanksgiving(year) + Days::new(4),
            Holiday::ChristmasEve => (m, d) == (12, 24),
            Holiday::ChristmasDay => (m, d) == (12, 25),
            Holiday::BackToSchool => (m == 8 && d >= 10) || (m == 9 && d <= 5),
            Holiday::ChristmasSeason => m == 12 && d <= 23,
            Holiday::BoxingWeek => m == 12 && d >= 26,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn movable_holidays_land_on_their_days() {
        assert_eq!(easter(2024), ymd(2024, 3, 31));
        assert_eq!(easter(2025), ymd(2025, 4, 20));
        assert_eq!(easter(2026), ymd(2026, 4, 5));
        assert_eq!(thanksgiving(2025), ymd(2025, 11, 27));
        assert!(Holiday::BlackFriday.contains(ymd(2025, 11, 28)));
        assert!(Holiday::BlackFriday.contains(ymd(2024, 11, 29)));
        assert!(Holiday::CyberMonday.contains(ymd(2025, 12, 1)));
        assert!(Holiday::MothersDay.contains(ymd(2025, 5, 11)));
        assert!(!Holiday::BlackFriday.contains(ymd(2025, 11, 29)));
    }
}
