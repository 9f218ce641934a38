//! Reading a request body: one event, a JSON array of events, or NDJSON; each validated
//! against the scenario's schema. The first bad event fails the whole request, so a 400 never
//! leaves half a batch produced.

use std::borrow::Cow;

use serde_json::value::RawValue;
use serde_json::Value;

use super::complete::Assigner;
use crate::scenario::Scenario;

/// One valid event, borrowing its bytes from the body: produced exactly as the client sent it,
/// with the fields the ingest assigned (`complete`) appended.
#[derive(Debug)]
pub struct Incoming<'a> {
    pub type_index: usize,
    pub event_id: Cow<'a, str>,
    pub raw: &'a [u8],
    pub key: Vec<u8>,
    pub time_ms: i64,
    /// Fields the ingest assigned, appended when the event is produced.
    pub added: Vec<(&'static str, Value)>,
}

impl Incoming<'_> {
    /// The bytes to produce: the client's, with what the ingest assigned appended.
    pub fn payload(&self, assigner: &Assigner) -> Cow<'_, [u8]> {
        if self.added.is_empty() {
            return Cow::Borrowed(self.raw);
        }
        let text = std::str::from_utf8(self.raw).unwrap_or_default();
        Cow::Owned(assigner.finish(text, &self.added))
    }
}

/// What a request gives besides its body: the service's [`Assigner`] and the request's
/// `Idempotency-Key`.
#[derive(Clone, Copy)]
pub struct Context<'c> {
    pub assigner: &'c Assigner,
    pub key: Option<&'c str>,
}

/// Parses and validates every event of `body`. Errors name the event's index and the first bad
/// field: `events[2]: store_id: missing; it must be a string`.
pub fn events<'a>(
    body: &'a [u8],
    scenario: &dyn Scenario,
    cx: Context<'_>,
) -> Result<Vec<Incoming<'a>>, String> {
    let text = std::str::from_utf8(body).map_err(|e| format!("body is not UTF-8: {e}"))?;
    let trimmed = text.trim_start();
    let raws: Vec<&'a RawValue> = if trimmed.starts_with('[') {
        serde_json::from_str(text)
            .map_err(|e| format!("body is not a JSON array of events: {e}"))?
    } else {
        serde_json::Deserializer::from_str(text)
            .into_iter::<&'a RawValue>()
            .enumerate()
            .map(|(i, r)| r.map_err(|e| format!("events[{i}]: not JSON: {e}")))
            .collect::<Result<_, _>>()?
    };
    if raws.is_empty() {
        return Err("body holds no events; send one event, a JSON array or NDJSON".into());
    }
    // The request's key stands for an event's id only when it carries one event.
    let cx = Context {
        key: cx.key.filter(|_| raws.len() == 1),
        ..cx
    };
    raws.into_iter()
        .enumerate()
        .map(|(i, raw)| one(raw, scenario, cx).map_err(|e| format!("events[{i}]: {e}")))
        .collect()
}

fn one<'a>(
    raw: &'a RawValue,
    scenario: &dyn Scenario,
    cx: Context<'_>,
) -> Result<Incoming<'a>, String> {
    let mut value: Value = serde_json::from_str(raw.get()).map_err(|e| e.to_string())?;
    let added = cx.assigner.complete(&mut value, scenario, cx.key);
    let ty = usize::from(scenario.validate_event(&value)?);
    let spec = scenario
        .event_types()
        .get(ty)
        .ok_or_else(|| format!("event type index {ty} is unknown"))?;
    let key = match spec.key_of(&value) {
        Some(k) => k.as_bytes().to_vec(),
        None => {
            return Err(format!(
                "{}: missing; it is the record key of {}",
                spec.key_field, spec.name
            ))
        }
    };
    // The Kafka timestamp: the envelope's event_time, else the document's payload.timestamp
    // (tutoring's), else now.
    let time_of = |v: Option<&Value>| {
        v.and_then(Value::as_str)
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.timestamp_millis())
    };
    let time_ms = time_of(value.get("event_time"))
        .or_else(|| time_of(value.pointer("/payload/timestamp")))
        .unwrap_or_else(|| chrono::Utc::now().timestamp_millis());
    let event_id = if added.is_empty() {
        Cow::Borrowed(id_of(raw.get()).ok_or("event_id: missing or not a UUID")?)
    } else {
        let id = value.get("event_id").and_then(Value::as_str);
        Cow::Owned(id.ok_or("event_id: missing or not a UUID")?.to_string())
    };
    Ok(Incoming {
        type_index: ty,
        event_id,
        raw: raw.get().as_bytes(),
        key,
        time_ms,
        added,
    })
}

/// The `event_id` string inside the raw JSON, borrowed rather than copied.
fn id_of(raw: &str) -> Option<&str> {
    #[derive(serde::Deserialize)]
    struct Id<'a> {
        #[serde(borrow)]
        event_id: &'a str,
    }
    serde_json::from_str::<Id<'_>>(raw)
        .ok()
        .map(|id| id.event_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::retail::Retail;

    fn cx(assigner: &Assigner) -> Context<'_> {
        Context {
            assigner,
            key: None,
        }
    }

    const INV: &str = r#"{"event_id":"01941f29-7c00-7f4b-8a95-c9b3c9f9ddd5","event_type":"inventory_update","event_time":"2025-01-01T00:00:00.000Z","schema_version":1,"scenario":"retail","caused_by":null,"store_id":"S1","sku":"P1","reason":"sale","quantity_change":-1,"stock_after":3,"transaction_id":null,"alert_event_id":null}"#;

    #[test]
    fn one_event_an_array_or_ndjson() {
        let a = Assigner::default();
        let one = events(INV.as_bytes(), &Retail, cx(&a)).unwrap();
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].raw, INV.as_bytes());
        assert_eq!(one[0].key, b"S1");
        assert_eq!(one[0].time_ms, 1_735_689_600_000);
        assert_eq!(one[0].event_id, "01941f29-7c00-7f4b-8a95-c9b3c9f9ddd5");
        let array = format!("[{INV}, {INV}]");
        assert_eq!(events(array.as_bytes(), &Retail, cx(&a)).unwrap().len(), 2);
        let nd = format!("{INV}\n{INV}\n{INV}\n");
        let parsed = events(nd.as_bytes(), &Retail, cx(&a)).unwrap();
        assert_eq!(parsed.len(), 3);
        assert_eq!(parsed[2].raw, INV.as_bytes());
    }

    #[test]
    fn errors_name_the_event_and_field() {
        let a = Assigner::default();
        let bad = INV.replace("\"stock_after\":3", "\"stock_after\":\"3\"");
        let body = format!("[{INV},{bad}]");
        assert_eq!(
            events(body.as_bytes(), &Retail, cx(&a)).unwrap_err(),
            "events[1]: stock_after: \"3\" is not a whole number >= 0"
        );
        assert!(events(b"[]", &Retail, cx(&a))
            .unwrap_err()
            .contains("no events"));
        assert!(events(b"{\"a\":", &Retail, cx(&a))
            .unwrap_err()
            .starts_with("events[0]: not JSON"));
        assert!(events(b"[1", &Retail, cx(&a))
            .unwrap_err()
            .contains("not a JSON array"));
        let e = events(b"{\"event_id\":1}", &Retail, cx(&a)).unwrap_err();
        assert!(e.starts_with("events[0]: event_id"), "{e}");
    }
}
