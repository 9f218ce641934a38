//! Events as the sinks see them: a [`Batch`] of encoded records, and the [`EventWriter`] that
//! scenarios use to append events to it with the common envelope.
//!
//! Events are serialised once, straight into one reusable buffer, so the hot path allocates
//! nothing per event. Every sink reads the same bytes.

use rand::RngExt;
use serde::Serialize;
use uuid::Uuid;

use crate::scenario::EventTypeId;
use crate::timefmt::write_rfc3339_millis;

/// Version of the envelope and payload schemas, carried in every event as `schema_version`.
pub const SCHEMA_VERSION: u32 = 1;

/// What a sink needs of one record besides its bytes.
#[derive(Debug, Clone, Copy)]
struct RecordMeta {
    event_type: EventTypeId,
    primary: bool,
    time_ms: i64,
    event_id: Uuid,
    payload_end: u32,
    key_end: u32,
}

/// One encoded event, borrowed from a [`Batch`].
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    pub event_type: EventTypeId,
    /// False for events derived from another one (a sale's inventory updates, a receipt).
    pub primary: bool,
    /// Event time, milliseconds since the Unix epoch; also the Kafka record timestamp.
    pub time_ms: i64,
    pub event_id: Uuid,
    /// Partitioning key (a store id, a sku, a customer id, as the event type says).
    pub key: &'a [u8],
    /// The whole event as one JSON object, without a trailing newline.
    pub payload: &'a [u8],
}

/// A batch of encoded events, in the order they were generated. Reused between batches.
#[derive(Debug, Default)]
pub struct Batch {
    payloads: Vec<u8>,
    keys: Vec<u8>,
    records: Vec<RecordMeta>,
}

impl Batch {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn clear(&mut self) {
        self.payloads.clear();
        self.keys.clear();
        self.records.clear();
    }

    /// Keeps the first `n` records (a run that must stop at a number of records).
    pub fn truncate(&mut self, n: usize) {
        if n >= self.records.len() {
            return;
        }
        self.records.truncate(n);
        let (payload_end, key_end) = self
            .records
            .last()
            .map_or((0, 0), |m| (m.payload_end as usize, m.key_end as usize));
        self.payloads.truncate(payload_end);
        self.keys.truncate(key_end);
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Total payload bytes in the batch.
    pub fn payload_bytes(&self) -> usize {
        self.payloads.len()
    }

    pub fn get(&self, index: usize) -> Option<Record<'_>> {
        let meta = self.records.get(index)?;
        let (payload, key) = match index.checked_sub(1).map(|i| self.records[i]) {
            Some(prev) => (
                prev.payload_end as usize..meta.payload_end as usize,
                prev.key_end as usize..meta.key_end as usize,
            ),
            None => (0..meta.payload_end as usize, 0..meta.key_end as usize),
        };
        Some(Record {
            event_type: meta.event_type,
            primary: meta.primary,
            time_ms: meta.time_ms,
            event_id: meta.event_id,
            key: &self.keys[key],
            payload: &self.payloads[payload],
        })
    }

    /// Primary events among the records from index `from` on.
    pub fn primaries_from(&self, from: usize) -> u64 {
        let records = self.records.get(from..).unwrap_or_default();
        records.iter().filter(|m| m.primary).count() as u64
    }

    pub fn iter(&self) -> impl Iterator<Item = Record<'_>> + '_ {
        (0..self.records.len()).filter_map(move |i| self.get(i))
    }

    /// Appends an already-encoded record (used by sinks and tests that rebuild batches).
    pub fn push_encoded(&mut self, record: &Record<'_>) {
        self.payloads.extend_from_slice(record.payload);
        self.keys.extend_from_slice(record.key);
        self.push_meta(
            record.event_type,
            record.primary,
            record.time_ms,
            record.event_id,
        );
    }

    fn push_meta(&mut self, event_type: EventTypeId, primary: bool, time_ms: i64, event_id: Uuid) {
        // Offsets are u32: the runner bounds a batch's records far below 4 GiB.
        self.records.push(RecordMeta {
            event_type,
            primary,
            time_ms,
            event_id,
            payload_end: self.payloads.len() as u32,
            key_end: self.keys.len() as u32,
        });
    }
}

/// The envelope fields of one event, apart from its type's own fields.
#[derive(Debug, Clone, Copy)]
pub struct Envelope<'a> {
    pub event_type: EventTypeId,
    /// The event type's name, as written in `event_type`.
    pub type_name: &'static str,
    pub time_ms: i64,
    /// The event this one was derived from; `None` for a primary event.
    pub caused_by: Option<Uuid>,
    pub key: &'a str,
}

/// Appends events with the common envelope to a batch.
pub struct EventWriter<'b> {
    batch: &'b mut Batch,
    scenario: &'static str,
}

impl<'b> EventWriter<'b> {
    pub fn new(batch: &'b mut Batch, scenario: &'static str) -> Self {
        Self { batch, scenario }
    }

    /// Encodes one event and returns its id: a UUID v7 built from the event time and `rng`, so
    /// a seeded run on a simulated clock reproduces its ids.
    pub fn emit<R: rand::Rng + ?Sized, P: Serialize>(
        &mut self,
        rng: &mut R,
        envelope: Envelope<'_>,
        payload: &P,
    ) -> Uuid {
        let event_id = new_event_id(rng, envelope.time_ms);
        let buf = &mut self.batch.payloads;
        let start = buf.len();
        write_envelope(buf, self.scenario, &envelope, event_id);
        let fields_at = buf.len();
        if serde_json::to_writer(&mut *buf, payload).is_err() || buf.get(fields_at) != Some(&b'{') {
            // Payload types are plain structs of strings and numbers; this cannot happen for
            // them, but a bad payload must not leave half an event behind.
            buf.truncate(start);
            debug_assert!(false, "event payload must serialise as a JSON object");
            return event_id;
        }
        // Splice the payload's fields into the envelope object: `{"a":1}` -> `,"a":1}`.
        buf[fields_at] = b',';

        self.batch.keys.extend_from_slice(envelope.key.as_bytes());
        self.batch.push_meta(
            envelope.event_type,
            envelope.caused_by.is_none(),
            envelope.time_ms,
            event_id,
        );
        event_id
    }

    /// Emits an event (id from [`new_event_id`]) whose body `write` puts into the buffer itself.
    /// With `standard`, the common envelope comes first and `write` appends `,"field":value`
    /// pairs; otherwise `write` writes the whole JSON object. `write` returns the byte span of
    /// the key's JSON value in the buffer (a string's quotes are dropped), if the event has one.
    /// `envelope.key` is ignored.
    pub fn emit_with(
        &mut self,
        event_id: Uuid,
        envelope: Envelope<'_>,
        standard: bool,
        write: impl FnOnce(&mut Vec<u8>, Uuid) -> Option<(usize, usize)>,
    ) -> Uuid {
        let buf = &mut self.batch.payloads;
        if standard {
            write_envelope(buf, self.scenario, &envelope, event_id);
        }
        let key = write(buf, event_id);
        if standard {
            buf.push(b'}');
        }
        if let Some((from, to)) = key {
            let mut k = &self.batch.payloads[from..to];
            if k.len() >= 2 && k[0] == b'"' {
                k = &k[1..k.len() - 1];
            }
            self.batch.keys.extend_from_slice(k);
        }
        self.batch.push_meta(
            envelope.event_type,
            envelope.caused_by.is_none(),
            envelope.time_ms,
            event_id,
        );
        event_id
    }
}

/// A UUID v7 built from the event time and `rng`, so a seeded run on a simulated clock
/// reproduces its ids.
pub fn new_event_id<R: rand::Rng + ?Sized>(rng: &mut R, time_ms: i64) -> Uuid {
    let random: [u8; 10] = rng.random();
    // Event times before 1970 are rejected when the clock is configured.
    let millis = time_ms.max(0) as u64;
    uuid::Builder::from_unix_timestamp_millis(millis, &random).into_uuid()
}

/// `{"event_id":…,"caused_by":…` without the closing brace.
fn write_envelope(buf: &mut Vec<u8>, scenario: &str, envelope: &Envelope<'_>, event_id: Uuid) {
    buf.extend_from_slice(b"{\"event_id\":\"");
    write_uuid(buf, event_id);
    buf.extend_from_slice(b"\",\"event_type\":\"");
    buf.extend_from_slice(envelope.type_name.as_bytes());
    buf.extend_from_slice(b"\",\"event_time\":\"");
    write_rfc3339_millis(buf, envelope.time_ms);
    buf.extend_from_slice(b"\",\"schema_version\":");
    buf.extend_from_slice(itoa::Buffer::new().format(SCHEMA_VERSION).as_bytes());
    buf.extend_from_slice(b",\"scenario\":\"");
    buf.extend_from_slice(scenario.as_bytes());
    buf.extend_from_slice(b"\",\"caused_by\":");
    write_cause(buf, envelope.caused_by);
}

/// A UUID as lower-case hyphenated text, without quotes.
pub fn write_uuid(buf: &mut Vec<u8>, id: Uuid) {
    buf.extend_from_slice(
        id.hyphenated()
            .encode_lower(&mut Uuid::encode_buffer())
            .as_bytes(),
    );
}

/// A cause's id as JSON: in quotes, or `null` for an event with no cause.
pub fn write_cause(buf: &mut Vec<u8>, cause: Option<Uuid>) {
    match cause {
        Some(id) => {
            buf.push(b'"');
            write_uuid(buf, id);
            buf.push(b'"');
        }
        None => buf.extend_from_slice(b"null"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    #[derive(Serialize)]
    struct Payload<'a> {
        store_id: &'a str,
        quantity: i32,
    }

    #[test]
    fn envelope_and_payload_form_one_object() {
        let mut batch = Batch::new();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
        let mut w = EventWriter::new(&mut batch, "retail");
        let env = Envelope {
            event_type: 2,
            type_name: "sale",
            time_ms: 1_700_000_000_123,
            caused_by: None,
            key: "S001",
        };
        let first = w.emit(
            &mut rng,
            env,
            &Payload {
                store_id: "S001",
                quantity: 3,
            },
        );
        let env2 = Envelope {
            caused_by: Some(first),
            key: "S002",
            ..env
        };
        w.emit(
            &mut rng,
            env2,
            &Payload {
                store_id: "S002",
                quantity: -1,
            },
        );

        assert_eq!(batch.len(), 2);
        let records: Vec<_> = batch.iter().collect();
        let v: serde_json::Value = serde_json::from_slice(records[0].payload).unwrap();
        assert_eq!(v["event_id"], first.to_string());
        assert_eq!(v["event_type"], "sale");
        assert_eq!(v["event_time"], "2023-11-14T22:13:20.123Z");
        assert_eq!(v["schema_version"], 1);
        assert_eq!(v["scenario"], "retail");
        assert!(v["caused_by"].is_null());
        assert_eq!(v["quantity"], 3);
        assert_eq!(records[0].key, b"S001");
        assert!(records[0].primary);
        assert_eq!(first.get_version_num(), 7);

        let v2: serde_json::Value = serde_json::from_slice(records[1].payload).unwrap();
        assert_eq!(v2["caused_by"], first.to_string());
        assert_eq!(v2["quantity"], -1);
        assert_eq!(records[1].key, b"S002");
        assert!(!records[1].primary);
    }

    #[test]
    fn push_encoded_round_trips() {
        let mut a = Batch::new();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        let env = Envelope {
            event_type: 0,
            type_name: "x",
            time_ms: 5,
            caused_by: None,
            key: "k",
        };
        EventWriter::new(&mut a, "retail").emit(
            &mut rng,
            env,
            &Payload {
                store_id: "s",
                quantity: 1,
            },
        );
        let mut b = Batch::new();
        for r in a.iter() {
            b.push_encoded(&r);
        }
        assert_eq!(a.get(0).unwrap().payload, b.get(0).unwrap().payload);
        assert_eq!(a.get(0).unwrap().event_id, b.get(0).unwrap().event_id);
    }
}
