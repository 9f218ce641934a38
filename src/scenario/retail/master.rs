//! Retail master data: stores, products and customers, their checks, loading and writing.
//! Their generation for `kafka-gen master` is in `master_gen`.

use std::path::Path;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::master_gen::{gen_customer, gen_product, gen_store};
use crate::master::{self, MasterRecord};
use crate::SimRng;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Store {
    pub store_id: String,
    pub name: String,
    pub city: String,
    pub region: String,
    pub latitude: f64,
    pub longitude: f64,
    pub opened_on: NaiveDate,
    /// Sales floor in square metres; larger stores see more sales.
    pub size_sqm: u32,
    /// IANA time zone of `opened_on` and `opening_hours`; unset: from the coordinates (see
    /// `hours.rs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// Local opening hours, e.g. `"Mo-Sa 08:00-22:00; Su 10:00-18:00"` (the default when
    /// unset); in-store sales happen only then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opening_hours: Option<String>,
}

impl Store {
    /// The store's compiled calendar; [`MasterRecord::check`] has vetted its fields.
    pub fn calendar(&self) -> Result<super::hours::Calendar, String> {
        let tz = match &self.timezone {
            Some(name) => name.parse().map_err(|_| {
                format!(
                    "timezone {name:?} is unknown; use an IANA name such as \"America/Chicago\""
                )
            })?,
            None => super::hours::default_zone(self.latitude, self.longitude),
        };
        let hours = self
            .opening_hours
            .as_deref()
            .unwrap_or(super::hours::DEFAULT_HOURS);
        let week = super::hours::Week::parse(hours)?;
        Ok(super::hours::Calendar::new(tz, week, self.opened_on))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Product {
    pub sku: String,
    pub name: String,
    pub category: String,
    pub brand: String,
    /// List price in the chain's currency; price changes move around it.
    pub base_price: f64,
    pub unit_cost: f64,
    /// At or below this stock a (store, sku) may raise a restock alert.
    pub reorder_point: u32,
    /// A restock order fills a store up to this level.
    pub max_stock: u32,
    /// Stock every store holds of this product when the simulation starts.
    pub initial_stock: u32,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LoyaltyTier {
    Bronze,
    Silver,
    Gold,
    Platinum,
}

impl LoyaltyTier {
    pub const ALL: [LoyaltyTier; 4] = [Self::Bronze, Self::Silver, Self::Gold, Self::Platinum];
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Customer {
    pub customer_id: String,
    pub name: String,
    pub email: String,
    pub loyalty_tier: LoyaltyTier,
    pub home_store_id: String,
    pub signup_date: NaiveDate,
}

/// Highest price or cost a product may have. Sales multiply it by up to 20 lines of 4 units and
/// keep cents in an `i64`, and readers of the JSON keep them exact only below 2^53 cents.
pub const MAX_PRICE: f64 = 1e9;
/// Highest stock level; stock is a `u32` that returns may still push a little higher.
pub const MAX_STOCK: u32 = 1_000_000_000;
/// Largest sales floor in square metres; store sizes weigh the draw of a sale's store.
pub const MAX_SIZE_SQM: u32 = 1_000_000;

fn check_money(field: &str, value: f64, min: f64) -> Result<(), String> {
    let unit = "in the chain's currency";
    crate::bounds::check(value, (min, MAX_PRICE), field, unit, "fix the master data")
        .map_err(|e| e.to_string())
}

fn check_count(field: &str, value: u32, (min, max): (u32, u32)) -> Result<(), String> {
    let (min, max) = (i128::from(min), i128::from(max));
    crate::bounds::check_whole(value, (min, max), field, "", "fix the master data")
        .map_err(|e| e.to_string())
}

impl MasterRecord for Store {
    const KIND: &'static str = "stores";
    fn id(&self) -> &str {
        &self.store_id
    }
    fn check(&self) -> Result<(), String> {
        if !(-90.0..=90.0).contains(&self.latitude) || !(-180.0..=180.0).contains(&self.longitude) {
            return Err(format!(
                "latitude/longitude {}/{} is not on Earth",
                self.latitude, self.longitude
            ));
        }
        check_count("size_sqm", self.size_sqm, (1, MAX_SIZE_SQM))?;
        self.calendar().map(|_| ())
    }
}

impl MasterRecord for Product {
    const KIND: &'static str = "products";
    fn id(&self) -> &str {
        &self.sku
    }
    fn check(&self) -> Result<(), String> {
        check_money("base_price", self.base_price, 0.01)?;
        check_money("unit_cost", self.unit_cost, 0.0)?;
        check_count("max_stock", self.max_stock, (1, MAX_STOCK))?;
        if self.max_stock <= self.reorder_point {
            return Err(format!(
                "max_stock {} is not above reorder_point {}; a restock must lift stock above the reorder point",
                self.max_stock, self.reorder_point
            ));
        }
        if self.initial_stock > self.max_stock {
            return Err(format!(
                "initial_stock {} is above max_stock {}",
                self.initial_stock, self.max_stock
            ));
        }
        Ok(())
    }
}

impl MasterRecord for Customer {
    const KIND: &'static str = "customers";
    fn id(&self) -> &str {
        &self.customer_id
    }
    fn check(&self) -> Result<(), String> {
        if !self.email.contains('@') {
            return Err(format!("email {:?} has no '@'", self.email));
        }
        Ok(())
    }
}

/// The whole retail master data set.
#[derive(Debug, Clone)]
pub struct MasterData {
    pub stores: Vec<Store>,
    pub products: Vec<Product>,
    pub customers: Vec<Customer>,
}

impl MasterData {
    /// Loads and cross-checks the three files in `dir`.
    pub fn load(dir: &Path) -> anyhow::Result<Self> {
        let stores: Vec<Store> = master::load(dir)?;
        let products: Vec<Product> = master::load(dir)?;
        let customers: Vec<Customer> = master::load(dir)?;
        let store_ids: std::collections::HashSet<&str> =
            stores.iter().map(|s| s.store_id.as_str()).collect();
        if let Some((i, c)) = customers
            .iter()
            .enumerate()
            .find(|(_, c)| !store_ids.contains(c.home_store_id.as_str()))
        {
            let (path, _) = master::locate::<Customer>(dir)?;
            anyhow::bail!(
                "{}: record {} (id {:?}): home_store_id {:?} is not a store in the stores file",
                path.display(),
                i + 1,
                c.customer_id,
                c.home_store_id
            );
        }
        Ok(Self {
            stores,
            products,
            customers,
        })
    }

    /// Writes the three files to `dir` in `format`.
    pub fn write(
        &self,
        dir: &Path,
        format: master::Format,
    ) -> anyhow::Result<Vec<std::path::PathBuf>> {
        Ok(vec![
            master::write(dir, &self.stores, format)?,
            master::write(dir, &self.products, format)?,
            master::write(dir, &self.customers, format)?,
        ])
    }

    /// Generates a data set; the same sizes and seed give the same records.
    pub fn generate(rng: &mut SimRng, stores: usize, products: usize, customers: usize) -> Self {
        let stores: Vec<Store> = (0..stores).map(|i| gen_store(rng, i)).collect();
        let products = (0..products).map(|i| gen_product(rng, i)).collect();
        let customers = (0..customers)
            .map(|i| gen_customer(rng, i, &stores))
            .collect();
        Self {
            stores,
            products,
            customers,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::hours;
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn generated_data_passes_its_own_checks_and_round_trips() {
        let mut rng = SimRng::seed_from_u64(9);
        let data = MasterData::generate(&mut rng, 5, 40, 100);
        for format in [master::Format::Json, master::Format::Csv] {
            let dir = tempfile::tempdir().unwrap();
            data.write(dir.path(), format).unwrap();
            let back = MasterData::load(dir.path()).unwrap();
            assert_eq!(back.stores, data.stores);
            assert_eq!(back.products, data.products);
            assert_eq!(back.customers, data.customers);
        }
    }

    /// Stores written before issue 12 have no `timezone` or `opening_hours`: they load, in
    /// JSON and CSV, with the zone of their longitude and the default hours; bad ones are named.
    #[test]
    fn stores_without_hours_load_with_the_defaults() {
        let mut rng = SimRng::seed_from_u64(9);
        let mut data = MasterData::generate(&mut rng, 2, 3, 4);
        for s in &mut data.stores {
            (s.timezone, s.opening_hours) = (None, None);
        }
        for format in [master::Format::Json, master::Format::Csv] {
            let dir = tempfile::tempdir().unwrap();
            data.write(dir.path(), format).unwrap();
            let text = std::fs::read_to_string(dir.path().join(match format {
                master::Format::Json => "stores.json",
                master::Format::Csv => "stores.csv",
            }))
            .unwrap();
            assert!(!text.contains("opening_hours"), "{text}");
            let back = MasterData::load(dir.path()).unwrap();
            let cal = back.stores[0].calendar().unwrap();
            let zone = hours::default_zone(back.stores[0].latitude, back.stores[0].longitude);
            assert_eq!(
                (cal.tz, cal.week),
                (zone, hours::Week::parse(hours::DEFAULT_HOURS).unwrap())
            );
        }
        data.stores[1].opening_hours = Some("Mo-Su 22:00-06:00".into());
        let dir = tempfile::tempdir().unwrap();
        data.write(dir.path(), master::Format::Json).unwrap();
        let e = format!("{:#}", MasterData::load(dir.path()).unwrap_err());
        assert!(e.contains("record 2") && e.contains("22:00-06:00"), "{e}");
    }

    #[test]
    fn unknown_home_store_is_named() {
        let mut rng = SimRng::seed_from_u64(9);
        let mut data = MasterData::generate(&mut rng, 2, 3, 4);
        data.customers[2].home_store_id = "ST-999".into();
        let dir = tempfile::tempdir().unwrap();
        data.write(dir.path(), master::Format::Json).unwrap();
        let e = format!("{:#}", MasterData::load(dir.path()).unwrap_err());
        assert!(e.contains("record 3") && e.contains("\"ST-999\""), "{e}");
    }

    #[test]
    fn negative_price_is_named() {
        let mut rng = SimRng::seed_from_u64(1);
        let mut data = MasterData::generate(&mut rng, 2, 3, 4);
        data.products[1].base_price = -2.5;
        let dir = tempfile::tempdir().unwrap();
        data.write(dir.path(), master::Format::Csv).unwrap();
        let e = format!("{:#}", MasterData::load(dir.path()).unwrap_err());
        assert!(
            e.contains("products.csv: record 2 (id \"SKU-00002\"): base_price is -2.5"),
            "{e}"
        );
    }
}
