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
use super::template::Node;
use super::value::{Base, Ty, Value};
use crate::scenario::util::{time_ms, uuid_time_ms, Ledger};
use crate::scenario::{ContractChecker, EventTypeId, Violation};

/// Checks one event's shape: its type, envelope and payload. `master`, when given, also
/// resolves references. Returns the type, or the first problem.
pub fn validate(
    model: &Model,
    scenario: &str,
    master: Option<&Master>,
    event: &Json,
) -> Result<EventTypeId, String> {
    let (ty, problems) = shape(model, scenario, master, event);
    match (problems.into_iter().next(), ty) {
        (Some((_, p)), _) => Err(p),
        (None, None) => Err("event_type: missing".into()),
        (None, Some(t)) => {
            let name = &model.events[t as usize].name;
            super::check_run::pure(&model.checks, t as usize, name, event).map(|()| t)
        }
    }
}

/// The event's type and every problem with its shape, as (rule, detail).
fn shape(
    model: &Model,
    scenario: &str,
    master: Option<&Master>,
    event: &Json,
) -> (Option<EventTypeId>, Vec<(&'static str, String)>) {
    let mut problems = Vec::new();
    let Some(obj) = event.as_object() else {
        return (None, vec![("schema", "event is not a JSON object".into())]);
    };
    let type_field = model.type_field.as_deref().unwrap_or("event_type");
    let Some(name) = obj.get(type_field).and_then(Json::as_str) else {
        return (
            None,
            vec![("schema", format!("{type_field}: missing or not text"))],
        );
    };
    let Some(t) = model.events.iter().position(|e| e.name == name) else {
        let known: Vec<&str> = model.events.iter().map(|e| e.name.as_str()).collect();
        return (
            None,
            vec![(
                "schema",
                format!(
                    "{type_field}: {name:?} is not an event type of {scenario}; types: {}",
                    known.join(", ")
                ),
            )],
        );
    };
    let ev = &model.events[t];
    let kinds: Vec<String> = model.kinds.iter().map(|k| k.name.clone()).collect();
    let mut walker = Walker {
        master,
        kinds: &kinds,
        problems: &mut problems,
    };
    if model.envelope == EnvelopeKind::Standard {
        let text = |f: &str| obj.get(f).and_then(Json::as_str);
        if text("event_id").is_none_or(|id| uuid::Uuid::parse_str(id).is_err()) {
            walker.fail("schema", "event_id: missing or not a UUID".into());
        }
        if text("event_time").is_none_or(|t| chrono::DateTime::parse_from_rfc3339(t).is_err()) {
            walker.fail(
                "schema",
                "event_time: missing or not an RFC 3339 time".into(),
            );
        }
        if !obj.get("schema_version").is_some_and(Json::is_u64) {
            walker.fail("schema", "schema_version: missing or not a number".into());
        }
        if text("scenario") != Some(scenario) {
            walker.fail("schema", format!("scenario: must be {scenario:?}"));
        }
        match obj.get("caused_by") {
            Some(Json::Null) | Some(Json::String(_)) => {}
            _ => walker.fail("schema", "caused_by: missing, or not null or a UUID".into()),
        }
        let envelope = [
            "event_id",
            "event_type",
            "event_time",
            "schema_version",
            "scenario",
            "caused_by",
        ];
        walker.fields(&ev.payload, obj, &envelope, "");
    } else {
        walker.fields(&ev.payload, obj, &[], "");
    }
    (Some(t as EventTypeId), problems)
}

struct Walker<'a> {
    master: Option<&'a Master>,
    kinds: &'a [String],
    problems: &'a mut Vec<(&'static str, String)>,
}

impl Walker<'_> {
    fn fail(&mut self, rule: &'static str, detail: String) {
        self.problems.push((rule, detail));
    }

    fn fields(
        &mut self,
        fields: &[(String, Node)],
        obj: &serde_json::Map<String, Json>,
        also: &[&str],
        at: &str,
    ) {
        for (name, node) in fields {
            let path = if at.is_empty() {
                name.clone()
            } else {
                format!("{at}.{name}")
            };
            match obj.get(name) {
                Some(v) => self.node(node, v, &path),
                None => self.fail("schema", format!("{path}: missing")),
            }
        }
        for k in obj.keys() {
            if !fields.iter().any(|(n, _)| n == k) && !also.contains(&k.as_str()) {
                let path = if at.is_empty() {
                    k.clone()
                } else {
                    format!("{at}.{k}")
                };
                self.fail("schema", format!("{path}: not a field of this event type"));
            }
        }
    }

    fn node(&mut self, node: &Node, v: &Json, path: &str) {
        match node {
            Node::Object(fields) => match v.as_object() {
                Some(o) => self.fields(fields, o, &[], path),
                None => self.fail("schema", format!("{path}: expected an object")),
            },
            Node::Array(items) => match v.as_array() {
                Some(a) if a.len() == items.len() => {
                    for (i, (n, x)) in items.iter().zip(a).enumerate() {
                        self.node(n, x, &format!("{path}[{i}]"));
                    }
                }
                _ => self.fail(
                    "schema",
                    format!("{path}: expected a list of {}", items.len()),
                ),
            },
            Node::Const(c, _) => {
                if !same(c, v) {
                    self.fail("schema", format!("{path}: is {v}, expected {c}"));
                }
            }
            Node::Text(_) => {
                let (pre, post) = node.affixes().unwrap_or(("", ""));
                match v.as_str() {
                    Some(s)
                        if s.starts_with(pre)
                            && s.ends_with(post)
                            && s.len() >= pre.len() + post.len() => {}
                    _ => self.fail(
                        "schema",
                        format!("{path}: is {v}, expected text like {pre:?}…{post:?}"),
                    ),
                }
            }
            Node::Value(..) => self.typed(&node.ty(), v, path),
        }
    }

    fn typed(&mut self, ty: &Ty, v: &Json, path: &str) {
        if v.is_null() && (ty.nullable || ty.base == Base::Null) {
            return;
        }
        let ok = match ty.base {
            Base::Any => true,
            Base::Null => v.is_null(),
            Base::Bool => v.is_boolean(),
            Base::Int => v.is_i64() || v.is_u64(),
            Base::Float => v.is_number(),
            Base::Str => v.is_string(),
            Base::Ent(k) => match (v.as_str(), self.master) {
                (Some(id), Some(m)) => {
                    if !m.kinds[k as usize].index.contains_key(id) {
                        self.fail(
                            "unknown_reference",
                            format!(
                                "{path}: {id:?} is not a {} id in the master data",
                                self.kinds[k as usize]
                            ),
                        );
                    }
                    true
                }
                (Some(_), None) => true,
                (None, _) => false,
            },
        };
        if !ok {
            self.fail(
                "schema",
                format!("{path}: is {v}, expected {}", ty.describe(self.kinds)),
            );
            return;
        }
        if let Some(x) = v.as_f64() {
            let eps = 1e-9 * x.abs().max(1.0);
            if ty.lo.is_some_and(|lo| x < lo - eps) || ty.hi.is_some_and(|hi| x > hi + eps) {
                let rule = "bounds";
                self.fail(
                    rule,
                    format!("{path}: {x} is outside {}", ty.describe(self.kinds)),
                );
            }
        }
        if let Some(values) = &ty.one_of {
            if !values.iter().any(|c| same(c, v)) {
                self.fail(
                    "schema",
                    format!("{path}: {v} is not {}", ty.describe(self.kinds)),
                );
            }
        }
        if let (Some(f), Some(s)) = (ty.format, v.as_str()) {
            let good = match f {
                "date" => chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok(),
                "date-time" => chrono::DateTime::parse_from_rfc3339(s).is_ok(),
                "uuid" => uuid::Uuid::parse_str(s).is_ok(),
                "email" => s.contains('@'),
                _ => true,
            };
            if !good {
                self.fail("schema", format!("{path}: {s:?} is not a {f}"));
            }
        }
    }
}

fn same(c: &Value, v: &Json) -> bool {
    match (c, v) {
        (Value::Null, Json::Null) => true,
        (Value::Bool(a), Json::Bool(b)) => a == b,
        (Value::Str(a), Json::String(b)) => **a == **b,
        (c, v) => matches!((c.as_f64(), v.as_f64()), (Some(a), Some(b)) if a == b),
    }
}

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
            self.ledger.fail(&id, rule, detail);
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
                if ev.weight == 0.0 {
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
                    None => {
                        let cause_time = uuid_time_ms(cause).unwrap_or(i64::MIN);
                        let before_stream =
                            !self.from_start || self.first.is_some_and(|f| cause_time < f);
                        let forgotten = cause_time < self.newest.saturating_sub(self.memory_ms);
                        if !before_stream && !forgotten {
                            self.ledger.fail(
                                id,
                                "caused_by",
                                format!("caused_by {cause} is not an earlier event of this stream"),
                            );
                        }
                    }
                }
            }
        }
    }

    fn prune(&mut self) {
        if self.newest.saturating_sub(self.pruned_at) < self.memory_ms / 4
            && self.causes.len() < MAX_CAUSES
        {
            return;
        }
        self.pruned_at = self.newest;
        let horizon = self.newest.saturating_sub(self.memory_ms);
        self.causes.retain(|_, c| c.time >= horizon);
        if self.causes.len() >= MAX_CAUSES {
            // Over the count bound: keep the newest half.
            let mut times: Vec<i64> = self.causes.values().map(|c| c.time).collect();
            let mid = times.len() / 2;
            let (_, cut, _) = times.select_nth_unstable(mid);
            let cut = *cut;
            self.causes.retain(|_, c| c.time >= cut);
        }
    }
}

impl ContractChecker for Checker {
    fn check(&mut self, event: &Json) -> usize {
        let before = self.ledger.violations.len();
        self.event(event);
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
