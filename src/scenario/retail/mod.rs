//! The default world: a retail chain with stores, products and customers.
//!
//! - `master`: the master-data records and their generation.
//! - `hours`: store calendars (time zone, opening day, opening hours).
//! - `capacity`: the pace the stores could plausibly carry.
//! - `events`: the payload of each event type.
//! - `world`: the state that keeps stock, prices and restocks consistent.
//! - `contract`: the data contract as checks a consumer can replay; `contract_realism` adds
//!   dates, opening hours and shelf availability.
//! - `schema`: each event type's fields, as the ingest API validates them.

pub mod capacity;
pub mod contract;
pub mod contract_realism;
pub mod events;
pub mod hours;
pub mod master;
pub mod schema;
pub mod world;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{ContractChecker, EventTypeId, EventTypeSpec, MasterKind, Scenario, World};
use crate::SimRng;

pub const SALE: EventTypeId = 0;
pub const INVENTORY_UPDATE: EventTypeId = 1;
pub const CUSTOMER_EVENT: EventTypeId = 2;
pub const PRICE_CHANGE: EventTypeId = 3;
pub const RESTOCK_ALERT: EventTypeId = 4;

/// The retail event types, indexed by the constants above.
pub static TYPES: &[EventTypeSpec] = &[
    EventTypeSpec {
        name: "sale",
        default_weight: 0.50,
        default_topic: "retail-sales-transactions",
        key_field: "store_id",
    },
    EventTypeSpec {
        name: "inventory_update",
        default_weight: 0.20,
        default_topic: "retail-inventory-updates",
        key_field: "store_id",
    },
    EventTypeSpec {
        name: "customer_event",
        default_weight: 0.15,
        default_topic: "retail-customer-events",
        key_field: "customer_id",
    },
    EventTypeSpec {
        name: "price_change",
        default_weight: 0.10,
        default_topic: "retail-price-changes",
        key_field: "sku",
    },
    EventTypeSpec {
        name: "restock_alert",
        default_weight: 0.05,
        default_topic: "retail-restock-alerts",
        key_field: "store_id",
    },
];

/// Tuning of the retail world (`[retail]` in the config file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetailConfig {
    /// Most line items one sale can have (at least 1).
    pub max_line_items: u32,
    /// Zipf exponent of product popularity: 0 is uniform, higher makes a few bestsellers dominate.
    pub popularity_skew: f64,
    /// Share of sales made by a customer of the store's own neighbourhood.
    pub home_store_share: f64,
    /// Sales tax rate applied to a sale's subtotal.
    pub tax_rate: f64,
    /// Currency code written on sales.
    pub currency: String,
    /// Shortest time from a restock alert to its receipt, in seconds of event time.
    pub restock_lead_min_secs: f64,
    /// Longest time from a restock alert to its receipt, in seconds of event time.
    pub restock_lead_max_secs: f64,
}

impl Default for RetailConfig {
    fn default() -> Self {
        Self {
            max_line_items: 5,
            popularity_skew: 0.9,
            home_store_share: 0.8,
            tax_rate: 0.08,
            currency: "USD".into(),
            restock_lead_min_secs: 1800.0,
            restock_lead_max_secs: 14_400.0,
        }
    }
}

impl RetailConfig {
    /// Checks every field; the message names the field and the bad value.
    pub fn validate(&self) -> anyhow::Result<()> {
        let fail = |field: &str, value: String, want: &str| {
            anyhow::bail!("retail.{field} is {value}; it must be {want} (config file [retail])")
        };
        if !(1..=20).contains(&self.max_line_items) {
            fail(
                "max_line_items",
                self.max_line_items.to_string(),
                "between 1 and 20",
            )?;
        }
        if !(0.0..=10.0).contains(&self.popularity_skew) {
            fail(
                "popularity_skew",
                crate::config::bounds::Num(self.popularity_skew).to_string(),
                "between 0 and 10",
            )?;
        }
        if !(0.0..=1.0).contains(&self.home_store_share) {
            fail(
                "home_store_share",
                self.home_store_share.to_string(),
                "between 0 and 1",
            )?;
        }
        if !(0.0..=1.0).contains(&self.tax_rate) {
            fail("tax_rate", self.tax_rate.to_string(), "between 0 and 1")?;
        }
        let (lo, hi) = (self.restock_lead_min_secs, self.restock_lead_max_secs);
        // A lead time is added to event times: a year at most keeps it far from overflow.
        let year = (0.0, crate::config::bounds::MAX_DELTA_SECS);
        let fix = "config file [retail]";
        crate::config::bounds::check(lo, year, "retail.restock_lead_min_secs", "seconds", fix)?;
        crate::config::bounds::check(hi, year, "retail.restock_lead_max_secs", "seconds", fix)?;
        if lo > hi {
            fail(
                "restock_lead_min_secs/max_secs",
                format!("{lo}/{hi}"),
                "finite, >= 0, and min <= max",
            )?;
        }
        Ok(())
    }
}

/// The retail scenario.
pub struct Retail;

impl Scenario for Retail {
    fn name(&self) -> &'static str {
        "retail"
    }

    fn description(&self) -> &'static str {
        "A retail chain: sales, inventory, customers, prices and restocks"
    }

    fn event_types(&self) -> &'static [EventTypeSpec] {
        TYPES
    }

    fn validate_event(&self, event: &serde_json::Value) -> Result<EventTypeId, String> {
        let ty = super::validate_envelope(self.name(), TYPES, event)?;
        if let Some(object) = event.as_object() {
            schema::validate_fields(ty, object)?;
        }
        Ok(ty)
    }

    fn master_kinds(&self) -> &'static [MasterKind] {
        &[
            MasterKind {
                name: "stores",
                default_count: 50,
                max_count: 100_000,
            },
            MasterKind {
                name: "products",
                default_count: 500,
                max_count: 1_000_000,
            },
            MasterKind {
                name: "customers",
                default_count: 5000,
                max_count: 10_000_000,
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
        let [stores, products, customers] = sizes else {
            anyhow::bail!("retail master data takes 3 sizes, got {}", sizes.len());
        };
        master::MasterData::generate(rng, *stores, *products, *customers).write(dir, format)
    }

    fn default_data_dir(&self) -> PathBuf {
        PathBuf::from("data")
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
        config: &crate::config::Config,
    ) -> anyhow::Result<Box<dyn World>> {
        config.retail.validate()?;
        let data = master.get::<master::MasterData>()?.clone();
        let weights = config.weights_for(self)?;
        let sale_weight = weights.get(usize::from(SALE)).copied().unwrap_or(0.0);
        if let Some(plausible) = capacity::plausible_rate(&data, &config.retail, sale_weight) {
            let requested = capacity::requested_rate(config, config.time_range(self)?);
            if let Some(warning) = capacity::warning(&data, requested, plausible) {
                tracing::warn!("Retail pace: {warning}.");
            }
        }
        let mut world = world::RetailWorld::new(data, config.retail.clone())?;
        world.set_weights(&weights);
        Ok(Box::new(world))
    }
}
