//! `[http] fields`: the top-level fields a posted event keeps, for an endpoint that takes a
//! document's own body (tutoring's Lambda posts `{event_type, payload}`). Kept values are
//! copied byte for byte, in the order the option lists them.

use std::collections::HashMap;

use serde_json::value::RawValue;

/// `payload` (one JSON object) with only `fields`, in their order; a field the event lacks is
/// left out. A payload that is not an object is returned unchanged.
pub fn keep(payload: &[u8], fields: &[String]) -> Vec<u8> {
    let Ok(all) = serde_json::from_slice::<HashMap<&str, &RawValue>>(payload) else {
        return payload.to_vec();
    };
    let mut out = Vec::with_capacity(payload.len());
    out.push(b'{');
    for name in fields {
        let Some(value) = all.get(name.as_str()) else {
            continue;
        };
        if out.len() > 1 {
            out.push(b',');
        }
        // A field name is plain text; serde_json quotes and escapes it.
        out.extend_from_slice(serde_json::to_string(name).unwrap_or_default().as_bytes());
        out.push(b':');
        out.extend_from_slice(value.get().as_bytes());
    }
    out.push(b'}');
    out
}

/// The fields named by `KAFKA_GEN_HTTP_FIELDS`: comma-separated, blanks dropped.
pub fn parse(list: &str) -> Vec<String> {
    (list.split(','))
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .map(String::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_named_fields_byte_for_byte_in_order() {
        let event =
            br#"{"event_id":"e1","payload":{"b":1, "a":[2]},"stream_id":3,"event_type":"x"}"#;
        let fields = parse("event_type, payload,missing");
        assert_eq!(
            String::from_utf8(keep(event, &fields)).unwrap(),
            r#"{"event_type":"x","payload":{"b":1, "a":[2]}}"#
        );
        assert_eq!(keep(b"[1]", &fields), b"[1]");
    }
}
