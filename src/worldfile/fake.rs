//! Fake-data kinds for `fake(kind)`, drawn with the `fake` crate, and dates in a range.

use chrono::NaiveDate;
use fake::faker::address::en::{
    CityName, CountryCode, CountryName, StateName, StreetName, ZipCode,
};
use fake::faker::company::en::CompanyName;
use fake::faker::internet::en::{FreeEmail, IPv4, SafeEmail, UserAgent, Username};
use fake::faker::job::en::Title;
use fake::faker::lorem::en::{Sentence, Word};
use fake::faker::name::en::{FirstName, LastName, Name};
use fake::faker::phone_number::en::PhoneNumber;
use fake::Fake;
use rand::RngExt;

use super::value::{Base, Ty, Value};
use crate::SimRng;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FakeKind {
    FirstName,
    LastName,
    Name,
    Email,
    FreeEmail,
    Username,
    Phone,
    Company,
    City,
    Street,
    CountryCode,
    Country,
    State,
    Zip,
    Latitude,
    Longitude,
    Word,
    Sentence,
    JobTitle,
    Ipv4,
    UserAgent,
    Url,
}

/// Every kind by its name in a world file.
pub const KINDS: &[(&str, FakeKind)] = &[
    ("first_name", FakeKind::FirstName),
    ("last_name", FakeKind::LastName),
    ("name", FakeKind::Name),
    ("email", FakeKind::Email),
    ("free_email", FakeKind::FreeEmail),
    ("username", FakeKind::Username),
    ("phone", FakeKind::Phone),
    ("company", FakeKind::Company),
    ("city", FakeKind::City),
    ("street", FakeKind::Street),
    ("country_code", FakeKind::CountryCode),
    ("country", FakeKind::Country),
    ("state", FakeKind::State),
    ("zip", FakeKind::Zip),
    ("latitude", FakeKind::Latitude),
    ("longitude", FakeKind::Longitude),
    ("word", FakeKind::Word),
    ("sentence", FakeKind::Sentence),
    ("job_title", FakeKind::JobTitle),
    ("ipv4", FakeKind::Ipv4),
    ("user_agent", FakeKind::UserAgent),
    ("url", FakeKind::Url),
];

impl FakeKind {
    pub fn named(name: &str) -> Option<Self> {
        KINDS.iter().find(|(n, _)| *n == name).map(|(_, k)| *k)
    }

    pub fn ty(self) -> Ty {
        match self {
            FakeKind::Latitude => Ty::range(Base::Float, Some(-90.0), Some(90.0)),
            FakeKind::Longitude => Ty::range(Base::Float, Some(-180.0), Some(180.0)),
            FakeKind::Email | FakeKind::FreeEmail => Ty::format(Base::Str, "email"),
            FakeKind::Ipv4 => Ty::format(Base::Str, "ipv4"),
            FakeKind::Url => Ty::format(Base::Str, "uri"),
            _ => Ty::of(Base::Str),
        }
    }

    pub fn draw(self, rng: &mut SimRng) -> Value {
        let s: String = match self {
            FakeKind::FirstName => FirstName().fake_with_rng(rng),
            FakeKind::LastName => LastName().fake_with_rng(rng),
            FakeKind::Name => Name().fake_with_rng(rng),
            FakeKind::Email => SafeEmail().fake_with_rng(rng),
            FakeKind::FreeEmail => FreeEmail().fake_with_rng(rng),
            FakeKind::Username => Username().fake_with_rng(rng),
            FakeKind::Phone => PhoneNumber().fake_with_rng(rng),
            FakeKind::Company => CompanyName().fake_with_rng(rng),
            FakeKind::City => CityName().fake_with_rng(rng),
            FakeKind::Street => StreetName().fake_with_rng(rng),
            FakeKind::CountryCode => CountryCode().fake_with_rng(rng),
            FakeKind::Country => CountryName().fake_with_rng(rng),
            FakeKind::State => StateName().fake_with_rng(rng),
            FakeKind::Zip => ZipCode().fake_with_rng(rng),
            // Drawn here, not with `fake`'s `Latitude`/`Longitude`: its f64 longitude is
            // `x * 360 - 90`, about -90..270 (issue 28), which broke the world's own contract.
            FakeKind::Latitude => return Value::float(micro_degrees(rng, 90.0)),
            FakeKind::Longitude => return Value::float(micro_degrees(rng, 180.0)),
            FakeKind::Word => Word().fake_with_rng(rng),
            FakeKind::Sentence => Sentence(3..8).fake_with_rng(rng),
            FakeKind::JobTitle => Title().fake_with_rng(rng),
            FakeKind::Ipv4 => IPv4().fake_with_rng(rng),
            FakeKind::UserAgent => UserAgent().fake_with_rng(rng),
            FakeKind::Url => {
                let w: String = Word().fake_with_rng(rng);
                let n: u32 = rng.random_range(1..1000);
                format!("https://{w}.example.com/{n}")
            }
        };
        Value::str(&s)
    }
}

/// A coordinate uniform in `-limit..=limit` degrees, to six places (about 0.1 m).
fn micro_degrees(rng: &mut SimRng, limit: f64) -> f64 {
    let micro = (limit * 1e6) as i64;
    rng.random_range(-micro..=micro) as f64 / 1e6
}

/// A date (`YYYY-MM-DD`) drawn uniformly from `from..=to`; `None` if either is not a date or
/// they are the wrong way round.
pub fn date_between(rng: &mut SimRng, from: &str, to: &str) -> Option<String> {
    let (a, b) = (parse_date(from)?, parse_date(to)?);
    let span = (b - a).num_days();
    if span < 0 {
        return None;
    }
    let d = a + chrono::Days::new(rng.random_range(0..=span) as u64);
    Some(d.format("%Y-%m-%d").to_string())
}

pub fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    /// Every kind's draws fit the type it declares (the contract checks payloads against it):
    /// a number inside its range, a formatted text that looks like its format. 20,000 draws a
    /// kind; before issue 28's fix a quarter of longitudes fell above 180.
    #[test]
    fn every_kind_draws_within_its_declared_type() {
        let mut rng = SimRng::seed_from_u64(7);
        for &(name, kind) in KINDS {
            let ty = kind.ty();
            let (mut lowest, mut highest) = (f64::INFINITY, f64::NEG_INFINITY);
            for _ in 0..20_000 {
                let v = kind.draw(&mut rng);
                match (ty.base, v.as_f64()) {
                    (Base::Float, Some(x)) => {
                        let (lo, hi) = (ty.lo.unwrap(), ty.hi.unwrap());
                        assert!(
                            (lo..=hi).contains(&x),
                            "fake('{name}') drew {x}, outside {lo}..{hi}"
                        );
                        lowest = lowest.min(x);
                        highest = highest.max(x);
                    }
                    (Base::Str, _) => {
                        let json = v.to_json();
                        let s = json
                            .as_str()
                            .unwrap_or_else(|| panic!("fake('{name}') gave {json}"));
                        assert!(!s.is_empty(), "fake('{name}') gave empty text");
                        match ty.format {
                            Some("email") => assert!(s.contains('@'), "fake('{name}'): {s}"),
                            Some("ipv4") => assert!(s.parse::<std::net::Ipv4Addr>().is_ok(), "{s}"),
                            Some("uri") => assert!(s.starts_with("https://"), "{s}"),
                            _ => {}
                        }
                    }
                    other => panic!("fake('{name}') gave {other:?} for a {ty:?}"),
                }
            }
            if ty.base == Base::Float {
                // The whole range is used, not a corner of it: each end within 1% of its bound.
                let span = ty.hi.unwrap() - ty.lo.unwrap();
                assert!(
                    lowest < ty.lo.unwrap() + span / 100.0,
                    "fake('{name}') min {lowest}"
                );
                assert!(
                    highest > ty.hi.unwrap() - span / 100.0,
                    "fake('{name}') max {highest}"
                );
            }
        }
    }
}
