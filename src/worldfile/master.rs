//! A world's master data: made from its entity templates, written as `<kind>.json` (or
//! `.csv`), and loaded back with errors that name the file, the record and the field.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use rand::SeedableRng;

use super::expr::{Ctx, KindData, Master, State};
use super::model::Model;
use super::template::{Node, TextPart};
use super::value::{Base, Text, Ty, Value};
use crate::master::Format;
use crate::SimRng;

/// Makes master data: `sizes` overrides each kind's count (by position) where given.
pub fn generate(
    model: &Model,
    rng: &mut SimRng,
    sizes: &[Option<usize>],
) -> anyhow::Result<Master> {
    let mut master = Master::default();
    let state = State::default();
    for (k, kind) in model.kinds.iter().enumerate() {
        let count = sizes.get(k).copied().flatten().unwrap_or(kind.count);
        let mut data = KindData::default();
        for seq in 1..=count {
            let ctx = ctx(&master, &state, &[], seq as i64);
            let id = match eval_node(&kind.id, &ctx, rng) {
                Value::Str(s) => s,
                v => ctx
                    .text_of(&v)
                    .map_or_else(|| Text::from(v.to_string()), Text::from),
            };
            if data
                .index
                .insert(id.to_string(), data.ids.len() as u32)
                .is_some()
            {
                bail!(
                    "entities.{}.id gives the id {id:?} twice; make it unique, e.g. with ${{seq}}",
                    kind.name
                );
            }
            data.ids.push(id);
        }
        data.fields = vec![Vec::with_capacity(count); kind.fields.len()];
        master.kinds.push(data);
    }
    for (k, kind) in model.kinds.iter().enumerate() {
        let count = master.kinds[k].ids.len();
        let mut row = Vec::with_capacity(kind.fields.len());
        for i in 0..count {
            row.clear();
            for (_, node) in &kind.fields {
                let v = eval_node(node, &ctx(&master, &state, &row, i as i64 + 1), rng);
                row.push(v);
            }
            for (f, v) in row.drain(..).enumerate() {
                master.kinds[k].fields[f].push(v);
            }
        }
    }
    pack(&mut master);
    Ok(master)
}

/// Master data as the run uses it: loaded from `dir` if it exists, else made from the world's
/// `master_seed` (so a first run needs no `kafka-gen master`).
pub fn load_or_generate(model: &Model, dir: &Path) -> anyhow::Result<(Master, bool)> {
    if dir.is_dir() {
        return Ok((load(model, dir)?, false));
    }
    let mut rng = SimRng::seed_from_u64(model.master_seed);
    Ok((generate(model, &mut rng, &[])?, true))
}

fn ctx<'a>(master: &'a Master, state: &'a State, locals: &'a [Value], seq: i64) -> Ctx<'a> {
    Ctx {
        master,
        state,
        locals,
        now: 0,
        event_id: uuid::Uuid::nil(),
        caused_by: None,
        event_type: "",
        seq,
    }
}

/// A template's value (an entity field holds one value, not an object).
pub fn eval_node(node: &Node, ctx: &Ctx<'_>, rng: &mut SimRng) -> Value {
    match node {
        Node::Const(v, _) => v.clone(),
        Node::Value(e, _, f) => {
            let v = ctx.eval(e, rng);
            if f.zero_pad.is_some() || f.places.is_some() {
                let mut buf = Vec::new();
                super::template::write(node, ctx, rng, &mut buf, &[u16::MAX], &mut None);
                return serde_json::from_slice::<serde_json::Value>(&buf)
                    .map_or(v, |j| from_json(&j));
            }
            v
        }
        Node::Text(parts) => {
            let mut s = String::new();
            for p in parts {
                match p {
                    TextPart::Lit(t) => s.push_str(t),
                    TextPart::Expr(..) => {
                        let mut buf = Vec::new();
                        super::template::write(
                            &Node::Text(vec![p.clone()]),
                            ctx,
                            rng,
                            &mut buf,
                            &[u16::MAX],
                            &mut None,
                        );
                        if let Ok(serde_json::Value::String(t)) = serde_json::from_slice(&buf) {
                            s.push_str(&t);
                        }
                    }
                }
            }
            Value::str(&s)
        }
        Node::Object(_) | Node::Array(_) => Value::Null,
    }
}

/// Packs each kind's ids, and makes equal texts of a master-data column one shared value. A
/// field drawn from a few values (regions, subjects) is then a handful of strings that stay
/// in cache, not one allocation per entity scattered over the heap, which every read of the
/// field would miss.
fn pack(master: &mut Master) {
    let mut seen: std::collections::HashSet<Text> = std::collections::HashSet::new();
    for kind in &mut master.kinds {
        kind.pack();
        for column in &mut kind.fields {
            for v in column.iter_mut() {
                if let Value::Str(s) = v {
                    match seen.get(s) {
                        Some(shared) => *s = shared.clone(),
                        None => {
                            seen.insert(s.clone());
                        }
                    }
                }
            }
        }
    }
}

fn from_json(j: &serde_json::Value) -> Value {
    match j {
        serde_json::Value::Bool(b) => Value::bool(*b),
        serde_json::Value::Number(n) => n
            .as_i64()
            .map(Value::Int)
            .or(n.as_f64().map(Value::float))
            .unwrap_or(Value::Null),
        serde_json::Value::String(s) => Value::str(s),
        _ => Value::Null,
    }
}

/// Writes every kind to `dir/<kind>.<ext>`; returns the paths.
pub fn write(
    model: &Model,
    master: &Master,
    dir: &Path,
    format: Format,
) -> anyhow::Result<Vec<PathBuf>> {
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut paths = Vec::new();
    for (k, kind) in model.kinds.iter().enumerate() {
        let data = &master.kinds[k];
        let path = dir.join(format!("{}.{}", kind.name, format.extension()));
        let json_of = |v: &Value| match v {
            Value::Ent(e) => serde_json::Value::String(
                master.kinds[e.kind() as usize].ids[e.index() as usize].to_string(),
            ),
            v => v.to_json(),
        };
        let mut out = Vec::new();
        match format {
            Format::Json => {
                out.extend_from_slice(b"[\n");
                for i in 0..data.ids.len() {
                    let mut obj = serde_json::Map::new();
                    obj.insert(kind.id_field.clone(), data.ids[i].to_string().into());
                    for (f, (fname, _)) in kind.fields.iter().enumerate() {
                        obj.insert(fname.clone(), json_of(&data.fields[f][i]));
                    }
                    serde_json::to_writer(&mut out, &obj)?;
                    out.extend_from_slice(if i + 1 < data.ids.len() {
                        b",\n"
                    } else {
                        b"\n"
                    });
                }
                out.extend_from_slice(b"]\n");
            }
            Format::Csv => {
                let mut w = csv::Writer::from_writer(&mut out);
                let mut header = vec![kind.id_field.clone()];
                header.extend(kind.fields.iter().map(|f| f.0.clone()));
                w.write_record(&header)?;
                for i in 0..data.ids.len() {
                    let mut row = vec![data.ids[i].to_string()];
                    for f in 0..kind.fields.len() {
                        row.push(match json_of(&data.fields[f][i]) {
                            serde_json::Value::String(s) => s,
                            serde_json::Value::Null => String::new(),
                            other => other.to_string(),
                        });
                    }
                    w.write_record(&row)?;
                }
                w.flush()?;
            }
        }
        fs::write(&path, &out).with_context(|| format!("cannot write {}", path.display()))?;
        paths.push(path);
    }
    Ok(paths)
}

/// Loads every kind from `dir`, checking each field against the type its template implies.
pub fn load(model: &Model, dir: &Path) -> anyhow::Result<Master> {
    let mut rows: Vec<(PathBuf, Vec<serde_json::Map<String, serde_json::Value>>)> = Vec::new();
    for kind in &model.kinds {
        let json = dir.join(format!("{}.json", kind.name));
        let csv_path = dir.join(format!("{}.csv", kind.name));
        let records = match (json.is_file(), csv_path.is_file()) {
            (true, true) => bail!("both {} and {} exist; keep one of them so it is clear which to load", json.display(), csv_path.display()),
            (true, false) => (json.clone(), read_json(&json)?),
            (false, true) => (csv_path.clone(), read_csv(&csv_path, model, kind)?),
            (false, false) => bail!(
                "master data file {} (or .csv) is missing; run `kafka-gen master --world FILE --out {}` to create it, or remove the folder to use data made in memory",
                json.display(),
                dir.display()
            ),
        };
        if records.1.is_empty() && kind.count > 0 {
            bail!(
                "{} holds no records; it needs at least one",
                records.0.display()
            );
        }
        rows.push(records);
    }
    let mut master = Master::default();
    for (k, kind) in model.kinds.iter().enumerate() {
        let (path, records) = &rows[k];
        let mut data = KindData::default();
        for (i, r) in records.iter().enumerate() {
            let Some(id) = r.get(&kind.id_field).and_then(|v| v.as_str()) else {
                bail!(
                    "{}: record {}: `{}` is missing or not text",
                    path.display(),
                    i + 1,
                    kind.id_field
                );
            };
            let id = Text::from(id);
            if data.index.insert(id.to_string(), i as u32).is_some() {
                bail!(
                    "{}: record {}: duplicate id {id:?}; ids must be unique",
                    path.display(),
                    i + 1
                );
            }
            data.ids.push(id);
        }
        master.kinds.push(data);
    }
    let kind_names: Vec<String> = model.kinds.iter().map(|k| k.name.clone()).collect();
    for (k, kind) in model.kinds.iter().enumerate() {
        let (path, records) = &rows[k];
        let mut columns = vec![Vec::with_capacity(records.len()); kind.fields.len()];
        for (i, r) in records.iter().enumerate() {
            for (f, (fname, node)) in kind.fields.iter().enumerate() {
                let ty = node.ty();
                let raw = r.get(fname).unwrap_or(&serde_json::Value::Null);
                let v = value_of(raw, &ty, &master).map_err(|why| {
                    anyhow::anyhow!(
                        "{}: record {} (id {:?}): field `{fname}` = {raw}: {why}; expected {}",
                        path.display(),
                        i + 1,
                        &*master.kinds[k].ids[i],
                        ty.describe(&kind_names)
                    )
                })?;
                columns[f].push(v);
            }
        }
        master.kinds[k].fields = columns;
    }
    pack(&mut master);
    Ok(master)
}

/// A master-data value checked against its type.
fn value_of(raw: &serde_json::Value, ty: &Ty, master: &Master) -> Result<Value, String> {
    let v = match (ty.base, raw) {
        (Base::Ent(k), serde_json::Value::String(s)) => {
            match master.kinds[k as usize].index.get(s.as_str()) {
                Some(&i) => Value::ent(k, i),
                None => return Err("no such id".into()),
            }
        }
        (Base::Int, serde_json::Value::Number(n)) => {
            Value::Int(n.as_i64().ok_or("not a whole number")?)
        }
        (Base::Float, serde_json::Value::Number(n)) => {
            Value::float(n.as_f64().ok_or("not a number")?)
        }
        (Base::Str, serde_json::Value::String(s)) => Value::str(s),
        (Base::Bool, serde_json::Value::Bool(b)) => Value::bool(*b),
        (Base::Any, j) => from_json(j),
        (_, serde_json::Value::Null) if ty.nullable => Value::Null,
        _ => return Err("wrong type".into()),
    };
    if let Some(x) = v.as_f64() {
        if ty.lo.is_some_and(|lo| x < lo - 1e-9) || ty.hi.is_some_and(|hi| x > hi + 1e-9) {
            return Err("out of range".into());
        }
    }
    if let (Some(values), Value::Str(_)) = (&ty.one_of, &v) {
        if !values.contains(&v) {
            return Err("not an allowed value".into());
        }
    }
    Ok(v)
}

fn read_json(path: &Path) -> anyhow::Result<Vec<serde_json::Map<String, serde_json::Value>>> {
    let text =
        fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let values: Vec<serde_json::Value> = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a JSON array of records", path.display()))?;
    values
        .into_iter()
        .enumerate()
        .map(|(i, v)| match v {
            serde_json::Value::Object(o) => Ok(o),
            _ => bail!("{}: record {} is not an object", path.display(), i + 1),
        })
        .collect()
}

/// CSV cells are text; each is read as its field's type.
fn read_csv(
    path: &Path,
    model: &Model,
    kind: &super::model::KindModel,
) -> anyhow::Result<Vec<serde_json::Map<String, serde_json::Value>>> {
    let _ = model;
    let mut reader =
        csv::Reader::from_path(path).with_context(|| format!("cannot read {}", path.display()))?;
    let headers = reader
        .headers()
        .with_context(|| format!("{}: no header row", path.display()))?
        .clone();
    let types: HashMap<&str, Ty> = kind
        .fields
        .iter()
        .map(|(n, node)| (n.as_str(), node.ty()))
        .collect();
    let mut out = Vec::new();
    for (i, row) in reader.records().enumerate() {
        let row =
            row.with_context(|| format!("{}: record {} is malformed", path.display(), i + 1))?;
        let mut obj = serde_json::Map::new();
        for (h, cell) in headers.iter().zip(row.iter()) {
            let v = match types.get(h).map(|t| t.base) {
                Some(Base::Int | Base::Float) => cell
                    .parse::<f64>()
                    .ok()
                    .and_then(|x| {
                        if x.fract() == 0.0 && x.abs() < 9e15 {
                            Some(serde_json::Value::from(x as i64))
                        } else {
                            serde_json::Number::from_f64(x).map(Into::into)
                        }
                    })
                    .unwrap_or(serde_json::Value::String(cell.into())),
                Some(Base::Bool) => cell
                    .parse::<bool>()
                    .map(Into::into)
                    .unwrap_or(serde_json::Value::String(cell.into())),
                _ if cell.is_empty() => serde_json::Value::Null,
                _ => serde_json::Value::String(cell.into()),
            };
            obj.insert(h.to_string(), v);
        }
        out.push(obj);
    }
    Ok(out)
}
