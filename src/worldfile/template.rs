//! Payload templates: compiled once into a [`Node`] tree whose constant parts are already
//! JSON, and written straight into the output buffer per event.

use super::compile::Scope;
use super::expr::{Arg, Ctx, Expr};
use super::format::Yaml;
use super::parse::{self, Format, Part};
use super::value::{Base, Ty, Value};
use crate::SimRng;

#[derive(Debug, Clone)]
pub enum Node {
    Object(Vec<(String, Node)>),
    Array(Vec<Node>),
    /// A constant, with its JSON text.
    Const(Value, Box<[u8]>),
    /// One `${expr}`: the expression's own type.
    Value(Expr, Ty, Format),
    /// Text with `${…}` parts inside.
    Text(Vec<TextPart>),
}

#[derive(Debug, Clone)]
pub enum TextPart {
    Lit(String),
    Expr(Expr, Format),
}

impl Node {
    /// The type of the value this node writes, for the contract and the schema.
    pub fn ty(&self) -> Ty {
        match self {
            Node::Const(v, _) => Ty::exact(v),
            Node::Value(_, t, f) => match (f.zero_pad, f.places) {
                (Some(_), _) => Ty::of(Base::Str),
                (_, Some(_)) => Ty {
                    base: Base::Float,
                    ..t.clone()
                },
                _ => t.clone(),
            },
            Node::Text(_) => Ty::of(Base::Str),
            Node::Object(_) | Node::Array(_) => Ty::of(Base::Any),
        }
    }

    /// The literal text a `Text` node starts and ends with.
    pub fn affixes(&self) -> Option<(&str, &str)> {
        let Node::Text(parts) = self else { return None };
        let first = match parts.first() {
            Some(TextPart::Lit(s)) => s.as_str(),
            _ => "",
        };
        let last = match parts.last() {
            Some(TextPart::Lit(s)) if parts.len() > 1 => s.as_str(),
            _ => "",
        };
        Some((first, last))
    }
}

/// Compiles a YAML value as a template.
pub fn compile(scope: &Scope<'_>, y: &Yaml) -> Result<Node, (Vec<String>, String)> {
    Ok(match y {
        Yaml::Null => konst(Value::Null),
        Yaml::Bool(b) => konst(Value::bool(*b)),
        Yaml::Number(n) => konst(match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Value::Int(i),
            (None, Some(f)) => Value::float(f),
            _ => Value::Null,
        }),
        Yaml::String(s) => text(scope, s).map_err(|e| (vec![], e))?,
        Yaml::Sequence(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                out.push(compile(scope, item).map_err(|(mut p, e)| {
                    p.insert(0, format!("[{i}]"));
                    (p, e)
                })?);
            }
            Node::Array(out)
        }
        Yaml::Mapping(map) => {
            let mut out = Vec::with_capacity(map.len());
            for (k, v) in map {
                let Some(key) = k.as_str() else {
                    return Err((vec![], "a payload key must be text".into()));
                };
                let node = compile(scope, v).map_err(|(mut p, e)| {
                    p.insert(0, key.to_string());
                    (p, e)
                })?;
                out.push((key.to_string(), node));
            }
            Node::Object(out)
        }
        Yaml::Tagged(t) => {
            return Err((vec![], format!("YAML tags ({}) are not supported", t.tag)))
        }
    })
}

fn konst(v: Value) -> Node {
    let mut buf = Vec::new();
    write_plain(&mut buf, &v);
    Node::Const(v, buf.into())
}

/// Compiles a text template: literal text, one `${expr}` (keeping its type), or a mix.
pub fn text(scope: &Scope<'_>, s: &str) -> Result<Node, String> {
    let parts = parse::template(s)?;
    match parts.as_slice() {
        [Part::Text(t)] => return Ok(konst(Value::str(t))),
        [Part::Expr(ast, f)] => {
            let (e, ty) = scope.compile(ast)?;
            return Ok(match e {
                Expr::Lit(v) if *f == Format::default() => konst(v),
                e => Node::Value(e, ty, *f),
            });
        }
        _ => {}
    }
    let mut out = Vec::with_capacity(parts.len());
    for part in parts {
        out.push(match part {
            Part::Text(t) => TextPart::Lit(t),
            Part::Expr(ast, f) => TextPart::Expr(scope.compile(&ast)?.0, f),
        });
    }
    Ok(Node::Text(out))
}

/// Writes a node as JSON. `key_path` names the field whose text becomes the record key; its
/// written span is returned through `key`.
pub fn write(
    node: &Node,
    ctx: &Ctx<'_>,
    rng: &mut SimRng,
    buf: &mut Vec<u8>,
    key_path: &[u16],
    key: &mut Option<(usize, usize)>,
) {
    match node {
        Node::Const(_, json) => {
            let start = buf.len();
            buf.extend_from_slice(json);
            if key_path.is_empty() {
                *key = Some((start, buf.len()));
            }
        }
        Node::Value(Expr::EventTime, _, _) => {
            // Written in place: no text value is built for the most common field.
            buf.push(b'"');
            crate::timefmt::write_rfc3339_millis(buf, ctx.now);
            buf.push(b'"');
        }
        Node::Value(Expr::EventId, _, _) => {
            buf.push(b'"');
            crate::event::write_uuid(buf, ctx.event_id);
            buf.push(b'"');
        }
        Node::Value(e, _, f) => {
            let start = buf.len();
            write_expr(buf, e, *f, ctx, rng);
            if key_path.is_empty() {
                *key = Some((start, buf.len()));
            }
        }
        Node::Text(parts) => {
            let start = buf.len();
            buf.push(b'"');
            for part in parts {
                match part {
                    TextPart::Lit(s) => escape_into(buf, s),
                    TextPart::Expr(e, f) => write_part(buf, e, *f, ctx, rng),
                }
            }
            buf.push(b'"');
            if key_path.is_empty() {
                *key = Some((start, buf.len()));
            }
        }
        Node::Array(items) => {
            buf.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    buf.push(b',');
                }
                write(item, ctx, rng, buf, &[u16::MAX], key);
            }
            buf.push(b']');
        }
        Node::Object(fields) => {
            buf.push(b'{');
            write_fields(fields, ctx, rng, buf, key_path, key);
            buf.push(b'}');
        }
    }
}

/// Writes the JSON value of `e`. Ids and stored values are written from where they are, with
/// no clone.
pub fn write_expr(buf: &mut Vec<u8>, e: &Expr, f: Format, ctx: &Ctx<'_>, rng: &mut SimRng) {
    write_expr_by(buf, e, e, f, ctx, rng)
}

/// [`write_expr`], with `e` evaluated by `eval` (its compiled form) when it is not stored.
pub fn write_expr_by(
    buf: &mut Vec<u8>,
    e: &Expr,
    eval: &impl Arg,
    f: Format,
    ctx: &Ctx<'_>,
    rng: &mut SimRng,
) {
    if let Expr::Id(x) = e {
        if ctx.write_id_of(x, buf) {
            return;
        }
    }
    match ctx.peek(e) {
        Some(v) => write_value(buf, v, f, ctx),
        None => write_value(buf, &eval.value(ctx, rng), f, ctx),
    }
}

/// Writes the value of `e` inside a JSON string.
pub fn write_part(buf: &mut Vec<u8>, e: &Expr, f: Format, ctx: &Ctx<'_>, rng: &mut SimRng) {
    write_part_by(buf, e, e, f, ctx, rng)
}

/// [`write_part`], with `e` evaluated by `eval` (its compiled form) when it is not stored.
pub fn write_part_by(
    buf: &mut Vec<u8>,
    e: &Expr,
    eval: &impl Arg,
    f: Format,
    ctx: &Ctx<'_>,
    rng: &mut SimRng,
) {
    match (id_in_place(e, ctx), ctx.peek(e)) {
        (Some(id), _) => escape_into(buf, id),
        (None, Some(v)) => write_text(buf, v, f, ctx),
        (None, None) => write_text(buf, &eval.value(ctx, rng), f, ctx),
    }
}

/// The id text `e` writes, when `e` is the id of an entity held in a local.
fn id_in_place<'c>(e: &Expr, ctx: &'c Ctx<'_>) -> Option<&'c str> {
    match e {
        Expr::Id(x) => ctx.peek_id(x),
        _ => None,
    }
}

/// Writes an object's fields without braces (`"a":1,"b":2`).
fn write_fields(
    fields: &[(String, Node)],
    ctx: &Ctx<'_>,
    rng: &mut SimRng,
    buf: &mut Vec<u8>,
    key_path: &[u16],
    key: &mut Option<(usize, usize)>,
) {
    for (i, (name, node)) in fields.iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        buf.push(b'"');
        escape_into(buf, name);
        buf.extend_from_slice(b"\":");
        let sub: &[u16] = match key_path.split_first() {
            Some((&first, rest)) if first as usize == i => rest,
            _ => &[u16::MAX],
        };
        write(node, ctx, rng, buf, sub, key);
    }
}

pub(super) fn write_value(buf: &mut Vec<u8>, v: &Value, f: Format, ctx: &Ctx<'_>) {
    if f.zero_pad.is_some() {
        buf.push(b'"');
        write_text(buf, v, f, ctx);
        buf.push(b'"');
        return;
    }
    match (v, f.places) {
        (Value::Float(x), Some(p)) => {
            let m = 10f64.powi(p as i32);
            write_plain(buf, &Value::float((x.get() * m).round() / m));
        }
        (Value::Int(i), Some(_)) => write_plain(buf, &Value::float(*i as f64)),
        (Value::Ent(..), _) => {
            buf.push(b'"');
            escape_into(buf, ctx.text_of(v).unwrap_or(""));
            buf.push(b'"');
        }
        _ => write_plain(buf, v),
    }
}

/// Writes a value inside a JSON string.
pub(super) fn write_text(buf: &mut Vec<u8>, v: &Value, f: Format, ctx: &Ctx<'_>) {
    match v {
        Value::Int(i) => {
            let mut b = itoa::Buffer::new();
            let s = b.format(*i);
            let width = f.zero_pad.unwrap_or(0);
            let digits = s.trim_start_matches('-');
            if s.starts_with('-') {
                buf.push(b'-');
            }
            for _ in digits.len()..width.saturating_sub(usize::from(s.starts_with('-'))) {
                buf.push(b'0');
            }
            buf.extend_from_slice(digits.as_bytes());
        }
        Value::Float(x) => match f.places {
            // Straight into the buffer: no text is made per value.
            Some(p) => {
                use std::io::Write;
                let _ = write!(buf, "{:.p$}", x.get());
            }
            None => write_plain(buf, v),
        },
        Value::Str(s) => escape_into(buf, s),
        Value::Ent(..) => escape_into(buf, ctx.text_of(v).unwrap_or("")),
        Value::Bool(b) => buf.extend_from_slice(if b.get() { b"true" } else { b"false" }),
        Value::Null => buf.extend_from_slice(b"null"),
    }
}

/// A value as JSON (an entity as its index: callers with master data write its id instead).
pub fn write_plain(buf: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Null => buf.extend_from_slice(b"null"),
        Value::Bool(b) => buf.extend_from_slice(if b.get() { b"true" } else { b"false" }),
        Value::Int(i) => buf.extend_from_slice(itoa::Buffer::new().format(*i).as_bytes()),
        Value::Float(x) if x.get().is_finite() => write_float(buf, x.get()),
        Value::Float(_) => buf.extend_from_slice(b"null"),
        Value::Str(s) => {
            buf.push(b'"');
            escape_into(buf, s);
            buf.push(b'"');
        }
        Value::Ent(e) => buf.extend_from_slice(itoa::Buffer::new().format(e.index()).as_bytes()),
    }
}

/// A finite number as JSON, exactly as `ryu` writes it (its shortest text that reads back as
/// the same number). Most numbers a world writes are whole or have two places (money, scores,
/// `round(x, 2)`): those are written from their digits without ryu's search. The shortcut holds
/// for `|x| < 1e13`, where neighbouring doubles are under 0.002 apart, so no text of fewer
/// digits reads back as `x` and ryu writes plain decimals.
pub fn write_float(buf: &mut Vec<u8>, x: f64) {
    let cents = (x * 100.0).round();
    if x.abs() < 1e13 && cents / 100.0 == x && (x != 0.0 || x.is_sign_positive()) {
        let c = cents as i64;
        if c < 0 {
            buf.push(b'-');
        }
        let c = c.unsigned_abs();
        buf.extend_from_slice(itoa::Buffer::new().format(c / 100).as_bytes());
        let frac = (c % 100) as u8;
        match (frac / 10, frac % 10) {
            (t, 0) => buf.extend_from_slice(&[b'.', b'0' + t]),
            (t, u) => buf.extend_from_slice(&[b'.', b'0' + t, b'0' + u]),
        }
        return;
    }
    buf.extend_from_slice(ryu::Buffer::new().format_finite(x).as_bytes());
}

/// Whether JSON needs any byte of `s` escaped. Nearly every text needs none: one branch-free
/// pass (it vectorises) says so.
pub fn needs_escape(s: &str) -> bool {
    s.bytes().fold(false, |any, b| {
        any | (b < 0x20) | (b == b'"') | (b == b'\\')
    })
}

/// JSON string escaping, without the quotes.
pub fn escape_into(buf: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    if !needs_escape(s) {
        buf.extend_from_slice(bytes);
        return;
    }
    let mut from = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => {
                buf.extend_from_slice(&bytes[from..i]);
                buf.extend_from_slice(format!("\\u{b:04x}").as_bytes());
                from = i + 1;
                continue;
            }
            _ => continue,
        };
        buf.extend_from_slice(&bytes[from..i]);
        buf.extend_from_slice(esc);
        from = i + 1;
    }
    buf.extend_from_slice(&bytes[from..]);
}
