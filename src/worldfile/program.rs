//! A payload template flattened for writing. Everything constant between two values (field
//! names, punctuation, literal text and constants) is one run of JSON bytes made at load, so
//! writing an event is a flat walk: copy a run, write a value, copy a run. The tree walk it
//! replaces escaped every field name and recursed per nested object for every event.

use super::expr::{Ctx, Expr};
use super::parse::Format;
use super::template::{escape_into, write_expr, write_part, Node, TextPart};
use crate::SimRng;

#[derive(Debug)]
enum Op {
    /// JSON text written as it is.
    Bytes(Box<[u8]>),
    /// One expression's value as JSON.
    Value(Expr, Format),
    /// One expression's value inside a JSON string (the quotes are in the runs around it).
    Part(Expr, Format),
    /// The event time as RFC 3339 text, without quotes.
    Time,
    /// The event id, without quotes.
    Id,
    /// Where the record key's text starts and ends.
    KeyStart,
    KeyEnd,
}

/// An event's payload as a flat list of writes.
#[derive(Debug)]
pub struct Program {
    ops: Vec<Op>,
}

impl Program {
    /// An event's top-level `fields`. With the standard envelope they follow the envelope's
    /// own fields (so start with a comma) and the envelope closes the object; otherwise they
    /// are the whole object. `key_path` leads to the field whose text is the record key.
    pub fn payload(fields: &[(String, Node)], key_path: &[u16], standard: bool) -> Self {
        let mut b = Builder::default();
        if !standard {
            b.bytes(b"{");
        } else if !fields.is_empty() {
            b.bytes(b",");
        }
        b.fields(fields, (!key_path.is_empty()).then_some(key_path));
        if !standard {
            b.bytes(b"}");
        }
        b.flush();
        Program { ops: b.ops }
    }

    /// Writes the payload; returns the span of the record key's text, if the event has one.
    pub fn write(
        &self,
        ctx: &Ctx<'_>,
        rng: &mut SimRng,
        buf: &mut Vec<u8>,
    ) -> Option<(usize, usize)> {
        let (mut start, mut key) = (0, None);
        for op in &self.ops {
            match op {
                Op::Bytes(b) => buf.extend_from_slice(b),
                Op::Value(e, f) => write_expr(buf, e, *f, ctx, rng),
                Op::Part(e, f) => write_part(buf, e, *f, ctx, rng),
                Op::Time => crate::timefmt::write_rfc3339_millis(buf, ctx.now),
                Op::Id => {
                    let mut text = uuid::Uuid::encode_buffer();
                    buf.extend_from_slice(
                        ctx.event_id.hyphenated().encode_lower(&mut text).as_bytes(),
                    );
                }
                Op::KeyStart => start = buf.len(),
                Op::KeyEnd => key = Some((start, buf.len())),
            }
        }
        key
    }
}

#[derive(Default)]
struct Builder {
    ops: Vec<Op>,
    /// Constant bytes not yet closed into a run.
    pending: Vec<u8>,
}

impl Builder {
    fn bytes(&mut self, b: &[u8]) {
        self.pending.extend_from_slice(b);
    }

    fn flush(&mut self) {
        if !self.pending.is_empty() {
            let run = std::mem::take(&mut self.pending);
            self.ops.push(Op::Bytes(run.into()));
        }
    }

    fn op(&mut self, op: Op) {
        self.flush();
        self.ops.push(op);
    }

    /// `"a":…,"b":…`. `key`: the path below these fields to the key, if it lies below.
    fn fields(&mut self, fields: &[(String, Node)], key: Option<&[u16]>) {
        for (i, (name, node)) in fields.iter().enumerate() {
            if i > 0 {
                self.bytes(b",");
            }
            self.bytes(b"\"");
            escape_into(&mut self.pending, name);
            self.bytes(b"\":");
            let below = key.and_then(|k| match k.split_first() {
                Some((&f, rest)) if f as usize == i => Some(rest),
                _ => None,
            });
            self.node(node, below);
        }
    }

    /// One value. `key`: `Some([])` when this value is the key, `Some(path)` when the key
    /// lies below it.
    fn node(&mut self, node: &Node, key: Option<&[u16]>) {
        let is_key =
            key.is_some_and(<[u16]>::is_empty) && !matches!(node, Node::Object(_) | Node::Array(_));
        if is_key {
            self.op(Op::KeyStart);
        }
        match node {
            Node::Const(_, json) => self.bytes(json),
            Node::Value(Expr::EventTime, _, _) => {
                self.bytes(b"\"");
                self.op(Op::Time);
                self.bytes(b"\"");
            }
            Node::Value(Expr::EventId, _, _) => {
                self.bytes(b"\"");
                self.op(Op::Id);
                self.bytes(b"\"");
            }
            Node::Value(e, _, f) => self.op(Op::Value(e.clone(), *f)),
            Node::Text(parts) => {
                self.bytes(b"\"");
                for part in parts {
                    match part {
                        TextPart::Lit(s) => escape_into(&mut self.pending, s),
                        TextPart::Expr(e, f) => self.op(Op::Part(e.clone(), *f)),
                    }
                }
                self.bytes(b"\"");
            }
            Node::Array(items) => {
                self.bytes(b"[");
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.bytes(b",");
                    }
                    self.node(item, None);
                }
                self.bytes(b"]");
            }
            Node::Object(fields) => {
                self.bytes(b"{");
                self.fields(fields, key.filter(|k| !k.is_empty()));
                self.bytes(b"}");
            }
        }
        if is_key {
            self.op(Op::KeyEnd);
        }
    }
}
