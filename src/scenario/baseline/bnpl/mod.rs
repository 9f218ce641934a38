//! Buy now, pay later: customers with a credit profile and merchants; purchases split into
//! instalment plans, then repayments and defaults of those plans as they fall due.
//!
//! `transaction` is the one primary type; `repayment` and `default` are derived from it and
//! fall due at the plan's instalment dates.
//!
//! - `master`: customers, merchants and their generation.
//! - `events`: payloads, plans, and the score and risk rules.
//! - `world`: open plans and customer histories.
//! - `contract`: the rules a consumer may rely on.

pub mod contract;
pub mod events;
pub mod master;
pub mod world;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::profile::ProfileDefaults;
use crate::scenario::util::Check;
use crate::scenario::{ContractChecker, EventTypeId, EventTypeSpec, MasterKind, Scenario, World};
use crate::SimRng;

pub const TRANSACTION: EventTypeId = 0;
pub const REPAYMENT: EventTypeId = 1;
pub const DEFAULT: EventTypeId = 2;

pub static TYPES: &[EventTypeSpec] = &[
    EventTypeSpec {
        name: "transaction",
        default_weight: 1.0,
        default_topic: "bnpl-transactions",
        key_field: "customer_id",
    },
    EventTypeSpec {
        name: "repayment",
        default_weight: 0.0,
        default_topic: "bnpl-repayments",
        key_field: "customer_id",
    },
    EventTypeSpec {
        name: "default",
        default_weight: 0.0,
        default_topic: "bnpl-defaults",
        key_field: "customer_id",
    },
];

/// Merchant categories with their range of purchase amounts, in currency units.
pub const CATEGORIES: &[(&str, f64, f64)] = &[
    ("fashion", 20.0, 400.0),
    ("electronics", 50.0, 2500.0),
    ("home", 30.0, 1500.0),
    ("beauty", 10.0, 200.0),
    ("travel", 100.0, 3000.0),
    ("sports", 20.0, 800.0),
];

/// Tuning of the BNPL world (`[bnpl]` in the config file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BnplConfig {
    /// Default probability of a plan for a 650 score, a small amount and a clean history.
    pub base_default_rate: f64,
    /// Currency code written on amounts.
    pub currency: String,
}

impl Default for BnplConfig {
    fn default() -> Self {
        Self {
            base_default_rate: 0.03,
            currency: "USD".into(),
        }
    }
}

impl BnplConfig {
    pub fn validate(&self) -> anyhow::Result<()> {
        Check("bnpl").range("base_default_rate", self.base_default_rate, 0.0, 0.5)
    }
}

/// E-commerce seasonality: retail's curve, with Black Friday and Cyber Monday higher still.
pub const PROFILE: ProfileDefaults = ProfileDefaults {
    hourly: crate::profile::RETAIL_HOURLY,
    weekend_multiplier: 0.9,
    holiday_multipliers: &[
        ("black_friday", 3.0),
        ("cyber_monday", 2.6),
        ("christmas_day", 0.5),
    ],
};

pub struct Bnpl;

impl Scenario for Bnpl {
    fn name(&self) -> &'static str {
        "bnpl"
    }

    fn description(&self) -> &'static str {
        "Buy now, pay later: instalment purchases, repayments and defaults driven by credit risk"
    }

    fn event_types(&self) -> &'static [EventTypeSpec] {
        TYPES
    }

    fn default_profile(&self) -> ProfileDefaults {
        PROFILE
    }

    fn master_kinds(&self) -> &'static [MasterKind] {
        &[
            MasterKind {
                name: "customers",
                default_count: 5000,
                max_count: 10_000_000,
            },
            MasterKind {
                name: "merchants",
                default_count: 200,
                max_count: 1_000_000,
            },
        ]
    }

    fn write_master(
        &self,
        rng: &mut SimRng,
        sizes: &[usize],
        dir: &Path,
        format: crate::master::Format,
    ) -> anyhow::Result<Vec<PathBuf>> {
        let [customers, merchants] = sizes else {
            anyhow::bail!("bnpl master data takes 2 sizes, got {}", sizes.len());
        };
        master::MasterData::generate(rng, *customers, *merchants).write(dir, format)
    }

    fn checker(
        &self,
        data_dir: &Path,
        from_start: bool,
    ) -> anyhow::Result<Box<dyn ContractChecker>> {
        let data = master::MasterData::load(data_dir)?;
        Ok(Box::new(contract::Checker::new(&data, from_start)))
    }

    fn load_master(&self, data_dir: &Path) -> anyhow::Result<crate::scenario::Master> {
        Ok(crate::scenario::Master::new(master::MasterData::load(
            data_dir,
        )?))
    }

    fn world_from(
        &self,
        master: &crate::scenario::Master,
        _section: &crate::scenario::WorldSection,
    ) -> anyhow::Result<Box<dyn World>> {
        let data = master.get::<master::MasterData>()?.clone();
        Ok(Box::new(world::BnplWorld::new(data, BnplConfig::default())))
    }
}
