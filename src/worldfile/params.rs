//! `params:` resolved: each default, overridden by `--set` and the environment, read as the
//! parameter's type and checked against its range and allowed values, with a located error.

use std::collections::BTreeMap;

use indexmap::IndexMap;

use super::build::Source;
use super::error::WorldError;
use super::format::{ParamDecl, ParamType, WorldFile, Yaml};
use super::value::Value;
use crate::bounds::Num;

type R<T> = Result<T, WorldError>;

/// Whole numbers up to this size are exact as floats, so `--set n=1e6` is the integer
/// 1,000,000; past it a float no longer names one integer.
const EXACT_INT: f64 = 9_007_199_254_740_992.0;

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
        let ty = decl.ty.unwrap_or(match default {
            Value::Int(_) => ParamType::Integer,
            Value::Bool(_) => ParamType::Bool,
            Value::Str(_) => ParamType::Text,
            _ => ParamType::Number,
        });
        let Some(default) = read(&default, ty) else {
            return Err(src.err(
                &path,
                format!(
                    "default {default} is not {}; give one, or change `type`",
                    kind(ty, decl)
                ),
            ));
        };
        let value = match overrides.get(name) {
            None => default,
            Some(text) => parse(text, ty).ok_or_else(|| {
                let hint = if ty == ParamType::Integer && text.trim().parse::<f64>().is_ok() {
                    "; the world file can declare `type: number` for it to take fractions"
                } else {
                    ""
                };
                src.err(
                    &path,
                    format!("--set {name}={text:?}: expected {}{hint}", kind(ty, decl)),
                )
            })?,
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
                        "{name} = {} is outside its range {}; give a value in range",
                        Num(x),
                        range(decl.min, decl.max)
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

/// `v` as a value of type `ty`: a whole-valued number is an integer, any number a number.
fn read(v: &Value, ty: ParamType) -> Option<Value> {
    Some(match (ty, v) {
        (ParamType::Integer, Value::Int(_)) | (ParamType::Text, Value::Str(_)) => v.clone(),
        (ParamType::Bool, Value::Bool(_)) => v.clone(),
        (ParamType::Integer, Value::Float(f)) => whole(f.get())?,
        (ParamType::Number, v) => Value::float(v.as_f64().filter(|x| x.is_finite())?),
        _ => return None,
    })
}

/// The text of a `--set` as a value of type `ty`.
fn parse(text: &str, ty: ParamType) -> Option<Value> {
    let t = text.trim();
    match ty {
        ParamType::Integer => match t.parse::<i64>() {
            Ok(i) => Some(Value::Int(i)),
            Err(_) => whole(t.parse::<f64>().ok()?),
        },
        ParamType::Number => t
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .map(Value::float),
        ParamType::Bool => t.parse::<bool>().ok().map(Value::bool),
        ParamType::Text => Some(Value::str(text)),
    }
}

/// `x` as an integer, if it is a whole number that a float holds exactly.
fn whole(x: f64) -> Option<Value> {
    (x.fract() == 0.0 && x.abs() <= EXACT_INT).then(|| Value::Int(x as i64))
}

/// What a parameter takes, for messages: `a whole number in 1..1000000`.
fn kind(ty: ParamType, decl: &ParamDecl) -> String {
    let range = match (decl.min, decl.max) {
        (None, None) => String::new(),
        (lo, hi) => format!(" ({})", range(lo, hi)),
    };
    match ty {
        ParamType::Integer => format!("a whole number{range}"),
        ParamType::Number => format!("a number{range}"),
        ParamType::Bool => "true or false".into(),
        ParamType::Text if !decl.one_of.is_empty() => {
            format!("one of {}", decl.one_of.join(", "))
        }
        ParamType::Text => "text".into(),
    }
}

/// A range as the file writes it: `1..1000000`, `at least 1`, `at most 0.5`, `any value`.
pub(super) fn range(lo: Option<f64>, hi: Option<f64>) -> String {
    // Whole bounds in full, as a file writes a count; others the shorter way (`1e-6`).
    let n = |x: f64| {
        if x.fract() == 0.0 && x.abs() < 1e15 {
            format!("{x}")
        } else {
            Num(x).to_string()
        }
    };
    match (lo, hi) {
        (Some(l), Some(h)) => format!("{}..{}", n(l), n(h)),
        (Some(l), None) => format!("at least {}", n(l)),
        (None, Some(h)) => format!("at most {}", n(h)),
        (None, None) => "any value".into(),
    }
}
