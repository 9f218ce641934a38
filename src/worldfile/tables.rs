//! What expressions read: each kind's master data (ids and fields, packed for reads) and the
//! world's mutable state (per-entity variables, window counts, globals and pairs).

use std::collections::HashMap;

use super::rows::Rows;
use super::template::{escape_into, needs_escape};
use super::value::{Text, Value};

/// Master data: per kind, ids and field columns.
#[derive(Debug, Default)]
pub struct Master {
    pub kinds: Vec<KindData>,
}

#[derive(Debug, Default)]
pub struct KindData {
    pub ids: Vec<Text>,
    pub index: HashMap<String, u32>,
    /// `fields[f][i]`: field `f` of entity `i`.
    pub fields: Vec<Vec<Value>>,
    /// Every id's text back to back, and where each ends: what payloads write ids from.
    /// One compact block stays in cache where one allocation per id would not.
    pub id_text: String,
    pub id_ends: Vec<u32>,
    /// Set when every id is a prefix and a number counting up with the entity (`stu_1000`,
    /// `PG-0001`): payloads then write an id from its number and read no memory for it.
    pub id_seq: Option<IdSeq>,
    /// No id needs escaping in JSON, so payloads copy them as they are.
    pub ids_plain: bool,
    /// Every id's length when all have one length (uuids, padded numbers), else 0: id `i` is
    /// then found at `i * id_len` with no read of `id_ends`.
    pub id_len: usize,
    /// The same fields entity by entity, for reads.
    pub rows: Rows<Value>,
}

impl KindData {
    /// The id of entity `i`, from the packed ids once [`KindData::pack`] has run.
    pub fn id(&self, i: u32) -> Option<&str> {
        let i = i as usize;
        if self.id_ends.len() == self.ids.len() {
            let end = *self.id_ends.get(i)? as usize;
            let start = if i == 0 {
                0
            } else {
                self.id_ends[i - 1] as usize
            };
            return self.id_text.get(start..end);
        }
        self.ids.get(i).map(|s| s.as_str())
    }

    /// Field `f` of entity `i`, from the rows once [`KindData::pack`] has run.
    pub fn field(&self, f: u16, i: u32) -> Option<&Value> {
        if self.rows.len() == self.ids.len() && !self.fields.is_empty() {
            return self.rows.get(i, f);
        }
        self.fields.get(f as usize)?.get(i as usize)
    }

    /// Writes the id of entity `i` as a JSON string; false when there is no entity `i`.
    pub fn write_id(&self, i: u32, buf: &mut Vec<u8>) -> bool {
        if (i as usize) >= self.ids.len() {
            return false;
        }
        if let Some(seq) = &self.id_seq {
            seq.write(i, buf);
            return true;
        }
        let at = i as usize * self.id_len;
        let fixed = match self.id_len {
            0 => None,
            len => self.id_text.as_bytes().get(at..at + len),
        };
        buf.push(b'"');
        match (fixed, self.ids_plain) {
            (Some(id), true) => buf.extend_from_slice(id),
            _ => {
                let Some(id) = self.id(i) else {
                    buf.pop();
                    return false;
                };
                escape_into(buf, id);
            }
        }
        buf.push(b'"');
        true
    }

    /// Starts loading the id of entity `i`, where a payload will read it (see
    /// [`Rows::prefetch`]).
    pub fn prefetch(&self, i: u32) {
        self.rows.prefetch(i);
        if self.id_seq.is_some() {
            return;
        }
        let at = i as usize * self.id_len;
        let bytes = self.id_text.as_bytes();
        match self.id_len {
            0 => super::rows::prefetch_at(&self.id_ends, i as usize),
            len => {
                super::rows::prefetch_at(bytes, at);
                super::rows::prefetch_at(bytes, at + len - 1);
            }
        }
    }

    /// Packs the ids for [`KindData::id`] and the fields for [`KindData::field`].
    pub fn pack(&mut self) {
        self.rows = Rows::from_columns(&self.fields);
        self.id_text.clear();
        self.id_ends.clear();
        for id in &self.ids {
            self.id_text.push_str(id);
            self.id_ends.push(self.id_text.len() as u32);
        }
        self.ids_plain = !needs_escape(&self.id_text);
        let len = self.ids.first().map_or(0, |id| id.len());
        self.id_len = if self.ids.iter().all(|id| id.len() == len) {
            len
        } else {
            0
        };
        self.id_seq = IdSeq::of(&self.ids);
    }
}

/// Ids that are one prefix and a number: the first entity's number, counting up by one, with
/// zeros before it up to `width` digits.
#[derive(Debug, Clone, PartialEq)]
pub struct IdSeq {
    prefix: Box<str>,
    first: u64,
    width: usize,
}

impl IdSeq {
    /// The sequence every one of `ids` follows, if they do (checked id by id, so master data
    /// loaded from files takes this way only when it matches exactly).
    pub fn of(ids: &[Text]) -> Option<IdSeq> {
        let head = ids.first()?;
        let digits = head.bytes().rev().take_while(u8::is_ascii_digit).count();
        // Up to 18 digits, so that no number in range overflows.
        if digits == 0 || digits > 18 {
            return None;
        }
        let (prefix, number) = head.split_at(head.len() - digits);
        if needs_escape(prefix) {
            return None;
        }
        let padded = number.len() > 1 && number.starts_with('0');
        let seq = IdSeq {
            prefix: prefix.into(),
            first: number.parse().ok()?,
            width: if padded { number.len() } else { 0 },
        };
        let mut buf = Vec::new();
        for (i, id) in ids.iter().enumerate() {
            buf.clear();
            seq.write(i as u32, &mut buf);
            if buf.get(1..buf.len() - 1) != Some(id.as_bytes()) {
                return None;
            }
        }
        Some(seq)
    }

    /// Entity `i`'s id as a JSON string.
    fn write(&self, i: u32, buf: &mut Vec<u8>) {
        buf.push(b'"');
        buf.extend_from_slice(self.prefix.as_bytes());
        let mut b = itoa::Buffer::new();
        let n = b.format(self.first + u64::from(i));
        for _ in n.len()..self.width {
            buf.push(b'0');
        }
        buf.extend_from_slice(n.as_bytes());
        buf.push(b'"');
    }
}

/// Mutable world state.
#[derive(Debug, Default, Clone)]
pub struct State {
    /// Per kind, each entity's state variables.
    pub ent: Vec<Rows<Value>>,
    /// Per kind, each entity's window counts.
    pub windows: Vec<super::window::Windows>,
    pub global: Vec<Value>,
    /// Per pair kind: values by (a, b), with the defaults for pairs never written.
    pub pairs: Vec<PairState>,
}

/// One pair kind's values by (a, b), and the defaults of pairs never written.
pub type PairState = (HashMap<(u32, u32), Vec<Value>>, Vec<Value>);
