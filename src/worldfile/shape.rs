//! The shape of one event as its world file implies it: its type, envelope and payload,
//! every value of the type, range, value set and format its template gives, and, with the
//! master data, every reference resolving. What [`super::contract`] checks first of each
//! event, and all the ingest API checks.

use serde_json::Value as Json;

use super::expr::Master;
use super::format::EnvelopeKind;
use super::model::Model;
use super::template::Node;
use super::value::{Base, Ty, Value};
use crate::scenario::EventTypeId;

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
pub(super) fn shape(
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
        (Value::Bool(a), Json::Bool(b)) => a.get() == *b,
        (Value::Str(a), Json::String(b)) => **a == **b,
        (c, v) => matches!((c.as_f64(), v.as_f64()), (Some(a), Some(b)) if a == b),
    }
}
