//! From a parsed [`WorldFile`] to a [`Model`]: parameters, entities, state, then events, each
//! error located in the file. Parameters are resolved in `params`; the expression helpers
//! every builder shares live in `build_expr`.

use std::collections::BTreeMap;

use super::compile::{KindInfo, PairInfo, Place, Scope};
use super::error::{locate, WorldError};
use super::expr::Expr;
use super::format::{EnvelopeKind, Src, WorldFile};
use super::model::*;
use super::template::{self, Node};
use super::value::{Ty, Value};

// The expression helpers moved to `build_expr`; other modules still reach them here.
pub(super) use super::build_expr::static_number;
pub use super::build_expr::{expr, free_names, never_true, pick_how, template_names, window_ms};

/// Where errors point.
pub struct Source<'a> {
    pub file: &'a str,
    pub text: &'a str,
}

impl Source<'_> {
    /// An error at the item at `path`; one about an unknown name or member points at the
    /// name where the item uses it.
    pub fn err(&self, path: &[&str], message: impl Into<String>) -> WorldError {
        let message = message.into();
        let owned: Vec<String> = path.iter().map(|s| s.to_string()).collect();
        let (line, column) = super::error::culprit(&message)
            .and_then(|token| super::error::locate_use(self.text, &owned, &token))
            .or_else(|| locate(self.text, &owned))
            .unzip();
        WorldError {
            file: self.file.to_string(),
            line,
            column,
            path: owned.join("."),
            message,
        }
    }

    /// [`Source::err`] located at `token` (a name, or `.field`) where the item at `path`
    /// uses it, or at the item when it cannot be found there.
    pub fn err_at(&self, path: &[&str], token: &str, message: impl Into<String>) -> WorldError {
        let mut e = self.err(path, message);
        let owned: Vec<String> = path.iter().map(|s| s.to_string()).collect();
        if let Some((line, column)) = super::error::locate_use(self.text, &owned, token) {
            (e.line, e.column) = (Some(line), Some(column));
        }
        e
    }
}

type R<T> = Result<T, WorldError>;

pub fn build(src: &Source<'_>, file: WorldFile, overrides: &BTreeMap<String, String>) -> R<Model> {
    let name_ok = |n: &str| {
        n.chars().next().is_some_and(|c| c.is_ascii_lowercase())
            && n.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    };
    if !name_ok(&file.world) {
        return Err(src.err(
            &["world"],
            format!(
                "{:?} is not a valid name: use a-z, 0-9 and _, starting with a letter",
                file.world
            ),
        ));
    }
    let (params, param_docs) = super::params::build(src, &file, overrides)?;
    super::aliases::check(src, &file)?;

    // Entity kinds: names first, so fields can refer to any kind.
    let mut infos: Vec<KindInfo> = file
        .entities
        .keys()
        .map(|k| KindInfo {
            name: k.clone(),
            ..KindInfo::default()
        })
        .collect();
    let empty_pairs: Vec<PairInfo> = Vec::new();
    let mut kinds = Vec::new();
    for (ki, (kname, decl)) in file.entities.iter().enumerate() {
        let at = |item: &str| ["entities", kname.as_str(), item].map(str::to_string);
        let scope = Scope {
            params: &params,
            kinds: &infos,
            globals: &[],
            pairs: &empty_pairs,
            locals: vec![],
            place: Place::Static,
        };
        let count = static_number(src, &scope, &decl.count, &["entities", kname, "count"])?;
        if !(0.0..=f64::from(MAX_ENTITIES)).contains(&count) || count.fract() != 0.0 {
            return Err(src.err(
                &["entities", kname, "count"],
                format!("count is {count}; it must be a whole number in 0..{MAX_ENTITIES}"),
            ));
        }
        let mut scope = Scope {
            place: Place::Entity,
            ..scope
        };
        let id =
            template::text(&scope, &decl.id).map_err(|e| src.err(&["entities", kname, "id"], e))?;
        if matches!(id, Node::Const(..)) && count > 1.0 {
            return Err(src.err(
                &["entities", kname, "id"],
                "the id template is a constant, so every entity would get the same id; use ${seq}",
            ));
        }
        let mut fields = Vec::new();
        let mut field_tys = Vec::new();
        for (fname, y) in &decl.fields {
            if fname == "id" || *fname == decl.id_field {
                return Err(src.err(
                    &["entities", kname, "fields", fname],
                    "this name is the id field's",
                ));
            }
            let node = template::compile(&scope, y).map_err(|(mut p, e)| {
                let mut full = at("fields").to_vec();
                full.push(fname.clone());
                full.append(&mut p);
                let refs: Vec<&str> = full.iter().map(String::as_str).collect();
                src.err(&refs, e)
            })?;
            let ty = node.ty();
            scope.locals.push((fname.clone(), ty.clone()));
            field_tys.push((fname.clone(), ty));
            fields.push((fname.clone(), node));
        }
        drop(scope);
        infos[ki].fields = field_tys;
        let count_param = match &decl.count {
            Src::Text(t) => file.params.get_key_value(t.trim()),
            _ => None,
        }
        .map(|(name, p)| (name.clone(), p.min, p.max));
        kinds.push(KindModel {
            name: kname.clone(),
            count: count as usize,
            count_param,
            id_field: decl.id_field.clone(),
            id,
            fields,
            state: vec![],
            windows: vec![],
        });
    }

    // State.
    let mut globals = Vec::new();
    let mut pairs: Vec<(PairInfo, Vec<Value>)> = Vec::new();
    for (owner, vars) in &file.state {
        let kind = infos.iter().position(|k| k.name == *owner);
        let pair = owner.split_once('*');
        if kind.is_none() && owner != "global" && pair.is_none() {
            return Err(src.err(
                &["state", owner],
                format!("`{owner}` is not an entity kind, `global` or a pair `a*b`"),
            ));
        }
        let mut pair_info = None;
        if let Some((a, b)) = pair {
            let find = |n: &str| {
                infos
                    .iter()
                    .position(|k| k.name == n.trim())
                    .map(|i| i as u16)
            };
            let (Some(a), Some(b)) = (find(a), find(b)) else {
                return Err(src.err(
                    &["state", owner],
                    format!("`{owner}` does not name two entity kinds"),
                ));
            };
            pair_info = Some(PairInfo { a, b, vars: vec![] });
        }
        let mut defaults = Vec::new();
        for (vname, decl) in vars {
            let path = ["state", owner.as_str(), vname.as_str()];
            if let Some(w) = &decl.window {
                let Some(ki) = kind else {
                    return Err(src.err(&path, "window counts are kept per entity"));
                };
                let len = window_ms(w).ok_or_else(|| {
                    src.err(
                        &path,
                        format!("window {w:?} is not a length such as 30m, 12h or 7d"),
                    )
                })?;
                infos[ki].windows.push((vname.clone(), len));
                kinds[ki].windows.push((vname.clone(), len));
                continue;
            }
            let fields = kind.map(|k| infos[k].fields.clone()).unwrap_or_default();
            let scope = Scope {
                params: &params,
                kinds: &infos,
                globals: &[],
                pairs: &empty_pairs,
                locals: fields,
                place: Place::Entity,
            };
            let init_src = decl.init.clone().unwrap_or(Src::Number(0.0));
            let (init, ity) = expr(src, &scope, &init_src, &path)?;
            let bound = |b: &Option<Src>, what: &str| -> R<Option<f64>> {
                let Some(b) = b else { return Ok(None) };
                let static_scope = Scope {
                    place: Place::Static,
                    locals: vec![],
                    ..Scope {
                        params: &params,
                        kinds: &infos,
                        globals: &[],
                        pairs: &empty_pairs,
                        locals: vec![],
                        place: Place::Static,
                    }
                };
                static_number(src, &static_scope, b, &["state", owner, vname, what]).map(Some)
            };
            let lo = bound(&decl.min, "min")?;
            let hi = bound(&decl.max, "max")?;
            if let (Some(l), Some(h)) = (lo, hi) {
                if l > h {
                    return Err(src.err(&path, format!("min {l} is above max {h}")));
                }
            }
            if let Expr::Lit(v) = &init {
                let probe = VarModel {
                    name: String::new(),
                    ty: ity.clone(),
                    init: init.clone(),
                    lo,
                    hi,
                };
                if !probe.allows(v) {
                    return Err(src.err(
                        &path,
                        format!(
                            "init {v} is outside the bounds {}; give an init in them",
                            super::params::range(lo, hi)
                        ),
                    ));
                }
            }
            let ty = Ty {
                lo: lo.or(ity.lo),
                hi: hi.or(ity.hi),
                one_of: None,
                ..ity
            };
            let ty = if lo.is_some() || hi.is_some() {
                Ty { lo, hi, ..ty }
            } else {
                Ty {
                    lo: None,
                    hi: None,
                    ..ty
                }
            };
            let var = VarModel {
                name: vname.clone(),
                ty: ty.clone(),
                init,
                lo,
                hi,
            };
            if let Some(ki) = kind {
                infos[ki].state.push((vname.clone(), ty));
                kinds[ki].state.push(var);
            } else if let Some(p) = pair_info.as_mut() {
                let Expr::Lit(v) = &var.init else {
                    return Err(src.err(&path, "a pair's init must be a constant"));
                };
                defaults.push(v.clone());
                p.vars.push((vname.clone(), ty));
            } else {
                globals.push(var);
            }
        }
        if let Some(p) = pair_info {
            pairs.push((p, defaults));
        }
    }
    let global_tys: Vec<(String, Ty)> = globals
        .iter()
        .map(|g| (g.name.clone(), g.ty.clone()))
        .collect();
    let pair_infos: Vec<PairInfo> = pairs.iter().map(|p| p.0.clone()).collect();

    let partition_by =
        match &file.partition_by {
            None => None,
            Some(k) => {
                Some(infos.iter().position(|i| i.name == *k).ok_or_else(|| {
                    src.err(&["partition_by"], format!("`{k}` is not an entity kind"))
                })? as u16)
            }
        };

    let mut file = file;
    super::per::adopt(src, &mut file)?;
    let events = super::events::build(src, &file, &params, &infos, &global_tys, &pair_infos)?;
    let checks = super::checks::build(src, &file, &params, &infos, &events)?;

    let hourly = match &file.time.hourly {
        None => None,
        Some(h) => {
            let arr: [f64; 24] = h.clone().try_into().map_err(|_| {
                src.err(
                    &["time", "hourly"],
                    format!(
                        "has {} values; it needs 24, one per hour from 00:00",
                        h.len()
                    ),
                )
            })?;
            if arr.iter().any(|x| !(x.is_finite() && *x >= 0.0)) || arr.iter().sum::<f64>() <= 0.0 {
                return Err(src.err(
                    &["time", "hourly"],
                    "the values must be numbers >= 0, not all 0",
                ));
            }
            Some(arr)
        }
    };
    if let Some(w) = file.time.weekend_multiplier {
        if !(0.0..=100.0).contains(&w) {
            return Err(src.err(
                &["time", "weekend_multiplier"],
                format!("is {w}; it must be in 0..100"),
            ));
        }
    }
    for (h, m) in &file.time.holidays {
        if !crate::profile::holidays::HOLIDAYS.iter().any(|x| x.0 == h) {
            let known: Vec<&str> = crate::profile::holidays::HOLIDAYS
                .iter()
                .map(|x| x.0)
                .collect();
            return Err(src.err(
                &["time", "holidays", h],
                format!("unknown holiday; known: {}", known.join(", ")),
            ));
        }
        if !(0.0..=100.0).contains(m) {
            return Err(src.err(
                &["time", "holidays", h],
                format!("multiplier {m} must be in 0..100"),
            ));
        }
    }
    let type_field = match file.envelope {
        EnvelopeKind::Standard => None,
        EnvelopeKind::None => Some(type_field(src, &file)?),
    };
    let pace = super::pace::build(src, &file.pace, &params)?;
    let capacity = super::capacity::build(src, &file.capacity, &params, &infos)?;
    Ok(Model {
        file: src.file.to_string(),
        name: file.world.clone(),
        description: file.description.clone(),
        envelope: file.envelope,
        partition_by,
        master_seed: file.master_seed,
        params,
        param_docs,
        kinds,
        infos,
        globals,
        pairs,
        events,
        hourly,
        weekend_multiplier: file.time.weekend_multiplier,
        holidays: file
            .time
            .holidays
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect(),
        type_field,
        pace,
        checks,
        capacity,
    })
}

/// With `envelope: none`, the field every event type fills with `${event_type}`.
fn type_field(src: &Source<'_>, file: &WorldFile) -> R<String> {
    let mut found: Option<String> = None;
    for (ename, e) in &file.events {
        let field = e
            .payload
            .iter()
            .find(|(_, y)| y.as_str().map(str::trim) == Some("${event_type}"))
            .map(|(k, _)| k.clone());
        match (&found, field) {
            (_, None) => return Err(src.err(&["events", ename, "payload"], "with `envelope: none` every payload needs a top-level field that is exactly `${event_type}`")),
            (Some(f), Some(g)) if *f != g => return Err(src.err(&["events", ename, "payload", &g], format!("the event type is in `{f}` elsewhere; use one field name"))),
            (_, Some(g)) => found = Some(g),
        }
    }
    found.ok_or_else(|| src.err(&["events"], "a world needs at least one event type"))
}
