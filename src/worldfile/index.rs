//! Indexes for picks whose condition pins a master-data field: `where: p.page_type == 'home'`
//! or `where: m.region == s.region and ...`. The candidates are looked up by the other side's
//! value instead of drawn and tested one by one, so a pick among few matches costs no scan.

use std::collections::HashMap;

use super::expr::{Expr, Master};
use super::parse::BinOp;
use super::value::{Text, Value};

/// A hashable master-data value (floats are not indexed).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Key {
    Str(super::value::Text),
    Int(i64),
    Bool(bool),
    Ent(u16, u32),
}

impl Key {
    pub fn of(v: &Value) -> Option<Key> {
        Some(match v {
            Value::Str(s) => Key::Str(s.clone()),
            Value::Int(i) => Key::Int(*i),
            Value::Bool(b) => Key::Bool(b.get()),
            Value::Ent(e) => Key::Ent(e.kind(), e.index()),
            Value::Float(f) if f.get().fract() == 0.0 && f.get().abs() < 9e15 => {
                Key::Int(f.get() as i64)
            }
            _ => return None,
        })
    }
}

type Map<K> = HashMap<K, Vec<u32>, foldhash::fast::FixedState>;

/// The candidates of a pick by the value of `probe`, evaluated with the picks before it.
#[derive(Debug)]
pub struct FieldIndex {
    pub probe: Expr,
    /// Text keys apart, so that a probe's text is looked up as it is, without a [`Key`]
    /// made (and its shared text counted up and down) per pick.
    strs: Map<Text>,
    others: Map<Key>,
}

impl FieldIndex {
    /// The candidates whose field equals `v` (as `==` compares: `2 == 2.0`, and an entity
    /// equals its id as text, so a field of ids written as text is found by an entity).
    #[inline]
    pub fn get(&self, v: &Value, master: &Master) -> Option<&[u32]> {
        match v {
            Value::Str(s) => self.strs.get(s.as_str()),
            Value::Ent(_) => self.others.get(&Key::of(v)?).or_else(|| {
                let id = super::expr::text_of(master, v)?;
                self.strs.get(id)
            }),
            v => self.others.get(&Key::of(v)?),
        }
        .map(Vec::as_slice)
    }
}

/// An index for the pick in `slot` of entity kind `kind`, if its condition has a conjunct
/// `slot.field == expr` (either way round) where `expr` does not read the candidate.
pub fn build(cond: &Expr, slot: u16, kind: u16, master: &Master) -> Option<FieldIndex> {
    let (field, probe) = pinned(cond, slot)?;
    let column = master
        .kinds
        .get(kind as usize)?
        .fields
        .get(field as usize)?;
    let (mut strs, mut others) = (Map::default(), Map::default());
    for (i, v) in column.iter().enumerate() {
        match (v, Key::of(v)) {
            (Value::Str(s), _) => strs.entry(s.clone()).or_default().push(i as u32),
            (Value::Ent(_), Some(k)) => {
                // Under its id too, for a probe that holds the id as text (`c.id`).
                if let Some(id) = super::expr::text_of(master, v) {
                    strs.entry(Text::from(id)).or_default().push(i as u32);
                }
                others.entry(k).or_default().push(i as u32);
            }
            (_, Some(k)) => others.entry(k).or_default().push(i as u32),
            _ => {}
        }
    }
    Some(FieldIndex {
        probe: probe.clone(),
        strs,
        others,
    })
}

fn pinned(cond: &Expr, slot: u16) -> Option<(u16, &Expr)> {
    match cond {
        Expr::Bin(BinOp::And, a, b) => pinned(a, slot).or_else(|| pinned(b, slot)),
        Expr::Bin(BinOp::Eq, a, b) => {
            let field_of = |e: &Expr| match e {
                Expr::Field(inner, _, f) if matches!(**inner, Expr::Local(s) if s == slot) => {
                    Some(*f)
                }
                _ => None,
            };
            match (field_of(a), field_of(b)) {
                (Some(f), None) if !reads(b, slot) => Some((f, &**b)),
                (None, Some(f)) if !reads(a, slot) => Some((f, &**a)),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Whether `e` reads the local `slot`.
fn reads(e: &Expr, slot: u16) -> bool {
    e.any(&mut |n| matches!(n, Expr::Local(s) if *s == slot))
}
