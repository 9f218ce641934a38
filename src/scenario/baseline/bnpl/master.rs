//! Buy-now-pay-later master data: customers with a credit profile and merchants with a
//! category, their checks, and their generation.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use fake::faker::company::en::CompanyName;
use fake::Fake;
use rand::seq::IndexedRandom;
use rand_distr::{Distribution, LogNormal, Normal};
use serde::{Deserialize, Serialize};

use super::CATEGORIES;
use crate::master::{self, Format, MasterRecord};
use crate::scenario::util::{date, ymd};
use crate::SimRng;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Customer {
    pub customer_id: String,
    /// FICO-like score, 300 to 850, at sign-up; repayments and defaults move it later.
    pub credit_score: u32,
    /// `subprime` (< 580), `near_prime` (< 670), `prime` (< 740) or `super_prime`.
    pub credit_profile: String,
    pub annual_income: u32,
    pub signup_date: NaiveDate,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Merchant {
    pub merchant_id: String,
    pub name: String,
    /// One of `CATEGORIES`; it sets the range of purchase amounts.
    pub category: String,
}

/// The credit profile of a score.
pub fn credit_profile(score: u32) -> &'static str {
    match score {
        0..580 => "subprime",
        580..670 => "near_prime",
        670..740 => "prime",
        _ => "super_prime",
    }
}

impl MasterRecord for Customer {
    const KIND: &'static str = "customers";
    fn id(&self) -> &str {
        &self.customer_id
    }
    fn check(&self) -> Result<(), String> {
        if !(300..=850).contains(&self.credit_score) {
            return Err(format!(
                "credit_score is {}; it must be 300 to 850",
                self.credit_score
            ));
        }
        if self.credit_profile != credit_profile(self.credit_score) {
            return Err(format!(
                "credit_profile {:?} does not match credit_score {} ({})",
                self.credit_profile,
                self.credit_score,
                credit_profile(self.credit_score)
            ));
        }
        Ok(())
    }
}

impl MasterRecord for Merchant {
    const KIND: &'static str = "merchants";
    fn id(&self) -> &str {
        &self.merchant_id
    }
    fn check(&self) -> Result<(), String> {
        if !CATEGORIES.iter().any(|c| c.0 == self.category) {
            return Err(format!("category {:?} is unknown", self.category));
        }
        Ok(())
    }
}

#[derive(Debug, Clone)]
pub struct MasterData {
    pub customers: Vec<Customer>,
    pub merchants: Vec<Merchant>,
}

impl MasterData {
    pub fn load(dir: &Path) -> anyhow::Result<Self> {
        Ok(Self {
            customers: master::load(dir)?,
            merchants: master::load(dir)?,
        })
    }

    pub fn write(&self, dir: &Path, format: Format) -> anyhow::Result<Vec<PathBuf>> {
        Ok(vec![
            master::write(dir, &self.customers, format)?,
            master::write(dir, &self.merchants, format)?,
        ])
    }

    /// Scores are Normal(650, 85) within 300..=850, as consumer credit scores roughly are.
    pub fn generate(rng: &mut SimRng, customers: usize, merchants: usize) -> Self {
        let score = Normal::<f64>::new(650.0, 85.0).ok();
        let income = LogNormal::<f64>::new(10.9, 0.5).ok();
        let customers = (0..customers)
            .map(|i| {
                let s = score.map_or(650.0, |d| d.sample(rng)).clamp(300.0, 850.0) as u32;
                Customer {
                    customer_id: format!("BC-{:06}", i + 1),
                    credit_score: s,
                    credit_profile: credit_profile(s).into(),
                    annual_income: (income.map_or(55_000.0, |d| d.sample(rng)) / 100.0).round()
                        as u32
                        * 100,
                    signup_date: date(rng, ymd(2019, 1, 1), ymd(2024, 12, 31)),
                }
            })
            .collect();
        let merchants = (0..merchants)
            .map(|i| Merchant {
                merchant_id: format!("M-{:05}", i + 1),
                name: CompanyName().fake_with_rng(rng),
                category: CATEGORIES.choose(rng).map_or("fashion", |c| c.0).into(),
            })
            .collect();
        Self {
            customers,
            merchants,
        }
    }
}
