//! What expressions read: each kind's master data (ids and fields, packed for reads) and the
//! world's mutable state (per-entity variables, window counts, globals and pairs).

use std::collections::HashMap;

use super::rows::Rows;
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

    /// Packs the ids for [`KindData::id`] and the fields for [`KindData::field`].
    pub fn pack(&mut self) {
        self.rows = Rows::from_columns(&self.fields);
        self.id_text.clear();
        self.id_ends.clear();
        for id in &self.ids {
            self.id_text.push_str(id);
            self.id_ends.push(self.id_text.len() as u32);
        }
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
