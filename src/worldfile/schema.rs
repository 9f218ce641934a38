//! JSON Schemas: one per event type of a world (`kafka-gen schema --world FILE`), from the
//! same types the contract checks; and the schema of the world format itself.

use serde_json::{json, Map, Value as Json};

use super::format::EnvelopeKind;
use super::model::Model;
use super::template::Node;
use super::value::{Base, Ty, Value};

/// `{ "<event type>": <JSON Schema>, ... }` for every event type of `model`.
pub fn event_schemas(model: &Model) -> Json {
    let kinds: Vec<String> = model.kinds.iter().map(|k| k.name.clone()).collect();
    let mut out = Map::new();
    for e in &model.events {
        let mut props = Map::new();
        let mut required = Vec::new();
        if model.envelope == EnvelopeKind::Standard {
            props.insert(
                "event_id".into(),
                json!({"type": "string", "format": "uuid"}),
            );
            props.insert("event_type".into(), json!({"const": e.name}));
            props.insert(
                "event_time".into(),
                json!({"type": "string", "format": "date-time"}),
            );
            props.insert(
                "schema_version".into(),
                json!({"type": "integer", "minimum": 1}),
            );
            props.insert("scenario".into(), json!({"const": model.name}));
            props.insert(
                "caused_by".into(),
                json!({"type": ["string", "null"], "format": "uuid"}),
            );
            required.extend(
                [
                    "event_id",
                    "event_type",
                    "event_time",
                    "schema_version",
                    "scenario",
                    "caused_by",
                ]
                .map(String::from),
            );
        }
        for (name, node) in &e.payload {
            let schema = match (model.type_field.as_deref() == Some(name.as_str()), node) {
                (true, _) => json!({"const": e.name}),
                _ => node_schema(node, &kinds),
            };
            props.insert(name.clone(), schema);
            required.push(name.clone());
        }
        let mut schema = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": format!("{}.{}", model.name, e.name),
            "type": "object",
            "properties": props,
            "required": required,
            "additionalProperties": false,
        });
        if !e.topic.is_empty() {
            schema["x-kafka-topic"] = json!(e.topic);
        }
        out.insert(e.name.clone(), schema);
    }
    Json::Object(out)
}

fn node_schema(node: &Node, kinds: &[String]) -> Json {
    match node {
        Node::Object(fields) => {
            let mut props = Map::new();
            for (n, f) in fields {
                props.insert(n.clone(), node_schema(f, kinds));
            }
            let required: Vec<&String> = fields.iter().map(|(n, _)| n).collect();
            json!({"type": "object", "properties": props, "required": required, "additionalProperties": false})
        }
        Node::Array(items) => {
            let items: Vec<Json> = items.iter().map(|i| node_schema(i, kinds)).collect();
            json!({"type": "array", "prefixItems": items, "minItems": items.len(), "maxItems": items.len()})
        }
        Node::Const(v, _) => json!({"const": v.to_json()}),
        Node::Text(_) => {
            let (pre, post) = node.affixes().unwrap_or(("", ""));
            let mut s = json!({"type": "string"});
            if !pre.is_empty() || !post.is_empty() {
                s["pattern"] = json!(format!("^{}.*{}$", regex_escape(pre), regex_escape(post)));
            }
            s
        }
        Node::Value(..) => ty_schema(&node.ty(), kinds),
    }
}

/// The schema of one typed value.
pub fn ty_schema(ty: &Ty, kinds: &[String]) -> Json {
    let mut s = match ty.base {
        Base::Null => json!({"type": "null"}),
        Base::Bool => json!({"type": "boolean"}),
        Base::Int => json!({"type": "integer"}),
        Base::Float => json!({"type": "number"}),
        Base::Str => json!({"type": "string"}),
        Base::Ent(k) => {
            json!({"type": "string", "description": format!("an id of {}", kinds.get(k as usize).map_or("?", |s| s.as_str()))})
        }
        Base::Any => json!({}),
    };
    if let Some(lo) = ty.lo {
        s["minimum"] = json!(lo);
    }
    if let Some(hi) = ty.hi {
        s["maximum"] = json!(hi);
    }
    if let Some(values) = &ty.one_of {
        s["enum"] = Json::Array(values.iter().map(Value::to_json).collect());
    }
    if let Some(f) = ty.format {
        s["format"] = json!(f);
    }
    if ty.nullable {
        if let Some(t) = s.get("type").cloned() {
            s["type"] = json!([t, "null"]);
        }
    }
    s
}

fn regex_escape(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The JSON Schema of the world-file format (for editors), derived from its serde types.
pub fn format_schema() -> Json {
    serde_json::to_value(schemars::schema_for!(super::format::WorldFile)).unwrap_or(Json::Null)
}
