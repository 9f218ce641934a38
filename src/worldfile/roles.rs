//! Where an `envelope: none` event keeps its envelope: the payload fields whose template is
//! exactly `${event_id}`, `${event_time}` or `${caused_by}`, at any depth. The contract reads
//! them as the standard envelope's, so a document's own envelope (tutoring's
//! `{event_type, payload: {timestamp, ...}}`) gets the same id, order and follow-up checks.

use serde_json::{json, Value as Json};

use super::expr::Expr;
use super::model::Model;
use super::template::Node;

/// Paths (field names from the top) of one event type's envelope fields.
#[derive(Debug, Default, Clone)]
pub struct Roles {
    id: Option<Vec<String>>,
    time: Option<Vec<String>>,
    caused_by: Option<Vec<String>>,
}

impl Roles {
    /// The roles of every event type of `model`, by type id.
    pub fn of(model: &Model) -> Vec<Roles> {
        model
            .events
            .iter()
            .map(|e| {
                let mut r = Roles::default();
                r.find(&e.payload, &mut Vec::new());
                r
            })
            .collect()
    }

    fn find(&mut self, fields: &[(String, Node)], at: &mut Vec<String>) {
        for (name, node) in fields {
            at.push(name.clone());
            match node {
                Node::Object(inner) => self.find(inner, at),
                Node::Value(Expr::EventId, ..) => self.id = Some(at.clone()),
                Node::Value(Expr::EventTime, ..) => self.time = Some(at.clone()),
                Node::Value(Expr::CausedBy, ..) => self.caused_by = Some(at.clone()),
                _ => {}
            }
            at.pop();
        }
    }

    /// Whether the type names its cause, so its follow-ups can be checked.
    pub fn names_cause(&self) -> bool {
        self.caused_by.is_some()
    }

    /// `event` in the standard envelope's terms (`event_id`, `event_type`, `event_time`,
    /// `scenario`, `caused_by`), or None when its type keeps no event id and time.
    pub fn view(&self, event: &Json, event_type: &str, scenario: &str) -> Option<Json> {
        let (Some(id), Some(time)) = (&self.id, &self.time) else {
            return None;
        };
        let at = |path: &[String]| path.iter().fold(event, |v, k| &v[k.as_str()]).clone();
        Some(json!({
            "event_id": at(id),
            "event_type": event_type,
            "event_time": at(time),
            "scenario": scenario,
            "caused_by": self.caused_by.as_deref().map_or(Json::Null, at),
        }))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use rand::SeedableRng;
    use serde_json::{json, Value};

    use crate::scenario::ContractChecker;
    use crate::worldfile::{compile_text, contract::Checker, master};

    const WORLD: &str = r#"
world: nested
envelope: none
entities:
  users: {count: 2, id: "u${seq}"}
events:
  a:
    pick: {u: users}
    key: user
    payload: {kind: '${event_type}', user: '${u.id}', meta: {id: '${event_id}', at: '${event_time}', cause: '${caused_by}'}}
    then: [{event: b, after: 60}]
  b:
    weight: 0
    key: user
    payload: {kind: '${event_type}', user: '${u.id}', meta: {id: '${event_id}', at: '${event_time}', cause: '${caused_by}'}}
"#;

    fn event(kind: &str, id: &str, at: &str, cause: Option<&str>) -> Value {
        json!({"kind": kind, "user": "u1", "meta": {"id": id, "at": at, "cause": cause}})
    }

    /// The rules the checker reports for `events`, in order.
    fn rules(events: &[Value]) -> Vec<&'static str> {
        let model = Arc::new(compile_text("w.yaml", WORLD, &BTreeMap::new()).unwrap());
        let mut rng = crate::SimRng::seed_from_u64(1);
        let m = Arc::new(master::generate(&model, &mut rng, &[]).unwrap());
        let mut c = Checker::new(model, m, "nested", true);
        for e in events {
            c.check(e);
        }
        c.violations().iter().map(|v| v.rule).collect()
    }

    const A: &str = "01941f29-7c00-7add-a193-6a64da3b9aad";
    const B: &str = "01941f2a-69cc-79c5-8b9d-0c6e17786d3a";
    const T0: &str = "2025-01-01T00:00:00.000Z";
    const T1: &str = "2025-01-01T00:01:00.000Z";

    #[test]
    fn a_nested_envelope_gets_the_id_order_and_follow_up_checks() {
        let a = event("a", A, T0, None);
        assert_eq!(
            rules(&[a.clone(), event("b", B, T1, Some(A))]),
            Vec::<&str>::new()
        );
        assert_eq!(rules(&[a.clone(), a.clone()]), ["duplicate_event_id"]);
        assert_eq!(rules(&[a.clone(), event("b", B, T1, None)]), ["caused_by"]);
        assert_eq!(
            rules(&[event("a", A, T1, None), event("b", B, T0, Some(A))]),
            ["time_order", "follow_order"]
        );
        let stranger = "01941f2a-0000-7000-8000-000000000000";
        assert_eq!(
            rules(&[a, event("b", B, T1, Some(stranger))]),
            ["caused_by"]
        );
    }
}
