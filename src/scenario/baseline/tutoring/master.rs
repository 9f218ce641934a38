//! Tutoring master data: students and tutors, their checks, and their generation.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use rand::seq::{IndexedRandom, SliceRandom};
use rand::RngExt;
use serde::{Deserialize, Serialize};

use super::{REGIONS, SUBJECTS};
use crate::master::{self, Format, MasterRecord};
use crate::scenario::util::{date, round_to, ymd};
use crate::SimRng;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Student {
    pub student_id: String,
    /// School grade, 1 to 12.
    pub grade: u8,
    pub region: String,
    pub signup_date: NaiveDate,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Tutor {
    pub tutor_id: String,
    /// Subjects taught, separated by `;` so the record fits a CSV row.
    pub subjects: String,
    /// IANA time zone.
    pub timezone: String,
    /// Average rating, 3.0 to 5.0.
    pub rating: f64,
}

impl Tutor {
    pub fn teaches(&self) -> impl Iterator<Item = &str> {
        self.subjects.split(';')
    }
}

impl MasterRecord for Student {
    const KIND: &'static str = "students";
    fn id(&self) -> &str {
        &self.student_id
    }
    fn check(&self) -> Result<(), String> {
        if !(1..=12).contains(&self.grade) {
            return Err(format!("grade is {}; it must be 1 to 12", self.grade));
        }
        if !REGIONS.contains(&self.region.as_str()) {
            return Err(format!(
                "region {:?} is not one of {REGIONS:?}",
                self.region
            ));
        }
        Ok(())
    }
}

impl MasterRecord for Tutor {
    const KIND: &'static str = "tutors";
    fn id(&self) -> &str {
        &self.tutor_id
    }
    fn check(&self) -> Result<(), String> {
        if let Some(s) = self.teaches().find(|s| !SUBJECTS.contains(s)) {
            return Err(format!("subject {s:?} is not one of {SUBJECTS:?}"));
        }
        if !(3.0..=5.0).contains(&self.rating) {
            return Err(format!("rating is {}; it must be 3.0 to 5.0", self.rating));
        }
        Ok(())
    }
}

#[derive(Debug, Clone)]
pub struct MasterData {
    pub students: Vec<Student>,
    pub tutors: Vec<Tutor>,
}

impl MasterData {
    pub fn load(dir: &Path) -> anyhow::Result<Self> {
        Ok(Self {
            students: master::load(dir)?,
            tutors: master::load(dir)?,
        })
    }

    pub fn write(&self, dir: &Path, format: Format) -> anyhow::Result<Vec<PathBuf>> {
        Ok(vec![
            master::write(dir, &self.students, format)?,
            master::write(dir, &self.tutors, format)?,
        ])
    }

    pub fn generate(rng: &mut SimRng, students: usize, tutors: usize) -> Self {
        let students = (0..students)
            .map(|i| Student {
                student_id: format!("STU-{:06}", i + 1),
                grade: rng.random_range(1..=12),
                region: REGIONS.choose(rng).copied().unwrap_or("west").to_string(),
                signup_date: date(rng, ymd(2019, 1, 1), ymd(2024, 12, 31)),
            })
            .collect();
        let tutors = (0..tutors)
            .map(|i| {
                let mut subjects = SUBJECTS.to_vec();
                subjects.shuffle(rng);
                subjects.truncate(rng.random_range(1..=3));
                Tutor {
                    tutor_id: format!("TUT-{:05}", i + 1),
                    subjects: subjects.join(";"),
                    timezone: TIMEZONES.choose(rng).copied().unwrap_or("UTC").to_string(),
                    rating: round_to(rng.random_range(3.0..=5.0), 1),
                }
            })
            .collect();
        Self { students, tutors }
    }
}

const TIMEZONES: &[&str] = &[
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "Europe/London",
    "Asia/Kolkata",
];
