//! Fake-data kinds for `fake(kind)`, drawn with the `fake` crate, and dates in a range.

use chrono::NaiveDate;
use fake::faker::address::en::{
    CityName, CountryCode, CountryName, Latitude, Longitude, StateName, StreetName, ZipCode,
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
            FakeKind::Latitude => {
                let x: f64 = Latitude().fake_with_rng(rng);
                return Value::float((x * 1e6).round() / 1e6);
            }
            FakeKind::Longitude => {
                let x: f64 = Longitude().fake_with_rng(rng);
                return Value::float((x * 1e6).round() / 1e6);
            }
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
