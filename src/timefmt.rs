//! Fast RFC 3339 formatting of event times (UTC, milliseconds), the one piece of formatting on
//! the hot path. `chrono`'s general formatter costs more than the rest of an event.

/// Appends `ms` (milliseconds since the Unix epoch) as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
/// Times outside years 0..=9999 are clamped to the first or last millisecond of that range, not
/// wrapped to January (issue 10). The configuration and the generator keep event times inside
/// it; only forecasts such as a restock's expected delivery can reach past it.
pub fn write_rfc3339_millis(buf: &mut Vec<u8>, ms: i64) {
    // An event's time is written more than once (the envelope's `event_time` and a payload's
    // own time field, such as a play's `played_at`), and most events fall in the minute of
    // the one before: the last minute's text is kept per thread, and only its seconds and
    // milliseconds are written anew.
    thread_local! {
        static LAST: std::cell::Cell<(i64, [u8; 24])> = const { std::cell::Cell::new((i64::MIN, [0; 24])) };
    }
    const YEAR_0_MS: i64 = -62_167_219_200_000;
    // Clamped first, so the cache's starting `i64::MIN` is never a minute asked for.
    let ms = ms.clamp(YEAR_0_MS, crate::bounds::LAST_EVENT_MS);
    let minute = ms.div_euclid(60_000);
    let (last, mut text) = LAST.get();
    if last != minute {
        text = format_rfc3339_millis(ms);
    } else {
        let in_minute = ms.rem_euclid(60_000) as u32;
        put(&mut text[17..19], in_minute / 1000);
        put(&mut text[20..23], in_minute % 1000);
    }
    LAST.set((minute, text));
    buf.extend_from_slice(&text);
}

/// `ms`, already within years 0..=9999, as RFC 3339 text.
/// `ms` as text, for messages (off the hot path).
pub fn rfc3339_millis(ms: i64) -> String {
    let mut text = Vec::with_capacity(24);
    write_rfc3339_millis(&mut text, ms);
    String::from_utf8_lossy(&text).into_owned()
}

fn format_rfc3339_millis(ms: i64) -> [u8; 24] {
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000) as u32;
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400) as u32;
    let (year, month, day) = civil_from_days(days);
    let year = year.clamp(0, 9999) as u32;

    let mut out = *b"0000-00-00T00:00:00.000Z";
    put(&mut out[0..4], year);
    put(&mut out[5..7], month);
    put(&mut out[8..10], day);
    put(&mut out[11..13], sod / 3600);
    put(&mut out[14..16], sod / 60 % 60);
    put(&mut out[17..19], sod % 60);
    put(&mut out[20..23], millis);
    out
}

/// Writes `value` as zero-padded decimal digits filling `dst`.
fn put(dst: &mut [u8], mut value: u32) {
    for b in dst.iter_mut().rev() {
        *b = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day); Howard Hinnant's
/// `civil_from_days`.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, SecondsFormat};
    use rand::{RngExt, SeedableRng};

    fn fmt(ms: i64) -> String {
        let mut v = Vec::new();
        write_rfc3339_millis(&mut v, ms);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn times_past_the_four_digit_years_are_clamped_not_wrapped() {
        assert_eq!(fmt(253_402_300_799_999), "9999-12-31T23:59:59.999Z");
        assert_eq!(
            fmt(253_402_300_800_000 + 3_600_000),
            "9999-12-31T23:59:59.999Z"
        );
        assert_eq!(fmt(i64::MAX), "9999-12-31T23:59:59.999Z");
        assert_eq!(fmt(-62_167_219_200_000), "0000-01-01T00:00:00.000Z");
        assert_eq!(fmt(i64::MIN), "0000-01-01T00:00:00.000Z");
    }

    #[test]
    fn agrees_with_chrono() {
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(3);
        // 0001-01-01 .. 9999-12-31, plus the edges and leap days.
        let mut samples: Vec<i64> = (0..20_000)
            .map(|_| rng.random_range(-62_135_596_800_000..253_402_300_799_999))
            .collect();
        samples.extend([
            0,
            951_782_400_000,
            1_709_164_800_999,
            253_402_300_799_999,
            -1,
        ]);
        for ms in samples {
            let want = DateTime::from_timestamp_millis(ms)
                .unwrap()
                .to_rfc3339_opts(SecondsFormat::Millis, true);
            assert_eq!(fmt(ms), want, "ms={ms}");
            // Again: now from the text kept for the last minute.
            assert_eq!(fmt(ms), want, "ms={ms}, repeated");
        }
    }

    /// Times close together, as a run writes them (most in the minute of the one before, some
    /// across a minute, hour, day or year), and back again: each as chrono writes it.
    #[test]
    fn nearby_times_agree_with_chrono() {
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(5);
        let mut ms: i64 = 1_735_689_540_000 - 3_000; // 2024-12-31T23:58:57Z
        for _ in 0..50_000 {
            ms += match rng.random_range(0..10) {
                0 => rng.random_range(-120_000..120_000),
                1 => rng.random_range(0..7_200_000),
                _ => rng.random_range(0..2_500),
            };
            let want = DateTime::from_timestamp_millis(ms)
                .unwrap()
                .to_rfc3339_opts(SecondsFormat::Millis, true);
            assert_eq!(fmt(ms), want, "ms={ms}");
        }
    }
}
