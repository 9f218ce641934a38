//! The default world: a retail chain with stores, products and customers.
//!
//! - `master`: the master-data records, their checks, loading and writing; `master_gen` makes
//!   them up.
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
mod master_gen;
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

/// The source document's names of the event types (its `event_distribution`), accepted in
/// `--weights` and `[weights]`; `price_change` is the same in both.
pub static WEIGHT_ALIASES: &[(&str, &str)] = &[
    ("sales", "sale"),
    ("inventory", "inventory_update"),
    ("customer", "customer_event"),
    ("restock", "restock_alert"),
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
                crate::bounds::Num(self.popularity_skew).to_string(),
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
        let year = (0.0, crate::bounds::MAX_DELTA_SECS);
        let fix = "config file [retail]";
        crate::bounds::check(lo, year, "retail.restock_lead_min_secs", "seconds", fix)?;
        crate::bounds::check(hi, year, "retail.restock_lead_max_secs", "seconds", fix)?;
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

    fn weight_aliases(&self) -> &'static [(&'static str, &'static str)] {
        WEIGHT_ALIASES
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
        section: &crate::scenario::WorldSection,
    ) -> anyhow::Result<Box<dyn World>> {
        section.retail.validate()?;
        let data = master.get::<master::MasterData>()?.clone();
        let weights = &section.weights;
        let sale_weight = weights.get(usize::from(SALE)).copied().unwrap_or(0.0);
        if let Some(plausible) = capacity::plausible_rate(&data, &section.retail, sale_weight) {
            if let Some(warning) = capacity::warning(&data, section.requested_rate, plausible) {
                tracing::warn!("Retail pace: {warning}.");
            }
        }
        let mut world = world::RetailWorld::new(data, section.retail.clone())?;
        world.set_weights(weights);
        Ok(Box::new(world))
    }
}

#[cfg(test)]
mod tests {
    use crate::cli::RunArgs;
    use crate::config::resolve_with_env;

    /// The effective weights of a run with `file` as its config file, `env` and `--weights`.
    fn weights(file: &str, env: &[(&str, &str)], flag: Option<&str>) -> anyhow::Result<Vec<f64>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("c.toml");
        std::fs::write(&path, file)?;
        let args = RunArgs {
            config: crate::cli::ConfigArgs {
                config: Some(path),
                ..Default::default()
            },
            weights: flag.map(String::from),
            ..Default::default()
        };
        let vars = env.iter().map(|(k, v)| (k.to_string(), v.to_string()));
        let config = resolve_with_env(&args, vars)?;
        config.weights_for(&super::Retail)
    }

    #[test]
    fn the_documents_type_names_are_weight_aliases() {
        // sale, inventory_update, customer_event, price_change, restock_alert.
        let doc = "sales=1,inventory=2,customer=3,price_change=4,restock=0";
        let w = weights("", &[], Some(doc)).unwrap();
        assert_eq!(w, [0.1, 0.2, 0.3, 0.4, 0.0]);
        let w = weights("[weights]\nsales = 2\nrestock = 2\n", &[], None).unwrap();
        assert_eq!(w[0] / w[4], 1.0, "{w:?}");
        let w = weights("", &[("KAFKA_GEN_WEIGHTS", "sales=0")], None).unwrap();
        assert_eq!(w[0], 0.0);
    }

    #[test]
    fn a_later_source_replaces_a_type_under_either_name() {
        // The file says sale, the flag says sales: the flag wins, no clash.
        let w = weights("[weights]\nsale = 5\n", &[], Some("sales=0")).unwrap();
        assert_eq!(w[0], 0.0, "{w:?}");
        let w = weights(
            "[weights]\nrestock = 5\n",
            &[("KAFKA_GEN_WEIGHTS", "restock_alert=0")],
            None,
        );
        assert_eq!(w.unwrap()[4], 0.0);
    }

    #[test]
    fn naming_a_type_twice_in_one_place_is_an_error_naming_both() {
        for (file, flag) in [
            ("", Some("sale=1,sales=2")),
            ("[weights]\ninventory = 1\ninventory_update = 1\n", None),
        ] {
            let e = weights(file, &[], flag).unwrap_err().to_string();
            assert!(e.contains("twice") && e.contains("give only one"), "{e}");
        }
        let e = weights("", &[], Some("sales=1,sale=2"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("\"sale\"") && e.contains("\"sales\""), "{e}");
    }
}
