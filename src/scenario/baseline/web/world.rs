//! The web world: `--users` simulated users, each idle or in one session. A primary draw
//! starts a session for an idle user and plans its whole journey (pages, clicks, links,
//! closes, the end) at human-like times; those events fall due over the following minutes and
//! the user is idle again once the session has ended.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use rand::distr::weighted::WeightedIndex;
use rand::distr::Distribution;
use rand::RngExt;
use serde::Serialize;
use uuid::Uuid;

use super::master::MasterData;
use super::*;
use crate::event::EventWriter;
use crate::scenario::util::{envelope, pick, uuid};
use crate::scenario::{EventTypeId, World};
use crate::SimRng;

/// Fields of every web event; those a type does not use are left out.
#[derive(Serialize, Default)]
pub struct WebEvent<'a> {
    pub session_id: Uuid,
    pub user_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub journey: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_type: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub referrer: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_view_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_url: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub button_id: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_page_id: Option<&'a str>,
    /// page_closed: time on the page; session_ended: first visit to last close.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pages_viewed: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clicks: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    Visit {
        page: u32,
        view: Uuid,
    },
    Click {
        page: u32,
        view: Uuid,
        button: u8,
    },
    Link {
        page: u32,
        view: Uuid,
        target: u32,
    },
    Close {
        page: u32,
        view: Uuid,
        dwell_ms: i64,
    },
    End {
        pages: u32,
        clicks: u32,
        duration_ms: i64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Pending {
    time_ms: i64,
    seq: u64,
    user: u32,
    step: Step,
}

#[derive(Debug, Clone, Copy)]
struct Active {
    session: Uuid,
    created: Uuid,
}

pub struct WebWorld {
    data: MasterData,
    cfg: WebConfig,
    journeys: WeightedIndex<u32>,
    by_type: HashMap<&'static str, Vec<u32>>,
    active: Vec<Option<Active>>,
    /// Users not in a session: when none is, no session can start until one ends.
    idle: usize,
    pending: BinaryHeap<Reverse<Pending>>,
    seq: u64,
}

impl WebWorld {
    pub fn new(data: MasterData, cfg: WebConfig, users: u32) -> anyhow::Result<Self> {
        let journeys = WeightedIndex::new(cfg.journey_shares().iter().map(|s| s.1))?;
        let mut by_type: HashMap<&'static str, Vec<u32>> = HashMap::new();
        for (i, p) in data.pages.iter().enumerate() {
            if let Some(t) = PAGE_TYPES.iter().find(|t| **t == p.page_type) {
                by_type.entry(t).or_default().push(i as u32);
            }
        }
        let n = (users as usize).min(data.users.len()).max(1);
        Ok(Self {
            active: vec![None; n],
            idle: n,
            journeys,
            by_type,
            pending: BinaryHeap::new(),
            seq: 0,
            data,
            cfg,
        })
    }

    fn page_of(&self, rng: &mut SimRng, page_type: &str) -> u32 {
        match self.by_type.get(page_type) {
            Some(pages) => pages[rng.random_range(0..pages.len())],
            None => rng.random_range(0..self.data.pages.len()) as u32,
        }
    }

    /// Time on each page, in ms, so that the pages and the whole session keep their bounds.
    fn dwell_times(&self, rng: &mut SimRng) -> Vec<i64> {
        let c = &self.cfg;
        let (lo, hi) = (
            i64::from(c.page_secs_min) * 1000,
            i64::from(c.page_secs_max) * 1000,
        );
        let (smin, smax) = (
            i64::from(c.session_secs_min) * 1000,
            i64::from(c.session_secs_max) * 1000,
        );
        for _ in 0..64 {
            let k = rng.random_range(c.pages_min..=c.pages_max);
            let dwell: Vec<i64> = (0..k).map(|_| rng.random_range(lo..=hi)).collect();
            if (smin..=smax).contains(&dwell.iter().sum()) {
                return dwell;
            }
        }
        // Rarely reached: the fewest pages that can fill the shortest session, evenly.
        let k = (c.pages_min..=c.pages_max)
            .find(|k| i64::from(*k) * hi >= smin)
            .unwrap_or(c.pages_max);
        vec![((smin + i64::from(k) - 1) / i64::from(k)).clamp(lo, hi); k as usize]
    }

    fn push(&mut self, time_ms: i64, user: u32, step: Step) {
        self.seq += 1;
        self.pending.push(Reverse(Pending {
            time_ms,
            seq: self.seq,
            user,
            step,
        }));
    }

    fn start(&mut self, rng: &mut SimRng, now_ms: i64, out: &mut EventWriter<'_>) -> bool {
        if self.idle == 0 {
            return false;
        }
        let n = self.active.len();
        let from = rng.random_range(0..n);
        let Some(user) = (0..n)
            .map(|i| (from + i) % n)
            .find(|&u| self.active[u].is_none())
        else {
            return false;
        };
        let journey = &JOURNEYS[self.journeys.sample(rng)];
        let dwell = self.dwell_times(rng);
        let k = dwell.len();
        let pages: Vec<u32> = (0..k)
            .map(|i| {
                let p = journey.pages;
                let t = match i {
                    0 if journey.name != "random" => p[0],
                    _ if i + 1 == k && journey.name != "random" => p[p.len() - 1],
                    _ if journey.name == "random" => p[rng.random_range(0..p.len())],
                    _ => p[rng.random_range(1..p.len().max(2) - 1).min(p.len() - 1)],
                };
                self.page_of(rng, t)
            })
            .collect();
        let u = &self.data.users[user];
        let device = match rng.random_bool(0.8) {
            true => u.device_preference.as_str(),
            false => DEVICES[rng.random_range(0..DEVICES.len())],
        };
        let session = uuid(rng);
        let event = WebEvent {
            session_id: session,
            user_id: &u.user_id,
            journey: Some(journey.name),
            device_type: Some(device),
            referrer: Some(pick(
                rng,
                &[
                    ("direct", 40),
                    ("search", 35),
                    ("social", 15),
                    ("email", 10),
                ],
            )),
            ..Default::default()
        };
        let env = envelope(TYPES, SESSION_CREATED, now_ms, None, event.user_id);
        let created = out.emit(rng, env, &event);
        self.active[user] = Some(Active { session, created });
        self.idle -= 1;

        let (user, mut t, mut clicks) = (user as u32, now_ms, 0);
        for (i, (&page, &dwell)) in pages.iter().zip(&dwell).enumerate() {
            let view = uuid(rng);
            self.push(t, user, Step::Visit { page, view });
            let mut at: Vec<i64> = (0..rng.random_range(0..=self.cfg.clicks_max))
                .map(|_| t + rng.random_range(1..dwell))
                .collect();
            at.sort_unstable();
            let page_type = self.data.pages[page as usize].page_type.as_str();
            let button_count = buttons(page_type).len() as u8;
            for time in at {
                clicks += 1;
                let button = rng.random_range(0..button_count);
                self.push(time, user, Step::Click { page, view, button });
            }
            t += dwell;
            if let Some(&target) = pages.get(i + 1) {
                self.push(t, user, Step::Link { page, view, target });
            }
            self.push(
                t,
                user,
                Step::Close {
                    page,
                    view,
                    dwell_ms: dwell,
                },
            );
        }
        let duration_ms = t - now_ms;
        self.push(
            t,
            user,
            Step::End {
                pages: k as u32,
                clicks,
                duration_ms,
            },
        );
        true
    }

    fn emit<'a>(&'a mut self, rng: &mut SimRng, p: Pending, out: &mut EventWriter<'_>) {
        let Some(active) = self.active[p.user as usize] else {
            return;
        };
        let user = &self.data.users[p.user as usize];
        let mut event = WebEvent {
            session_id: active.session,
            user_id: &user.user_id,
            ..Default::default()
        };
        let pages = &self.data.pages;
        let page = |e: &mut WebEvent<'a>, page: u32, view: Uuid| {
            let pg = &pages[page as usize];
            e.page_id = Some(&pg.page_id);
            e.page_url = Some(&pg.url);
            e.page_view_id = Some(view);
        };
        let ty = match p.step {
            Step::Visit { page: pg, view } => {
                page(&mut event, pg, view);
                PAGE_VISITED
            }
            Step::Click {
                page: pg,
                view,
                button,
            } => {
                page(&mut event, pg, view);
                let kind = self.data.pages[pg as usize].page_type.as_str();
                event.button_id = buttons(kind).get(usize::from(button)).copied();
                BUTTON_CLICKED
            }
            Step::Link {
                page: pg,
                view,
                target,
            } => {
                page(&mut event, pg, view);
                event.target_page_id = Some(&self.data.pages[target as usize].page_id);
                LINK_CLICK
            }
            Step::Close {
                page: pg,
                view,
                dwell_ms,
            } => {
                page(&mut event, pg, view);
                event.duration_ms = Some(dwell_ms);
                PAGE_CLOSED
            }
            Step::End {
                pages,
                clicks,
                duration_ms,
            } => {
                event.pages_viewed = Some(pages);
                event.clicks = Some(clicks);
                event.duration_ms = Some(duration_ms);
                SESSION_ENDED
            }
        };
        let env = envelope(TYPES, ty, p.time_ms, Some(active.created), event.user_id);
        out.emit(rng, env, &event);
        if ty == SESSION_ENDED {
            self.active[p.user as usize] = None;
            self.idle += 1;
        }
    }
}

impl World for WebWorld {
    fn primary(
        &mut self,
        rng: &mut SimRng,
        event_type: EventTypeId,
        now_ms: i64,
        out: &mut EventWriter<'_>,
    ) -> bool {
        event_type == SESSION_CREATED && self.start(rng, now_ms, out)
    }

    fn has_scheduled(&self) -> bool {
        !self.pending.is_empty()
    }

    fn due(&mut self, rng: &mut SimRng, now_ms: i64, out: &mut EventWriter<'_>) {
        while let Some(Reverse(p)) = self.pending.peek().copied() {
            if p.time_ms > now_ms {
                break;
            }
            self.pending.pop();
            self.emit(rng, p, out);
        }
    }

    /// With every user in a session, nothing can start before the next planned step (the
    /// earliest session end is among them).
    fn ready_at(&self) -> Option<i64> {
        if self.idle > 0 {
            return None;
        }
        self.pending.peek().map(|Reverse(p)| p.time_ms)
    }
}
