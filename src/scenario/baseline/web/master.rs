//! Web master data: users and the site's pages, their checks, and their generation.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use fake::faker::lorem::en::Word;
use fake::Fake;
use rand::seq::IndexedRandom;
use serde::{Deserialize, Serialize};

use super::{DEVICES, PAGE_TYPES};
use crate::master::{self, Format, MasterRecord};
use crate::scenario::util::{date, ymd};
use crate::SimRng;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct User {
    pub user_id: String,
    pub signup_date: NaiveDate,
    pub country: String,
    /// `desktop`, `mobile` or `tablet`; most sessions use it.
    pub device_preference: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Page {
    pub page_id: String,
    /// Path on the site, e.g. `/products/shoes`.
    pub url: String,
    /// One of `PAGE_TYPES`: `home`, `products`, `product_detail`, `cart`, ...
    pub page_type: String,
    pub title: String,
}

impl MasterRecord for User {
    const KIND: &'static str = "users";
    fn id(&self) -> &str {
        &self.user_id
    }
    fn check(&self) -> Result<(), String> {
        if !DEVICES.contains(&self.device_preference.as_str()) {
            return Err(format!(
                "device_preference {:?} is not one of {DEVICES:?}",
                self.device_preference
            ));
        }
        Ok(())
    }
}

impl MasterRecord for Page {
    const KIND: &'static str = "pages";
    fn id(&self) -> &str {
        &self.page_id
    }
    fn check(&self) -> Result<(), String> {
        if !PAGE_TYPES.contains(&self.page_type.as_str()) {
            return Err(format!(
                "page_type {:?} is not one of {PAGE_TYPES:?}",
                self.page_type
            ));
        }
        Ok(())
    }
}

#[derive(Debug, Clone)]
pub struct MasterData {
    pub users: Vec<User>,
    pub pages: Vec<Page>,
}

impl MasterData {
    pub fn load(dir: &Path) -> anyhow::Result<Self> {
        Ok(Self {
            users: master::load(dir)?,
            pages: master::load(dir)?,
        })
    }

    pub fn write(&self, dir: &Path, format: Format) -> anyhow::Result<Vec<PathBuf>> {
        Ok(vec![
            master::write(dir, &self.users, format)?,
            master::write(dir, &self.pages, format)?,
        ])
    }

    /// The first pages cover every page type once; the rest are product details, listings and
    /// articles.
    pub fn generate(rng: &mut SimRng, users: usize, pages: usize) -> Self {
        let users = (0..users)
            .map(|i| User {
                user_id: format!("WU-{:06}", i + 1),
                signup_date: date(rng, ymd(2018, 1, 1), ymd(2024, 12, 31)),
                country: ["US", "GB", "DE", "FR", "IN", "BR", "CA", "AU"]
                    .choose(rng)
                    .copied()
                    .unwrap_or("US")
                    .into(),
                device_preference: DEVICES.choose(rng).copied().unwrap_or("desktop").into(),
            })
            .collect();
        let pages = (0..pages)
            .map(|i| {
                let page_type = match PAGE_TYPES.get(i) {
                    Some(t) => *t,
                    None => ["product_detail", "product_detail", "products", "article"]
                        .choose(rng)
                        .copied()
                        .unwrap_or("article"),
                };
                let slug: String = Word().fake_with_rng(rng);
                let url = match page_type {
                    "home" => "/".to_string(),
                    "products" => format!("/products/{slug}-{i}"),
                    "product_detail" => format!("/p/{slug}-{i}"),
                    "article" => format!("/blog/{slug}-{i}"),
                    other => format!("/{other}"),
                };
                Page {
                    page_id: format!("PG-{:04}", i + 1),
                    title: format!("{page_type} {slug}"),
                    url,
                    page_type: page_type.into(),
                }
            })
            .collect();
        Self { users, pages }
    }
}
