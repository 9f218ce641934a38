//! The web data contract as checks over the stream:
//!
//! 1. Every `user_id`, `page_id` and `target_page_id` is in the master data; no `event_id`
//!    repeats; event times never decrease per user.
//! 2. A session starts with `session_created` and ends with `session_ended`; every other event
//!    of it lies between the two, carries `caused_by` = the `session_created` event, and
//!    nothing follows the end. A user has at most one open session.
//! 3. A page view opens with `page_visited` and closes with `page_closed`; a session has at
//!    most one open page; every `button_clicked` and `link_click` belongs to the open page; a
//!    `link_click`'s target is the next page visited; `page_closed.duration_ms` is the time
//!    since the visit.
//! 4. `session_ended` comes with no page open and counts the session's pages and clicks;
//!    its `duration_ms` is the time since `session_created`.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::master::MasterData;
use crate::scenario::util::{ids, time_ms, Ledger, RecentIds};
use crate::scenario::{ContractChecker, Violation};

#[derive(Default)]
struct Session {
    user: String,
    created_event: String,
    created_ms: i64,
    open_view: Option<(String, i64)>,
    next_page: Option<String>,
    pages: u64,
    clicks: u64,
}

pub struct Checker {
    ledger: Ledger,
    from_start: bool,
    users: HashSet<String>,
    pages: HashSet<String>,
    open: HashMap<String, Session>,
    /// Ended sessions, bounded by event time and count.
    ended: RecentIds,
    user_session: HashMap<String, String>,
}

impl Checker {
    pub fn new(data: &MasterData, from_start: bool) -> Self {
        Self {
            ledger: Ledger::default(),
            from_start,
            users: ids(&data.users, |u| &u.user_id),
            pages: ids(&data.pages, |p| &p.page_id),
            open: HashMap::new(),
            ended: RecentIds::default(),
            user_session: HashMap::new(),
        }
    }

    fn event(&mut self, id: &str, ty: &str, e: &Value) {
        let l = &mut self.ledger;
        let Some(user) = l.reference(id, e, "user_id", &self.users) else {
            return;
        };
        l.in_order(id, user, e);
        let session_id = e["session_id"].as_str().unwrap_or("").to_string();
        let now = time_ms(&e["event_time"]).unwrap_or(0);
        if ty == "session_created" {
            if self.open.contains_key(&session_id) || self.ended.contains(&session_id) {
                return l.fail(id, "session", format!("session {session_id} created twice"));
            }
            if let Some(other) = self.user_session.insert(user.into(), session_id.clone()) {
                if self.open.contains_key(&other) {
                    l.fail(
                        id,
                        "session",
                        format!("{user} opens {session_id} while {other} is open"),
                    );
                }
            }
            let s = Session {
                user: user.into(),
                created_event: id.into(),
                created_ms: now,
                ..Default::default()
            };
            self.open.insert(session_id, s);
            return;
        }
        if self.ended.contains(&session_id) {
            return l.fail(
                id,
                "session",
                format!("{ty} after session {session_id} ended"),
            );
        }
        let Some(s) = self.open.get_mut(&session_id) else {
            if self.from_start {
                l.fail(
                    id,
                    "session",
                    format!("{ty} for session {session_id} that was never created"),
                );
            }
            return;
        };
        if s.user != user || e["caused_by"] != s.created_event.as_str() {
            l.fail(
                id,
                "session",
                format!("{ty} has another user or cause than its session_created"),
            );
        }
        let view = e["page_view_id"].as_str().map(String::from);
        if ty != "session_ended" && l.reference(id, e, "page_id", &self.pages).is_none() {
            return;
        }
        let on_open_page = view.is_some() && s.open_view.as_ref().map(|v| &v.0) == view.as_ref();
        match ty {
            "page_visited" => {
                if s.open_view.is_some() {
                    l.fail(id, "page", "page_visited while another page is open".into());
                }
                if let Some(want) = s.next_page.take() {
                    if e["page_id"] != want.as_str() {
                        l.fail(
                            id,
                            "page",
                            format!("visited {} but the link went to {want}", e["page_id"]),
                        );
                    }
                }
                s.open_view = view.map(|v| (v, now));
                s.pages += 1;
            }
            "button_clicked" | "link_click" if !on_open_page => {
                l.fail(id, "page", format!("{ty} outside the open page"));
            }
            "button_clicked" => s.clicks += 1,
            "link_click" => match e["target_page_id"].as_str() {
                Some(t) if self.pages.contains(t) => s.next_page = Some(t.into()),
                other => l.fail(
                    id,
                    "unknown_reference",
                    format!("target_page_id {other:?} is not in the master data"),
                ),
            },
            "page_closed" => {
                match (&s.open_view, on_open_page) {
                    (Some((_, at)), true) if e["duration_ms"].as_i64() == Some(now - at) => {}
                    _ => l.fail(
                        id,
                        "page",
                        "page_closed is not the open page, or its duration is off".into(),
                    ),
                }
                s.open_view = None;
            }
            "session_ended" => {
                if s.open_view.is_some() || s.next_page.is_some() {
                    l.fail(id, "session", "session_ended with a page open".into());
                }
                let want = (Some(s.pages), Some(s.clicks), Some(now - s.created_ms));
                let got = (
                    e["pages_viewed"].as_u64(),
                    e["clicks"].as_u64(),
                    e["duration_ms"].as_i64(),
                );
                if self.from_start && got != want {
                    l.fail(
                        id,
                        "session",
                        format!("session_ended says {got:?}, the stream says {want:?}"),
                    );
                }
                self.open.remove(&session_id);
                self.ended.insert(&session_id, now);
            }
            other => l.fail(id, "schema", format!("unknown event_type {other:?}")),
        }
    }
}

impl ContractChecker for Checker {
    fn check(&mut self, event: &Value) -> usize {
        let before = self.ledger.violations.len();
        let (id, ty) = self.ledger.begin("web", event);
        let ty = ty.to_string();
        self.event(&id, &ty, event);
        self.ledger.violations.len() - before
    }

    fn finish(&mut self) {}

    fn violations(&self) -> &[Violation] {
        &self.ledger.violations
    }

    fn take_violations(&mut self) -> Vec<Violation> {
        std::mem::take(&mut self.ledger.violations)
    }
}
