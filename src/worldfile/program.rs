//! A payload template flattened for writing. Everything constant between two values (field
//! names, punctuation, literal text and constants) is one run of JSON bytes made at load, so
//! writing an event is a flat walk: copy a run, write a value, copy a run. The tree walk it
//! replaces escaped every field name and recursed per nested object for every event.

use std::sync::Arc;

use rand::distr::Distribution;
use rand::RngExt;

use super::compiled::{Compiled, Condition, Read};
use super::expr::{Ctx, Expr, Func, WeightedTable};
use super::parse::Format;
use super::template::{
    escape_into, write_expr, write_expr_by, write_part_by, write_plain, write_text, write_value,
    Node, TextPart,
};
use super::value::Value;
use crate::SimRng;

#[derive(Debug)]
enum Op {
    /// JSON text written as it is.
    Bytes(Box<[u8]>),
    /// One expression's value as JSON (read in place when stored, else evaluated compiled).
    Value(Expr, Compiled, Format),
    /// One expression's value inside a JSON string (the quotes are in the runs around it).
    Part(Expr, Compiled, Format),
    /// A local, or a field or state variable of the entity in one, read where it is: what
    /// `Value` writes for such an expression, with its place decided at load.
    Read(Read, Format),
    /// The same in the default format: what `write_value` writes, its common cases inline.
    ReadPlain(Read),
    /// The same inside a JSON string, as `Part` writes it.
    ReadPart(Read, Format),
    /// A value that is never stored (a call, an operator, a branch), evaluated compiled: what
    /// `Value` writes for it, without first looking for it in place.
    Eval(Compiled, Format),
    /// The same inside a JSON string.
    EvalPart(Compiled, Format),
    /// `choice(...)` of constants: one of their JSON texts, drawn as `choice` draws.
    Choose(Box<[Box<[u8]>]>),
    /// `weighted(...)` of constants: one of their JSON texts, drawn by the same table.
    Weighted(Arc<WeightedTable>, Box<[Box<[u8]>]>),
    /// `cond ? a : b`: the condition, then one branch's ops. A branch that is a constant is
    /// its JSON text, so the common `x ? 'a' : 'b'` clones and drops no shared text.
    Branch(Condition, Box<[Op]>, Box<[Op]>),
    /// The event time as RFC 3339 text, without quotes.
    Time,
    /// The event id, without quotes.
    Id,
    /// The cause's id in quotes, or `null` for a primary event.
    Cause,
    /// The id of the entity in a local slot, in quotes, written from the packed ids.
    IdOf(u16, Expr),
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
    /// `event_type` is the event's name, written as a constant where the payload reads it.
    pub fn payload(
        fields: &[(String, Node)],
        key_path: &[u16],
        standard: bool,
        event_type: &str,
    ) -> Self {
        let mut b = Builder {
            event_type: event_type.to_string(),
            ..Builder::default()
        };
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
        Self::run(&self.ops, ctx, rng, buf, &mut start, &mut key);
        key
    }

    fn run(
        ops: &[Op],
        ctx: &Ctx<'_>,
        rng: &mut SimRng,
        buf: &mut Vec<u8>,
        start: &mut usize,
        key: &mut Option<(usize, usize)>,
    ) {
        for op in ops {
            match op {
                Op::Bytes(b) => buf.extend_from_slice(b),
                Op::Value(e, code, f) => write_expr_by(buf, e, code, *f, ctx, rng),
                Op::Choose(texts) => {
                    let i = rng.random_range(0..texts.len());
                    buf.extend_from_slice(&texts[i]);
                }
                Op::Weighted(table, texts) => buf.extend_from_slice(&texts[table.1.sample(rng)]),
                Op::Branch(c, yes, no) => {
                    let ops = if c.holds(ctx, rng) { yes } else { no };
                    Self::run(ops, ctx, rng, buf, start, key);
                }
                Op::Part(e, code, f) => write_part_by(buf, e, code, *f, ctx, rng),
                Op::Read(at, f) => write_value(buf, at.get(ctx).unwrap_or(&Value::Null), *f, ctx),
                // Text and whole numbers, most of what a payload reads, written here: through
                // `write_plain` (a call) they took 0.1k more instructions a tutoring record.
                Op::ReadPlain(at) => match at.get(ctx) {
                    Some(Value::Str(s)) => {
                        buf.push(b'"');
                        escape_into(buf, s);
                        buf.push(b'"');
                    }
                    Some(Value::Int(i)) => {
                        buf.extend_from_slice(itoa::Buffer::new().format(*i).as_bytes())
                    }
                    v => write_value(buf, v.unwrap_or(&Value::Null), Format::default(), ctx),
                },
                Op::ReadPart(at, f) => {
                    write_text(buf, at.get(ctx).unwrap_or(&Value::Null), *f, ctx)
                }
                Op::Eval(code, f) => write_value(buf, &code.eval(ctx, rng), *f, ctx),
                Op::EvalPart(code, f) => write_text(buf, &code.eval(ctx, rng), *f, ctx),
                Op::Time => crate::timefmt::write_rfc3339_millis(buf, ctx.now),
                Op::Id => crate::event::write_uuid(buf, ctx.event_id),
                Op::Cause => crate::event::write_cause(buf, ctx.caused_by),
                Op::IdOf(slot, e) => {
                    if !ctx.write_id_in(*slot, buf) {
                        write_expr(buf, e, Format::default(), ctx, rng);
                    }
                }
                Op::KeyStart => *start = buf.len(),
                Op::KeyEnd => *key = Some((*start, buf.len())),
            }
        }
    }
}

/// Whether `e` is made when evaluated, never read where it is stored ([`Ctx::peek`] finds
/// nothing for it).
fn made(e: &Expr) -> bool {
    matches!(
        e,
        Expr::Call(..) | Expr::Bin(..) | Expr::Neg(_) | Expr::Not(_) | Expr::Cond(..) | Expr::Now
    )
}

#[derive(Default)]
struct Builder {
    ops: Vec<Op>,
    /// The event's name: `event_type` in a payload is this constant.
    event_type: String,
    /// Constant bytes not yet closed into a run.
    pending: Vec<u8>,
}

/// The JSON text of a constant as a payload value writes it, when it has one of its own (an
/// entity is written as its id, which needs the master data).
fn json_of(e: &Expr) -> Option<Box<[u8]>> {
    match e {
        Expr::Lit(v) if !matches!(v, Value::Ent(..)) => {
            let mut b = Vec::new();
            write_plain(&mut b, v);
            Some(b.into())
        }
        _ => None,
    }
}

impl Builder {
    /// The ops that write `e`: constants, and draws and branches among constants, are
    /// written from their JSON text; the rest is evaluated.
    fn value(&mut self, e: &Expr, f: Format) {
        let plain = f.zero_pad.is_none() && f.places.is_none();
        if plain {
            if let Some(json) = json_of(e) {
                return self.bytes(&json);
            }
            match e {
                Expr::EventType => {
                    let name = Value::str(&self.event_type);
                    return write_plain(&mut self.pending, &name);
                }
                Expr::CausedBy => return self.op(Op::Cause),
                Expr::Id(x) => {
                    if let Expr::Local(slot) = **x {
                        return self.op(Op::IdOf(slot, e.clone()));
                    }
                }
                Expr::Cond(c, a, b) => {
                    let branch = |x: &Expr| {
                        let mut b = Builder {
                            event_type: self.event_type.clone(),
                            ..Builder::default()
                        };
                        b.value(x, f);
                        b.flush();
                        b.ops.into_boxed_slice()
                    };
                    let (yes, no) = (branch(a), branch(b));
                    return self.op(Op::Branch(Condition::new(c), yes, no));
                }
                Expr::Call(Func::Choice, args) if !args.is_empty() => {
                    if let Some(texts) = args.iter().map(json_of).collect::<Option<Box<[_]>>>() {
                        return self.op(Op::Choose(texts));
                    }
                }
                Expr::Call(Func::Weighted(table), _) => {
                    let consts = table.0.iter().map(|v| json_of(&Expr::Lit(v.clone())));
                    if let Some(texts) = consts.collect::<Option<Box<[_]>>>() {
                        return self.op(Op::Weighted(Arc::clone(table), texts));
                    }
                }
                _ => {}
            }
        }
        match Read::of(e) {
            Some(at) if plain => self.op(Op::ReadPlain(at)),
            Some(at) => self.op(Op::Read(at, f)),
            None if made(e) => self.op(Op::Eval(Compiled::new(e), f)),
            None => self.op(Op::Value(e.clone(), Compiled::new(e), f)),
        }
    }

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
            Node::Value(e, _, f) => self.value(e, *f),
            Node::Text(parts) => {
                self.bytes(b"\"");
                for part in parts {
                    match part {
                        TextPart::Lit(s) => escape_into(&mut self.pending, s),
                        TextPart::Expr(Expr::EventType, f) if *f == Format::default() => {
                            escape_into(&mut self.pending, &self.event_type)
                        }
                        TextPart::Expr(e, f) => match Read::of(e) {
                            Some(at) => self.op(Op::ReadPart(at, *f)),
                            None if made(e) => self.op(Op::EvalPart(Compiled::new(e), *f)),
                            None => self.op(Op::Part(e.clone(), Compiled::new(e), *f)),
                        },
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::worldfile::expr::{Master, State};
    use crate::worldfile::value::{Base, Ty};
    use rand::SeedableRng;

    fn lit(v: Value) -> Expr {
        Expr::Lit(v)
    }

    fn field(e: Expr, f: Format) -> Node {
        Node::Value(e, Ty::of(Base::Any), f)
    }

    /// Draws and branches among constants, written from their JSON text, give the bytes the
    /// tree walk gives and leave the generator where it leaves it, over 500 seeds.
    #[test]
    fn constant_draws_and_branches_write_what_the_tree_walk_writes() {
        let coin = || Expr::Call(Func::Chance, vec![lit(Value::float(0.5))]);
        let choice = Expr::Call(
            Func::Choice,
            vec![
                lit(Value::str("a\"b")),
                lit(Value::Int(2)),
                lit(Value::bool(false)),
            ],
        );
        let table = rand_distr::weighted::WeightedIndex::new([1.0, 3.0]).unwrap();
        let weighted = Expr::Call(
            Func::Weighted(Arc::new((vec![Value::str("x"), Value::float(2.5)], table))),
            vec![],
        );
        // A branch of constants inside a branch, and one whose arm is drawn.
        let nested = Expr::Cond(
            Box::new(coin()),
            Box::new(lit(Value::str("yes"))),
            Box::new(Expr::Cond(
                Box::new(coin()),
                Box::new(choice.clone()),
                Box::new(lit(Value::Null)),
            )),
        );
        let padded = Format {
            zero_pad: Some(4),
            places: None,
        };
        let fields = vec![
            ("c".to_string(), field(choice, Format::default())),
            ("w".to_string(), field(weighted, Format::default())),
            ("n".to_string(), field(nested, Format::default())),
            (
                "p".to_string(),
                field(
                    Expr::Cond(
                        Box::new(coin()),
                        Box::new(lit(Value::Int(7))),
                        Box::new(lit(Value::Int(8))),
                    ),
                    padded,
                ),
            ),
        ];
        let program = Program::payload(&fields, &[], false, "t");
        assert!(program.ops.iter().any(|op| matches!(op, Op::Choose(_))));
        assert!(program.ops.iter().any(|op| matches!(op, Op::Weighted(..))));
        assert!(program.ops.iter().any(|op| matches!(op, Op::Branch(..))));
        let (master, state) = (Master::default(), State::default());
        let ctx = Ctx::plain(&master, &state, &[], 0);
        let tree = Node::Object(fields);
        let mut seen = std::collections::HashSet::new();
        for seed in 0..500 {
            let (mut r1, mut r2) = (SimRng::seed_from_u64(seed), SimRng::seed_from_u64(seed));
            let (mut flat, mut walked) = (Vec::new(), Vec::new());
            program.write(&ctx, &mut r1, &mut flat);
            super::super::template::write(&tree, &ctx, &mut r2, &mut walked, &[], &mut None);
            assert_eq!(
                String::from_utf8_lossy(&flat),
                String::from_utf8_lossy(&walked),
                "seed {seed}"
            );
            assert_eq!(r1.random::<u64>(), r2.random::<u64>(), "seed {seed}");
            seen.insert(flat);
        }
        assert!(seen.len() > 20, "the draws vary: {} outputs", seen.len());
    }

    /// Values read in place (a local, a field or state variable of the entity in one, a
    /// global), as a value and inside a text, in the default format and others, give what
    /// the tree walk gives: text that needs escaping, whole and other numbers, an entity,
    /// null, and places where nothing is stored.
    #[test]
    fn values_read_in_place_write_what_the_tree_walk_writes() {
        use crate::worldfile::expr::KindData;
        use crate::worldfile::rows::Rows;
        let mut kind = KindData {
            ids: vec!["e\"0".into(), "e1".into()],
            fields: vec![
                vec![Value::str("q\"x"), Value::Int(-42)],
                vec![Value::float(2.5), Value::Null],
            ],
            ..KindData::default()
        };
        kind.pack();
        let master = Master { kinds: vec![kind] };
        let state = State {
            ent: vec![Rows::from_columns(&[vec![
                Value::Int(7),
                Value::bool(true),
            ]])],
            global: vec![Value::str("g\n")],
            ..State::default()
        };
        let fld = |slot, f| Expr::Field(Box::new(Expr::Local(slot)), 0, f);
        let var = |slot, v| Expr::State(Box::new(Expr::Local(slot)), 0, v);
        let reads = [
            Expr::Local(0),
            Expr::Local(1),
            Expr::Local(2),
            Expr::Local(3),
            Expr::Local(9),
            fld(0, 0),
            fld(0, 1),
            fld(1, 0),
            var(0, 0),
            var(0, 1),
            var(2, 0),
            Expr::Global(0),
            Expr::Global(5),
            // Made, never stored: evaluated without a look in place.
            Expr::Bin(
                crate::worldfile::parse::BinOp::Add,
                Box::new(Expr::Local(2)),
                Box::new(fld(0, 1)),
            ),
            Expr::Neg(Box::new(Expr::Local(3))),
            Expr::Call(
                Func::Uniform,
                vec![lit(Value::Int(0)), lit(Value::Int(100))],
            ),
            Expr::Now,
        ];
        let formats = [
            Format::default(),
            Format {
                zero_pad: Some(5),
                places: None,
            },
            Format {
                zero_pad: None,
                places: Some(1),
            },
        ];
        let mut fields = Vec::new();
        for (r, e) in reads.iter().enumerate() {
            for (k, f) in formats.iter().enumerate() {
                fields.push((format!("v{r}_{k}"), field(e.clone(), *f)));
                fields.push((
                    format!("t{r}_{k}"),
                    Node::Text(vec![
                        TextPart::Lit("<".into()),
                        TextPart::Expr(e.clone(), *f),
                        TextPart::Lit(">".into()),
                    ]),
                ));
            }
        }
        let program = Program::payload(&fields, &[], false, "t");
        assert!(program.ops.iter().any(|op| matches!(op, Op::ReadPlain(_))));
        assert!(program.ops.iter().any(|op| matches!(op, Op::Read(..))));
        assert!(program.ops.iter().any(|op| matches!(op, Op::ReadPart(..))));
        assert!(program.ops.iter().any(|op| matches!(op, Op::Eval(..))));
        assert!(program.ops.iter().any(|op| matches!(op, Op::EvalPart(..))));
        let tree = Node::Object(fields);
        for who in 0..2 {
            let locals = [
                Value::ent(0, who),
                Value::str("l\\"),
                Value::Int(3),
                Value::float(-0.25),
            ];
            let ctx = Ctx::plain(&master, &state, &locals, 1_700_000_000_123);
            let (mut flat, mut walked) = (Vec::new(), Vec::new());
            let (mut r1, mut r2) = (
                SimRng::seed_from_u64(who.into()),
                SimRng::seed_from_u64(who.into()),
            );
            program.write(&ctx, &mut r1, &mut flat);
            super::super::template::write(&tree, &ctx, &mut r2, &mut walked, &[], &mut None);
            assert_eq!(r1.random::<u64>(), r2.random::<u64>(), "the same draws");
            let flat = String::from_utf8_lossy(&flat).into_owned();
            assert_eq!(flat, String::from_utf8_lossy(&walked));
            let v: serde_json::Value = serde_json::from_str(&flat).expect("JSON");
            assert_eq!(v["v0_0"], ["e\"0", "e1"][who as usize]);
            let own = [serde_json::json!("q\"x"), serde_json::json!(-42)];
            assert_eq!(v["v5_0"], own[who as usize]);
            assert_eq!(v["t5_0"], format!("<{}>", ["q\"x", "-42"][who as usize]));
            assert_eq!(v["v11_0"], "g\n");
        }
    }

    /// The event's own name, its cause and the ids of its picks are written without a value
    /// being made, and give what the tree walk gives: for a primary (no cause) and a
    /// follow-up, an entity in a slot and a slot holding no entity.
    #[test]
    fn names_causes_and_ids_write_what_the_tree_walk_writes() {
        use crate::worldfile::expr::KindData;
        let mut kind = KindData {
            ids: vec!["a\"1".into(), "b2".into()],
            ..KindData::default()
        };
        kind.pack();
        let master = Master { kinds: vec![kind] };
        let state = State::default();
        let id = |slot| Expr::Id(Box::new(Expr::Local(slot)));
        let fields = vec![
            (
                "type".to_string(),
                field(Expr::EventType, Format::default()),
            ),
            (
                "cause".to_string(),
                field(Expr::CausedBy, Format::default()),
            ),
            ("who".to_string(), field(id(0), Format::default())),
            ("none".to_string(), field(id(1), Format::default())),
            (
                "text".to_string(),
                Node::Text(vec![
                    TextPart::Lit("<".into()),
                    TextPart::Expr(Expr::EventType, Format::default()),
                    TextPart::Lit(">".into()),
                ]),
            ),
        ];
        let program = Program::payload(&fields, &[], false, "sale\"s");
        assert!(program.ops.iter().any(|op| matches!(op, Op::Cause)));
        assert!(program.ops.iter().any(|op| matches!(op, Op::IdOf(..))));
        let tree = Node::Object(fields);
        for (cause, who) in [(None, 0), (Some(uuid::Uuid::from_u128(7)), 1)] {
            let locals = [Value::ent(0, who), Value::Int(3)];
            let mut ctx = Ctx::plain(&master, &state, &locals, 0);
            ctx.caused_by = cause;
            ctx.event_type = "sale\"s";
            let (mut flat, mut walked) = (Vec::new(), Vec::new());
            let mut rng = SimRng::seed_from_u64(1);
            program.write(&ctx, &mut rng, &mut flat);
            super::super::template::write(&tree, &ctx, &mut rng, &mut walked, &[], &mut None);
            let flat = String::from_utf8_lossy(&flat).into_owned();
            assert_eq!(flat, String::from_utf8_lossy(&walked));
            let v: serde_json::Value = serde_json::from_str(&flat).expect("JSON");
            assert_eq!(v["type"], "sale\"s");
            assert_eq!(v["text"], "<sale\"s>");
            assert_eq!(v["who"], ["a\"1", "b2"][who as usize]);
            assert_eq!(v["none"], serde_json::Value::Null, "{flat}");
            assert_eq!(
                v["cause"],
                cause.map_or(serde_json::Value::Null, |c| c.to_string().into())
            );
        }
    }
}
