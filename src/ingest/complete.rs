//! A document's own body, completed (issue 29): tutoring's Lambda posts `{event_type,
//! payload}`, while the world's events also carry kafka-gen's `event_id`, `caused_by`,
//! `stream_id` and `stream_seq` beside them. The ingest assigns the ones the world's schema
//! asks for and the body lacks, so the record on Kafka has the shape every consumer and
//! checker of the world expects:
//!
//! - `event_id`: the request's `Idempotency-Key` when it is a UUID and the body holds one
//!   event (the http sink sends the event's own id there, so a retry keeps its id and is
//!   deduplicated), else a new UUID v7;
//! - `caused_by`: null (the body names no cause);
//! - `stream_id` [`INGEST_STREAM`] and `stream_seq` 1, 2, 3, ... in the order this service
//!   produces such events (a duplicate takes no number): the ingest is one more stream beside
//!   the generator's 1..N. The count starts again when the service restarts.

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::Value;

use crate::scenario::Scenario;

/// The `stream_id` of the events whose stream the ingest assigns: past every generator
/// stream (tutoring's `STREAM_COUNT` is at most 100,000, its streams numbered from 1), so its
/// `stream_seq` never mixes with theirs.
pub const INGEST_STREAM: u64 = 1_000_000;

/// The fields the ingest can assign, in the order it tries them.
const ASSIGNABLE: [&str; 4] = ["event_id", "caused_by", "stream_id", "stream_seq"];

/// Assigns what a document's body lacks; one per service, shared by its requests.
#[derive(Debug, Default)]
pub struct Assigner {
    /// The last `stream_seq` given.
    seq: AtomicU64,
}

impl Assigner {
    /// Adds to `event` each assignable field the scenario's schema says is missing; returns
    /// those it added. Other problems are left for validation to report.
    pub fn complete(
        &self,
        event: &mut Value,
        scenario: &dyn Scenario,
        key: Option<&str>,
    ) -> Vec<(&'static str, Value)> {
        let mut added = Vec::new();
        for _ in 0..ASSIGNABLE.len() {
            let Err(problem) = scenario.validate_event(event) else {
                break;
            };
            let Some(field) = ASSIGNABLE.iter().find(|f| {
                problem.starts_with(&format!("{f}: missing")) && event.get(**f).is_none()
            }) else {
                break;
            };
            let value = match *field {
                "event_id" => Value::from(
                    key.and_then(|k| uuid::Uuid::parse_str(k).ok())
                        .unwrap_or_else(uuid::Uuid::now_v7)
                        .to_string(),
                ),
                "caused_by" => Value::Null,
                "stream_id" => Value::from(INGEST_STREAM),
                // A placeholder: the number is given when the event is produced, so a
                // duplicate or a refused request takes none (`Assigner::finish`).
                _ => Value::from(0),
            };
            let Some(obj) = event.as_object_mut() else {
                break;
            };
            obj.insert((*field).to_string(), value.clone());
            added.push((*field, value));
        }
        added
    }
}

impl Assigner {
    /// The bytes to produce for an event the ingest completed: the client's `text` with the
    /// `added` fields after it, `stream_seq` numbered now.
    pub fn finish(&self, text: &str, added: &[(&'static str, Value)]) -> Vec<u8> {
        let added: Vec<(&str, Value)> = (added.iter())
            .map(|(f, v)| match *f {
                "stream_seq" => (
                    *f,
                    Value::from(self.seq.fetch_add(1, Ordering::Relaxed) + 1),
                ),
                _ => (*f, v.clone()),
            })
            .collect();
        append(text, &added)
    }
}

/// `raw` (one JSON object, as the client sent it) with `added` appended before its closing
/// brace: the client's bytes are kept, the assigned fields follow them.
pub fn append(raw: &str, added: &[(&str, Value)]) -> Vec<u8> {
    let body = raw.trim_end();
    let body = body.strip_suffix('}').unwrap_or(body);
    let mut out = body.as_bytes().to_vec();
    let empty = body.trim_end().ends_with('{');
    for (i, (field, value)) in added.iter().enumerate() {
        if i > 0 || !empty {
            out.push(b',');
        }
        out.extend_from_slice(format!("{}:{value}", Value::from(*field)).as_bytes());
    }
    out.push(b'}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appended_fields_follow_the_clients_bytes() {
        let added = [
            ("event_id", Value::from("x")),
            ("stream_seq", Value::from(3)),
        ];
        let out = append("{\"a\": {\"b\":1} }\n", &added);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"a\": {\"b\":1} ,\"event_id\":\"x\",\"stream_seq\":3}"
        );
        assert_eq!(append("{ }", &added[1..]), b"{ \"stream_seq\":3}".to_vec());
    }
}
