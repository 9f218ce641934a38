//! Retail master data: stores, products and customers, their checks, and their generation with
//! `fake` for `kafka-gen master`.

use std::path::Path;

use chrono::NaiveDate;
use fake::faker::address::en::CityName;
use fake::faker::internet::en::FreeEmailProvider;
use fake::faker::name::en::{FirstName, LastName};
use fake::Fake;
use rand::seq::IndexedRandom;
use rand::RngExt;
use serde::{Deserialize, Serialize};

use super::hours;
use crate::master::{self, MasterRecord};
use crate::scenario::util::{date, pick, round_to, ymd};
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

/// A latitude or longitude range.
type Span = (f64, f64);

/// Regions with rough bounding boxes (lat, lon) inside the continental US.
const REGIONS: &[(&str, Span, Span)] = &[
    ("Northeast", (39.5, 45.0), (-80.0, -70.0)),
    ("Southeast", (25.5, 36.5), (-90.0, -76.0)),
    ("Midwest", (37.0, 48.0), (-104.0, -82.0)),
    ("Southwest", (29.0, 37.0), (-114.0, -94.0)),
    ("West", (34.0, 48.5), (-124.0, -110.0)),
];

const STORE_SUFFIXES: &[&str] = &[
    "Downtown", "Plaza", "Mall", "Center", "Crossing", "Market", "Outlet",
];

fn gen_store(rng: &mut SimRng, i: usize) -> Store {
    let city: String = CityName().fake_with_rng(rng);
    let &(region, lat, lon) = REGIONS.choose(rng).unwrap_or(&REGIONS[0]);
    let suffix = STORE_SUFFIXES.choose(rng).copied().unwrap_or("Store");
    let mut store = Store {
        store_id: format!("ST-{:03}", i + 1),
        name: format!("{city} {suffix}"),
        city,
        region: region.to_string(),
        latitude: round_to(rng.random_range(lat.0..lat.1), 4),
        longitude: round_to(rng.random_range(lon.0..lon.1), 4),
        opened_on: date(rng, ymd(1998, 1, 1), ymd(2024, 12, 31)),
        size_sqm: rng.random_range(8..=120) * 50,
        timezone: None,
        opening_hours: None,
    };
    store.timezone = Some(
        hours::default_zone(store.latitude, store.longitude)
            .name()
            .into(),
    );
    store.opening_hours = Some(pick(rng, &STORE_HOURS).into());
    store
}

/// Opening hours of generated stores: most keep the default, some open longer, a few keep
/// shorter weekend hours.
const STORE_HOURS: [(&str, u32); 3] = [
    (hours::DEFAULT_HOURS, 70),
    ("Mo-Sa 07:00-23:00; Su 09:00-21:00", 20),
    ("Mo-Fr 09:00-21:00; Sa 09:00-20:00; Su 11:00-17:00", 10),
];

/// Categories with their product nouns and list-price ranges.
const CATEGORIES: &[(&str, &[&str], (f64, f64))] = &[
    (
        "Grocery",
        &[
            "Coffee Beans",
            "Olive Oil",
            "Pasta",
            "Granola",
            "Tea",
            "Honey",
            "Rice",
        ],
        (1.5, 25.0),
    ),
    (
        "Electronics",
        &[
            "Headphones",
            "Charger",
            "Speaker",
            "Keyboard",
            "Mouse",
            "Webcam",
        ],
        (15.0, 400.0),
    ),
    (
        "Apparel",
        &["T-Shirt", "Jeans", "Jacket", "Sneakers", "Hoodie", "Socks"],
        (8.0, 150.0),
    ),
    (
        "Home & Garden",
        &["Lamp", "Planter", "Towel Set", "Cookware", "Candle", "Rug"],
        (6.0, 200.0),
    ),
    (
        "Beauty",
        &["Shampoo", "Face Cream", "Lip Balm", "Perfume", "Sunscreen"],
        (3.0, 90.0),
    ),
    (
        "Toys",
        &["Puzzle", "Building Set", "Board Game", "Plush Bear", "Kite"],
        (5.0, 80.0),
    ),
    (
        "Sports",
        &[
            "Yoga Mat",
            "Water Bottle",
            "Dumbbells",
            "Tennis Balls",
            "Bike Light",
        ],
        (6.0, 120.0),
    ),
];

const ADJECTIVES: &[&str] = &[
    "Classic", "Premium", "Organic", "Everyday", "Deluxe", "Compact", "Eco", "Pro",
];

/// A price ending in .99, the way shelves price things.
fn shelf_price(raw: f64) -> f64 {
    (raw.floor() + 0.99).max(0.99)
}

fn gen_product(rng: &mut SimRng, i: usize) -> Product {
    let &(category, nouns, (lo, hi)) = CATEGORIES.choose(rng).unwrap_or(&CATEGORIES[0]);
    let brand: String = LastName().fake_with_rng(rng);
    let noun = nouns.choose(rng).copied().unwrap_or("Item");
    let adjective = ADJECTIVES.choose(rng).copied().unwrap_or("Classic");
    // Log-uniform: most products are cheap, a few are expensive.
    let base_price = shelf_price((rng.random_range(lo.ln()..hi.ln())).exp());
    let unit_cost = round_to(base_price * rng.random_range(0.35..0.7), 2);
    // A restock fills a shelf 20-40 units above its reorder point. With the default weights a
    // primary event sells ~2.2 units and 5% of them are restock alerts, so a shelf refilled from
    // empty (~55 units on average) restocks more than is sold, and one refilled at its reorder
    // point (~30) less: replenishment can hold availability at its target either way (issue 12;
    // see `world/shelves.rs`).
    let reorder_point = rng.random_range(10..=40);
    let max_stock = reorder_point + rng.random_range(20..=40);
    // As on a real shelf: about 5% of products start out of stock, 10% at or below their
    // reorder point, the rest above it.
    let initial_stock = match rng.random_range(0..100) {
        0..5 => 0,
        5..15 => rng.random_range(1..=reorder_point),
        _ => rng.random_range(reorder_point + 1..=max_stock),
    };
    Product {
        sku: format!("SKU-{:05}", i + 1),
        name: format!("{brand} {adjective} {noun}"),
        category: category.to_string(),
        brand,
        base_price,
        unit_cost,
        reorder_point,
        max_stock,
        initial_stock,
    }
}

fn gen_customer(rng: &mut SimRng, i: usize, stores: &[Store]) -> Customer {
    let first: String = FirstName().fake_with_rng(rng);
    let last: String = LastName().fake_with_rng(rng);
    let provider: String = FreeEmailProvider().fake_with_rng(rng);
    let local: String = format!("{first}.{last}{}", i + 1)
        .to_ascii_lowercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '.')
        .collect();
    let tier = match rng.random_range(0..100) {
        0..50 => LoyaltyTier::Bronze,
        50..80 => LoyaltyTier::Silver,
        80..95 => LoyaltyTier::Gold,
        _ => LoyaltyTier::Platinum,
    };
    let home = stores.choose(rng);
    let earliest = home.map_or(ymd(2015, 1, 1), |s| s.opened_on.max(ymd(2015, 1, 1)));
    Customer {
        customer_id: format!("C-{:06}", i + 1),
        name: format!("{first} {last}"),
        email: format!("{local}@{provider}"),
        loyalty_tier: tier,
        home_store_id: home.map(|s| s.store_id.clone()).unwrap_or_default(),
        signup_date: date(rng, earliest, ymd(2025, 12, 31)),
    }
}

#[cfg(test)]
mod tests {
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
