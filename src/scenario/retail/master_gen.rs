//! Made-up retail master data for `kafka-gen master`: stores in US regions with their opening
//! hours, products with shelf prices and stock levels, customers with a home store. `fake`
//! supplies the names; the same seed gives the same records.

use fake::faker::address::en::CityName;
use fake::faker::internet::en::FreeEmailProvider;
use fake::faker::name::en::{FirstName, LastName};
use fake::Fake;
use rand::seq::IndexedRandom;
use rand::RngExt;

use super::hours;
use super::master::{Customer, LoyaltyTier, Product, Store};
use crate::scenario::util::{date, pick, round_to, ymd};
use crate::SimRng;

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

pub(super) fn gen_store(rng: &mut SimRng, i: usize) -> Store {
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

pub(super) fn gen_product(rng: &mut SimRng, i: usize) -> Product {
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

pub(super) fn gen_customer(rng: &mut SimRng, i: usize, stores: &[Store]) -> Customer {
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
