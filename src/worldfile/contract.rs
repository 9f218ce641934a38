//! The contract a world file implies, checked event by event: every payload matches the types
//! its templates imply (value sets, ranges, formats, literal text), every reference resolves in
//! the master data, every follow-up names a cause that came before it and may have it, ids
//! never repeat, and event time never goes back for one key. State bounds are checked where a
//! payload shows a state value (its type carries the bounds). A value a follow-up carries from
//! its cause and shows is the cause's own (`carried.rs`). The rules the file states in
//! `checks:` run here too (`check_run.rs`).

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value as Json;

use super::carried::Links;
use super::check_run::Memory;
use super::expr::{Expr, Master};
use super::format::EnvelopeKind;
use super::model::Model;
use super::roles::Roles;
use super::shape::shape;
pub use super::shape::validate;
use super::template::Node;
use crate::scenario::util::{time_ms, uuid_time_ms, Ledger};
use crate::scenario::{ContractChecker, Violation};

/// What a checker remembers of an event that may cause others.
#[derive(Clone)]
struct Cause {
    ty: u16,
    time: i64,
    /// Digests of the fields its follow-ups must repeat ([`Links`]).
    carried: Box<[u64]>,
}

pub struct Checker {
    model: Arc<Model>,
    master: Arc<Master>,
    scenario: &'static str,
    ledger: Ledger,
    from_start: bool,
    causes: HashMap<u128, Cause>,
    /// How long causes are remembered, in event time.
    memory_ms: i64,
    newest: i64,
    first: Option<i64>,
    pruned_at: i64,
    /// Per event type, where an `envelope: none` payload keeps its envelope.
    roles: Vec<Roles>,
    /// The fields a follow-up repeats from its cause.
    links: Links,
    /// What the rules of `checks:` remember of earlier events.
    memory: Memory,
    /// Whether the event being checked had its shape's problems reported already.
    shape_reported: bool,
    /// Just after the latest cause forgotten (pruned): a cause from before it may have come and
    /// been forgotten; one at or after it that is not remembered never came.
    forgot_before: i64,
}

/// At most this many causes are remembered (about 40 MB).
const MAX_CAUSES: usize = 1_000_000;

impl Checker {
    pub fn new(
        model: Arc<Model>,
        master: Arc<Master>,
        scenario: &'static str,
        from_start: bool,
    ) -> Self {
        // Remember causes for as long as their longest constant delay, and at least an hour.
        let mut memory_ms: i64 = 3_600_000;
        for e in &model.events {
            for f in &e.follow {
                let lit = |x: Option<&Expr>| match x {
                    Some(Expr::Lit(v)) => v.as_f64().unwrap_or(0.0),
                    _ => 0.0,
                };
                let span = lit(Some(&f.after))
                    + lit(f.every.as_ref()) * (lit(f.times.as_ref()) - 1.0).max(0.0);
                memory_ms = memory_ms.max((span * 1500.0).min(90.0 * 86_400_000.0) as i64);
            }
        }
        Self {
            roles: Roles::of(&model),
            links: Links::of(&model),
            memory: Memory::new(&model.checks, from_start),
            model,
            master,
            scenario,
            ledger: Ledger::default(),
            from_start,
            causes: HashMap::new(),
            memory_ms,
            newest: i64::MIN,
            first: None,
            pruned_at: i64::MIN,
            shape_reported: false,
            forgot_before: i64::MIN,
        }
    }

    fn event(&mut self, event: &Json) {
        let (ty, problems) = shape(&self.model, self.scenario, Some(&self.master), event);
        let standard = self.model.envelope == EnvelopeKind::Standard;
        // A document's own envelope, read as the standard one (see `roles`).
        let view = match ty {
            Some(t) if !standard => {
                let name = &self.model.events[t as usize].name;
                self.roles[t as usize].view(event, name, self.scenario)
            }
            _ => None,
        };
        let follows = standard || ty.is_some_and(|t| self.roles[t as usize].names_cause());
        let raw = event;
        let (event, standard) = (view.as_ref().unwrap_or(event), standard || view.is_some());
        let id = event
            .get("event_id")
            .and_then(Json::as_str)
            .unwrap_or("?")
            .to_string();
        for (rule, detail) in problems {
            // What the arrival checks could not see: references into the master data.
            if !self.shape_reported || rule == "unknown_reference" {
                self.ledger.fail(&id, rule, detail);
            }
        }
        let Some(t) = ty else { return };
        let model = Arc::clone(&self.model);
        let ev = &model.events[t as usize];
        let time = event
            .get("event_time")
            .and_then(|_| time_ms(&event["event_time"]));
        if standard {
            let _ = self.ledger.begin(self.scenario, event);
        }
        // Per-key order.
        if !ev.key_path.is_empty() {
            let mut v = raw;
            let mut fields = &ev.payload;
            for &i in &ev.key_path {
                let Some((name, node)) = fields.get(i as usize) else {
                    break;
                };
                v = &v[name.as_str()];
                if let Node::Object(inner) = node {
                    fields = inner;
                }
            }
            if let (Some(k), true) = (v.as_str(), standard) {
                let k = k.to_string();
                self.ledger.in_order(&id, &k, event);
            }
        }
        let ledger = &mut self.ledger;
        let mut fail = |rule, detail| ledger.fail(&id, rule, detail);
        let checks = &model.checks;
        (self.memory).run(checks, &self.master, t as usize, &ev.name, raw, &mut fail);
        let Some(time) = time else { return };
        self.first.get_or_insert(time);
        self.newest = self.newest.max(time);
        if standard {
            if follows {
                self.follow_up(&id, t as u16, time, event, raw);
            }
            if !ev.follow.is_empty() {
                if let Ok(u) = uuid::Uuid::parse_str(&id) {
                    let carried = self.links.digests(t as u16, raw);
                    self.causes.insert(
                        u.as_u128(),
                        Cause {
                            ty: t as u16,
                            time,
                            carried,
                        },
                    );
                }
            }
            self.prune();
        }
    }

    /// Checks a follow-up against its cause. `event` is read as the standard envelope; `raw`
    /// is the event as it came, whose payload paths the carried values are at.
    fn follow_up(&mut self, id: &str, t: u16, time: i64, event: &Json, raw: &Json) {
        let ev = &self.model.events[t as usize];
        match event.get("caused_by").and_then(Json::as_str) {
            None => {
                if ev.weight == 0.0 && ev.per.is_none() {
                    self.ledger.fail(
                        id,
                        "caused_by",
                        format!(
                            "{} only follows another event, but caused_by is null",
                            ev.name
                        ),
                    );
                }
            }
            Some(cause) => {
                if ev.causes.is_empty() {
                    self.ledger.fail(
                        id,
                        "caused_by",
                        format!("{} never follows another event, but names a cause", ev.name),
                    );
                    return;
                }
                let Ok(u) = uuid::Uuid::parse_str(cause) else {
                    self.ledger.fail(
                        id,
                        "caused_by",
                        format!("caused_by {cause:?} is not a UUID"),
                    );
                    return;
                };
                match self.causes.get(&u.as_u128()) {
                    Some(c) => {
                        if c.time > time {
                            self.ledger.fail(
                                id,
                                "follow_order",
                                format!("comes at {time} ms, before its cause at {} ms", c.time),
                            );
                        }
                        let cause_name = &self.model.events[c.ty as usize].name;
                        if !ev.causes.contains(&c.ty) {
                            self.ledger.fail(
                                id,
                                "caused_by",
                                format!("{} does not follow {cause_name}", ev.name),
                            );
                        }
                        for (path, value) in self.links.differing(c.ty, &c.carried, t, raw) {
                            self.ledger.fail(
                                id,
                                "carried",
                                format!(
                                    "{path} is {value}, not the value its {cause_name} carried to it"
                                ),
                            );
                        }
                    }
                    None => self.unseen_cause(id, cause, time),
                }
            }
        }
    }

    /// A follow-up names a cause this checker has not seen. Read from the stream's start,
    /// every event before this one has been (the reorder buffer releases them in event-time
    /// order), so the cause never came, unless its time says it may have been forgotten.
    /// Joined in the middle, only a cause since the first event seen can be judged.
    fn unseen_cause(&mut self, id: &str, cause: &str, time: i64) {
        let cause_time = uuid_time_ms(cause);
        let since_first = match (cause_time, self.first) {
            (Some(c), Some(f)) => c >= f,
            _ => false,
        };
        let forgotten = cause_time.is_some_and(|c| c < self.forgot_before);
        if forgotten || !(self.from_start || since_first) {
            return;
        }
        let show = |ms: i64| {
            chrono::DateTime::from_timestamp_millis(ms)
                .map_or_else(|| format!("{ms} ms"), |t| t.to_rfc3339())
        };
        let when = match cause_time {
            Some(c) => format!("its id's time is {}", show(c)),
            None => "its id carries no time (not a UUID v7)".into(),
        };
        let first = self.first.map_or_else(|| "?".into(), show);
        self.ledger.fail(
            id,
            "caused_by",
            format!(
                "caused_by {cause} is not an earlier event of this stream: no event has that id \
                 ({when}; this event is at {}, the stream read from {first})",
                show(time)
            ),
        );
    }

    fn prune(&mut self) {
        if self.newest.saturating_sub(self.pruned_at) < self.memory_ms / 4
            && self.causes.len() < MAX_CAUSES
        {
            return;
        }
        self.pruned_at = self.newest;
        let horizon = self.newest.saturating_sub(self.memory_ms);
        let forgot = &mut self.forgot_before;
        self.causes.retain(|_, c| {
            let keep = c.time >= horizon;
            if !keep {
                *forgot = (*forgot).max(c.time + 1);
            }
            keep
        });
        if self.causes.len() >= MAX_CAUSES {
            // Over the count bound: keep the newest half.
            let mut times: Vec<i64> = self.causes.values().map(|c| c.time).collect();
            let mid = times.len() / 2;
            let (_, cut, _) = times.select_nth_unstable(mid);
            let cut = *cut;
            let forgot = &mut self.forgot_before;
            self.causes.retain(|_, c| {
                let keep = c.time >= cut;
                if !keep {
                    *forgot = (*forgot).max(c.time + 1);
                }
                keep
            });
        }
    }
}

impl ContractChecker for Checker {
    fn check(&mut self, event: &Json) -> usize {
        let before = self.ledger.violations.len();
        self.event(event);
        self.ledger.violations.len() - before
    }

    fn check_misshapen(&mut self, event: &Json) -> usize {
        self.shape_reported = true;
        let n = self.check(event);
        self.shape_reported = false;
        n
    }

    fn finish(&mut self) {}

    fn violations(&self) -> &[Violation] {
        &self.ledger.violations
    }

    fn take_violations(&mut self) -> Vec<Violation> {
        std::mem::take(&mut self.ledger.violations)
    }
}
