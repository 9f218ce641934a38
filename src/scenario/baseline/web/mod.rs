//! Web sessions and journeys: users and the site's pages; `--users N` simulated users
//! (100 by default) each running sessions one after another, a session being created, then
//! pages visited with clicks, links and closes, then ended.
//!
//! `session_created` is the one primary type: the rate paces session starts, and the rest of
//! a session's journey is planned at its start and falls due over the following minutes.
//!
//! - `master`: users, pages and their generation.
//! - `world`: the simulated users and their planned journeys.
//! - `contract`: the rules a consumer may rely on.

pub mod contract;
pub mod master;
pub mod world;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::scenario::util::Check;
use crate::scenario::{ContractChecker, EventTypeId, EventTypeSpec, MasterKind, Scenario, World};
use crate::SimRng;

pub const SESSION_CREATED: EventTypeId = 0;
pub const PAGE_VISITED: EventTypeId = 1;
pub const BUTTON_CLICKED: EventTypeId = 2;
pub const LINK_CLICK: EventTypeId = 3;
pub const PAGE_CLOSED: EventTypeId = 4;
pub const SESSION_ENDED: EventTypeId = 5;

const fn web(name: &'static str, weight: f64) -> EventTypeSpec {
    EventTypeSpec {
        name,
        default_weight: weight,
        default_topic: "web-sessions",
        key_field: "user_id",
    }
}

/// All in one topic keyed by user, so a consumer sees each session in order.
pub static TYPES: &[EventTypeSpec] = &[
    web("session_created", 1.0),
    web("page_visited", 0.0),
    web("button_clicked", 0.0),
    web("link_click", 0.0),
    web("page_closed", 0.0),
    web("session_ended", 0.0),
];

pub const DEVICES: &[&str] = &["desktop", "mobile", "tablet"];

pub const PAGE_TYPES: &[&str] = &[
    "home",
    "products",
    "product_detail",
    "cart",
    "checkout",
    "blog",
    "article",
    "signup",
    "contact",
    "about",
    "search",
];

/// A journey: its name, default share, the page types it walks through (the first opens the
/// session, the last is its goal) and the buttons clicked on each page type.
pub struct Journey {
    pub name: &'static str,
    pub share: u32,
    pub pages: &'static [&'static str],
}

pub const JOURNEYS: &[Journey] = &[
    Journey {
        name: "shopping",
        share: 30,
        pages: &["home", "products", "product_detail", "cart"],
    },
    Journey {
        name: "content",
        share: 20,
        pages: &["home", "blog", "article"],
    },
    Journey {
        name: "signup",
        share: 25,
        pages: &["home", "about", "signup"],
    },
    Journey {
        name: "contact",
        share: 15,
        pages: &["home", "about", "contact"],
    },
    Journey {
        name: "random",
        share: 10,
        pages: PAGE_TYPES,
    },
];

/// Buttons by page type.
pub fn buttons(page_type: &str) -> &'static [&'static str] {
    match page_type {
        "product_detail" => &["add_to_cart", "add_to_wishlist", "image_zoom"],
        "cart" => &["checkout_btn", "update_quantity"],
        "signup" => &["signup_submit", "show_password"],
        "contact" => &["contact_submit"],
        "article" | "blog" => &["share", "like", "subscribe"],
        _ => &["cta", "menu", "search_btn"],
    }
}

/// Simulated users when `--users` is not given.
pub const DEFAULT_USERS: u32 = 100;

/// Tuning of the web world (`[web]` in the config file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebConfig {
    /// Shortest session (first visit to last close), seconds.
    pub session_secs_min: u32,
    /// Longest session, seconds.
    pub session_secs_max: u32,
    /// Fewest pages in a session.
    pub pages_min: u32,
    /// Most pages in a session.
    pub pages_max: u32,
    /// Shortest time on a page, seconds.
    pub page_secs_min: u32,
    /// Longest time on a page, seconds.
    pub page_secs_max: u32,
    /// Most button clicks on one page.
    pub clicks_max: u32,
    /// Shares of the journeys by name (shopping, content, signup, contact, random); unnamed
    /// ones keep their default.
    pub journeys: std::collections::BTreeMap<String, u32>,
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            session_secs_min: 60,
            session_secs_max: 600,
            pages_min: 3,
            pages_max: 15,
            page_secs_min: 10,
            page_secs_max: 120,
            clicks_max: 8,
            journeys: Default::default(),
        }
    }
}

impl WebConfig {
    pub fn validate(&self) -> anyhow::Result<()> {
        let c = Check("web");
        let f = f64::from;
        c.span(
            "session_secs_min/max",
            f(self.session_secs_min),
            f(self.session_secs_max),
            1.0,
            86_400.0,
        )?;
        c.span(
            "pages_min/max",
            f(self.pages_min),
            f(self.pages_max),
            1.0,
            1000.0,
        )?;
        c.span(
            "page_secs_min/max",
            f(self.page_secs_min),
            f(self.page_secs_max),
            1.0,
            86_400.0,
        )?;
        c.range("clicks_max", f(self.clicks_max), 0.0, 100.0)?;
        // Some page count and page times must fit the session length.
        if self.pages_min * self.page_secs_min > self.session_secs_max
            || self.pages_max * self.page_secs_max < self.session_secs_min
        {
            anyhow::bail!("web: no session of {}-{} pages at {}-{} s a page lasts {}-{} s; widen one of the ranges (config file [web])",
                self.pages_min, self.pages_max, self.page_secs_min, self.page_secs_max, self.session_secs_min, self.session_secs_max);
        }
        for name in self.journeys.keys() {
            if !JOURNEYS.iter().any(|j| j.name == name) {
                anyhow::bail!("web.journeys names unknown journey {name:?}; known: shopping, content, signup, contact, random");
            }
        }
        if self.journey_shares().iter().all(|s| s.1 == 0) {
            anyhow::bail!("web.journeys shares are all zero; give one journey a share > 0");
        }
        Ok(())
    }

    /// Journey index and share.
    pub fn journey_shares(&self) -> Vec<(usize, u32)> {
        JOURNEYS
            .iter()
            .enumerate()
            .map(|(i, j)| (i, self.journeys.get(j.name).copied().unwrap_or(j.share)))
            .collect()
    }
}

pub struct Web;

impl Scenario for Web {
    fn name(&self) -> &'static str {
        "web"
    }

    fn description(&self) -> &'static str {
        "Web user sessions and journeys: pages, clicks and links from concurrent users"
    }

    fn event_types(&self) -> &'static [EventTypeSpec] {
        TYPES
    }

    fn master_kinds(&self) -> &'static [MasterKind] {
        &[
            MasterKind {
                name: "users",
                default_count: 5000,
                max_count: 10_000_000,
            },
            MasterKind {
                name: "pages",
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
        let [users, pages] = sizes else {
            anyhow::bail!("web master data takes 2 sizes, got {}", sizes.len());
        };
        master::MasterData::generate(rng, *users, *pages).write(dir, format)
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
        let users = DEFAULT_USERS;
        Ok(Box::new(world::WebWorld::new(
            data,
            WebConfig::default(),
            users,
        )?))
    }
}
