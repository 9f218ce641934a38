//! `params:` resolved: each default, overridden by `--set` and the environment, checked
//! against its range and allowed values, with a located error.

use std::collections::BTreeMap;

use indexmap::IndexMap;

use super::build::Source;
use super::error::WorldError;
use super::format::{WorldFile, Yaml};
use super::value::{Ty, Value};

type R<T> = Result<T, WorldError>;

/// The parameters' values and their docs, in file order.
pub(super) fn build(
    src: &Source<'_>,
    file: &WorldFile,
    overrides: &BTreeMap<String, String>,
) -> R<(IndexMap<String, Value>, IndexMap<String, String>)> {
    for k in overrides.keys() {
        if !file.params.contains_key(k) {
            let known: Vec<&str> = file.params.keys().map(String::as_str).collect();
            return Err(src.err(
                &["params"],
                format!(
                    "--set {k}: the world has no parameter `{k}`; parameters: {}",
                    known.join(", ")
                ),
            ));
        }
    }
    let mut values = IndexMap::new();
    let mut docs = IndexMap::new();
    for (name, decl) in &file.params {
        let path = ["params", name.as_str()];
        let default = match &decl.default {
            Yaml::Bool(b) => Value::bool(*b),
            Yaml::Number(n) => match (n.as_i64(), n.as_f64()) {
                (Some(i), _) => Value::Int(i),
                (_, Some(f)) => Value::float(f),
                _ => Value::Null,
            },
            Yaml::String(s) => Value::str(s),
            _ => return Err(src.err(&path, "default must be a number, true/false or text")),
        };
        let value = match overrides.get(name) {
            None => default,
            Some(text) => {
                let parsed = match &default {
                    Value::Int(_) => text.trim().parse::<i64>().ok().map(Value::Int),
                    Value::Float(_) => text
                        .trim()
                        .parse::<f64>()
                        .ok()
                        .filter(|f| f.is_finite())
                        .map(Value::float),
                    Value::Bool(_) => text.trim().parse::<bool>().ok().map(Value::bool),
                    _ => Some(Value::str(text)),
                };
                parsed.ok_or_else(|| {
                    src.err(
                        &path,
                        format!(
                            "--set {name}={text:?}: expected {}",
                            Ty::exact(&default).describe(&[]).replace(" in ", " like ")
                        ),
                    )
                })?
            }
        };
        if let Some(x) = value.as_f64() {
            let (lo, hi) = (
                decl.min.unwrap_or(f64::NEG_INFINITY),
                decl.max.unwrap_or(f64::INFINITY),
            );
            if !(lo..=hi).contains(&x) {
                return Err(src.err(
                    &path,
                    format!(
                        "{name} = {x} is outside its range {}..{}; give a value in range",
                        fmt_bound(decl.min),
                        fmt_bound(decl.max)
                    ),
                ));
            }
        }
        if let (Value::Str(s), false) = (&value, decl.one_of.is_empty()) {
            if !decl.one_of.iter().any(|o| **o == **s) {
                return Err(src.err(
                    &path,
                    format!("{name} = {s:?}; allowed: {}", decl.one_of.join(", ")),
                ));
            }
        }
        docs.insert(name.clone(), decl.doc.clone());
        values.insert(name.clone(), value);
    }
    Ok((values, docs))
}

fn fmt_bound(b: Option<f64>) -> String {
    b.map_or(String::new(), |b| b.to_string())
}
